"""Report arithmetic: QPS at equal recall, ratios, recall@k."""

from __future__ import annotations

import numpy as np
import pytest

from bench.measure import recall_at_k
from bench.records import RunResult, SweepPoint
from bench.report import format_report, headline, qps_at_recall


def _pts(method: str, pairs: list[tuple[float, float]], threads: int = 1) -> list[SweepPoint]:
    return [
        SweepPoint(method, threads, 10 * (i + 1), r, q, 1.0, (1.0,))
        for i, (r, q) in enumerate(pairs)
    ]


def test_interpolates_between_bracketing_points() -> None:
    at = qps_at_recall(_pts("a", [(0.90, 1000.0), (0.96, 400.0), (0.99, 200.0)]), 0.95)
    assert at.qps == pytest.approx(1000 - (0.05 / 0.06) * 600)
    assert not at.lower_bound and at.max_recall == 0.99


def test_exact_hit_and_not_reached() -> None:
    assert qps_at_recall(_pts("a", [(0.9, 900.0), (0.95, 500.0)]), 0.95).qps == pytest.approx(500)
    at = qps_at_recall(_pts("a", [(0.8, 900.0), (0.93, 500.0)]), 0.95)
    assert at.qps is None and at.max_recall == 0.93
    assert qps_at_recall([], 0.95).qps is None


def test_first_point_above_target_is_a_lower_bound() -> None:
    at = qps_at_recall(_pts("a", [(0.97, 800.0), (0.99, 300.0)]), 0.95)
    assert at.qps == 800 and at.lower_bound


def test_dominated_points_are_ignored() -> None:
    # The 0.94 point is slower than the 0.96 one: the bracket must skip it.
    pts = _pts("a", [(0.90, 1000.0), (0.94, 300.0), (0.96, 600.0)])
    assert qps_at_recall(pts, 0.95).qps == pytest.approx(1000 - (0.05 / 0.06) * 400)


def _result(sweeps: list[SweepPoint]) -> RunResult:
    cfg = {"M": 16, "ef_construction": 200, "k": 10}
    ds = {"name": "t", "n": 100, "dim": 4, "nq": 10}
    return RunResult("unfiltered", cfg, ds, {}, sweeps=sweeps)


def test_headline_ratio_and_bounds() -> None:
    res = _result(
        _pts("vecsearch", [(0.9, 2000.0), (1.0, 1000.0)])
        + _pts("hnswlib", [(0.9, 1000.0), (1.0, 500.0)])
        + _pts("faiss", [(0.97, 1000.0)])
        + _pts("usearch", [(0.5, 1000.0)])
    )
    rows = {r["method"]: r for r in headline(res, 0.95)}
    assert rows["vecsearch"]["qps"] == pytest.approx(1500)
    assert rows["hnswlib"]["vecsearch_ratio"] == pytest.approx(2.0)
    assert rows["faiss"]["ratio_bound"] == "<="
    assert rows["usearch"]["qps"] is None and rows["usearch"]["vecsearch_ratio"] is None
    text = format_report(res, 0.95)
    assert "2.00x" in text and "\u2264" in text and "max 0.500" in text


def test_recall_at_k() -> None:
    truth = np.array([[1, 2, 3], [4, 5, 6]])
    found = np.array([[3, 2, 9], [-1, -1, -1]])
    assert recall_at_k(found, truth, 3) == pytest.approx(2 / 6)
    assert recall_at_k(truth, truth, 3) == 1.0


def test_tie_aware_recall_counts_duplicates_of_the_true_neighbours() -> None:
    from bench.measure import TieAwareRecall

    base = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 0.0], [5.0, 5.0]], dtype=np.float32)
    queries = np.array([[0.1, 0.0]], dtype=np.float32)
    truth = np.array([[0, 2]])  # row 1 duplicates row 0: as right as it
    dists = np.array([[0.01, 0.81]], dtype=np.float32)
    score = TieAwareRecall(base, queries, truth, dists, 2)
    assert score(np.array([[1, 2]])) == 1.0
    assert score(np.array([[0, 2]])) == 1.0
    assert score(np.array([[1, 3]])) == 0.5
    assert score(np.array([[3, -1]])) == 0.0
