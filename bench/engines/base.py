"""What every benchmarked engine provides, and the build parameters they share.

All engines build an HNSW graph with the same ``M`` and ``ef_construction``
over the same float32 vectors with the squared-L2 metric, and answer batch
searches with an explicit ``ef`` and thread count, so one sweep compares them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from collections.abc import Sequence
from typing import Callable

import numpy as np

from ..sweep import DEFAULT_KNOB_LIMIT


@dataclass(frozen=True)
class HNSWParams:
    """Graph parameters applied identically to every engine.

    Attributes:
        dim: vector dimension.
        M: links per node on upper layers (2*M on layer 0 in all four engines).
        ef_construction: beam width while inserting.
        seed: level-draw seed, for engines that accept one.
    """

    dim: int
    M: int = 16
    ef_construction: int = 200
    seed: int = 0


class Engine(ABC):
    """One ANN library behind a uniform build/search interface.

    Subclasses import their library at module import time, so a missing
    package surfaces as ``ImportError`` when the adapter module is loaded
    (see :func:`bench.engines.load_engine`).
    """

    #: Short name used in tables, files and ``--methods``.
    name: str = ""
    #: What this adapter can do, read by the suites to pick engines per case:
    #: the filter form its library's search takes ("none"; "callback": a Python
    #: predicate per id; "idset": a bitmap or id selector; "expression": attribute
    #: expressions the library evaluates; "sql": a where-string over columns).
    filters: str = "none"
    #: what the walk scores on: "float32", or the code (e.g. "sq8", "lvq8", "rabitq").
    codes: str = "float32"
    #: whether the vectors can stay on disk while it searches.
    disk: bool = False
    #: the search knob a sweep turns (``ef`` is passed to :meth:`search` under this name).
    knob: str = "ef"
    #: the largest value of the knob the library accepts.
    knob_limit: int = DEFAULT_KNOB_LIMIT

    def __init__(self, params: HNSWParams) -> None:
        self.params = params

    @property
    @abstractmethod
    def version(self) -> str:
        """Version string of the underlying library."""

    @abstractmethod
    def create(self, capacity: int) -> None:
        """Make an empty index that can hold ``capacity`` vectors."""

    @abstractmethod
    def add(self, data: np.ndarray, start: int, threads: int) -> None:
        """Insert float32 rows ``data`` with ids ``start .. start+len(data)-1``."""

    def build(
        self,
        data: np.ndarray,
        threads: int,
        *,
        chunk: int | None = None,
        on_chunk: Callable[[int], None] | None = None,
    ) -> None:
        """Create the index and add every row of ``data`` with ids 0..n-1.

        Rows go in chunks so a progress bar can move and Ctrl-C is seen
        between native calls; each chunk is still one multi-threaded add, so
        the chunking costs nothing measurable at the default size.

        Args:
            data: float32 [n, dim], C-contiguous.
            threads: insertion threads.
            chunk: rows per add call (default: all at once).
            on_chunk: called with the row count after each chunk.
        """
        n = data.shape[0]
        self.create(n)
        step = chunk or max(n, 1)
        for start in range(0, n, step):
            part = data[start : start + step]
            self.add(part, start, threads)
            if on_chunk is not None:
                on_chunk(part.shape[0])

    @abstractmethod
    def search(self, queries: np.ndarray, k: int, ef: int, threads: int) -> np.ndarray:
        """Batch search with beam width ``ef`` on ``threads`` threads.

        Returns:
            int64 ids [nq, k]; -1 (or any negative) where fewer than k were found.
        """

    def knob_start(self, efs: Sequence[int]) -> tuple[int, ...]:
        """Where this engine's sweep starts, given the suite's ``--efs`` (ef-like knobs: as is)."""
        return tuple(efs)

    def index_bytes(self) -> int | None:
        """Bytes the built index holds (its own report, or its saved size); None: unknown."""
        return None

    def close(self) -> None:
        """Release the index memory before the next engine runs."""
        self.__dict__.pop("index", None)


class WholeBatchEngine(Engine):
    """An engine whose library builds its index from the whole base in one call (SVS, glass,
    ScaNN, SymphonyQG): no incremental add, one progress step at the end."""

    def create(self, capacity: int) -> None:
        self.index = None

    def add(self, data: np.ndarray, start: int, threads: int) -> None:
        raise NotImplementedError(f"{self.name} builds its index in one call: use build()")

    def build(
        self,
        data: np.ndarray,
        threads: int,
        *,
        chunk: int | None = None,
        on_chunk: Callable[[int], None] | None = None,
    ) -> None:
        self.build_all(np.ascontiguousarray(data, dtype=np.float32), threads)
        if on_chunk is not None:
            on_chunk(data.shape[0])

    @abstractmethod
    def build_all(self, data: np.ndarray, threads: int) -> None:
        """Build ``self.index`` over every row of ``data`` (float32, C-contiguous), ids 0..n-1."""
