"""usearch adapter: float32 storage (not its f16/bf16 defaults), squared L2."""

from __future__ import annotations

import numpy as np
from usearch.index import BatchMatches, Index

from ._version import dist_version
from .base import Engine
from .files import saved_bytes


class UsearchEngine(Engine):
    name = "usearch"

    @property
    def version(self) -> str:
        return dist_version("usearch")

    def create(self, capacity: int) -> None:
        p = self.params
        self.index = Index(
            ndim=p.dim,
            metric="l2sq",
            dtype="f32",
            connectivity=p.M,
            expansion_add=p.ef_construction,
            expansion_search=64,
        )
        # No reserve in the Python API: add() grows the index itself.

    def add(self, data: np.ndarray, start: int, threads: int) -> None:
        keys = np.arange(start, start + data.shape[0], dtype=np.uint64)
        # threads must be explicit: usearch's 0 means "all cores".
        self.index.add(keys, data, threads=threads, log=False)

    def search(self, queries: np.ndarray, k: int, ef: int, threads: int) -> np.ndarray:
        # A setter exists; mypy misses it because it is declared apart from the getter.
        self.index.expansion_search = ef  # type: ignore[misc]
        matches = self.index.search(queries, k, threads=threads, log=False)
        out = np.full((queries.shape[0], k), -1, dtype=np.int64)
        if not isinstance(matches, BatchMatches):  # one row comes back as Matches: 1-D keys
            out[0, : len(matches.keys)] = matches.keys
            return out
        # Rows past counts[i] hold filler keys (0), which would look like real ids.
        valid = np.arange(k)[None, :] < matches.counts[:, None]
        out[valid] = matches.keys[valid]
        return out

    def index_bytes(self) -> int | None:
        return saved_bytes(self._save)

    def _save(self, path: str) -> None:
        self.index.save(path)
