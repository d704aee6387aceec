"""SIMD kernels: every level this CPU supports equals a float64 numpy reference.

`vecsearch._core.kernel_distances(level, metric, x, y)` is the raw kernel of one level:
"l2" = squared euclidean, "ip" = raw dot product (not 1 - dot).
"""
from __future__ import annotations

import json
import subprocess
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import vecsearch
from vecsearch import _core

SUPPORTED = list(vecsearch.simd_info()["supported"])
# Every level is a test case; those this CPU lacks show as skipped with the reason.
LEVELS = [
    pytest.param(lvl, marks=pytest.mark.skipif(lvl not in SUPPORTED, reason=f"this CPU lacks {lvl}"))
    for lvl in ("scalar", "avx2", "avx512")
]
ALL_LEVELS = ("scalar", "avx2", "avx512")
DIMS = (1, 2, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 384, 385)
EPS32 = float(np.finfo(np.float32).eps)


def reference(metric, x, y):
    x = x.astype(np.float64)
    y = y.astype(np.float64)
    if metric == "l2":
        return ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
    return x @ y.T


def tolerance(metric, x, y):
    """Forward error bound of a float32 reduction of length d (a few ulps per term)."""
    d = x.shape[1]
    ax = np.abs(x.astype(np.float64))
    ay = np.abs(y.astype(np.float64))
    if metric == "l2":
        scale = ((ax[:, None, :] + ay[None, :, :]) ** 2).sum(-1)
    else:
        scale = ax @ ay.T
    return 2.0 * (d + 2) * EPS32 * scale + 1e-30


def check(level, metric, x, y, block=False):
    got = _core.kernel_distances(level, metric, x, y, block)
    got = np.asarray(got)
    assert got.shape == (x.shape[0], y.shape[0])
    assert got.dtype == np.float32
    ref = reference(metric, x, y)
    err = np.abs(got.astype(np.float64) - ref)
    bound = tolerance(metric, x, y)
    bad = np.argwhere(err > bound)
    assert bad.size == 0, (
        f"level={level} metric={metric} dim={x.shape[1]}: {len(bad)} entries off, first "
        f"{tuple(bad[0])}: got {got[tuple(bad[0])]!r}, expected {ref[tuple(bad[0])]!r}"
    )
    return got


def test_simd_info_shape():
    info = vecsearch.simd_info()
    assert set(info) >= {"level", "supported", "forced"}
    assert "scalar" in info["supported"]
    assert set(info["supported"]) <= set(ALL_LEVELS)
    assert info["level"] in info["supported"]
    assert isinstance(info["forced"], bool)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("metric", ["l2", "ip"])
@pytest.mark.parametrize("dim", DIMS)
def test_kernel_matches_numpy(level, metric, dim):
    rng = np.random.default_rng(dim * 7 + len(level))
    x = rng.normal(size=(5, dim)).astype(np.float32)
    y = rng.normal(size=(9, dim)).astype(np.float32)
    got = check(level, metric, x, y)
    if metric == "l2":
        # a vector against itself is exactly zero in every implementation
        self_d = np.asarray(_core.kernel_distances(level, metric, x, x))
        np.testing.assert_array_equal(np.diag(self_d), np.zeros(5, dtype=np.float32))
    assert np.all(np.isfinite(got))


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize("nq,ny", [(1, 1), (5, 6), (16, 8), (21, 11), (32, 4), (45, 9)])
def test_four_rows_kernel_matches_numpy(level, dim, nq, ny):
    """The kernels that score four rows against one or two blocks of queries (blocked exact
    scans), including partly filled query blocks and a short last group of rows."""
    rng = np.random.default_rng(dim * 13 + nq)
    x = rng.normal(size=(nq, dim)).astype(np.float32)
    y = rng.normal(size=(ny, dim)).astype(np.float32)
    got = np.asarray(_core.kernel_distances(level, "ip", x, y, rows4=True), dtype=np.float64)
    ref = x.astype(np.float64) @ y.astype(np.float64).T
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4 * np.sqrt(dim))


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("metric", ["l2", "ip"])
@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize("nq", [1, 5, 16, 21])
def test_block_kernel_matches_numpy(level, metric, dim, nq):
    """The kernel that scores one row against a block of queries (blocked scans), including
    partly filled blocks."""
    rng = np.random.default_rng(dim * 11 + nq)
    x = rng.normal(size=(nq, dim)).astype(np.float32)
    y = rng.normal(size=(6, dim)).astype(np.float32)
    check(level, metric, x, y, block=True)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("metric", ["l2", "ip"])
@pytest.mark.parametrize("dim", [1, 7, 16, 17, 33, 385])
def test_kernel_tail_elements_count(level, metric, dim):
    """A difference only in the last coordinate (the SIMD tail) must show up."""
    x = np.zeros((1, dim), dtype=np.float32)
    y = np.zeros((1, dim), dtype=np.float32)
    x[0, -1] = 3.0
    y[0, -1] = 2.0
    got = np.asarray(_core.kernel_distances(level, metric, x, y))
    expected = 1.0 if metric == "l2" else 6.0
    assert got[0, 0] == pytest.approx(expected)
    # and only in the first coordinate (the head of the first SIMD block)
    x = np.zeros((1, dim), dtype=np.float32)
    y = np.zeros((1, dim), dtype=np.float32)
    x[0, 0] = -1.5
    y[0, 0] = 2.0
    got = np.asarray(_core.kernel_distances(level, metric, x, y))
    expected = 12.25 if metric == "l2" else -3.0
    assert got[0, 0] == pytest.approx(expected)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("metric", ["l2", "ip"])
def test_kernel_large_magnitudes(level, metric):
    rng = np.random.default_rng(5)
    x = (rng.normal(size=(4, 100)) * 1e3).astype(np.float32)
    y = (rng.normal(size=(6, 100)) * 1e-3).astype(np.float32)
    check(level, metric, x, y)


@settings(max_examples=60, deadline=None)
@given(
    dim=st.integers(min_value=1, max_value=300),
    n=st.integers(min_value=1, max_value=6),
    m=st.integers(min_value=1, max_value=6),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    scale=st.sampled_from([1e-3, 1.0, 50.0]),
    metric=st.sampled_from(["l2", "ip"]),
)
def test_every_level_equals_scalar(dim, n, m, seed, scale, metric):
    rng = np.random.default_rng(seed)
    x = (rng.normal(size=(n, dim)) * scale).astype(np.float32)
    y = (rng.normal(size=(m, dim)) * scale).astype(np.float32)
    scalar = check("scalar", metric, x, y)
    bound = 2 * tolerance(metric, x, y)
    for level in SUPPORTED:
        got = np.asarray(_core.kernel_distances(level, metric, x, y), dtype=np.float64)
        assert np.all(np.abs(got - scalar) <= bound), (level, metric, dim)


# ----------------------------------------------------------------- forced SIMD levels

CHILD = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import vecsearch
    info = vecsearch.simd_info()
    data = np.load(sys.argv[1])
    queries = np.load(sys.argv[2])
    out = {"info": info, "results": {}}
    for metric in ("l2", "ip", "cosine"):
        idx = vecsearch.Index(data.shape[1], metric=metric, M=8, ef_construction=100, seed=3)
        idx.add(data, num_threads=1)
        ids, dists = idx.search(queries, k=10, ef=len(data), num_threads=1)
        out["results"][metric] = {"ids": ids.astype(np.int64).tolist(),
                                  "dists": dists.astype(np.float64).tolist()}
    print(json.dumps(out))
    """
)


def _run_child(tmp_path, python_exe, env, data, queries):
    dpath, qpath = tmp_path / "data.npy", tmp_path / "queries.npy"
    np.save(dpath, data)
    np.save(qpath, queries)
    proc = subprocess.run(
        [python_exe, "-c", CHILD, str(dpath), str(qpath)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=str(tmp_path),
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1]), proc.stderr


@pytest.mark.parametrize("level", LEVELS)
def test_forced_level_reported_and_correct(
    level, tmp_path, python_exe, subprocess_env, make_data_queries, check_exact
):
    data, queries = make_data_queries(150, 12, 16, seed=77)
    out, _ = _run_child(tmp_path, python_exe, subprocess_env(VECSEARCH_SIMD=level), data, queries)
    assert out["info"]["level"] == level
    assert out["info"]["forced"] is True
    assert level in out["info"]["supported"]
    for metric in ("l2", "ip", "cosine"):
        res = out["results"][metric]
        ids = np.asarray(res["ids"], dtype=np.int64).astype(np.uint64)
        check_exact(ids, np.asarray(res["dists"]), data, queries, metric, 10)


def test_default_level_not_forced(tmp_path, python_exe, subprocess_env, make_data_queries):
    data, queries = make_data_queries(50, 3, 8, seed=1)
    out, _ = _run_child(tmp_path, python_exe, subprocess_env(), data, queries)
    info = out["info"]
    assert info["forced"] is False
    assert info["level"] in info["supported"]
    assert sorted(info["supported"]) == sorted(SUPPORTED)


@pytest.mark.skipif("avx512" in SUPPORTED, reason="CPU supports avx512: no fallback to observe")
def test_forcing_unsupported_level_falls_back(
    tmp_path, python_exe, subprocess_env, make_data_queries
):
    data, queries = make_data_queries(50, 3, 8, seed=1)
    out, stderr = _run_child(
        tmp_path, python_exe, subprocess_env(VECSEARCH_SIMD="avx512"), data, queries
    )
    assert out["info"]["level"] in out["info"]["supported"]
    assert out["info"]["level"] != "avx512"
    assert "avx512" in stderr.lower()  # the warning names the missing level


def test_invalid_simd_value_warns_and_is_not_forced(
    tmp_path, python_exe, subprocess_env, make_data_queries
):
    data, queries = make_data_queries(50, 3, 8, seed=1)
    out, stderr = _run_child(
        tmp_path, python_exe, subprocess_env(VECSEARCH_SIMD="sse9"), data, queries
    )
    assert out["info"]["forced"] is False
    assert out["info"]["level"] in out["info"]["supported"]
    assert "VECSEARCH_SIMD" in stderr and "sse9" in stderr


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("start, stop", [(0, 0), (0, 1), (5, 900), (0, 2**32 - 1), (2**31 - 3, 2**31 + 7)])
def test_rank_bits_kernel_matches_numpy(level, start, stop):
    # Ranks across the signed boundary and at the "no rank" marker, which no range may hold.
    rng = np.random.default_rng(start + stop)
    ranks = rng.integers(0, 1000, 64 * 5).astype(np.uint32)
    ranks[::7] = 2**32 - 1
    ranks[3::11] = rng.integers(2**31 - 10, 2**31 + 10, ranks[3::11].size).astype(np.uint32)
    ranks[1] = start
    ranks[2] = max(stop - 1, 0)
    want = (ranks >= start) & (ranks < stop)
    got = _core.rank_bits(level, ranks, start, stop - start)
    np.testing.assert_array_equal(np.unpackbits(got.view(np.uint8), bitorder="little").astype(bool), want)
