"""search(..., return_info=True): per query, the live matches of its filter, what answered it,
and whether the row is exact and complete. Rows flagged exact are checked against numpy brute
force, so a walk reported exact that was not would fail here."""
from __future__ import annotations

import numpy as np
import pytest

import vecsearch
from vecsearch import MISSING_ID, F

N, DIM, K = 4000, 16, 10


@pytest.fixture(scope="module")
def setup(make_data_queries):
    x, q = make_data_queries(N, 60, DIM, seed=21)
    rng = np.random.default_rng(2)
    kind = np.array(["rare"] * 3 + ["common"] * (N - 3), dtype=object)
    rng.shuffle(kind)
    value = rng.integers(0, 100, N)
    index = vecsearch.Index(DIM, M=12, ef_construction=80)
    index.add(x, attributes={"kind": kind.tolist(), "value": value})
    return index, x, q, kind, value


@pytest.mark.parametrize("plan", ["auto", "scan", "acorn", "post"])
def test_three_matches_give_three_results_flagged_complete(setup, plan):
    index, x, q, kind, _ = setup
    ids, _, info = index.search(q[:8], k=K, filter=F("kind") == "rare", plan=plan, return_info=True)
    rare = np.flatnonzero(kind == "rare")
    assert (info.found == 3).all() and (info.matches == 3).all()
    assert info.exact.all() and info.complete.all()
    for row in ids:
        assert sorted(row[:3].tolist()) == sorted(rare.tolist()) and (row[3:] == MISSING_ID).all()


@pytest.mark.parametrize("plan", ["acorn", "post"])
def test_walks_report_approximate_unless_verified(setup, plan):
    index, _, q, _, value = setup
    ids, _, info = index.search(q, k=K, filter=F("value") < 60, plan=plan, return_info=True)
    assert (info.matches == (value < 60).sum()).all()
    walked = info.plan == plan
    assert walked.any()
    assert not info.exact[walked].any() and not info.complete[walked].any()
    assert info.exact[~walked].all()  # whatever the walk handed to the scan is exact
    assert set(info.plan) <= {plan, f"{plan}_fallback", "acorn_rerouted"}


def test_fallbacks_are_reported_exact(setup, oracle, exact_dists):
    """Filters holding only the half of the data farthest from each query defeat the walks; the
    queries the exact scan then answered say so, and their rows are the exact answers."""
    index, x, q, _, _ = setup
    far = [np.sort(row) for row in np.argsort(-exact_dists("l2", q, x), axis=1)[:, : N // 2]]
    ids, _, info = index.search(q, k=K, ef=32, filter=far, plan="acorn", return_info=True)
    replaced = np.isin(info.plan, ["acorn_rerouted", "acorn_fallback"])
    assert replaced.any()
    for i in np.flatnonzero(replaced):
        truth, _ = oracle(x[far[i]], q[i], K, "l2", ids=far[i])
        assert set(ids[i].tolist()) == set(np.asarray(truth).ravel().tolist())
    assert info.exact[replaced].all()


def test_rows_flagged_exact_are_exact(setup, oracle):
    index, x, q, _, value = setup
    rng = np.random.default_rng(9)
    for _ in range(6):
        lo = int(rng.integers(0, 100))
        hi = lo + int(rng.integers(0, 12))
        flt = F("value").between(lo, hi)
        allowed = np.flatnonzero((value >= lo) & (value <= hi))
        ids, dists, info = index.search(q, k=K, ef=16, filter=flt, return_info=True)
        assert (info.matches == allowed.size).all()
        for i in np.flatnonzero(info.exact):
            truth, tdist = oracle(x[allowed], q[i], K, "l2", ids=allowed)
            found = ids[i][ids[i] != MISSING_ID]
            np.testing.assert_allclose(np.sort(dists[i][: found.size]), np.sort(np.asarray(tdist).ravel()[: found.size]),
                                       rtol=1e-4, atol=1e-4)


def test_unfiltered_info(setup, make_data):
    index, _, q, _, _ = setup
    _, _, info = index.search(q[:5], k=K, return_info=True)
    assert (info.plan == "walk").all() and (info.matches == N).all() and not info.exact.any()
    small = vecsearch.Index(4)
    small.add(make_data(3, 4, seed=1))
    ids, _, info = small.search(np.zeros(4, np.float32), k=K, return_info=True)
    assert info.found.tolist() == [3] and info.complete.all()  # every vector there is came back
    assert (ids[0, 3:] == MISSING_ID).all()


def test_plain_search_is_unchanged(setup):
    index, _, q, _, _ = setup
    out = index.search(q[:2], k=K, filter=F("value") < 5)
    assert isinstance(out, tuple) and len(out) == 2
