"""Axis codes (csrc/graph/axis_codes.h): the codes plan scores each match's code on the leading
principal axes first, then its best on the SQ8 codes, then re-ranks exactly. Checked against numpy
brute force over the matching rows, on data whose variance lies mostly on a few axes, through
adds (which must encode the new rows) and a change of codec (which drops and rebuilds them)."""
from __future__ import annotations

import numpy as np
import pytest

import vecsearch
from vecsearch import F, MISSING_ID

from conftest import filtered_knn, low_rank, recall_at_k
from vecsearch.quant.projection import MAX_SHARE, STEP

N, DIM, NQ, K = 6000, 128, 30, 10
GROUPS = 2  # about 3000 matches a filter: enough for the axis codes (fewer are scanned without)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(21)
    both = low_rank(rng, N + NQ, DIM)
    return both[:N], both[N:], rng.integers(0, GROUPS, N)


def build(data, metric="l2"):
    x, _, group = data
    index = vecsearch.Index(DIM, metric=metric, storage="sq8")
    index.add(x, attributes={"group": group})
    return index


@pytest.mark.parametrize("metric", ["l2", "ip", "cosine"])
@pytest.mark.parametrize("shared", [True, False])
def test_codes_plan_on_axis_codes(data, metric, shared):
    # rerank = k: only the second pass's best 2k + 8 are re-scored for sure, so the first pass on
    # the axes must keep the true neighbours among its own best as many.
    x, q, group = data
    index = build(data, metric)
    labels = np.full(NQ, 1) if shared else np.arange(NQ) % GROUPS
    ids, dists = index.search(q, K, filter=[F("group") == int(g) for g in labels], plan="codes", rerank=K)
    assert STEP <= index._core.axis_code_dim() <= MAX_SHARE * DIM
    hits = []
    for i, g in enumerate(labels):
        want, want_d = filtered_knn(x, q[i:i + 1], np.flatnonzero(group == g), K, metric)
        hits.append(recall_at_k(ids[i:i + 1], want))
        found = ids[i][ids[i] != MISSING_ID].astype(np.int64)
        assert (group[found] == g).all()
    assert np.mean(hits) >= 0.95


@pytest.mark.parametrize("per_filter", [1, 3, 8])
def test_gathered_or_in_place(data, per_filter):
    # A block of 8 or more queries sharing a filter gathers its matches' axis codes into
    # interleaved blocks; fewer score them where they lie. Distinct filters of ~3000 matches each
    # (group == g and tag != t, each tag on 2 % of the rows) make blocks of `per_filter` queries.
    x, q, group = data
    index = vecsearch.Index(DIM, storage="sq8")
    tag = np.arange(N) % 50
    index.add(x, attributes={"group": group, "tag": tag})
    labels = np.arange(NQ) // per_filter
    filters = [(F("group") == int(f % GROUPS)) & (F("tag") != int(f)) for f in labels]
    ids, _ = index.search(q, K, filter=filters, plan="codes", rerank=K)
    hits = []
    for i, f in enumerate(labels):
        rows = np.flatnonzero((group == f % GROUPS) & (tag != f))
        assert rows.size >= 2048  # the axis codes' first pass
        want, _ = filtered_knn(x, q[i:i + 1], rows, K, "l2")
        hits.append(recall_at_k(ids[i:i + 1], want))
        assert np.isin(ids[i].astype(np.int64), rows).all()
    assert np.mean(hits) >= 0.95


def test_adds_encode_the_new_rows(data):
    x, q, group = data
    index = build(data)
    index.search(q, K, filter=F("group") == 1, plan="codes")  # builds the axis codes
    dim_before = index._core.axis_code_dim()
    rng = np.random.default_rng(4)
    extra = low_rank(rng, 2500, DIM)
    ids = index.add(extra, attributes={"group": np.full(2500, 77)})
    assert index._core.axis_code_dim() == dim_before  # kept, not rebuilt
    got, _ = index.search(q, K, filter=F("group") == 77, plan="codes", rerank=K)
    want, _ = filtered_knn(extra, q, np.arange(2500), K, "l2")
    assert recall_at_k(got, np.asarray(ids)[want]) >= 0.95


def test_deep_rerank_is_exact(data):
    x, q, group = data
    index = build(data)
    rows = np.flatnonzero(group == 0)
    ids, dists = index.search(q, K, filter=F("group") == 0, plan="codes", rerank=len(rows))
    want, want_d = filtered_knn(x, q, rows, K, "l2")
    assert recall_at_k(ids, want) == 1.0
    np.testing.assert_allclose(dists, want_d, rtol=1e-4, atol=1e-3)


def test_built_with_the_codes_and_dropped_with_them(data, tmp_path):
    x, q, group = data
    index = build(data)
    assert index._core.axis_code_dim() > 0  # with the SQ8 codes, before any search
    index.set_storage("float32")
    assert index._core.axis_code_dim() == 0
    index.set_storage("sq8")
    assert index._core.axis_code_dim() > 0
    index.save(tmp_path / "i.vsx")
    index = vecsearch.Index.load(tmp_path / "i.vsx")
    assert index._core.axis_code_dim() > 0  # rebuilt on load
    ids, _ = index.search(q, K, filter=F("group") == 1, plan="codes", rerank=K)
    want, _ = filtered_knn(x, q, np.flatnonzero(group == 1), K, "l2")
    assert recall_at_k(ids, want) >= 0.95


def test_none_without_a_few_axes():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((N, DIM)).astype(np.float32)
    index = vecsearch.Index(DIM, storage="sq8")
    index.add(x, attributes={"group": rng.integers(0, 5, N)})
    index.search(x[:5], K, filter=F("group") == 1, plan="codes")
    assert index._core.axis_code_dim() == 0


def test_they_need_sq8_codes(data):
    index = vecsearch.Index(DIM, storage="float32")
    index.add(data[0][:100])
    with pytest.raises(ValueError, match="SQ8"):
        index._core.attach_axis_codes(np.zeros(DIM, np.float32), np.eye(DIM, dtype=np.float32)[:32], 1)

