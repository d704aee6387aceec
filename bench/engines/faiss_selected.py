"""faiss's own filtered routes, searched through an ``IDSelectorBitmap``: the selector of each
distinct filter is made when the case is prepared (outside the timed call), and queries
sharing a filter are answered in one call, as a user holding them would; one OpenMP thread.

- ``faiss-ivf``: ``IndexIVFFlat`` over ``4 * sqrt(n)`` k-means lists (faiss's guidance is
  4-16 x sqrt(n)); a search scans ``nprobe`` lists and skips the ids the selector rejects, so a
  selective filter needs many lists: the knob is ``nprobe``, swept up to every list (where the
  answer is exact).
- ``faiss-flat``: ``IndexFlatL2``, exact: one of the exact pre-filter baselines.
"""

from __future__ import annotations

import math
import time
from abc import abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..filtered_data import FilterCase
from ..records import BuildResult
from ._version import dist_version
from .exact import group_by_filter, keyed
from .filtered import FilteredMethod, per_query, query_rows


def bitmap_selector(faiss: Any, mask: np.ndarray) -> tuple[np.ndarray, Any]:
    """(packed bitmap, ``IDSelectorBitmap`` over it) of a bool mask over ids 0..n-1; the
    selector points into the bitmap, so both are kept alive together."""
    bitmap = np.packbits(mask, bitorder="little")
    return bitmap, faiss.IDSelectorBitmap(mask.shape[0], faiss.swig_ptr(bitmap))


class FaissSelected(FilteredMethod):
    """A faiss index (``self.index``, ids 0..``self.n``-1) searched with one selector per
    distinct filter; subclasses build it and pass the selector and knob to faiss."""

    def __init__(self, params: Any) -> None:
        super().__init__(params)
        import faiss  # ImportError here: the method is skipped with the reason

        self.faiss = faiss

    @property
    def version(self) -> str:
        return dist_version("faiss-cpu", self.faiss)

    def prepare(self, case: FilterCase) -> Any:
        rows = query_rows(case)
        if rows is not None:
            return [keyed(r, self._selector_of(r)) for r in rows]
        return bitmap_selector(self.faiss, case.mask)

    def _selector_of(self, rows: np.ndarray) -> tuple[np.ndarray, Any]:
        mask = np.zeros(self.n, dtype=bool)
        mask[rows] = True
        return bitmap_selector(self.faiss, mask)

    def search(
        self, queries: np.ndarray, k: int, ef: int, prepared: Any, curve: str
    ) -> tuple[np.ndarray, int]:
        self.faiss.omp_set_num_threads(1)
        if not per_query(prepared):
            return self._search(queries, prepared[1], k, ef), 0
        ids = np.empty((queries.shape[0], k), dtype=np.int64)
        for (_, selector), members in group_by_filter(prepared):
            ids[members] = self._search(queries[members], selector, k, ef)
        return ids, 0

    @abstractmethod
    def _search(self, queries: np.ndarray, selector: Any, k: int, knob: int) -> np.ndarray:
        """int64 ids [len(queries), k] of one faiss call with ``selector``."""

    def close(self) -> None:
        self.__dict__.pop("index", None)


class FaissIvf(FaissSelected):
    name = "faiss-ivf"
    knob = "nprobe"

    def knob_start(self, efs: Sequence[int]) -> tuple[int, ...]:
        return tuple(v for v in (1, 2, 4, 8, 16, 32) if v <= self.knob_limit) or (1,)

    def build(
        self, data: np.ndarray, attributes: dict[str, Any], threads: int, progress: bool
    ) -> BuildResult | None:
        faiss = self.faiss
        n = data.shape[0]
        self.n = n
        nlist = max(1, min(n // 39, int(4 * math.sqrt(n))))  # k-means wants >= 39 points a list
        self.knob_limit = nlist
        faiss.omp_set_num_threads(threads)
        start = time.perf_counter()
        quantizer = faiss.IndexFlatL2(data.shape[1])
        self.index = faiss.IndexIVFFlat(quantizer, data.shape[1], nlist, faiss.METRIC_L2)
        self.index.train(data)
        self.index.add(data)
        self._quantizer = quantizer  # the IVF index borrows it
        return BuildResult(self.name, threads, time.perf_counter() - start, n)

    def _search(self, queries: np.ndarray, selector: Any, k: int, knob: int) -> np.ndarray:
        params = self.faiss.SearchParametersIVF(sel=selector, nprobe=min(knob, self.knob_limit))
        _, ids = self.index.search(queries, k, params=params)
        return ids.astype(np.int64, copy=False)

    def close(self) -> None:
        super().close()
        self.__dict__.pop("_quantizer", None)


class FaissFlat(FaissSelected):
    """faiss ``IndexFlatL2`` with an ``IDSelectorBitmap``: its exact filtered route."""

    name = "faiss-flat"
    exact_curves = frozenset({""})

    def build(
        self, data: np.ndarray, attributes: dict[str, Any], threads: int, progress: bool
    ) -> BuildResult | None:
        self.n = data.shape[0]
        self.index = self.faiss.IndexFlatL2(data.shape[1])
        self.index.add(data)
        return None

    def _search(self, queries: np.ndarray, selector: Any, k: int, knob: int) -> np.ndarray:
        _, ids = self.index.search(queries, k, params=self.faiss.SearchParameters(sel=selector))
        return ids.astype(np.int64, copy=False)
