"""Python threads sharing one index: concurrent searches, and searches racing adds/deletes.

Nothing here measures time; threads run a fixed amount of work and results are checked exactly.
"""
from __future__ import annotations

import os
import threading

import numpy as np
import pytest

from vecsearch import MISSING_ID, Index

N_THREADS = 4


def run_threads(targets):
    """Start all targets behind a barrier, join, and re-raise the first worker exception."""
    errors = []
    barrier = threading.Barrier(len(targets))

    def wrap(fn):
        def inner():
            try:
                barrier.wait(timeout=60)
                fn()
            except BaseException as e:  # noqa: BLE001 - collected and re-raised in the main thread
                errors.append(e)

        return inner

    threads = [threading.Thread(target=wrap(t), daemon=True) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
        assert not t.is_alive(), "worker thread hung"
    if errors:
        raise errors[0]


@pytest.mark.parametrize("metric", ["l2", "cosine"])
def test_parallel_searches_equal_sequential(metric, small_clustered):
    x, q = small_clustered
    idx = Index(x.shape[1], metric=metric, M=16, ef_construction=100)
    idx.add(x, num_threads=2)
    chunks = np.array_split(np.arange(len(q)), 10)
    expected = [idx.search(q[c], k=10, ef=50, num_threads=1) for c in chunks]
    results = {}

    def worker(t):
        def fn():
            for rep in range(3):
                # threads start on different chunks
                for j in np.roll(np.arange(len(chunks)), t + rep):
                    results.setdefault((t, int(j)), []).append(
                        idx.search(q[chunks[j]], k=10, ef=50, num_threads=1)
                    )

        return fn

    run_threads([worker(t) for t in range(N_THREADS)])
    assert len(results) == N_THREADS * len(chunks)
    for (t, j), outs in results.items():
        for ids, d in outs:
            np.testing.assert_array_equal(ids, expected[j][0])
            np.testing.assert_array_equal(d, expected[j][1])


def test_parallel_single_query_searches(small_clustered):
    x, q = small_clustered
    idx = Index(x.shape[1], M=16, ef_construction=100)
    idx.add(x, num_threads=2)
    expected = idx.search(q, k=5, ef=40, num_threads=1)
    mismatches = []

    def fn():
        for i in range(len(q)):
            ids, d = idx.search(q[i], k=5, ef=40, num_threads=1)
            same_ids = np.array_equal(ids[0], expected[0][i])
            if not (same_ids and np.array_equal(d[0], expected[1][i])):
                mismatches.append(i)

    run_threads([fn] * N_THREADS)
    assert mismatches == []


def test_multithreaded_search_inside_python_threads(small_clustered):
    """Batch searches with an internal pool (num_threads=2) issued from several Python threads."""
    x, q = small_clustered
    idx = Index(x.shape[1], M=16, ef_construction=100)
    idx.add(x, num_threads=2)
    expected = idx.search(q, k=10, ef=50, num_threads=1)
    outs = []

    def fn():
        for _ in range(3):
            outs.append(idx.search(q, k=10, ef=50, num_threads=2))

    run_threads([fn] * 3)
    assert len(outs) == 9
    for ids, d in outs:
        np.testing.assert_array_equal(ids, expected[0])
        np.testing.assert_array_equal(d, expected[1])


@pytest.mark.slow
@pytest.mark.parametrize("metric", ["l2", "cosine"])
def test_search_while_adding_and_deleting(metric, make_data, exact_dists, tol):
    dim = 24
    n0, rounds, per_add, per_del = 2000, 25, 120, 60
    pool = make_data(n0 + rounds * per_add, dim, seed=314)
    queries = make_data(64, dim, seed=271)
    idx = Index(dim, metric=metric, M=12, ef_construction=80, seed=5)
    idx.add(pool[:n0], num_threads=1)

    lock = threading.Lock()
    deleted = []  # append-only, extended only after delete() has returned
    writer_done = threading.Event()
    rng = np.random.default_rng(0)
    live = set(range(n0))
    searches = [0]

    def writer():
        try:
            nxt = n0
            for r in range(rounds):
                new_ids = np.arange(nxt, nxt + per_add, dtype=np.uint64)
                got = idx.add(pool[nxt : nxt + per_add], ids=new_ids, num_threads=1)
                np.testing.assert_array_equal(got, new_ids)
                live.update(range(nxt, nxt + per_add))
                nxt += per_add
                victims = rng.choice(sorted(live), size=per_del, replace=False)
                idx.delete(victims.astype(np.uint64))
                with lock:
                    deleted.extend(int(v) for v in victims)
                live.difference_update(int(v) for v in victims)
        finally:
            writer_done.set()

    def searcher(seed):
        def fn():
            local_rng = np.random.default_rng(seed)
            it = 0
            while (not writer_done.is_set() or it < 20) and it < 2000:
                it += 1
                with lock:
                    known_deleted = len(deleted)  # everything deleted before this search started
                sel = local_rng.choice(len(queries), size=8, replace=False)
                q = queries[sel]
                ids, d = idx.search(q, k=10, ef=40, num_threads=1)
                assert ids.shape == (8, 10) and d.shape == (8, 10)
                with lock:
                    gone = np.array(deleted[:known_deleted], dtype=np.uint64)
                real = ids != MISSING_ID
                leaked = np.intersect1d(ids[real], gone)
                assert leaked.size == 0, f"search returned ids deleted before it started: {leaked}"
                assert np.all(ids[real] < len(pool)), "id never added"
                for r in range(8):
                    row_real = real[r]
                    assert np.all(np.diff(d[r][row_real]) >= 0), f"unsorted row {d[r]}"
                    assert len(np.unique(ids[r][row_real])) == row_real.sum()
                    assert np.all(np.isposinf(d[r][~row_real]))
                    # each id is reported at its own vector's distance (no id/slot mix-ups)
                    vecs = pool[ids[r][row_real].astype(np.int64)]
                    true = exact_dists(metric, q[r : r + 1], vecs)[0]
                    np.testing.assert_allclose(d[r][row_real], true, rtol=1e-5, atol=tol(true))
                with lock:
                    searches[0] += 1

        return fn

    run_threads([writer] + [searcher(s) for s in range(3)])
    assert searches[0] >= 60
    # final state: exact bookkeeping
    assert len(idx) == len(live)
    all_deleted = np.array(deleted, dtype=np.uint64)
    assert len(set(deleted)) == rounds * per_del
    for i in all_deleted[:200]:
        assert int(i) not in idx
    ids, _ = idx.search(queries, k=50, ef=200)
    assert not np.isin(ids, all_deleted).any()
    alive = np.array(sorted(live), dtype=np.int64)
    got, _ = idx.search(pool[alive[-50:]], k=1, ef=64)
    assert np.mean(got[:, 0] == alive[-50:].astype(np.uint64)) >= 0.95


def test_concurrent_adds_with_auto_ids(make_data):
    """Two threads adding at once: every id is handed out once, every vector lands under it."""
    dim, batches, per = 8, 10, 50
    data = {t: make_data(batches * per, dim, seed=40 + t) for t in range(2)}
    idx = Index(dim, M=8, ef_construction=40)
    got = {0: [], 1: []}

    def adder(t):
        def fn():
            for b in range(batches):
                got[t].append(idx.add(data[t][b * per : (b + 1) * per], num_threads=1))

        return fn

    run_threads([adder(0), adder(1)])
    all_ids = np.concatenate(got[0] + got[1])
    assert len(idx) == 2 * batches * per
    np.testing.assert_array_equal(np.sort(all_ids), np.arange(2 * batches * per))
    for t in range(2):
        ids_t = np.concatenate(got[t])
        np.testing.assert_array_equal(idx.get_vectors(ids_t), data[t])
    found, _ = idx.search(data[0][:50], k=1, ef=64)
    assert np.mean(found[:, 0] == np.concatenate(got[0])[:50]) >= 0.98


def test_save_during_adds_writes_consistent_snapshots(make_data, tmp_path):
    """A save racing adds/deletes captures a whole number of operations and always loads."""
    dim, per, rounds = 8, 40, 15
    pool = make_data(per * (rounds + 1), dim, seed=60)
    idx = Index(dim, M=8, ef_construction=40)
    idx.add(pool[:per], num_threads=1)
    paths = []

    def writer():
        for r in range(1, rounds + 1):
            idx.add(pool[r * per : (r + 1) * per], num_threads=1)
            idx.delete([r * per])  # the first id of the batch just added

    def saver():
        for s in range(10):
            p = tmp_path / f"snap{s}.vsi"
            idx.save(p)
            paths.append(p)

    run_threads([writer, saver])
    assert len(paths) == 10
    for p in paths:
        snap = Index.load(p)
        n = len(snap)
        # after r rounds: per + r * (per - 1) live vectors, or mid-round (add done, delete not)
        assert (n - per) % (per - 1) in (0, 1) or n == per, n
        live_probe = [i for i in range(per) if i in snap]
        assert live_probe == list(range(per))  # the first batch is never touched
        ids, _ = snap.search(pool[:5], k=1, ef=32)
        np.testing.assert_array_equal(ids[:, 0], np.arange(5))
    assert len(os.listdir(tmp_path)) == 10
