"""SymphonyQG adapter (``rabitqlib.SymqgIndex``): RaBitQ codes stored inside the graph.

Each node's block holds its neighbours' RaBitQ codes, so a walk estimates every
neighbour's distance from one memory block with a FastScan kernel, then re-ranks
with the full-precision vector (``quantization_bits=0``, the library's default and
its most accurate setting; 4 and 8 bits measured lower recall ceilings).
Degree ``2 * M``; the knob is ``ef``.
"""

from __future__ import annotations


import numpy as np
import rabitqlib

from ._version import dist_version
from .base import WholeBatchEngine
from .files import saved_bytes


class SymqgEngine(WholeBatchEngine):
    name = "symphonyqg"
    codes = "rabitq"

    @property
    def version(self) -> str:
        return dist_version("rabitqlib", rabitqlib)

    def build_all(self, data: np.ndarray, threads: int) -> None:
        self.index = rabitqlib.SymqgIndex(self.params.dim, 2 * self.params.M, "l2", 0)
        self.index.build(data, self.params.ef_construction, num_threads=threads)

    def search(self, queries: np.ndarray, k: int, ef: int, threads: int) -> np.ndarray:
        ids, _ = self.index.search_batch(queries, k, max(ef, k), threads)
        return ids.astype(np.int64)

    def index_bytes(self) -> int | None:
        return saved_bytes(self.index.save)
