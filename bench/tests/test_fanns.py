"""The FANNS suite end to end on tiny data, its recall arithmetic and its data sources."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from bench.__main__ import main
from bench.fanns.data import FannsCase
from bench.fanns.measure import FannsPoint, recalls
from bench.fanns.report import best_at
from bench.datasets import write_arxiv_like

TINY = ["--n", "1200", "--nq", "40", "--dim", "16", "--efs", "10,40", "--levels", "0.2",
        "--no-progress"]  # fmt: skip


def test_default_suite_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # bare options run the default suite, which is the FANNS one
    assert main([*TINY, "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Best QPS at recall@10" in out
    report = (tmp_path / "report.md").read_text()
    assert "Synthetic data" in report and "## Build and memory" in report
    assert "| em@0.2 | s=0.2 |" in report
    doc = json.loads((tmp_path / "results.json").read_text())
    assert doc["dataset"]["synthetic"] and doc["machine"]["cores"] >= 1
    workloads = {p["workload"] for p in doc["points"]}
    assert {"unfiltered", "em", "r", "emis", "em+r", "em@0.2"} <= workloads
    methods = {p["method"] for p in doc["points"]}
    assert not doc["skipped"], doc["skipped"]  # a peer that fails fails the test
    assert {"vecsearch-auto", "vecsearch-scan", "vecsearch-auto-loop", "bruteforce", "faiss-flat",
            "faiss-ivf", "lancedb-pre", "lancedb-post", "hnswlib", "faiss"} <= methods
    for p in doc["points"]:
        assert 0.0 <= p["recall"] <= 1.0 and p["qps"] > 0
        if p["method"] in ("bruteforce", "faiss-flat", "vecsearch-scan"):
            assert p["recall"] == pytest.approx(1.0), p  # exact methods agree with the truth
        if p["method"] == "usearch":
            assert p["workload"] == "unfiltered"
    assert {b["method"] for b in doc["builds"]} >= {"vecsearch", "bruteforce"}
    assert any(b["index_bytes"] for b in doc["builds"])
    assert doc["headline"] and {h["target_recall"] for h in doc["headline"]} == {0.9, 0.95}
    with (tmp_path / "results.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(doc["points"]) and rows[0]["search_threads"] == "1"
    png = (tmp_path / "recall_qps.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    gt = list((tmp_path / "gt").glob("fgt-*.npz"))
    assert gt  # truth cached: a second run reuses it
    stamps = {p: p.stat().st_mtime_ns for p in gt}
    assert main(["fanns", *TINY, "--methods", "bruteforce", "--out", str(tmp_path)]) == 0
    assert {p: p.stat().st_mtime_ns for p in gt} == stamps


def test_arxiv_fanns_layout_uses_published_queries_and_truth(tmp_path: Path) -> None:
    write_arxiv_like(tmp_path / "set", 900, 30, 12, seed=4, gt_k=100)
    argv = ["fanns", "--data", f"arxiv-fanns:{tmp_path / 'set'}", "--methods", "bruteforce,vecsearch",
            "--plans", "scan", "--controlled", "", "--efs", "20", "--no-progress", "--out",
            str(tmp_path / "out")]  # fmt: skip
    assert main(argv) == 0
    doc = json.loads((tmp_path / "out" / "results.json").read_text())
    assert doc["dataset"]["kind"] == "arxiv-fanns" and not doc["dataset"]["synthetic"]
    exact = [p for p in doc["points"] if p["method"] in ("bruteforce", "vecsearch-scan")]
    assert len(exact) >= 4 and {p["recall"] for p in exact} == {1.0}  # meets the published GT
    assert sum(c["queries"] for c in doc["cases"] if c["workload"] == "em") <= 30


def test_parquet_source_needs_filter_columns(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    from bench.datasets import generate_arxiv_like
    from vecsearch.datasets.parquet import write_parquet

    ds = generate_arxiv_like(700, 1, 8, seed=2)
    cols = {k: ds.attributes[k] for k in ("number_of_sub_categories", "update_date", "main_categories")}
    write_parquet(tmp_path / "d.parquet", ds.base, cols)
    base = ["fanns", "--data", f"parquet:{tmp_path / 'd.parquet'}", "--nq", "20", "--methods",
            "bruteforce", "--controlled", "", "--no-progress", "--out", str(tmp_path / "o")]  # fmt: skip
    with pytest.raises(SystemExit) as e:
        main(base)
    assert e.value.code == 2
    spec = "em=number_of_sub_categories,r=update_date,emis=main_categories"
    assert main([*base, "--filter-columns", spec]) == 0
    doc = json.loads((tmp_path / "o" / "results.json").read_text())
    assert doc["dataset"]["n"] == 680 and doc["dataset"]["nq"] == 20


@pytest.mark.parametrize(
    "argv",
    [["fanns", "--data", "nope:x"], ["fanns", "--methods", "annoy"], ["fanns", "--k", "0"],
     ["fanns", "--data", "debian:/nonexistent/dir"], ["fanns", "--workloads", "xx"]],
)  # fmt: skip
def test_bad_options_exit_2(tmp_path: Path, argv: list[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main([*argv, "--out", str(tmp_path), "--no-progress"])
    assert e.value.code == 2


def _case(base: np.ndarray, queries: np.ndarray, masks: np.ndarray, k: int) -> FannsCase:
    from bench.datasets import filtered_knn

    ids, dists = filtered_knn(base, queries, masks, k, progress=False)
    return FannsCase("em", 0.5, 1, ids, bucket="x", queries=queries, masks=masks,
                     truth_dists=dists)  # fmt: skip


def test_recall_counts_ties_and_short_truth() -> None:
    base = np.array([[0, 0], [1, 0], [1, 0], [5, 5], [9, 9]], dtype=np.float32)  # rows 1, 2 tie
    queries = np.array([[0.9, 0], [0, 0], [0, 0]], dtype=np.float32)
    masks = np.array([[1, 1, 1, 1, 1], [1, 0, 0, 0, 1], [0, 0, 0, 0, 0]], dtype=bool)
    case = _case(base, queries, masks, 2)
    # query 0: truth {1, 2} (tie at the same distance, id order); returning {2, 1} or the tie-mate
    found = np.array([[2, 1], [0, 4], [-1, -1]])
    assert recalls(case, found, base, 2) == (1.0, 1.0)  # query 2 has no match: left out
    found = np.array([[1, 0], [0, -1], [-1, -1]])  # query 0 half right; query 1 half right
    assert recalls(case, found, base, 2) == (0.5, 0.5)
    # an item that fails the filter never counts, however close
    found = np.array([[1, 2], [0, 1], [-1, -1]])
    assert recalls(case, found, base, 2)[0] == pytest.approx(0.75)
    # strict id recall misses a tie-mate that tie-aware recall accepts
    dup = np.array([[0, 0], [1, 0], [1, 0], [1, 0]], dtype=np.float32)
    c2 = _case(dup, np.array([[0, 0]], np.float32), np.ones((1, 4), bool), 2)
    tie, strict = recalls(c2, np.array([[0, 3]]), dup, 2)
    assert tie == 1.0 and strict == 0.5


def test_best_at_picks_fastest_point_above_target() -> None:
    def pt(recall: float, qps: float) -> FannsPoint:
        return FannsPoint("em", "x", 0.1, "m", 10, recall, recall, qps, 0.0, qps, (1.0,), 10)

    pts = [pt(0.8, 900), pt(0.91, 500), pt(0.97, 300), pt(0.99, 100)]
    assert best_at(pts, 0.9)[0].qps == 500
    assert best_at(pts, 0.95)[0].qps == 300
    none, top = best_at(pts[:1], 0.9)
    assert none is None and top == 0.8
