"""glass adapter (``pyglass-portable``): an HNSW graph walked on SQ8U codes, FP32 refine.

glass builds its graph (degree ``R = 2 * M``, construction beam ``L = ef_construction``),
then a :class:`glass.Searcher` walks it on 8-bit uniform scalar codes and re-ranks
with the float vectors; ``optimize()`` tunes its prefetch depth on sample queries,
as glass's own benchmarks do. The knob is ``ef``.
"""

from __future__ import annotations


import glass
import numpy as np

from ._version import dist_version
from .base import WholeBatchEngine


class GlassEngine(WholeBatchEngine):
    name = "glass"
    codes = "sq8u"
    quant = "SQ8U"
    refine = "FP32"

    @property
    def version(self) -> str:
        return dist_version("pyglass-portable", glass)

    def build_all(self, data: np.ndarray, threads: int) -> None:
        p = self.params
        glass.set_num_threads(threads)
        graph = glass.Index("HNSW", "L2", self.quant, R=2 * p.M, L=p.ef_construction).build(data)
        self.index = glass.Searcher(graph, data, "L2", self.quant, self.refine)
        self.index.optimize(threads)
        self._shape = data.shape

    def search(self, queries: np.ndarray, k: int, ef: int, threads: int) -> np.ndarray:
        self.index.set_ef(max(ef, k))
        ids, _ = self.index.batch_search(queries, k, threads)
        return np.asarray(ids, dtype=np.int64).reshape(queries.shape[0], k)

    def index_bytes(self) -> int | None:
        # glass reports no size: its layout is R int32 links, one code byte per dimension
        # and the float32 refine copy per vector.
        n, dim = self._shape
        return n * (2 * self.params.M * 4 + dim + 4 * dim)
