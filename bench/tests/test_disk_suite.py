"""`python -m bench disk` end to end on tiny data: the on-disk tier answers as the in-RAM index."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from bench.__main__ import main


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc for I/O counters")
def test_disk_suite_writes_results(tmp_path: Path) -> None:
    out = tmp_path / "dk"
    rc = main(["disk", "--n", "3000", "--nq", "30", "--dim", "32", "--reranks", "0,64", "--out", str(out)])
    assert rc == 0
    points = json.loads((out / "disk.json").read_text())["points"]
    assert {(p["mode"], p["cache"]) for p in points} == {("disk", "cold"), ("disk", "warm"), ("ram", "warm")}
    by = {(p["mode"], p["cache"], p["rerank"]): p for p in points}
    for rerank in (0, 64):  # same index, same answers, wherever the vectors are
        assert by[("disk", "cold", rerank)]["recall"] == by[("ram", "warm", rerank)]["recall"]
    assert by[("disk", "cold", 64)]["recall"] > by[("disk", "cold", 0)]["recall"]
