"""`python -m bench disk` end to end on tiny data: streamed base, child-process build and searches,
the on-disk tier answering as the in-RAM index, and the growth summary."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from bench.__main__ import main
from bench.disk_data import FILTER_BUCKETS, WRITE_CHUNK, filtered_ground_truth, ground_truth, synthetic_on_disk
from bench.disk_report import _estimate
from vecsearch.datasets import clustered_dataset, exact_knn


def test_streamed_base_is_the_in_ram_synthetic_set(tmp_path: Path) -> None:
    n = WRITE_CHUNK + 1000  # crosses a write chunk and ends mid generator block
    data = synthetic_on_disk(n, 20, 8, 5, tmp_path, progress=False)
    base, queries = clustered_dataset(n, 20, 8, seed=5)
    assert isinstance(data.base(), np.memmap)
    np.testing.assert_array_equal(data.base(), base)
    np.testing.assert_array_equal(data.queries, queries)
    mtime = data.base_path.stat().st_mtime_ns
    again = synthetic_on_disk(n, 20, 8, 5, tmp_path, progress=False)  # cached: not written again
    assert again.base_path.stat().st_mtime_ns == mtime
    assert not list(tmp_path.rglob("*.partial*"))
    smaller = synthetic_on_disk(5000, 20, 8, 5, tmp_path, progress=False)  # a prefix of the cached file
    assert smaller.base_path == data.base_path and smaller.base().shape == (5000, 8)
    np.testing.assert_array_equal(smaller.base(), clustered_dataset(5000, 1, 8, seed=5)[0])
    truth = ground_truth(data, 5, tmp_path / "gt", progress=False)
    np.testing.assert_array_equal(truth, exact_knn(base, queries, 5, progress=False)[0])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc for I/O and memory counters")
def test_disk_suite_writes_results(tmp_path: Path) -> None:
    out = tmp_path / "dk"
    rc = main(["disk", "--scales", "2000,3000", "--nq", "30", "--dim", "16", "--efs", "16", "--reranks", "8,64",
               "--reps", "1", "--no-progress", "--out", str(out), "--peers", "none", "--filters", "0.1"])
    assert rc == 0
    result = json.loads((out / "disk.json").read_text())
    assert [s["n"] for s in result["scales"]] == [2000, 3000]
    for scale in result["scales"]:
        build = scale["build"]
        assert build["seconds"] > 0 and build["peak_rss_mb"] > 0 and build["file_bytes"] > 0
        for search in scale["searches"]:
            assert search["search"]["peak_rss_mb"] > 0 and search["memory_usage"]["total"] > 0
    points = result["points"]
    assert {(p["mode"], p["cache"]) for p in points} == {("disk", "cold"), ("disk", "warm"), ("ram", "warm")}
    for p in points:
        assert {"n", "disk_io", "ef", "rerank", "recall", "qps", "read_kb_per_query", "majflt_per_query"} <= set(p)
    if any(p["disk_io"] == "pread" for p in points):  # the library's own counters of what pread asked for
        assert all(p["lib_bytes_read_per_query"] > 0 for p in points if p["disk_io"] == "pread")
    by = {(p["n"], p["mode"], p["cache"], p["disk_io"], p["rerank"]): p for p in points if p["filter"] is None}
    io = next(p["disk_io"] for p in points if p["mode"] == "disk")
    for rerank in (8, 64):  # same index, same answers, wherever the vectors are
        assert by[(3000, "disk", "cold", io, rerank)]["recall"] == by[(3000, "ram", "warm", None, rerank)]["recall"]
    assert by[(3000, "disk", "cold", io, 64)]["recall"] >= 0.9
    filtered = [p for p in points if p["filter"] == 0.1]  # the disk paths again, with a 10% filter
    assert filtered and {p["mode"] for p in filtered} == {"disk"}
    assert min(p["recall"] for p in filtered if p["rerank"] == 64) >= 0.9
    growth = result["growth"]
    assert [r["n"] for r in growth["rows"]] == [2000, 3000]
    assert growth["estimate"]["n"] == 10_000_000 and growth["estimate"]["build_seconds"] > 0
    # A second run reuses the built index and its build record.
    assert main(["disk", "--n", "3000", "--nq", "30", "--dim", "16", "--efs", "16", "--reranks", "64",
                 "--reps", "1", "--no-progress", "--out", str(out), "--peers", "none"]) == 0
    assert json.loads((out / "disk.json").read_text())["scales"][0]["build"]["reused"]
    # Vectors from files: the first rows of a memmapped base, queries read as they are.
    cached = synthetic_on_disk(3000, 30, 16, 0, out / "data", progress=False)  # the run's files, reused
    base, queries = cached.base_path, cached.queries_path
    assert main(["disk", "--base", str(base), "--queries", str(queries), "--scales", "2000", "--efs", "16",
                 "--reranks", "64", "--reps", "1", "--disk-io", "mmap", "--no-progress", "--out", str(tmp_path / "files"),
                 "--peers", "none"]) == 0
    scale = json.loads((tmp_path / "files" / "disk.json").read_text())["scales"][0]
    assert scale["dataset"]["kind"] == "files" and scale["n"] == 2000
    assert min(p["recall"] for r in scale["searches"] for p in r["points"]) >= 0.9


def test_filtered_ground_truth_is_brute_force_over_the_matches(tmp_path: Path) -> None:
    data = synthetic_on_disk(3000, 15, 8, 2, tmp_path, progress=False)
    base, queries = clustered_dataset(3000, 15, 8, seed=2)
    match = np.flatnonzero(np.arange(3000) % FILTER_BUCKETS < 10)
    want = match[exact_knn(base[match], queries, 5, progress=False)[0]]
    np.testing.assert_array_equal(filtered_ground_truth(data, 5, 0.1, block=700), want)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc for I/O and memory counters")
def test_lancedb_peer_on_the_same_data(tmp_path: Path) -> None:
    pytest.importorskip("lancedb")
    out = tmp_path / "peer"
    assert main(["disk", "--n", "2000", "--nq", "20", "--dim", "16", "--efs", "32", "--reranks", "32", "--reps", "1",
                 "--disk-io", "pread", "--ram-max-n", "0", "--no-progress", "--out", str(out)]) == 0
    scale = json.loads((out / "disk.json").read_text())["scales"][0]
    (peer,) = scale["peers"]
    assert peer["name"] == "lancedb" and peer["build"]["file_bytes"] > 2000 * 16 * 4
    assert {p["cache"] for p in peer["points"]} == {"cold", "warm"}
    assert max(p["recall"] for p in peer["points"]) >= 0.9  # every partition probed, re-ranked: near exact


def test_growth_estimate_fits() -> None:
    def row(n: int, qps: float) -> dict:
        return dict(n=n, build_seconds=n * np.log2(n) * 1e-6, build_peak_rss_mb=100 + n / 1000,
                    build_baseline_rss_mb=100, search_baseline_rss_mb=50, file_mb=n / 500, base_mb=n / 600,
                    build_method="build_on_disk",
                    search_peak_rss_mb={"disk/mmap": 50 + n / 2000}, load_peak_rss_mb={"disk/mmap": 60 + n / 2000},
                    index_ram_mb={"graph": n / 4000, "total": n / 2000},
                    best={"disk/mmap/warm": dict(qps=qps, ef=64, rerank=64), "ram/warm": None})

    est = _estimate([row(1000, 2000.0), row(4000, 1000.0)], 16000)
    assert est["build_seconds"] == pytest.approx(16000 * np.log2(16000) * 1e-6)
    assert est["build_peak_rss_mb"] == pytest.approx(116)
    assert est["search_peak_rss_mb"]["disk/mmap"] == pytest.approx(58)
    assert est["file_mb"] == pytest.approx(32)
    assert est["qps"]["disk/mmap/warm"] is None  # 2000 - 1000 * log4(n/1000): 0 at 16000, no prediction
    assert _estimate([row(1000, 2000.0), row(4000, 1000.0)], 8000)["qps"]["disk/mmap/warm"] == pytest.approx(500)
