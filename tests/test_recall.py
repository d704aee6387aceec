"""Recall floors against exact brute force on clustered data (Gaussian mixture)."""
from __future__ import annotations

import pytest

from vecsearch import Index

N, NQ, DIM, K = 20_000, 300, 32, 10

# per-case floors (voyager style): (metric, M, ef_construction, ef, floor)
GRID = [
    ("l2", 16, 200, 100, 0.95),
    ("ip", 16, 200, 100, 0.95),
    ("cosine", 16, 200, 100, 0.95),
]


@pytest.fixture(scope="module")
def recall_data(make_data_queries):
    return make_data_queries(N, NQ, DIM, seed=2024, n_clusters=40)


@pytest.mark.slow
@pytest.mark.parametrize("metric,M,efc,ef,floor", GRID)
def test_recall_floor(recall_data, oracle, recall, check_rows, metric, M, efc, ef, floor):
    x, q = recall_data
    idx = Index(DIM, metric=metric, M=M, ef_construction=efc, seed=1)
    idx.add(x, num_threads=2)
    assert len(idx) == N
    ids, d = idx.search(q, k=K, ef=ef, num_threads=2)
    check_rows(ids, d)
    ref_i, _ = oracle(x, q, K, metric)
    r = recall(ids, ref_i)
    assert r >= floor, f"recall@{K} {metric} M={M} efc={efc} ef={ef}: {r:.4f} < {floor}"
    # a larger beam must not be worse (beyond noise)
    ids_big, _ = idx.search(q, k=K, ef=4 * ef, num_threads=2)
    assert recall(ids_big, ref_i) >= r - 0.005
