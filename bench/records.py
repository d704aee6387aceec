"""Plain records of one benchmark run, shared by the runner and the report."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class BuildResult:
    """Wall time to build one engine's index over the whole base set, and its size."""

    method: str
    threads: int
    seconds: float
    n: int
    index_bytes: int | None = None  # what the library saves (None: it cannot say)


@dataclass(frozen=True)
class SweepPoint:
    """One (method, threads, ef) measurement over the whole query batch.

    Attributes:
        recall: mean recall@k against exact neighbours.
        qps: queries per second of the fastest timed repetition.
        seconds: wall time of that repetition.
        times: wall time of every timed repetition (after the warm-up).
    """

    method: str
    threads: int
    ef: int
    recall: float
    qps: float
    seconds: float
    times: tuple[float, ...]


@dataclass
class RunResult:
    """Everything a report needs; filled in as the run progresses.

    ``interrupted`` is set when Ctrl-C stopped the run: the report then covers
    the points measured so far.
    """

    suite: str
    config: dict[str, Any]
    dataset: dict[str, Any]
    machine: dict[str, Any]
    engines: dict[str, str] = field(default_factory=dict)  # name -> library version
    skipped: dict[str, str] = field(default_factory=dict)  # name -> reason
    builds: list[BuildResult] = field(default_factory=list)
    sweeps: list[SweepPoint] = field(default_factory=list)
    interrupted: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
