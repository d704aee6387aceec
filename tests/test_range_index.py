"""Range indexes (Index.create_range_index): answers against numpy brute force over the rows
each range selects, staleness after adds, deletes and column changes, persistence, errors."""
from __future__ import annotations

import datetime as dt
import threading

import numpy as np
import pytest

import vecsearch
from vecsearch import F, MISSING_ID
from vecsearch.errors import FilterError

N, DIM, NQ, K = 4000, 48, 30, 10


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    centers = rng.standard_normal((20, DIM)).astype(np.float32) * 3
    x = (centers[rng.integers(0, 20, N)] + rng.standard_normal((N, DIM))).astype(np.float32)
    q = (centers[rng.integers(0, 20, NQ)] + rng.standard_normal((NQ, DIM))).astype(np.float32)
    attrs = {
        "num": rng.permutation(N),  # uncorrelated with the vectors
        "price": rng.uniform(0, 100, N),
        "day": np.datetime64("2020-01-01") + rng.integers(0, 1000, N).astype("timedelta64[D]"),
        "section": rng.choice(["a", "b", "c"], N).tolist(),
    }
    return x, q, attrs


def build(data, metric="l2", columns=("num",)):
    x, _, attrs = data
    index = vecsearch.Index(DIM, metric=metric)
    index.add(x, attributes=attrs)
    for c in columns:
        index.create_range_index(c)
    return index


def truth(x, q, allowed, metric="l2", k=K):
    rows = np.flatnonzero(allowed)
    if metric == "l2":
        d = ((q[:, None, :] - x[rows][None]) ** 2).sum(-1)
    else:
        xn = x[rows] / np.linalg.norm(x[rows], axis=1, keepdims=True)
        d = 1 - (q / np.linalg.norm(q, axis=1, keepdims=True)) @ xn.T
    order = np.argsort(d, axis=1)[:, :k]
    return rows[order], np.take_along_axis(d, order, axis=1)


def recall(ids, want):
    hits = [len(set(a.tolist()) & set(b.tolist())) / max(1, len(b)) for a, b in zip(ids.astype(np.int64), want)]
    return float(np.mean(hits))


@pytest.mark.parametrize("metric", ["l2", "cosine", "ip"])
@pytest.mark.parametrize("lo,hi", [(0, 3), (100, 140), (1000, 1400), (0, 3999)])
def test_deep_rerank_is_exact(data, metric, lo, hi):
    # Re-ranking at least every row of the range re-scores all of them exactly: the answer must
    # be numpy's, ids and distances.
    x, q, attrs = data
    index = build(data, metric)
    allowed = (attrs["num"] >= lo) & (attrs["num"] <= hi)
    ids, dists = index.search(q, K, filter=F("num").between(lo, hi), plan="range", rerank=int(allowed.sum()) + 1)
    want, want_d = truth(x, q, allowed, metric if metric != "ip" else "l2")
    if metric == "ip":
        s = x[np.flatnonzero(allowed)] @ q.T
        order = np.argsort(-s, axis=0)[:K].T
        want = np.flatnonzero(allowed)[order]
        want_d = 1 - np.take_along_axis(s.T, order, axis=1)
    found = min(K, int(allowed.sum()))
    assert recall(ids[:, :found], want[:, :found]) == 1.0
    np.testing.assert_allclose(dists[:, :found], want_d[:, :found], rtol=1e-4, atol=1e-3)
    assert (ids[:, found:] == MISSING_ID).all()


@pytest.mark.parametrize("lo,hi", [(0, 199), (1000, 1999), (0, 3199)])
def test_code_scan_ranks_well_at_shallow_depth(data, lo, hi):
    # Only 3k rows are re-scored: the 8-bit code scan itself must rank the true neighbours
    # among them (no fallback exists behind it).
    x, q, attrs = data
    index = build(data)
    ids, _ = index.search(q, K, filter=F("num").between(lo, hi), plan="range", rerank=3 * K)
    want, _ = truth(x, q, (attrs["num"] >= lo) & (attrs["num"] <= hi))
    assert recall(ids, want) >= 0.97


@pytest.mark.parametrize("text,mask", [
    ("num >= 100 AND num < 400", lambda a: (a["num"] >= 100) & (a["num"] < 400)),
    ("num > 3900", lambda a: a["num"] > 3900),
    ("num <= 50", lambda a: a["num"] <= 50),
    ("num = 17", lambda a: a["num"] == 17),
    ("num BETWEEN 10 AND 20 AND num > 15", lambda a: (a["num"] > 15) & (a["num"] <= 20)),
])
def test_forms_of_a_range(data, text, mask):
    x, q, attrs = data
    index = build(data)
    allowed = mask(attrs)
    ids, _, info = index.search(q, K, filter=text, plan="range", rerank=4000, return_info=True)
    want, _ = truth(x, q, allowed)
    found = min(K, int(allowed.sum()))
    assert recall(ids[:, :found], want[:, :found]) == 1.0
    assert (info.plan == "range").all() and (info.matches == allowed.sum()).all()


def test_float_and_date_columns(data):
    x, q, attrs = data
    index = build(data, columns=("price", "day"))
    assert index.range_indexes == ("price", "day")
    ids, _ = index.search(q, K, filter=(F("price") >= 20.5) & (F("price") < 31), plan="range", rerank=4000)
    want, _ = truth(x, q, (attrs["price"] >= 20.5) & (attrs["price"] < 31))
    assert recall(ids, want) == 1.0
    ids, _ = index.search(q, K, filter=F("day").between(dt.date(2020, 3, 1), "2020-06-30"), plan="range",
                          rerank=4000)
    days = attrs["day"]
    want, _ = truth(x, q, (days >= np.datetime64("2020-03-01")) & (days <= np.datetime64("2020-06-30")))
    assert recall(ids, want) == 1.0


def test_per_query_ranges_and_mixed_batches(data):
    x, q, attrs = data
    index = build(data)
    bounds = [(i * 100, i * 100 + 60 + 40 * (i % 3)) for i in range(NQ)]
    filters = [F("num").between(lo, hi) for lo, hi in bounds]
    for plan in ("range", "auto"):
        ids, _ = index.search(q, K, filter=filters, plan=plan, rerank=4000)
        for i, (lo, hi) in enumerate(bounds):
            want, _ = truth(x, q[i:i + 1], (attrs["num"] >= lo) & (attrs["num"] <= hi))
            assert recall(ids[i:i + 1], want) == 1.0
    # A filter that is not a range on the indexed column sends the batch to the bitmap plans.
    mixed = filters[:-1] + [F("section") == "a"]
    ids, _, info = index.search(q, K, filter=mixed, return_info=True)
    assert info.plan[-1] != "range"
    want, _ = truth(x, q[-1:], np.array(attrs["section"]) == "a")
    assert recall(ids[-1:], want) >= 0.9
    with pytest.raises(ValueError, match="range index"):
        index.search(q, K, filter=mixed, plan="range")


def test_stale_after_add_delete_and_column_change(data):
    x, q, attrs = data
    index = build(data)
    rng = np.random.default_rng(1)
    extra = x[:50] + 0.01 * rng.standard_normal((50, DIM)).astype(np.float32)
    new_ids = index.add(extra, attributes={"num": np.arange(50) + 10_000})
    ids, _ = index.search(extra[:5], 1, filter=F("num") >= 10_000, plan="range", rerank=60)
    np.testing.assert_array_equal(ids[:, 0], new_ids[:5])  # the rebuilt index holds the new rows
    gone = np.arange(0, N, 2, dtype=np.uint64)
    index.delete(gone)
    ids, _ = index.search(q, K, filter=F("num") < 500, plan="range", rerank=4000)
    assert not np.isin(ids, gone).any()
    allowed = (attrs["num"] < 500) & (np.arange(N) % 2 == 1)
    want, _ = truth(x, q, allowed)
    assert recall(ids, want) == 1.0
    index.set_attributes([1, 3, 5], {"num": [20_000, 20_001, 20_002]})
    ids, _ = index.search(x[[1, 3, 5]], 1, filter=F("num") >= 20_000, plan="range", rerank=10)
    np.testing.assert_array_equal(ids[:, 0], [1, 3, 5])


def test_short_answer_is_complete(data):
    _, q, _ = data
    index = build(data)
    ids, _, info = index.search(q, K, filter=F("num").between(7, 9), plan="range", return_info=True)
    assert (info.found == 3).all() and (info.matches == 3).all() and info.complete.all()
    assert (ids[:, 3:] == MISSING_ID).all()


def test_save_load_keeps_the_range_index(data, tmp_path):
    x, q, attrs = data
    index = build(data)
    path = tmp_path / "r.vs"
    index.save(path)
    loaded = vecsearch.Index.load(path)
    assert loaded.range_indexes == ("num",)
    a, _ = index.search(q, K, filter=F("num") < 300, plan="range", rerank=400)
    b, _ = loaded.search(q, K, filter=F("num") < 300, plan="range", rerank=400)
    np.testing.assert_array_equal(a, b)


def test_explain_and_auto(data):
    x, q, attrs = data
    index = build(data)
    plan = index.explain(q[0], F("num") < 2000, k=K, shared_by=NQ)
    assert plan.range_index == "num" and "range" in plan.estimated_us and "range" in plan.eligible
    ids, _ = index.search(q, K, filter=F("num") < 2000)
    want, _ = truth(x, q, attrs["num"] < 2000)
    assert recall(ids, want) >= 0.9
    # explain() says range exactly when the batch's search takes it: with the measured costs, and
    # with the range index's cost set free and prohibitive so that both answers occur.
    from vecsearch.filters.range_index import RangeCost
    ranged = index._range_indexes["num"]
    said_range = set()
    for cost in (ranged.cost, RangeCost(0.0, 0.0, 0.0, 0.0), RangeCost(1e9, 0.0, 0.0, 0.0)):
        ranged.cost = cost
        for bound in (50, 300, 2000, 8000):
            said = index.explain(q[0], F("num") < bound, k=K, shared_by=NQ).plan
            answered = set(index.search(q, K, filter=F("num") < bound, return_info=True)[2].plan.tolist())
            assert (said == "range") == (answered == {"range"}), (bound, said, answered)
            said_range.add(said == "range")
    assert said_range == {True, False}
    # A microsecond dearer than the cheapest other plan per query: a second call would cost the
    # batch more than it saves, so search takes the range index, and explain must say so too.
    from vecsearch.filters.planner import cheapest_cost
    matches = int((attrs["num"] < 2000).sum())
    ef = max(K, index.ef_search)
    theirs = float(cheapest_cost(np.array([matches]), len(index), K, ef, index._filtered.costs(), np.array([NQ]))[0])
    ranged.cost = RangeCost(theirs + 1.0, 0.0, 0.0, 0.0)
    assert index.explain(q[0], F("num") < 2000, k=K, shared_by=NQ).plan == "range"
    assert set(index.search(q, K, filter=F("num") < 2000, return_info=True)[2].plan.tolist()) == {"range"}


def test_errors(data):
    index = build(data, columns=())
    with pytest.raises(FilterError, match="section"):
        index.create_range_index("section")
    with pytest.raises(FilterError, match="unknown field"):
        index.create_range_index("nope")
    with pytest.raises(ValueError, match="range index"):
        index.search(data[1], K, filter=F("num") < 10, plan="range")
    with pytest.raises(KeyError):
        index.drop_range_index("num")
    index.create_range_index("num")
    index.drop_range_index("num")
    assert index.range_indexes == ()


def test_searches_while_adding(data):
    # Adds race range searches: every answer is a live row inside its range, none crashes.
    x, q, attrs = data
    index = build(data)
    errors = []

    def search():
        try:
            for _ in range(20):
                ids, _ = index.search(q, K, filter=F("num") < 1000, plan="range", rerank=40)
                got = ids[ids != MISSING_ID].astype(np.int64)
                nums = np.array([v for v in index.get_attributes(np.unique(got))["num"]])
                assert (nums < 1000).all()
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    t = threading.Thread(target=search)
    t.start()
    for i in range(10):
        index.add(x[:20], attributes={"num": np.arange(20) + 5000 + 20 * i})
    t.join()
    assert not errors


def _asked_oracle(route, cost, k, ef, rerank, live, model):
    """The split rule in numpy: per filter the range index's estimate against the cheapest other
    plan; unless the queries those plans would answer faster save more than SPLIT_COST_US in all,
    every query with a match goes to the range index."""
    from vecsearch.filters.planner import cheapest_cost
    from vecsearch.filters.range_search import SPLIT_COST_US
    sharing = np.bincount(route.filter_of, minlength=route.spans.shape[0])
    mine = cost.estimate(route.matches, max(k, rerank), sharing)[route.filter_of]
    theirs = cheapest_cost(route.matches, live, k, ef, model, sharing)[route.filter_of]
    answerable = route.matches[route.filter_of] > 0
    if np.maximum(mine - theirs, 0.0)[answerable].sum() < SPLIT_COST_US:
        return answerable
    return (mine < theirs) & answerable


def test_a_batch_is_split_only_when_the_split_saves_a_call():
    """The range index answers every query with a match unless the queries the bitmap plans would
    answer faster save more than the bitmap call costs (filters.range_search.SPLIT_COST_US): the
    native decision equals the rule written in numpy, over random models, range costs, spans and
    sharings, with batches both split and not."""
    from test_planner import _random_model
    from vecsearch.filters import range_search
    from vecsearch.filters.range_index import RangeCost, RangeIndex

    rng = np.random.default_rng(3)
    outcomes = set()
    for trial in range(300):
        index = RangeIndex("num")
        index.cost = RangeCost(*(float(v) for v in rng.uniform(0, [40, 0.5, 0.05, 0.2])))
        nf = int(rng.integers(1, 8))
        ends = np.cumsum(rng.choice([0, 5, 50, 500, 5000], size=nf)).astype(np.uint64)
        spans = np.stack([np.r_[0, ends[:-1]], ends], axis=1).astype(np.uint64)
        filter_of = rng.integers(0, nf, size=int(rng.integers(1, 40))).astype(np.uint32)
        route = range_search.RangeRoute(index, None, spans, filter_of)
        model = _random_model(rng, codes=bool(trial % 2))
        k, ef, rerank, live = 10, int(rng.choice([10, 40, 200])), int(rng.choice([10, 64])), 100_000
        got = route.asked(k, ef, rerank, live, model)
        want = _asked_oracle(route, index.cost, k, ef, rerank, live, model)
        np.testing.assert_array_equal(got, want, err_msg=f"trial {trial}")
        answerable = route.matches[filter_of] > 0
        outcomes.add("all" if (got == answerable).all() else "split")
    assert outcomes == {"all", "split"}
