"""build_on_disk resumes (vecsearch/disk/checkpoint.py): a build killed at random points, or
interrupted, continues from its last checkpoint when called again, and finishes an index that
loads, holds every row once with its id and attributes, and answers as an uninterrupted one."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pytest

import vecsearch
import vecsearch.disk.build as disk_build

N, DIM, BLOCK = 6000, 16, 500


@pytest.fixture
def source(tmp_path, make_data_queries):
    data, queries = make_data_queries(N, 40, DIM, seed=21)
    path = tmp_path / "source.npy"
    np.save(path, data)
    return path, data, queries


@pytest.fixture
def small_blocks(monkeypatch):
    monkeypatch.setattr(disk_build, "BLOCK_ROWS", BLOCK)


def _build(path, src, **kw):
    return vecsearch.build_on_disk(path, src, storage="sq8", checkpoint_seconds=0, progress=False,
                                   attributes={"row": np.arange(N)}, **kw)


def _check_complete(index, path, data, queries, oracle, recall, reference=None):
    """`reference`: an uninterrupted build of the same source, whose recall this one matches."""
    assert len(index) == N
    base = os.path.basename(path)
    leftovers = [f for f in os.listdir(os.path.dirname(path)) if base in f and f != base]
    assert leftovers == []  # no spill file, checkpoint or temporary left
    probe = np.array([0, 1, N // 2, N - 1], dtype=np.uint64)
    np.testing.assert_array_equal(index.get_vectors(probe), data[probe.astype(np.int64)])
    assert index.get_attributes(probe)["row"] == [0, 1, N // 2, N - 1]
    true_ids, _ = oracle(data, queries, 10, "l2")
    got = recall(index.search(queries, k=10, ef=128)[0], true_ids)
    assert got >= 0.95
    if reference is not None:
        assert got >= recall(reference.search(queries, k=10, ef=128)[0], true_ids) - 0.02


def _resume(path, src):
    """Calls the build again; the row it resumed from (None: it started over)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        index = _build(path, src)
    rows = [str(w.message) for w in caught if "resuming the build" in str(w.message)]
    return index, (int(rows[0].split("from row ")[1].split()[0]) if rows else None)


def test_an_interrupted_build_resumes_from_its_checkpoint(tmp_path, source, small_blocks, oracle, recall,
                                                          monkeypatch):
    src, data, queries = source
    path = str(tmp_path / "idx.vs")
    adds = {"n": 0}
    after = disk_build._Checkpoints.after

    def interrupt_after_five(self, rows):
        after(self, rows)
        adds["n"] += 1
        if adds["n"] == 5:
            raise KeyboardInterrupt

    monkeypatch.setattr(disk_build._Checkpoints, "after", interrupt_after_five)
    with pytest.raises(KeyboardInterrupt):
        _build(path, src)
    assert os.path.exists(path + ".checkpoint") and os.path.exists(path + ".building")
    with pytest.raises(vecsearch.IncompleteIndexError, match="last checkpoint"):
        vecsearch.Index.load(path)
    monkeypatch.setattr(disk_build._Checkpoints, "after", after)
    index, resumed = _resume(path, src)
    assert resumed == 5 * BLOCK
    _check_complete(index, path, data, queries, oracle, recall)


RUNNER = textwrap.dedent("""
    import sys, numpy as np, vecsearch, vecsearch.disk.build as b
    b.BLOCK_ROWS = {block}
    vecsearch.build_on_disk(sys.argv[1], sys.argv[2], storage="sq8", checkpoint_seconds=0, progress=False,
                            attributes={{"row": np.arange({n})}})
""")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_build_killed_at_a_random_point_resumes(tmp_path, source, small_blocks, oracle, recall, seed):
    src, data, queries = source
    path = str(tmp_path / "idx.vs")
    script = tmp_path / "run.py"
    script.write_text(RUNNER.format(block=BLOCK, n=N))
    delay = np.random.default_rng(seed).uniform(0.0, 0.4)
    proc = subprocess.Popen([sys.executable, str(script), path, str(src)])
    deadline = time.monotonic() + 120
    while not os.path.exists(path + ".checkpoint") and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished = os.path.exists(path)
    index, resumed = _resume(path, src)
    if not finished:  # killed mid-build, after its first checkpoint: the call must resume
        # (from every row when the kill fell between the last block's checkpoint and the final file)
        assert resumed is not None and 0 < resumed <= N and resumed % BLOCK == 0
    reference = _build(str(tmp_path / "whole.vs"), src)
    _check_complete(index, path, data, queries, oracle, recall, reference)


def test_other_parameters_start_over(tmp_path, source, small_blocks, monkeypatch):
    src, _, _ = source
    path = str(tmp_path / "idx.vs")
    after = disk_build._Checkpoints.after

    def interrupt(self, rows):
        after(self, rows)
        raise KeyboardInterrupt

    monkeypatch.setattr(disk_build._Checkpoints, "after", interrupt)
    with pytest.raises(KeyboardInterrupt):
        _build(path, src)
    monkeypatch.setattr(disk_build._Checkpoints, "after", after)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        index = _build(path, src, M=8)
    assert not any("resuming" in str(w.message) for w in caught)
    assert index.M == 8 and len(index) == N
    assert not os.path.exists(path + ".checkpoint")


def test_bad_input_leaves_nothing_to_resume(tmp_path, source, small_blocks):
    src, data, _ = source
    bad = data.copy()
    bad[N - 10, 3] = np.nan
    path = str(tmp_path / "idx.vs")
    with pytest.raises(vecsearch.NonFiniteError):
        vecsearch.build_on_disk(path, bad, storage="sq8", checkpoint_seconds=0, progress=False)
    assert not os.path.exists(path + ".checkpoint") and not os.path.exists(path + ".building")


def test_checkpoint_seconds_is_checked(tmp_path, source):
    with pytest.raises(ValueError, match="checkpoint_seconds"):
        vecsearch.build_on_disk(tmp_path / "x.vs", source[1], storage="sq8", checkpoint_seconds=-1)
