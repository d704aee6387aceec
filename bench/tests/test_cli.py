"""End to end on tiny data: result files, ground-truth cache, data sources, bad arguments."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.__main__ import main
from vecsearch.datasets import clustered_dataset, save_vectors


def _args(out: Path, *extra: str) -> list[str]:
    common = ["--nq", "20", "--efs", "10,40", "--threads", "1,2", "--reps", "1", "--no-progress"]
    return [*common, "--out", str(out), *extra]


def test_synthetic_run_writes_results(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(
        ["unfiltered", "--n", "1500", "--dim", "16", *_args(tmp_path, "--methods", "hnswlib")]
    )
    assert rc == 0
    out = capsys.readouterr().out
    assert "headline" in out and "hnswlib" in out
    doc = json.loads((tmp_path / "results.json").read_text())
    # each thread count sweeps from the first listed ef; whether it goes on depends on
    # the recall reached there (--stop-recall), which tiny random data does not fix
    assert doc["dataset"]["kind"] == "synthetic"
    assert sorted({(s["threads"], s["ef"]) for s in doc["sweeps"]})[:1] == [(1, 10)]
    assert {s["threads"] for s in doc["sweeps"]} == {1, 2}
    for s in doc["sweeps"]:
        assert s["ef"] == 10 or s["ef"] >= 40
    assert (tmp_path / "results.csv").read_text().count("\n") == len(doc["sweeps"]) + 1
    cached = list((tmp_path / "gt").glob("gt-*.npz"))
    assert len(cached) == 1
    mtime = cached[0].stat().st_mtime_ns
    assert (
        main(["unfiltered", "--n", "1500", "--dim", "16", *_args(tmp_path, "--methods", "hnswlib")])
        == 0
    )
    assert cached[0].stat().st_mtime_ns == mtime  # reused, not recomputed


def test_file_run(tmp_path: Path) -> None:
    base, queries = clustered_dataset(1200, 30, 8, seed=2)
    save_vectors(tmp_path / "b.fvecs", base)
    save_vectors(tmp_path / "q.fbin", queries)
    argv = [
        "unfiltered",
        "--base",
        str(tmp_path / "b.fvecs"),
        "--queries",
        str(tmp_path / "q.fbin"),
    ]
    assert main([*argv, *_args(tmp_path / "r", "--methods", "hnswlib,faiss")]) == 0
    doc = json.loads((tmp_path / "r" / "results.json").read_text())
    assert doc["dataset"]["n"] == 1200 and doc["dataset"]["nq"] == 20


def test_bad_arguments_exit_2(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as e:
        main(["unfiltered", "--methods", "nope"])
    assert e.value.code == 2
    with pytest.raises(SystemExit) as e:
        main(["unfiltered", "--base", str(tmp_path / "x.fvecs"), "--out", str(tmp_path)])
    assert e.value.code == 2


def test_debian_layout_run(tmp_path: Path, debian_layout) -> None:
    root = debian_layout(1000, 20, 8, seed=4)
    assert main(["unfiltered", "--data", f"debian:{root}", *_args(tmp_path / "r", "--methods", "hnswlib")]) == 0
    doc = json.loads((tmp_path / "r" / "results.json").read_text())
    assert doc["dataset"]["name"] == "debian-minilm-1000x8" and doc["dataset"]["nq"] == 20
    with pytest.raises(SystemExit) as e:
        main(["unfiltered", "--data", "nowhere", "--out", str(tmp_path)])
    assert e.value.code == 2
