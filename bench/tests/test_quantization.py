"""`python -m bench quantization` end to end on tiny data (faiss skipped: its k-means is slow on
tiny sets and the comparison itself is the benchmark's business)."""

from __future__ import annotations

import json
from pathlib import Path

from bench.__main__ import main


def test_quantization_suite_writes_rows(tmp_path: Path) -> None:
    out = tmp_path / "q"
    rc = main(["quantization", "--n", "600", "--nq", "12", "--dim", "96", "--configs", "pq48,sq8,binary",
               "--rerank", "20,100", "--scan-queries", "4", "--reps", "1", "--threads", "1", "--no-faiss",
               "--out", str(out)])
    assert rc == 0
    (path,) = out.glob("quantization-*.json")
    doc = json.loads(path.read_text())
    rows = {r["config"]: r for r in doc["rows"]}
    assert set(rows) == {"pq48", "sq8", "binary"}
    assert rows["pq48"]["bytes_per_vector"] == 48 and rows["sq8"]["bytes_per_vector"] == 96
    assert rows["binary"]["bytes_per_vector"] == 16
    for r in rows.values():
        assert 0.0 <= r["recall_codes"] <= r["recall_rerank"]["100"] <= 1.0
        assert r["scan_vectors_per_s"] > 0
    assert rows["sq8"]["recall_codes"] > 0.8  # 8 bits per dimension keep nearly every neighbour
