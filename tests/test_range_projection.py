"""Range indexes on projected codes (csrc/quant/projection.h, vecsearch/quant/projection.py): the
first pass scores the leading principal axes only, the second the full codes of its best. Checked
against numpy brute force over the rows each range selects, on data whose variance lies mostly in
a few directions (as text embeddings' does), and the axes themselves against their definition.
Stretches of fewer than 8,192 rows skip the first pass (csrc/graph/range_codes.cpp,
kAxisMinRows): N is large enough for ranges on either side of that."""
from __future__ import annotations

import numpy as np
import pytest

import vecsearch
from vecsearch import F, MISSING_ID

from conftest import filtered_knn, low_rank, recall_at_k
from vecsearch.quant.projection import MAX_SHARE, STEP, principal_axes

N, DIM, NQ, K = 12000, 128, 40, 10


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(11)
    both = low_rank(rng, N + NQ, DIM)
    return both[:N], both[N:], {"num": rng.permutation(N)}


def build(data, metric):
    x, _, attrs = data
    index = vecsearch.Index(DIM, metric=metric)
    index.add(x, attributes=attrs)
    index.create_range_index("num")
    return index


@pytest.mark.parametrize("metric", ["l2", "ip", "cosine"])
def test_the_codes_are_projected(data, metric):
    index = build(data, metric)
    codes = index._range_indexes["num"]._built.codes
    assert STEP <= codes.code_dim() <= MAX_SHARE * DIM


@pytest.mark.parametrize("metric", ["l2", "ip", "cosine"])
@pytest.mark.parametrize("lo,hi", [(0, 5), (100, 499), (0, 3999), (1000, 10999), (0, 11999)])
def test_shallow_depth_ranks_well(data, metric, lo, hi):
    # Only the best 2 * K of the second pass are re-scored for sure: the two passes must keep the
    # true neighbours among them (the projected first pass alone decides which reach the second).
    x, q, attrs = data
    index = build(data, metric)
    rows = np.flatnonzero((attrs["num"] >= lo) & (attrs["num"] <= hi))
    ids, dists = index.search(q, K, filter=F("num").between(lo, hi), plan="range", rerank=K)
    want, want_d = filtered_knn(x, q, rows, K, metric)
    found = min(K, len(rows))
    assert recall_at_k(ids[:, :found], want[:, :found]) >= 0.95
    assert (ids[:, found:] == MISSING_ID).all()
    # the distances returned are exact ones
    got = ids[:, :found].astype(np.int64)
    if metric == "l2":
        exact = ((q[:, None, :] - x[got]) ** 2).sum(-1)
        np.testing.assert_allclose(dists[:, :found], exact, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("metric", ["l2", "ip", "cosine"])
def test_deep_rerank_is_exact(data, metric):
    x, q, attrs = data
    index = build(data, metric)
    lo, hi = 1000, 1299
    rows = np.flatnonzero((attrs["num"] >= lo) & (attrs["num"] <= hi))
    ids, dists = index.search(q, K, filter=F("num").between(lo, hi), plan="range", rerank=len(rows))
    want, want_d = filtered_knn(x, q, rows, K, metric)
    assert recall_at_k(ids, want) == 1.0
    np.testing.assert_allclose(dists, want_d, rtol=1e-4, atol=1e-3)


def test_principal_axes_match_their_definition():
    rng = np.random.default_rng(3)
    x = low_rank(rng, 3000, DIM)
    mean, axes = principal_axes(x)
    assert axes.shape[1] == DIM and axes.shape[0] % STEP == 0
    np.testing.assert_allclose(mean, x.mean(axis=0), atol=1e-4)
    np.testing.assert_allclose(axes @ axes.T, np.eye(len(axes)), atol=1e-4)
    # the kept axes hold at least 80 % of the variance, the first STEP fewer less
    centred = x - x.mean(axis=0)
    share = lambda a: float(((centred @ a.T) ** 2).sum() / (centred ** 2).sum())  # noqa: E731
    assert share(axes) >= 0.8
    if len(axes) > STEP:
        assert share(axes[:len(axes) - STEP]) < 0.8
    # the leading axis is the direction of most variance: no random direction beats it
    trials = rng.standard_normal((200, DIM))
    trials /= np.linalg.norm(trials, axis=1, keepdims=True)
    assert share(axes[:1]) >= max(share(t[None]) for t in trials)


def test_no_projection_where_it_cannot_pay():
    rng = np.random.default_rng(5)
    assert principal_axes(rng.standard_normal((3000, DIM))) is None  # isotropic: no few axes hold 80 %
    assert principal_axes(low_rank(rng, 500, DIM)) is None                # too few rows to tell
    assert principal_axes(low_rank(rng, 3000, 48, rank=4)) is None  # too few dimensions


def test_bad_projections_are_refused(data):
    index = build(data, "l2")
    core = index._core
    slots = np.arange(10, dtype=np.uint32)
    mean = np.zeros(DIM, dtype=np.float32)
    axes = np.eye(DIM, dtype=np.float32)[:32]
    core.build_range_codes(slots, 1, mean, axes)  # a valid one
    with pytest.raises(ValueError, match="mean and the axes"):
        core.build_range_codes(slots, 1, mean, None)
    with pytest.raises(ValueError, match="orthonormal"):
        core.build_range_codes(slots, 1, mean, axes * 2)
    with pytest.raises(ValueError, match="orthonormal"):
        core.build_range_codes(slots, 1, mean, np.full((32, DIM), np.nan, dtype=np.float32))
    with pytest.raises(ValueError, match="not finite"):
        core.build_range_codes(slots, 1, np.full(DIM, np.inf, dtype=np.float32), axes)
    with pytest.raises(vecsearch.errors.DimensionError):
        core.build_range_codes(slots, 1, mean[:5], np.ascontiguousarray(axes[:, :5]))
    with pytest.raises(ValueError, match="mean must have dim"):
        core.build_range_codes(slots, 1, mean[:5], axes)

