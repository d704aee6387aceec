"""Saves survive being killed: a writer process is SIGKILLed at random moments while it saves
over an existing index, and a fresh process then loads the path. It must find the complete old
or the complete new index, never a broken one, and the next save must clean up the leftovers.

VECSEARCH_KILL_RUNS sets the number of kills (default 12; the reliability issue's run used 200).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import vecsearch

KILLS = int(os.environ.get("VECSEARCH_KILL_RUNS", "12"))
DIM = 32

WRITER = textwrap.dedent(
    """
    import sys, numpy as np, vecsearch
    path, which = sys.argv[1], int(sys.argv[2])
    rng = np.random.default_rng(which)
    index = vecsearch.Index({dim}, "l2", M=8, ef_construction=32)
    index.add(rng.normal(size=(20000, {dim})).astype(np.float32), num_threads=1)  # reproducible graph
    print("ready", flush=True)
    while True:
        index.save(path)
        print("saved", flush=True)
    """
).format(dim=DIM)

READER = textwrap.dedent(
    """
    import sys, numpy as np, vecsearch
    index = vecsearch.Index.load(sys.argv[1])
    q = np.random.default_rng(99).normal(size=(5, {dim})).astype(np.float32)
    ids, _ = index.search(q, k=5, ef=50)
    print(len(index), int(index.get_vectors([0])[0, 0] * 1e6), ids[:, 0].tolist())
    """
).format(dim=DIM)


def _fingerprint(path: str) -> str:
    out = subprocess.run([sys.executable, "-c", READER, path], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, f"loading after a kill failed:\n{out.stderr}"
    return out.stdout.strip()


@pytest.mark.slow
def test_killed_saves_leave_old_or_new_index(tmp_path):
    path = str(tmp_path / "index.vs")
    rng = np.random.default_rng(1)
    old = vecsearch.Index(DIM, "l2", M=8, ef_construction=32)
    old.add(rng.normal(size=(20000, DIM)).astype(np.float32))
    old.save(path)
    old_print = _fingerprint(path)

    new_print = None
    kill_rng = np.random.default_rng(2)
    for kill in range(KILLS):
        writer = subprocess.Popen([sys.executable, "-c", WRITER, path, "2"], stdout=subprocess.PIPE, text=True)
        assert writer.stdout.readline().strip() == "ready"
        if kill == KILLS - 1:
            # The last kill comes after a completed save, however slow saves are on this machine,
            # so the test always sees the new index.
            assert writer.stdout.readline().strip() == "saved"
        time.sleep(float(kill_rng.uniform(0.0, 0.15)))
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        got = _fingerprint(path)
        if got != old_print:
            if new_print is None:
                new_print = got
            assert got == new_print, "a load after a kill gave a third, broken index"
    assert new_print is not None and new_print != old_print, "the save before the last kill did not show"

    # Leftover temporaries of killed writers are ignored by load and removed by the next save.
    old.save(path)
    assert _fingerprint(path) == old_print
    assert sorted(os.listdir(tmp_path)) == ["index.vs"]
