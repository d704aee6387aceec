"""Absurd parameters get clear Python exceptions, never an abort."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import vecsearch


@pytest.mark.parametrize("dim", [0, -1, 2**16 + 1])
def test_bad_dim(dim):
    with pytest.raises(ValueError, match="dim"):
        vecsearch.Index(dim)


@pytest.mark.parametrize("M", [0, 1, 10**6])
def test_bad_M(M):
    with pytest.raises(ValueError, match="M must be"):
        vecsearch.Index(8, M=M)


def test_ef_construction_out_of_range():
    with pytest.raises(ValueError, match="ef_construction"):
        vecsearch.Index(8, ef_construction=0)
    with pytest.raises(ValueError, match="ef_construction"):
        vecsearch.Index(8, ef_construction=2**40)


def test_k_far_above_size_pads_and_absurd_k_is_refused():
    index = vecsearch.Index(4)
    index.add(np.eye(4, dtype=np.float32))
    ids, dists = index.search(np.ones(4, dtype=np.float32), k=1000)
    assert (ids[0, 4:] == vecsearch.MISSING_ID).all() and np.isinf(dists[0, 4:]).all()
    assert sorted(ids[0, :4].tolist()) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="k must be at most"):
        index.search(np.ones(4, dtype=np.float32), k=10**9)


def test_huge_ef_and_threads_are_fine_or_refused():
    index = vecsearch.Index(4)
    index.add(np.random.default_rng(0).normal(size=(50, 4)))
    ids, _ = index.search(np.ones(4), k=3, ef=10**12, num_threads=64)
    assert (ids != vecsearch.MISSING_ID).all()
    with pytest.raises(ValueError, match="num_threads"):
        index.search(np.ones(4), k=3, num_threads=10**6)


@pytest.mark.skipif(
    "asan" in os.environ.get("LD_PRELOAD", "") or sys.platform != "linux",
    reason="needs RLIMIT_AS, which AddressSanitizer's shadow memory defeats",
)
def test_add_that_cannot_get_memory_raises_memory_error():
    # The input (400 MB) fits under the address-space limit; the index's own copy does not.
    script = textwrap.dedent(
        """
        import resource, numpy as np, vecsearch
        data = np.ones((100_000, 1024), dtype=np.float32)
        index = vecsearch.Index(1024)
        with open("/proc/self/statm") as f:
            used = int(f.read().split()[0]) * resource.getpagesize()
        resource.setrlimit(resource.RLIMIT_AS, (used + 200 * 2**20, resource.RLIM_INFINITY))
        try:
            index.add(data, num_threads=1)
        except MemoryError:
            print("MemoryError", len(index))
        """
    )
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["MemoryError", "0"]
