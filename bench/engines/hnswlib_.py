"""hnswlib 0.8 adapter: the reference HNSW implementation."""

from __future__ import annotations

import hnswlib
import numpy as np

from ._version import dist_version
from .base import Engine
from .files import saved_bytes


class HnswlibEngine(Engine):
    name = "hnswlib"

    @property
    def version(self) -> str:
        return dist_version("hnswlib", hnswlib)

    def create(self, capacity: int) -> None:
        p = self.params
        self.index = hnswlib.Index(space="l2", dim=p.dim)
        self.index.init_index(
            max_elements=capacity, M=p.M, ef_construction=p.ef_construction, random_seed=p.seed
        )

    def add(self, data: np.ndarray, start: int, threads: int) -> None:
        ids = np.arange(start, start + data.shape[0], dtype=np.int64)
        self.index.add_items(data, ids, num_threads=threads)

    def search(self, queries: np.ndarray, k: int, ef: int, threads: int) -> np.ndarray:
        self.index.set_ef(ef)
        labels, _ = self.index.knn_query(queries, k=k, num_threads=threads)
        return labels.astype(np.int64)

    def index_bytes(self) -> int | None:
        return saved_bytes(self._save)

    def _save(self, path: str) -> None:
        self.index.save_index(path)
