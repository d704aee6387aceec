"""The codes plan (plan="codes"): every match's SQ8 code scored with an 8-bit query, the best
re-scored exactly. Checked against numpy brute force over the matching rows."""
from __future__ import annotations

import numpy as np
import pytest

import vecsearch
from vecsearch import F, MISSING_ID

N, DIM, NQ, K = 3000, 40, 24, 10


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(11)
    centers = rng.standard_normal((12, DIM)).astype(np.float32) * 3
    x = (centers[rng.integers(0, 12, N)] + rng.standard_normal((N, DIM))).astype(np.float32)
    q = (centers[rng.integers(0, 12, NQ)] + rng.standard_normal((NQ, DIM))).astype(np.float32)
    return x, q, rng.integers(0, 100, N)


def build(data, metric):
    x, _, group = data
    index = vecsearch.Index(DIM, metric=metric, storage="sq8")
    index.add(x, attributes={"group": group})
    return index


def truth(x, q, allowed, metric):
    rows = np.flatnonzero(allowed)
    if metric == "l2":
        d = ((q[:, None, :] - x[rows][None]) ** 2).sum(-1)
    elif metric == "ip":
        d = 1 - q @ x[rows].T
    else:
        d = 1 - (q / np.linalg.norm(q, axis=1, keepdims=True)) @ (x[rows] / np.linalg.norm(x[rows], axis=1,
                                                                                          keepdims=True)).T
    order = np.argsort(d, axis=1)[:, :K]
    return rows[order], np.take_along_axis(d, order, axis=1)


@pytest.mark.parametrize("metric", ["l2", "ip", "cosine"])
@pytest.mark.parametrize("cut", [1, 5, 30, 100])
def test_deep_rerank_is_exact(data, metric, cut):
    # Re-scoring every match exactly must give numpy's answer, ids and distances, whatever the codes.
    x, q, group = data
    index = build(data, metric)
    allowed = group < cut
    ids, dists, info = index.search(q, K, filter=F("group") < cut, plan="codes", rerank=int(allowed.sum()),
                                    return_info=True)
    want, want_d = truth(x, q, allowed, metric)
    found = min(K, int(allowed.sum()))
    assert (ids[:, :found].astype(np.int64) == want[:, :found]).mean() > 0.99  # ties may swap
    np.testing.assert_allclose(dists[:, :found], want_d[:, :found], rtol=1e-4, atol=1e-3)
    # Every match was scored exactly: the row is an exact scan's, and says so.
    assert (info.plan == "scan").all() and info.exact.all()


@pytest.mark.parametrize("cut", [2, 10, 50])
def test_codes_rank_the_neighbours_at_shallow_depth(data, cut):
    # Only 3k of the matches are re-scored: the 8-bit scan itself must rank the true neighbours
    # among its best (nothing falls back behind it).
    x, q, group = data
    index = build(data, "l2")
    ids, _, info = index.search(q, K, filter=F("group") < cut, plan="codes", rerank=3 * K, return_info=True)
    want, _ = truth(x, q, group < cut, "l2")
    assert (info.plan == "codes").mean() > 0.5 and not info.exact[info.plan == "codes"].any()
    hits = np.mean([len(set(a.tolist()) & set(b.tolist())) / K for a, b in zip(ids.astype(np.int64), want)])
    assert hits >= 0.97


@pytest.mark.parametrize("metric", ["l2", "ip"])
def test_a_lone_query_ranks_the_neighbours_at_shallow_depth(data, metric):
    # One query per call scores the codes where they lie (no interleaved block): the same bar.
    x, q, group = data
    index = build(data, metric)
    want, _ = truth(x, q, group < 20, metric)
    hits = []
    for i in range(NQ):
        ids, _, info = index.search(q[i], K, filter=F("group") < 20, plan="codes", rerank=3 * K, return_info=True)
        assert info.plan[0] == "codes" and not info.exact[0]
        hits.append(len(set(ids[0].astype(np.int64).tolist()) & set(want[i].tolist())) / K)
    assert np.mean(hits) >= 0.97


def test_per_query_filters_and_counters(data):
    x, q, group = data
    index = build(data, "l2")
    index.reset_stats()
    filters = [F("group") == int(g) for g in range(NQ)]
    ids, _ = index.search(q, K, filter=filters, plan="codes", rerank=N)
    for i in range(NQ):
        want, _ = truth(x, q[i:i + 1], group == i, "l2")
        got = ids[i][ids[i] != MISSING_ID].astype(np.int64)
        assert set(got.tolist()) == set(want[0][:got.shape[0]].tolist())
    assert index.stats()["plans"]["codes"] == NQ


def test_refused_without_sq8_codes(data):
    x, q, group = data
    index = vecsearch.Index(DIM, storage="float32")
    index.add(x, attributes={"group": group})
    with pytest.raises(ValueError, match="codes"):
        index.search(q, K, filter=F("group") < 5, plan="codes")


@pytest.mark.parametrize("plan", ["codes", "range"])
def test_pools_cut_through_tied_estimates(plan):
    # 40 distinct vectors, each repeated 50 times with its own value of `num`: the codes of
    # copies are equal, so the pools' cuts meet long runs of equal estimates (the quickselect's
    # tie partition). The k best distances must be numpy's, whichever copies come back.
    rng = np.random.default_rng(5)
    base = rng.standard_normal((40, DIM)).astype(np.float32)
    x = np.repeat(base, 50, axis=0)
    q = rng.standard_normal((NQ, DIM)).astype(np.float32)
    index = vecsearch.Index(DIM, metric="l2", storage="sq8")
    index.add(x, attributes={"num": rng.permutation(len(x))})
    if plan == "range":
        index.create_range_index("num")
    allowed = np.ones(len(x), bool)
    ids, dists = index.search(q, K, filter=F("num") >= 0, plan=plan, rerank=2 * K)
    _, want_d = truth(x, q, allowed, "l2")
    np.testing.assert_allclose(dists, want_d, rtol=1e-4, atol=1e-3)
    for row in ids:
        assert len(set(row.tolist())) == K  # no row twice
