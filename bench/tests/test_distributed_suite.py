"""`python -m bench distributed` end to end on a tiny generated set (local Ray, 2 CPUs)."""
from __future__ import annotations

import json

from bench.__main__ import main


def test_distributed_suite_writes_its_tables(tmp_path):
    out = tmp_path / "out"
    assert main(["distributed", "--n", "3000", "--nq", "50", "--shards", "1,2", "--efs", "16,64",
                 "--batch-sizes", "1,10", "--out", str(out)]) == 0
    result = json.loads((out / "results.json").read_text())
    layouts = [row["layout"] for row in result["layouts"]]
    assert layouts == ["one Index", "1 shard", "2 shards"]
    one = result["layouts"][0]["recall"]
    for row in result["layouts"][1:]:
        for key, value in row["recall"].items():
            assert value >= one[key] - 0.02, (row["layout"], key)  # sharding loses no recall
        assert row["latency"]["10"]["overhead_ms"] >= 0
    assert "## Latency per batch" in (out / "report.md").read_text()
