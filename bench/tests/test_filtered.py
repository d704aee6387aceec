"""The filtered suite on tiny data: attributes, ground truth, report arithmetic, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import vecsearch
from bench.__main__ import main
from bench.data import synthetic
from bench.filtered import filtered_recall
from bench.filtered_data import (
    SHARED_WORKLOADS,
    anti_order,
    anti_truth,
    make_attributes,
    match_count,
    shared_truth,
)
from bench.engines.exact import blas_limitable, blas_threads
from bench.filtered_report import FilteredPoint, FilteredRun, at_recall, headline
from bench.records import RunResult

SELECTIVITIES = (0.001, 0.01, 0.1, 0.5, 1.0)


def _naive_knn(base: np.ndarray, q: np.ndarray, allowed: np.ndarray, k: int) -> np.ndarray:
    """Float64 k-NN of one query among ``allowed`` ids, ties by id, -1 padded."""
    d = ((base[allowed].astype(np.float64) - q.astype(np.float64)) ** 2).sum(1)
    top = allowed[np.lexsort((allowed, d))][:k]
    return np.concatenate([top, np.full(k - top.size, -1)])


def test_attributes_hit_selectivities() -> None:
    n = 2000
    attrs = make_attributes(n, SELECTIVITIES, SHARED_WORKLOADS, seed=3)
    for (workload, s), mask in attrs.masks.items():
        assert mask.sum() == match_count(s, n)
        assert abs(mask.mean() - s) <= 0.5 / n  # exact counts, rounded
    cat = attrs.columns["cat_0.1"]
    np.testing.assert_array_equal(cat == "eq_0.1", attrs.masks["equality", 0.1])
    assert len(set(cat[cat != "eq_0.1"])) > 1  # filler values, not one "rest" value
    np.testing.assert_array_equal(np.sort(attrs.columns["num"]), np.arange(n))
    tags = attrs.columns["tags"]
    has = np.array(["t_0.01" in t for t in tags])
    np.testing.assert_array_equal(has, attrs.masks["tags", 0.01])
    # independent draws per workload, deterministic per seed
    assert not np.array_equal(attrs.masks["equality", 0.5], attrs.masks["tags", 0.5])
    again = make_attributes(n, (0.1,), ("equality",), seed=3)
    np.testing.assert_array_equal(again.masks["equality", 0.1], attrs.masks["equality", 0.1])
    other = make_attributes(n, (0.1,), ("equality",), seed=4)
    assert not np.array_equal(other.masks["equality", 0.1], attrs.masks["equality", 0.1])


def test_vecsearch_expressions_select_the_masks() -> None:
    data = synthetic(2000, 3, 16, seed=1)
    attrs = make_attributes(data.n, (0.01,), SHARED_WORKLOADS, seed=0)
    idx = vecsearch.Index(16, "l2", M=8, ef_construction=40)
    idx.add(data.base, attributes=attrs.columns, num_threads=2)
    m = match_count(0.01, data.n)
    for workload in SHARED_WORKLOADS:
        ids, _ = idx.search(
            data.queries[:1], k=m + 5, filter=attrs.exprs[workload, 0.01], plan="scan"
        )
        found = ids[0][ids[0] != vecsearch.MISSING_ID].astype(np.int64)
        np.testing.assert_array_equal(np.sort(found), np.flatnonzero(attrs.masks[workload, 0.01]))


def test_anti_sets_are_the_farthest_items() -> None:
    data = synthetic(1500, 5, 16, seed=2)
    order = anti_order(data.base, data.queries, progress=False)
    m = match_count(0.1, data.n)
    for i, q in enumerate(data.queries):
        d = ((data.base.astype(np.float64) - q) ** 2).sum(1)
        allowed = order[i, data.n - m :]
        assert np.sort(order[i]).tolist() == list(range(data.n))
        others = np.setdiff1d(np.arange(data.n), allowed)
        assert d[allowed].min() >= d[others].max() - 1e-5  # float32 ordering, float64 check


@pytest.mark.parametrize("s", [0.001, 0.01, 0.5, 1.0])
def test_ground_truth_matches_naive(tmp_path: Path, s: float) -> None:
    data = synthetic(2000, 12, 16, seed=5)
    k = 10
    attrs = make_attributes(data.n, (s,), ("range",), seed=0)
    mask = attrs.masks["range", s]
    tag = {"workload": "range", "s": s}
    truth = shared_truth(data, mask, k, tmp_path, tag, progress=False)
    rows = np.flatnonzero(mask)
    for i, q in enumerate(data.queries):
        np.testing.assert_array_equal(truth[i], _naive_knn(data.base, q, rows, k))
    # cached: a second call reads the file back
    cached = list(tmp_path.glob("gt-*.npz"))
    assert len(cached) == 1
    mtime = cached[0].stat().st_mtime_ns
    np.testing.assert_array_equal(shared_truth(data, mask, k, tmp_path, tag, progress=False), truth)
    assert cached[0].stat().st_mtime_ns == mtime

    order = anti_order(data.base, data.queries, progress=False)
    m = match_count(s, data.n)
    truth = anti_truth(data.base, data.queries, order, m, k)
    for i, q in enumerate(data.queries):
        np.testing.assert_array_equal(truth[i], _naive_knn(data.base, q, order[i, -m:], k))


def test_filtered_recall_scores_existing_neighbours() -> None:
    truth = np.array([[3, 4, -1, -1], [1, 2, 5, 6]])
    found = np.array([[4, 9, -1, -1], [1, 2, 5, 7]])
    assert filtered_recall(found, truth, 4) == pytest.approx((1 + 3) / 6)
    assert filtered_recall(found, np.full((2, 4), -1), 4) == 1.0


def _pt(method: str, ef: int | None, recall: float, qps: float) -> FilteredPoint:
    return FilteredPoint("range", 0.1, method, ef, recall, qps, 1.0, (1.0,), 0, "", 10)


def test_headline_exact_methods_and_best_peer() -> None:
    points = [
        _pt("vecsearch-auto", 10, 0.9, 4000.0),
        _pt("vecsearch-auto", 20, 1.0, 2000.0),
        _pt("hnswlib", 10, 0.9, 1000.0),
        _pt("hnswlib", 20, 1.0, 500.0),
        _pt("faiss", 10, 0.9, 2000.0),
        _pt("faiss", 20, 1.0, 1000.0),
        _pt("bruteforce", None, 1.0, 300.0),
    ]
    exact = at_recall(points[-1:], 0.95)
    assert exact.qps == 300.0 and not exact.lower_bound
    run = RunResult("filtered", {"workloads": ["range"]}, {}, {})
    (row,) = headline(FilteredRun(run, points), 0.95)
    assert row["methods"]["vecsearch-auto"]["qps"] == pytest.approx(3000)
    assert row["best_peer"] == "faiss"
    assert row["auto_vs_best_peer"] == pytest.approx(2.0)
    assert row["best_exact"] == "bruteforce"
    assert row["auto_vs_exact"] == pytest.approx(10.0)
    assert row["auto_vs_exact_bound"] == ""


def test_headline_leaves_probe_points_out() -> None:
    # a probe-only point (3 of 10 queries) would be the best peer if it counted
    probe = FilteredPoint("range", 0.1, "hnswlib", 10, 1.0, 9000.0, 1.0, (1.0,), 0, "", 3)
    points = [_pt("vecsearch-auto", 10, 0.9, 4000.0), _pt("vecsearch-auto", 20, 1.0, 2000.0),
              probe, _pt("faiss", 10, 0.9, 2000.0), _pt("faiss", 20, 1.0, 1000.0)]
    run = RunResult("filtered", {"workloads": ["range"]}, {"nq": 10}, {})
    (row,) = headline(FilteredRun(run, points), 0.95)
    assert row["methods"]["hnswlib"]["qps"] is None
    assert row["best_peer"] == "faiss" and row["auto_vs_best_peer"] == pytest.approx(2.0)


@pytest.mark.skipif(not blas_limitable(), reason="numpy's BLAS is not OpenBLAS here")
def test_blas_threads_limits_and_restores() -> None:
    from bench.engines.exact import _openblas

    lib = _openblas()
    assert lib is not None
    before = lib[1]()
    with blas_threads(1):
        assert lib[1]() == 1
    assert lib[1]() == before


def test_cli_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["filtered", "--n", "2000", "--dim", "16", "--nq", "20", "--efs", "10,40"]
    rc = main([*argv, "--threads", "2", "--no-progress", "--out", str(tmp_path)])
    assert rc == 0
    out = capsys.readouterr().out
    assert "headline" in out and "anti s=0.5" in out
    doc = json.loads((tmp_path / "results.json").read_text())
    assert doc["suite"] == "filtered" and not doc["interrupted"]
    # every method ran: a peer that fails to import or crashes fails this test
    assert not doc["skipped"], doc["skipped"]
    assert set(doc["engines"]) == {"vecsearch", "hnswlib", "faiss", "faiss-ivf", "lancedb",
                                   "bruteforce", "faiss-flat"}
    assert len(doc["headline"]) == 4 * len(SELECTIVITIES)
    methods = {p["method"] for p in doc["points"]}
    assert {"vecsearch-auto", "vecsearch-scan", "vecsearch-acorn", "vecsearch-post"} <= methods
    exact = [p for p in doc["points"]
             if p["method"] in ("vecsearch-scan", "bruteforce", "faiss-flat")]
    assert exact and all(p["recall"] == 1.0 and p["ef"] is None for p in exact)
    plans = {p["plan"] for p in doc["points"] if p["method"].startswith("vecsearch")}
    assert plans <= {"scan", "acorn", "post", "codes"}
    rows = (tmp_path / "results.csv").read_text().strip().splitlines()
    assert len(rows) == 1 + len(doc["points"])


def test_cli_bad_arguments_exit_2(tmp_path: Path) -> None:
    for bad in (["--methods", "nope"], ["--selectivities", "0"], ["--workloads", "x"]):
        with pytest.raises(SystemExit) as e:
            main(["filtered", "--n", "100", "--out", str(tmp_path), *bad])
        assert e.value.code == 2


def test_slow_points_are_probed_and_end_the_curve(tmp_path: Path) -> None:
    argv = ["filtered", "--n", "1000", "--dim", "8", "--nq", "20", "--efs", "10,40"]
    extra = ["--workloads", "anti,range", "--selectivities", "0.1", "--min-qps", "1e12"]
    assert main([*argv, *extra, "--no-progress", "--out", str(tmp_path)]) == 0
    doc = json.loads((tmp_path / "results.json").read_text())
    assert doc["points"] and all(p["queries"] == 2 for p in doc["points"])  # nq // 10
    per_curve = {(p["workload"], p["method"]) for p in doc["points"]}
    assert len(per_curve) == len(doc["points"])  # one point each: the sweep stopped


def test_cli_reads_the_debian_layout(tmp_path: Path, debian_layout) -> None:
    root = debian_layout(1500, 10, 8, seed=6)
    argv = ["filtered", "--data", f"debian:{root}", "--workloads", "range", "--selectivities", "0.1",
            "--methods", "bruteforce", "--no-progress", "--out", str(tmp_path / "r")]
    assert main(argv) == 0
    doc = json.loads((tmp_path / "r" / "results.json").read_text())
    assert doc["dataset"]["name"] == "debian-minilm-1500x8" and doc["dataset"]["nq"] == 10
