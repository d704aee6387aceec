"""A graph built with SQ8 codes attached steers each insert's beams by code estimates
(Hnsw::insert). The links it keeps must be as good as a float build's: measured by walking the
graph on float vectors (storage switched to float32 after the build, so no code and no re-rank
stands between the links and the answer) against numpy brute force."""
from __future__ import annotations

import numpy as np
import pytest

from vecsearch import Index
from conftest import brute_force_knn, clustered_with_queries, recall_at_k

N, NQ, DIM, K = 4000, 100, 32, 10


def _float_walk_recall(idx: Index, x: np.ndarray, q: np.ndarray, metric: str, ef: int) -> float:
    idx.set_storage("float32")  # the links alone: an exact walk, nothing re-ranked
    ids, _ = idx.search(q, k=K, ef=ef)
    true_ids, _ = brute_force_knn(x, q, K, metric)
    return recall_at_k(ids, true_ids)


@pytest.mark.parametrize("metric", ["l2", "cosine", "ip"])
@pytest.mark.parametrize("storage", ["sq8", "auto"])
def test_links_built_on_codes_match_a_float_build(metric, storage):
    x, q = clustered_with_queries(N, NQ, DIM, seed=5)
    coded = Index(DIM, metric, M=8, ef_construction=64, seed=1, storage=storage)
    coded.add(x, num_threads=2)
    assert coded.storage == "sq8"  # "auto" decided on the first add, before linking it
    plain = Index(DIM, metric, M=8, ef_construction=64, seed=1, storage="float32")
    plain.add(x, num_threads=2)
    on_codes = _float_walk_recall(coded, x, q, metric, ef=32)
    on_floats = _float_walk_recall(plain, x, q, metric, ef=32)
    assert on_codes >= 0.9
    assert on_codes >= on_floats - 0.02


def test_reused_slots_are_linked_by_their_new_codes():
    # A deleted slot stays reachable through old links; its new vector's code must be written
    # before any insert scores it, or the new vector is linked where the old one was.
    x, q = clustered_with_queries(N, NQ, DIM, seed=6)
    idx = Index(DIM, "l2", M=8, ef_construction=64, seed=2, storage="sq8")
    idx.add(x[:3000], num_threads=2)
    idx.delete(np.arange(0, 3000, 2))
    fresh = x[3000:]
    new_ids = idx.add(fresh, num_threads=2)
    live = np.concatenate([np.arange(1, 3000, 2), new_ids.astype(np.int64)])
    data = np.concatenate([x[1:3000:2], fresh])
    idx.set_storage("float32")
    ids, _ = idx.search(fresh[:200], k=1, ef=32)
    assert (ids[:, 0] == new_ids[:200]).mean() >= 0.99  # each new vector finds itself
    found, _ = idx.search(q, k=K, ef=32)
    true_rows, _ = brute_force_knn(data, q, K, "l2")
    assert recall_at_k(found, live[true_rows]) >= 0.9
