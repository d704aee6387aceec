"""Filtered search with the vectors on disk (issue #18): every plan answers from the codes in RAM
and reads only candidate rows that pass the filter, at most max(ef, rerank) per query; the
scan over the codes is reported approximate. Recall is measured against numpy brute force over
the matching rows."""
from __future__ import annotations

import numpy as np
import pytest

import vecsearch
from vecsearch import F

DIM, N, K = 64, 20_000, 10
RARE = np.array([7, 1234, 19_999], dtype=np.uint64)


@pytest.fixture(scope="module")
def data():
    from conftest import clustered_with_queries

    return clustered_with_queries(N, 50, DIM, seed=5)


@pytest.fixture(scope="module")
def index(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("disk-filtered") / "idx.vs"
    bucket = np.arange(N) % 100
    rare = np.isin(np.arange(N), RARE).astype(np.int64)
    vecsearch.build_on_disk(path, data[0], storage="pq", attributes={"bucket": bucket, "rare": rare}, progress=False,
                            load=False)
    return vecsearch.Index.load(path, vectors_on_disk=True, disk_io="pread")


def _truth(x, q, match):
    d = ((q[:, None, :] - x[match][None]) ** 2).sum(-1)
    return match[np.argsort(d, axis=1)[:, :K]]


@pytest.mark.parametrize("share", [0.01, 0.1])
@pytest.mark.parametrize("plan", ["scan", "acorn", "post", "auto"])
def test_every_plan_reads_few_matching_rows(index, data, share, plan):
    x, q = data
    expr = F("bucket") < int(share * 100)
    match = np.flatnonzero(np.arange(N) % 100 < share * 100)
    index.reset_stats()
    ids, dists, info = index.search(q, k=K, ef=64, filter=expr, plan=plan, return_info=True)
    assert np.isin(ids, match).all()  # only matching rows come back
    truth = _truth(x, q, match)
    recall = np.mean([len(set(a) & set(b)) / K for a, b in zip(ids.astype(np.int64), truth)])
    assert recall >= 0.9, recall
    # Every returned distance is exact: the rows were read from the file.
    np.testing.assert_allclose(dists, ((x[ids.astype(np.int64)] - q[:, None, :]) ** 2).sum(-1), rtol=1e-4, atol=1e-3)
    io = index.stats()["io"]
    # The scan scored codes in RAM and re-ranked from disk (no exact scan of the matching rows:
    # 200 or 2,000 of them per query), reading at most max(ef, rerank) = 64 rows per query.
    assert io["rows_reranked"] == io["rows_read"] and 0 < io["rows_per_query"] <= 64
    if plan == "scan":
        assert not info.exact.any()  # codes ranked the matches: not an exact scan


def test_a_filter_of_three_reads_at_most_three_rows(index, data):
    x, q = data
    index.reset_stats()
    ids, dists, info = index.search(q, k=K, filter=F("rare") == 1, return_info=True)
    np.testing.assert_array_equal(np.sort(ids[:, :3], axis=1), np.tile(RARE, (len(q), 1)))
    assert info.complete.all() and (info.found == 3).all()
    assert index.stats()["io"]["rows_per_query"] <= 3


def test_explain_gives_the_rows_a_query_reads(index, data):
    q = data[1][:1]
    plan = index.explain(q[0], F("bucket") < 10, k=K, ef=64)
    assert plan.rows_read is not None and 0 < plan.rows_read <= 64
    assert index.explain(q[0], F("rare") == 1, k=K, ef=64).rows_read <= 3
    ram = vecsearch.Index.load(index._keepalive.path) if hasattr(index, "_keepalive") else None
    if ram is not None:
        assert ram.explain(q[0], F("bucket") < 10, k=K, ef=64).rows_read is None
