"""Quant kernels: every SIMD level this CPU supports equals a numpy reference (and so the scalar
level), on widths that exercise every tail. `_core.quant_kernel(level, name, codes, a, b)` runs
one kernel of one level; `_core.quant_nearest` the k-means assignment kernel."""
from __future__ import annotations

import numpy as np
import pytest

import vecsearch
from vecsearch import _core

SUPPORTED = list(vecsearch.simd_info()["supported"])
# Every level is a test case; those this CPU lacks show as skipped with the reason.
LEVELS = [
    pytest.param(lvl, marks=pytest.mark.skipif(lvl not in SUPPORTED, reason=f"this CPU lacks {lvl}"))
    for lvl in ("scalar", "avx2", "avx512")
]
WIDTHS = (1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 48, 63, 64, 65, 100, 384, 385)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dim", WIDTHS)
def test_sq8_kernels_match_reference(level, dim):
    rng = np.random.default_rng(dim)
    codes = rng.integers(0, 256, size=(20, dim), dtype=np.uint8)
    q = rng.standard_normal(dim).astype(np.float32)
    s = rng.uniform(0.001, 0.05, dim).astype(np.float32)
    c64 = codes.astype(np.float64)
    ref_l2 = ((q.astype(np.float64) - s.astype(np.float64) * c64) ** 2).sum(1)
    ref_dot = c64 @ q.astype(np.float64)
    got_l2 = _core.quant_kernel(level, "sq8_l2", codes, q, s)
    got_dot = _core.quant_kernel(level, "sq8_dot", codes, q)
    np.testing.assert_allclose(got_l2, ref_l2, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(got_dot, ref_dot, rtol=1e-5, atol=1e-3 * np.sqrt(dim))
    scalar = _core.quant_kernel("scalar", "sq8_l2", codes, q, s)
    np.testing.assert_allclose(got_l2, scalar, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("words", (1, 2, 3, 5, 6, 7, 8, 9, 12, 16, 17))
@pytest.mark.parametrize("name", ("hamming", "hamming_scan"))
def test_hamming_equals_numpy_popcount(level, words, name):
    rng = np.random.default_rng(words)
    codes = rng.integers(0, 256, size=(33, words * 8), dtype=np.uint8)
    q = rng.integers(0, 256, size=words * 8, dtype=np.uint8)
    ref = np.unpackbits(codes ^ q[None, :], axis=1).sum(1)
    got = _core.quant_kernel(level, name, codes, q)
    np.testing.assert_array_equal(got, ref.astype(np.float32))


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("m", (1, 3, 4, 7, 8, 15, 16, 17, 24, 32, 48, 96, 97))
def test_pq8_scan_matches_reference(level, m):
    rng = np.random.default_rng(m)
    table = rng.standard_normal((m, 256)).astype(np.float32)
    codes = rng.integers(0, 256, size=(23, m), dtype=np.uint8)  # odd count: the 4-code step's tail
    ref = table.astype(np.float64)[np.arange(m)[None, :], codes].sum(1)
    got = _core.quant_kernel(level, "pq8", codes, table)
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-4 * np.sqrt(m))


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dsub,k", [(1, 3), (2, 16), (8, 256), (12, 300), (5, 17)])
def test_nearest_centroid_matches_reference(level, dsub, k):
    rng = np.random.default_rng(dsub * 1000 + k)
    x = rng.standard_normal((50, dsub)).astype(np.float32)
    c = rng.standard_normal((k, dsub)).astype(np.float32)
    idx, dist = _core.quant_nearest(level, x, c)
    d = ((x[:, None, :].astype(np.float64) - c[None, :, :]) ** 2).sum(-1)
    best = d.min(1)
    # The chosen centroid is optimal up to float32 rounding of the expanded form.
    np.testing.assert_allclose(d[np.arange(50), idx], best, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dist, best, rtol=1e-3, atol=1e-3)


def test_unknown_kernel_and_level_are_errors():
    codes = np.zeros((2, 8), np.uint8)
    with pytest.raises(ValueError, match="unknown quant kernel"):
        _core.quant_kernel("scalar", "nope", codes, np.zeros(8, np.float32))
    with pytest.raises(ValueError, match="unknown SIMD level"):
        _core.quant_kernel("sse9", "sq8_dot", codes, np.zeros(8, np.float32))
    with pytest.raises(vecsearch.DimensionError):
        _core.quant_kernel("scalar", "hamming", np.zeros((2, 7), np.uint8), np.zeros(7, np.uint8))


def _fastscan_reference(packed, tables):
    """Sum of code v over chunks: table bytes looked up by its two code bytes' four nibbles
    (quant/kernels.h: fastscan32), in plain numpy."""
    chunks = packed.shape[0]
    t = tables.reshape(chunks, 128).astype(np.int64)
    lo, hi = packed[:, :32].astype(np.int64), packed[:, 32:].astype(np.int64)
    rows = np.arange(chunks)[:, None]
    lane = (np.arange(32) & 16)[None, :]  # codes 16..31 read each table's second 16-byte copy
    total = (
        t[rows, lane + (lo & 15)]
        + t[rows, 64 + lane + (lo >> 4)]
        + t[rows, 32 + lane + (hi & 15)]
        + t[rows, 96 + lane + (hi >> 4)]
    )
    return total.sum(0).astype(np.float64)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("chunks", (1, 2, 24, 255, 256, 257, 600))
def test_fastscan32_matches_reference(level, chunks):
    # Table entries up to 124 (four five-bit levels): the largest sums the kernels must carry,
    # past their 16-bit accumulators' flush points (128 and 256 chunks).
    rng = np.random.default_rng(chunks)
    packed = rng.integers(0, 256, size=(chunks, 64), dtype=np.uint8)
    tables = rng.integers(0, 125, size=chunks * 128, dtype=np.uint8)
    got = _core.quant_kernel(level, "fastscan32", packed, tables)
    np.testing.assert_array_equal(got, _fastscan_reference(packed, tables))
    worst = np.full(chunks * 128, 124, dtype=np.uint8)
    np.testing.assert_array_equal(
        _core.quant_kernel(level, "fastscan32", packed, worst), np.full(32, 4 * 124 * chunks, dtype=np.float64)
    )


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("n", (8, 16, 64, 256, 512))
def test_fwht_matches_hadamard_matrix(level, n):
    # The unnormalised Walsh-Hadamard transform is the Sylvester Hadamard matrix times x.
    x = np.random.default_rng(n).standard_normal(n).astype(np.float32)
    h = np.ones((1, 1))
    while h.shape[0] < n:
        h = np.block([[h, h], [h, -h]])
    got = _core.quant_kernel(level, "fwht", x.view(np.uint8).reshape(1, -1), None)
    np.testing.assert_allclose(got, h @ x.astype(np.float64), rtol=1e-5, atol=1e-4)


# The two int8 kernel sets (quant/kernels.h): u8s8 takes query bytes of 127 levels a side (and
# -128), u8s8_fast 63 (AVX2 multiplies those with a saturating vpmaddubsw).
INT8_SETS = ("u8s8", "u8s8_fast")


def query_range(level, kernels):
    """The extremes of the query bytes a kernel set takes exactly."""
    top = _core.int8_query_max(level, kernels == "u8s8_fast")
    return (-128, 127) if top == 127 else (-top, top)


def query_bytes(rng, level, kernels, size):
    """Random query bytes over the set's whole range, both extremes among the first two."""
    lo, hi = query_range(level, kernels)
    w = rng.integers(lo, hi + 1, size=size).astype(np.int8)
    w.flat[:2] = (lo, hi)
    return w


@pytest.mark.parametrize("level", LEVELS)
def test_int8_sets_take_the_ranges_they_declare(level):
    # 127 levels everywhere for u8s8; the fast set is coarser only where it is faster (AVX2).
    assert _core.int8_query_max(level) == 127
    assert _core.int8_query_max(level, True) == (63 if level == "avx2" else 127)


@pytest.mark.parametrize("metric", ["l2", "ip"])
@pytest.mark.parametrize("dim", [64, 127, 128, 384])
def test_int8_queries_use_the_range_of_the_kernels_that_score_them(metric, dim):
    # An SQ8 query's int8 form (the walks' and code scans') spans exactly the range of the set
    # that scores it: the fast set from 128 dimensions up, 127 levels below. Scored by that set's
    # kernel, it ranks every code as its distance does, within the rounding of codes and query.
    level = vecsearch.simd_info()["level"]
    rng = np.random.default_rng(dim)
    x = rng.uniform(-1.0, 1.0, size=(500, dim)).astype(np.float32)
    codec = _core.Codec("sq8", dim, metric)
    codec.train(x)
    codes = codec.encode(x)
    # l2's code_norm: the decoded row's squared distance to the middle code (128 in every byte).
    mid = codec.decode(np.full((1, dim), 128, np.uint8)).astype(np.float64)
    norms = ((codec.decode(codes).astype(np.float64) - mid) ** 2).sum(1) if metric == "l2" else 0.0
    # The last query is 50 times the data's range in one dimension: one step of its rounding
    # spans about the whole range of every other weight, so it is held to a looser bound.
    queries = (rng.uniform(-1, 1, dim), np.full(dim, 1.0), np.full(dim, -1.0), np.eye(dim)[3] * 50)
    for q, tolerance in zip(queries, (0.02, 0.02, 0.02, 0.1)):
        q = q.astype(np.float32)[None]
        w, base, mul, fast = codec.prepare_int8(q)
        assert fast == (dim >= 128)
        kernels = "u8s8_fast" if fast else "u8s8"
        assert np.abs(w.astype(np.int64)).max() == _core.int8_query_max(level, fast)
        est = base + mul * _core.quant_kernel(level, f"{kernels}_dot", codes, w).astype(np.float64) + norms
        want = codec.distances(codes, q)[0].astype(np.float64)
        # Up to a bias per query (the re-rank measures it): the ranking is what the walks use.
        dev = est - want
        assert np.abs(dev - dev.mean()).max() <= tolerance * (want.max() - want.min())


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("kernels", INT8_SETS)
@pytest.mark.parametrize("dim", WIDTHS + (127, 128, 129, 4096))
def test_u8s8_dot_matches_reference(level, kernels, dim):
    # Extremes included: 255 times the set's largest query bytes of both signs in every lane (VNNI
    # sums four products per lane, vpmaddubsw pairs of them in 16 bits).
    rng = np.random.default_rng(dim)
    codes = rng.integers(0, 256, size=(12, dim), dtype=np.uint8)
    codes[0] = 255
    w = query_bytes(rng, level, kernels, dim)
    want = codes.astype(np.int64) @ w.astype(np.int64)
    np.testing.assert_array_equal(_core.quant_kernel(level, f"{kernels}_dot", codes, w), want.astype(np.float32))
    for extreme in query_range(level, kernels):
        edge = np.full(dim, extreme, dtype=np.int8)
        np.testing.assert_array_equal(_core.quant_kernel(level, f"{kernels}_dot", codes[:1], edge),
                                      [float(extreme) * 255 * dim])


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("kernels", INT8_SETS)
@pytest.mark.parametrize("dim", (16, 100, 384, 129))
@pytest.mark.parametrize("n_rows", (0, 1, 4, 7, 13, 64))
def test_u8s8_dot_rows_matches_reference(level, kernels, dim, n_rows):
    # Scattered rows, repeats included, in groups of four and a tail; extremes in row 0.
    rng = np.random.default_rng(dim * 100 + n_rows)
    codes = rng.integers(0, 256, size=(50, dim), dtype=np.uint8)
    codes[0] = 255
    w = query_bytes(rng, level, kernels, dim)
    w[: dim // 2] = query_range(level, kernels)[0]
    rows = rng.integers(0, len(codes), size=n_rows).astype(np.uint32)
    if n_rows:
        rows[0] = 0
    want = codes[rows].astype(np.int64) @ w.astype(np.int64)
    got = _core.quant_kernel(level, f"{kernels}_dot_rows", codes, w, rows)
    np.testing.assert_array_equal(got, want.astype(np.float32))


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("kernels", INT8_SETS)
@pytest.mark.parametrize("nw", [1, 3, 4, 5, 8])
@pytest.mark.parametrize("chunks", [1, 25, 96])
def test_u8s8_block16_matches_reference(level, kernels, nw, chunks):
    # One block of 16 codes interleaved four bytes at a time (graph/range_codes.h), with 255
    # times the set's extremes in every lane.
    rng = np.random.default_rng(chunks * 10 + nw)
    codes = rng.integers(0, 256, size=(16, chunks * 4), dtype=np.uint8)
    codes[0] = 255
    w = query_bytes(rng, level, kernels, (nw, chunks * 4))
    w[0, ::2] = query_range(level, kernels)[0]
    block = codes.reshape(16, chunks, 4).transpose(1, 0, 2).reshape(chunks, 64)
    want = (w.astype(np.int64) @ codes.T.astype(np.int64)).reshape(-1)
    got = _core.quant_kernel(level, f"{kernels}_block16", np.ascontiguousarray(block), w)
    np.testing.assert_array_equal(got, want.astype(np.float32))


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("kernels", INT8_SETS)
@pytest.mark.parametrize("nw", [1, 2, 3, 8])
def test_u8s8_block16_est_matches_reference(level, kernels, nw):
    # The estimates base + norm + mul * dot and the mask of those under each query's bound.
    chunks = 96
    rng = np.random.default_rng(nw)
    codes = rng.integers(0, 256, size=(16, chunks * 4), dtype=np.uint8)
    w = query_bytes(rng, level, kernels, (nw, chunks * 4))
    block = codes.reshape(16, chunks, 4).transpose(1, 0, 2).reshape(chunks, 64)
    dots = (w.astype(np.int64) @ codes.T.astype(np.int64)).astype(np.float64)
    base, mul, norm = rng.uniform(50, 60, nw), rng.uniform(-1e-3, -1e-4, nw), 0.75
    est = base[:, None] + norm + mul[:, None] * dots
    bound = np.median(est, axis=1)  # about half the lanes pass
    b = np.stack([base, mul, bound, np.full(nw, norm)], axis=1).astype(np.float32)
    got = _core.quant_kernel(level, f"{kernels}_block16_est", np.ascontiguousarray(block), w, b).reshape(nw, 17)
    np.testing.assert_allclose(got[:, :16], est, rtol=1e-5, atol=1e-3)  # float32 sums of ~100
    want_mask = [(sum(1 << r for r in range(16) if got[j, r] < np.float32(bound[j]))) for j in range(nw)]
    assert got[:, 16].astype(np.int64).tolist() == want_mask


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("kernels", INT8_SETS)
@pytest.mark.parametrize("nw", [1, 2, 3, 5, 7, 8])
@pytest.mark.parametrize("dim", [16, 100, 384])
def test_u8s8_rows_est_matches_reference(level, kernels, nw, dim):
    # Scattered codes scored in place for up to 8 queries at once (the codes plan): each row's
    # estimates base + norm + mul * dot (the hook reads rows last first, norms[s] = s / 4) and the
    # mask of those under each query's bound; 255 times the set's extremes in row 0, and a dim
    # that leaves a tail past the kernel's steps.
    n = 37
    rng = np.random.default_rng(nw * 1000 + dim)
    codes = rng.integers(0, 256, size=(n, dim), dtype=np.uint8)
    codes[0] = 255
    w = query_bytes(rng, level, kernels, (nw, dim))
    w[0, ::2] = query_range(level, kernels)[0]
    rows = np.arange(n)[::-1]
    dots = (codes[rows].astype(np.int64) @ w.T.astype(np.int64)).astype(np.float64)  # [n, nw], exact
    base, mul = rng.uniform(50, 60, nw), rng.uniform(-1e-3, -1e-4, nw)
    est = base[None, :] + rows[:, None] / 4.0 + mul[None, :] * dots
    bound = np.median(est, axis=0)  # about half the rows pass each query
    b = np.stack([base, mul, bound], axis=1).astype(np.float32)
    got = _core.quant_kernel(level, f"{kernels}_rows_est", codes, w, b).reshape(n, 9)
    np.testing.assert_allclose(got[:, :nw], est, rtol=1e-5, atol=1e-3)
    want_mask = [sum(1 << j for j in range(nw) if got[i, j] < np.float32(bound[j])) for i in range(n)]
    assert got[:, 8].astype(np.int64).tolist() == want_mask
