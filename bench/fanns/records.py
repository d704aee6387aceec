"""The FANNS suite's records: what a run measured, read by its report and plots (kept apart
from the runner so that the report and plots do not import it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from .measure import FannsPoint


@dataclass
class BuildRecord:
    """One method's index: build time and memory.

    Attributes:
        seconds: wall time of the build (None: nothing to build, e.g. brute force).
        rss_before, peak_build_rss, peak_query_rss: bytes of the whole benchmark process
            (data included) before the build, at its peak during the build, and at its
            peak during the searches.
        index_bytes: the index saved in the library's own format (None: no index).
    """

    method: str
    version: str
    threads: int
    seconds: Optional[float]
    rss_before: int
    peak_build_rss: int
    peak_query_rss: int = 0
    index_bytes: Optional[int] = None


@dataclass
class FannsRun:
    """Everything the report needs, filled in as the run goes."""

    config: dict[str, Any]
    dataset: dict[str, Any]
    machine: dict[str, Any]
    cases: list[dict[str, Any]] = field(default_factory=list)
    builds: list[BuildRecord] = field(default_factory=list)
    points: list[FannsPoint] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    interrupted: bool = False
    seconds: float = 0.0
