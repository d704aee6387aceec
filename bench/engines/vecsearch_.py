"""vecsearch adapter, through the public Python API."""

from __future__ import annotations

from typing import Any

import numpy as np

import vecsearch

from ._version import dist_version
from .base import Engine
from .files import saved_bytes

if not hasattr(vecsearch, "Index"):  # package present but its native core not built yet
    raise ImportError(
        "vecsearch.Index is missing (build the extension: python setup.py build_ext --inplace)"
    )


class VecsearchEngine(Engine):
    """vecsearch as `Index(dim, metric)` gives it: storage="auto" (SQ8 codes walked, then an
    exact re-rank, when they hold the neighbours on the data)."""

    name = "vecsearch"
    storage = "auto"  # Index(storage=...): auto, float32, or codes walked then re-ranked
    codes = "auto (sq8)"

    @property
    def version(self) -> str:
        return dist_version("vecsearch", vecsearch)

    def create(self, capacity: int) -> None:
        p = self.params
        self.index = vecsearch.Index(
            p.dim, metric="l2", M=p.M, ef_construction=p.ef_construction, seed=p.seed, storage=self.storage
        )

    def add(self, data: np.ndarray, start: int, threads: int) -> None:
        # ids=None numbers rows on from the largest id, i.e. start.., and skips the
        # per-id "already present?" check that explicit ids pay for.
        ids = self.index.add(data, num_threads=threads, progress=False)
        if ids[0] != start:
            raise RuntimeError(f"vecsearch assigned ids from {ids[0]}, expected {start}")

    def search(self, queries: np.ndarray, k: int, ef: int, threads: int) -> np.ndarray:
        ids, _ = self.index.search(queries, k=k, ef=ef, num_threads=threads)
        return ids.view(np.int64)  # MISSING_ID (2**64-1) reads as -1

    def index_bytes(self) -> int | None:
        return saved_bytes(self._save)

    def _save(self, path: str) -> None:
        self.index.save(path)


class VecsearchFloatEngine(VecsearchEngine):
    """vecsearch walking the float vectors (storage="float32")."""

    name = "vecsearch-fp32"
    storage = "float32"
    codes = "float32"


class VecsearchSq8Engine(VecsearchEngine):
    """vecsearch walking SQ8 codes, re-ranked exactly from the float vectors."""

    name = "vecsearch-sq8"
    storage = "sq8"
    codes = "sq8"


class VecsearchNeighbourCodesEngine(VecsearchFloatEngine):
    """vecsearch's neighbour-code walk (one-bit RaBitQ residuals of each node's neighbours in
    its block, FastScan-scored; each expanded node scored exactly by the float vector at the head
    of its block, so no re-rank), switched on with the private core call while it is not yet a
    storage choice. Its build time includes packing the blocks once, after the bulk load (later
    adds re-pack only the rows they change)."""

    name = "vecsearch-ncodes"
    codes = "rabitq-1bit (neighbour blocks) + float32"

    def build(self, data: np.ndarray, threads: int, **kwargs: Any) -> None:
        super().build(data, threads, **kwargs)
        self.index._core.enable_neighbour_codes(True, threads)
