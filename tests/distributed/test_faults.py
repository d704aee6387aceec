"""Faults of a sharded index: a shard actor killed during a search, a replica answering for a
dead one, a restarted actor that reloads its save, and a driver killed while it saves."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import vecsearch
from vecsearch.distributed import ShardedIndex

DIM = 16


def _data(n, seed=0):
    return np.random.default_rng(seed).normal(size=(n, DIM)).astype(np.float32)


def _kill_process(index, shard, replica=0):
    """SIGKILLs the shard actor's process (Ray restarts it, unlike ray.kill)."""
    pid = index._group._ray.get(index._group.actors[shard][replica].process_id.remote())
    os.kill(pid, signal.SIGKILL)


def test_actor_killed_during_search_names_its_shard(ray_local):
    index = ShardedIndex(DIM, shards=2, M=8, ef_construction=40)
    try:
        index.add(_data(20_000))
        queries = _data(20_000, seed=1)
        errors = []

        def search():
            try:
                for _ in range(20):  # long enough that the kill lands during one of them
                    index.search(queries, 10, ef=200, num_threads=1)
            except Exception as e:  # noqa: BLE001 - the test inspects it
                errors.append(e)

        worker = threading.Thread(target=search)
        worker.start()
        time.sleep(0.5)
        ray_local.kill(index._group.actors[1][0])  # no restart
        worker.join(timeout=120)
        assert not worker.is_alive()
        assert len(errors) == 1 and isinstance(errors[0], vecsearch.ShardError), errors
        assert errors[0].shard == 1 and "shard 1: its actor died" in str(errors[0])
        with pytest.raises(vecsearch.ShardError, match="shard 1"):  # and stays an error
            index.search(queries[:5], 10)
    finally:
        index.close()


def test_replica_answers_for_a_dead_one_and_heal_replaces_it(ray_local, oracle, recall):
    data, queries = _data(6000), _data(50, seed=1)
    truth, _ = oracle(data, queries, 10, "l2")
    index = ShardedIndex(DIM, shards=2, replicas=2, M=8, ef_construction=40)
    try:
        index.add(data)
        # The replicas were built apart (threaded inserts): equal quality, not equal graphs.
        for _ in range(2):
            assert recall(index.search(queries, 10, ef=64)[0], truth) >= 0.95
        ray_local.kill(index._group.actors[0][1])
        answers = [index.search(queries, 10, ef=64)[0] for _ in range(3)]
        assert index._group.alive[0] == [True, False]
        for got in answers:  # replica 0 answered for shard 0 every time
            assert recall(got, truth) >= 0.95
        index.add(_data(10, seed=2))  # a write first heals: the new replica is a copy of the live one
        assert index._group.alive[0] == [True, True]
        assert len(index) == 6010
        group, options = index._group, {"ef": 64, "num_threads": 1}
        first, second = (ray_local.get(group.actors[0][r].search.remote(group.tokens[0][r], queries, 10, options))
                         for r in (0, 1))
        np.testing.assert_array_equal(first[0], second[0])  # shard 0's replicas now hold one graph
    finally:
        index.close()


def test_restarted_actor_reloads_its_save(ray_local, tmp_path):
    data, queries = _data(4000), _data(30, seed=1)
    built = ShardedIndex(DIM, shards=2, M=8, ef_construction=40)
    built.add(data)
    built.save(tmp_path)
    built.close()
    index = ShardedIndex.load(tmp_path)
    try:
        want = index.search(queries, 10, ef=64)
        _kill_process(index, 0)
        deadline = time.time() + 120
        while True:  # Ray restarts the actor; it loads the manifest's file and is adopted
            try:
                got = index.search(queries, 10, ef=64)
                break
            except vecsearch.ShardError:
                assert time.time() < deadline, "the restarted shard was never used again"
                time.sleep(0.5)
        np.testing.assert_array_equal(got[0], want[0])
        index.add(_data(5, seed=3), ids=np.arange(10_000, 10_005))  # now shard data differ from the save
        _kill_process(index, 1)
        deadline = time.time() + 120
        while True:  # "died" until Ray has restarted it; then the restarted actor is refused
            with pytest.raises(vecsearch.ShardError) as raised:
                index.search(queries, 10)
            if "changes made since are lost" in str(raised.value):
                break
            assert "shard 1: its actor died" in str(raised.value)
            assert time.time() < deadline, "the restarted shard was never reported"
            time.sleep(0.5)
    finally:
        index.close()


SAVER = textwrap.dedent(
    """
    import sys, numpy as np, ray
    from vecsearch.distributed import ShardedIndex
    ray.init(address=sys.argv[2], log_to_driver=False)
    index = ShardedIndex.load(sys.argv[1])
    rng = np.random.default_rng(int(sys.argv[3]))
    print("ready", flush=True)
    while True:
        index.add(rng.normal(size=(500, {dim})).astype(np.float32))
        index.save(sys.argv[1])
        print("saved", len(index), flush=True)
    """
).format(dim=DIM)


@pytest.mark.slow
def test_driver_killed_during_save_leaves_a_loadable_save(ray_local, tmp_path):
    first = ShardedIndex(DIM, shards=2, M=8, ef_construction=40)
    first.add(_data(3000))
    first.save(tmp_path)
    first.close()
    address = ray_local.get_runtime_context().gcs_address
    rng = np.random.default_rng(0)
    sizes = set()
    for kill in range(4):
        saver = subprocess.Popen([sys.executable, "-c", SAVER, str(tmp_path), address, str(kill)],
                                 stdout=subprocess.PIPE, text=True)
        assert saver.stdout.readline().strip() == "ready"
        time.sleep(float(rng.uniform(0.0, 1.5)))
        saver.send_signal(signal.SIGKILL)
        saver.wait()
        loaded = ShardedIndex.load(tmp_path)  # whatever the moment of the kill
        try:
            size = len(loaded)
            assert size >= 3000 and (size - 3000) % 500 == 0
            loaded.search(_data(3, seed=9), 5)
            sizes.add(size)
        finally:
            loaded.close()
    names = os.listdir(tmp_path)
    assert "manifest.json" in names
