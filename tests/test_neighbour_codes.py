"""The walk over neighbour codes (csrc/graph/hnsw_fast_walk.cpp): RaBitQ estimates choose the
beam, every returned distance is exact. Enabled on the core directly
(`_core.HnswIndex.enable_neighbour_codes`); measured against numpy brute force, with the scan
fallback ruled out by checking the walk's own recall at a beam where it must hold."""
from __future__ import annotations

import numpy as np
import pytest

import vecsearch


def _walk_index(data, metric, **kw):
    index = vecsearch.Index(data.shape[1], metric=metric, storage="float32", seed=3, **kw)
    index.add(data, progress=False)
    index._core.enable_neighbour_codes(True, 2)
    assert index._core.has_neighbour_codes()
    return index


@pytest.mark.parametrize("metric", ["l2", "ip", "cosine"])
@pytest.mark.parametrize("dim", [24, 100, 128])
def test_walk_recall_and_exact_distances(metric, dim, make_data_queries, oracle, recall):
    data, queries = make_data_queries(4000, 60, dim, seed=dim)
    index = _walk_index(data, metric)
    ids, dists = index.search(queries, k=10, ef=96, num_threads=1)
    true_ids, _ = oracle(data, queries, 10, metric)
    assert recall(ids, true_ids) >= 0.97
    # Distances are exact ones, in the metric's convention, ascending.
    got = index.get_vectors(ids.reshape(-1)).reshape(ids.shape + (dim,))
    q = queries.astype(np.float64)
    if metric == "l2":
        want = ((got - q[:, None, :]) ** 2).sum(-1)
    else:
        qn = q / np.linalg.norm(q, axis=1, keepdims=True) if metric == "cosine" else q
        want = 1.0 - np.einsum("qkd,qd->qk", got, qn)
    np.testing.assert_allclose(dists, want, rtol=1e-4, atol=1e-4)
    assert np.all(np.diff(dists, axis=1) >= 0)


def test_estimates_steer_the_walk_not_a_fallback(make_data_queries, oracle, recall):
    # A narrow beam still finds most neighbours: the estimates rank well (one-bit codes need
    # a few hundred dimensions to). A walk whose estimates were noise would score near 0 here;
    # the exact scan only answers short rows.
    data, queries = make_data_queries(6000, 80, 256, seed=11)
    index = _walk_index(data, "l2")
    ids, _ = index.search(queries, k=10, ef=48, num_threads=1)
    true_ids, _ = oracle(data, queries, 10, "l2")
    assert recall(ids, true_ids) >= 0.6  # measured 0.74; random estimates give about 0.01
    assert np.all(ids != vecsearch.MISSING_ID)


def test_adds_and_deletes_keep_the_walk_right(make_data_queries, oracle, recall):
    data, queries = make_data_queries(5000, 60, 48, seed=5)
    index = vecsearch.Index(48, metric="l2", storage="float32", seed=3)
    index.add(data[:3000], progress=False)
    index._core.enable_neighbour_codes(True, 2)
    index.add(data[3000:], progress=False)  # blocks of changed rows are re-packed
    gone = np.arange(0, 5000, 7, dtype=np.uint64)
    index.delete(gone)
    index.add(data[gone.astype(np.int64)] + 0.01, progress=False)  # reuses the deleted slots
    live = np.setdiff1d(np.arange(5000), gone.astype(np.int64))
    pool = np.concatenate([data[live], data[gone.astype(np.int64)] + 0.01])
    pool_ids = np.concatenate([live.astype(np.uint64), np.arange(5000, 5000 + len(gone), dtype=np.uint64)])
    ids, _ = index.search(queries, k=10, ef=96, num_threads=1)
    true_ids, _ = oracle(pool, queries, 10, "l2", ids=pool_ids)
    assert recall(ids, true_ids) >= 0.97
    assert not np.isin(ids, gone).any()


def test_disable_returns_to_the_float_walk(make_data_queries):
    data, queries = make_data_queries(2000, 20, 32, seed=2)
    index = vecsearch.Index(32, metric="l2", storage="float32", seed=3)
    index.add(data, progress=False)
    before = index.search(queries, k=5, ef=64)
    index._core.enable_neighbour_codes(True, 1)
    index._core.enable_neighbour_codes(False, 1)
    assert not index._core.has_neighbour_codes()
    after = index.search(queries, k=5, ef=64)
    np.testing.assert_array_equal(before[0], after[0])


def test_shallow_rerank_still_returns_exact_distances(make_data_queries, oracle, recall):
    # Expanded nodes are ranked by SQ8 codes; only the best `rerank` are re-scored exactly,
    # and what is returned carries those exact distances.
    data, queries = make_data_queries(4000, 40, 256, seed=8)
    index = _walk_index(data, "l2")
    ids, dists = index.search(queries, k=10, ef=96, rerank=10, num_threads=1)
    true_ids, _ = oracle(data, queries, 10, "l2")
    assert recall(ids, true_ids) >= 0.9
    got = index.get_vectors(ids.reshape(-1)).reshape(ids.shape + (256,))
    want = ((got - queries[:, None, :].astype(np.float64)) ** 2).sum(-1)
    np.testing.assert_allclose(dists, want, rtol=1e-4, atol=1e-3)


def test_blocks_count_in_memory():
    data = np.random.default_rng(1).standard_normal((3000, 64)).astype(np.float32)
    index = vecsearch.Index(64, metric="l2", storage="float32", seed=3)
    index.add(data, progress=False)
    before = index._core.memory_parts()["codes"]
    index._core.enable_neighbour_codes(True, 1)
    # each block: the node's own vector and a batch of 32 one-bit codes with their factors
    assert index._core.memory_parts()["codes"] - before >= 3000 * (64 * 4 + 32 * 8)
