"""The filtered adapters on small data against numpy: the exact baselines are exact, IVF at
every list is exact, LanceDB returns only matching rows at recall, hnswlib answers filters
with fewer than k matches, and the SQL form of each operator. Every peer is installed in CI:
an import failure fails here."""

from __future__ import annotations

import numpy as np
import pytest

from vecsearch import F
from vecsearch.datasets import clustered_dataset

from bench.engines import HNSWParams
from bench.engines.sql import safe_names, to_sql
from bench.filtered_data import FilterCase
from bench.filtered_engines import METHODS, load_method

N, DIM, NQ, K = 3000, 16, 30, 10


@pytest.fixture(scope="module")
def data():
    base, queries = clustered_dataset(N, NQ, DIM, seed=8)
    rng = np.random.default_rng(8)
    attrs = {"num": rng.permutation(N).astype(np.int64),
             "cat.x": np.where(rng.random(N) < 0.1, "a", "b")}  # a dot, as the suite's names have
    return base, queries, attrs


def _truth(base, queries, allowed, k=K):
    d = ((queries[:, None, :].astype(np.float64) - base[allowed][None]) ** 2).sum(-1)
    order = np.argsort(d, axis=1, kind="stable")[:, :k]
    out = np.full((queries.shape[0], k), -1, dtype=np.int64)
    out[:, : order.shape[1]] = allowed[order]
    return out


def _shared_case(base, queries, attrs, m):
    mask = attrs["num"] < m
    return FilterCase("range", m / N, int(mask.sum()), _truth(base, queries, np.flatnonzero(mask)),
                      expr=F("num") < m, mask=mask)


def _per_query_case(base, queries, rng):
    # two distinct id sets shared by alternate queries, so the baselines group them
    sets = [np.sort(rng.choice(N, 200, replace=False)) for _ in range(2)]
    allowed = np.array([sets[i % 2] for i in range(NQ)], dtype=np.int64)
    truth = np.concatenate([_truth(base, queries[i : i + 1], allowed[i]) for i in range(NQ)])
    return FilterCase("anti", 200 / N, 200, truth, allowed=allowed)


def _recall(ids, truth):
    hits = [len(set(a[a >= 0]) & set(b[b >= 0])) for a, b in zip(ids, truth)]
    return sum(hits) / max(1, int((truth >= 0).sum()))


@pytest.fixture(scope="module")
def built(data):
    base, _, attrs = data
    methods = {}
    for name in METHODS:
        method = load_method(name, HNSWParams(dim=DIM, M=8, ef_construction=64))
        method.build(base, attrs, 2, False)
        methods[name] = method
    yield methods
    for method in methods.values():
        method.close()


@pytest.mark.parametrize("name", ["bruteforce", "faiss-flat"])
def test_exact_baselines_are_exact(built, data, name):
    base, queries, attrs = data
    method = built[name]
    for case in (_shared_case(base, queries, attrs, 150), _shared_case(base, queries, attrs, 5),
                 _per_query_case(base, queries, np.random.default_rng(1))):
        ids, failures = method.search(queries, K, 10, method.prepare(case), "")
        assert failures == 0
        np.testing.assert_array_equal(ids, case.truth)


def test_faiss_ivf_at_every_list_is_exact_and_sweeps_nprobe(built, data):
    base, queries, attrs = data
    method = built["faiss-ivf"]
    assert method.knob == "nprobe" and method.knob_limit > 8
    case = _shared_case(base, queries, attrs, 300)
    prepared = method.prepare(case)
    low, _ = method.search(queries, K, 1, prepared, "")
    full, _ = method.search(queries, K, method.knob_limit, prepared, "")
    assert _recall(full, case.truth) == 1.0
    assert _recall(low, case.truth) < 1.0  # one list of many misses some: the knob matters
    per_query = _per_query_case(base, queries, np.random.default_rng(2))
    ids, _ = method.search(queries, K, method.knob_limit, method.prepare(per_query), "")
    assert _recall(ids, per_query.truth) == 1.0


@pytest.mark.parametrize("curve,knob", [("pre", 64), ("post", 2048)])
def test_lancedb_filters_and_recall(built, data, curve, knob):
    base, queries, attrs = data
    method = built["lancedb"]
    case = FilterCase("equality", 0.1, int((attrs["cat.x"] == "a").sum()),
                      _truth(base, queries, np.flatnonzero(attrs["cat.x"] == "a")),
                      expr=F("cat.x") == "a", mask=attrs["cat.x"] == "a")
    for prepared in (method.prepare(case), [method.prepare(case)] * NQ):  # batch and per query
        ids, _ = method.search(queries, K, knob, prepared, curve)
        assert (attrs["cat.x"][ids[ids >= 0]] == "a").all()
        assert _recall(ids, case.truth) >= 0.9
    # an id-list filter per query has no SQL form: the method declines the case
    assert method.case_curves(_per_query_case(base, queries, np.random.default_rng(3))) == ()


def test_hnswlib_answers_filters_with_fewer_than_k_matches(built, data):
    base, queries, attrs = data
    method = built["hnswlib"]
    case = _shared_case(base, queries, attrs, 3)
    ids, failures = method.search(queries, K, 64, method.prepare(case), "")
    assert failures == 0
    np.testing.assert_array_equal(ids, case.truth)  # the 3 matches, then -1
    assert (ids[:, 3:] == -1).all()


def test_vecsearch_loop_curve_equals_the_batch_call(built, data):
    base, queries, _ = data
    method = built["vecsearch"]
    case = _per_query_case(base, queries, np.random.default_rng(4))
    assert "auto-loop" in method.case_curves(case)
    prepared = method.prepare(case)
    batch, _ = method.search(queries, K, 64, prepared, "auto")
    loop, _ = method.search(queries, K, 64, prepared, "auto-loop")
    np.testing.assert_array_equal(batch, loop)


def test_sql_form_of_each_operator():
    names = safe_names(["cat.x", "num", "tags", "cat_x"])
    assert names == {"cat.x": "cat_x", "num": "num", "tags": "tags", "cat_x": "cat_x_3"}
    cases = [
        (F("num") == 3, "`num` = 3"),
        (F("num") != 3, "`num` != 3"),
        (F("num") < 2.5, "`num` < 2.5"),
        (F("num") >= 1, "`num` >= 1"),
        (F("num").between(1, 9), "`num` BETWEEN 1 AND 9"),
        (F("cat.x").isin(["a", "o'k"]), "`cat_x` IN ('a', 'o''k')"),
        (F("tags").contains_any(["x"]), "array_has_any(`tags`, ['x'])"),
        (F("tags").contains_all(["x", "y"]), "array_has_all(`tags`, ['x', 'y'])"),
        (F("num").is_null(), "`num` IS NULL"),
        ((F("num") < 3) & ~(F("num") == 1), "(`num` < 3) AND (NOT (`num` = 1))"),
        ((F("num") < 3) | (F("num") > 9), "(`num` < 3) OR (`num` > 9)"),
    ]
    for expr, sql in cases:
        assert to_sql(expr, names) == sql
