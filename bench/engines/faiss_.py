"""faiss IndexHNSWFlat adapter (float32 vectors, squared L2).

faiss threads through OpenMP, so the thread count is a process-wide setting
made before every call rather than a call argument.
"""

from __future__ import annotations

import faiss
import numpy as np

from ._version import dist_version
from .base import Engine
from .files import saved_bytes


class FaissEngine(Engine):
    name = "faiss"

    @property
    def version(self) -> str:
        return dist_version("faiss-cpu", faiss)

    def create(self, capacity: int) -> None:
        p = self.params
        self.index = faiss.IndexHNSWFlat(p.dim, p.M, faiss.METRIC_L2)
        self.index.hnsw.efConstruction = p.ef_construction

    def add(self, data: np.ndarray, start: int, threads: int) -> None:
        # IndexHNSWFlat numbers rows in insertion order, which is start.. here.
        if self.index.ntotal != start:
            raise RuntimeError(
                f"faiss ids are positional: expected start {self.index.ntotal}, got {start}"
            )
        faiss.omp_set_num_threads(threads)
        self.index.add(data)

    def search(self, queries: np.ndarray, k: int, ef: int, threads: int) -> np.ndarray:
        faiss.omp_set_num_threads(threads)
        self.index.hnsw.efSearch = ef
        _, ids = self.index.search(queries, k)
        return ids.astype(np.int64, copy=False)

    def index_bytes(self) -> int | None:
        return saved_bytes(self._save)

    def _save(self, path: str) -> None:
        faiss.write_index(self.index, path)
