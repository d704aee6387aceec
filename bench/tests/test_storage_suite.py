"""`python -m bench storage` end to end on tiny data: every storage walks the same graph."""
from __future__ import annotations

import json
from pathlib import Path

from bench.__main__ import main


def test_storage_suite_writes_results(tmp_path: Path) -> None:
    out = tmp_path / "st"
    rc = main(["storage", "--n", "3000", "--nq", "30", "--dim", "32", "--storages", "float32,sq8,pq8,binary",
               "--efs", "32", "--reranks", "0,100", "--out", str(out)])
    assert rc == 0
    result = json.loads((out / "storage.json").read_text())
    by = {h["storage"]: h for h in result["headline"]}
    assert set(by) == {"float32", "sq8", "pq8", "binary"}
    assert by["pq8"]["code_bytes"] == 8 and by["sq8"]["code_bytes"] == 32 and by["binary"]["code_bytes"] == 8
    # Codes hold less RAM than the float rows they stand in for.
    assert by["pq8"]["ram_outside_rerank"] < by["float32"]["ram_outside_rerank"]
    exact = [p for p in result["points"] if p["storage"] == "float32"]
    assert exact and max(p["recall"] for p in exact) >= 0.9
    # With a re-rank, the coded walks find what the float walk finds on this small set.
    sq8 = [p["recall"] for p in result["points"] if p["storage"] == "sq8" and p["rerank"] == 100]
    assert sq8 and sq8[0] >= 0.9
