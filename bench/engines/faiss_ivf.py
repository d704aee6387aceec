"""faiss IVF-Flat with an ID selector: the inverted-file route to filtered search.

``IndexIVFFlat`` over ``4 * sqrt(n)`` k-means lists (faiss's guidance is 4-16 x sqrt(n));
a search scans ``nprobe`` lists and skips the ids the ``IDSelectorBitmap`` rejects, so a
selective filter needs many lists: the knob is ``nprobe``, swept up to every list (where
the answer is exact). One OpenMP thread; a shared filter is one batch call, per-query
filters one call per distinct filter.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..filtered_data import FilterCase
from ..records import BuildResult
from ._version import dist_version
from .exact import group_by_filter, keyed
from .filtered import FilteredMethod, per_query, query_rows


class FaissIvf(FilteredMethod):
    name = "faiss-ivf"
    knob = "nprobe"

    def __init__(self, params: Any) -> None:
        super().__init__(params)
        import faiss  # ImportError here: the method is skipped with the reason

        self.faiss = faiss

    @property
    def version(self) -> str:
        return dist_version("faiss-cpu", self.faiss)

    def knob_start(self, efs: Sequence[int]) -> tuple[int, ...]:
        return tuple(v for v in (1, 2, 4, 8, 16, 32) if v <= self.knob_limit) or (1,)

    def build(
        self, data: np.ndarray, attributes: dict[str, Any], threads: int, progress: bool
    ) -> BuildResult | None:
        import time

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

    def prepare(self, case: FilterCase) -> Any:
        rows = query_rows(case)
        if rows is not None:
            return [keyed(r, self._selector_of(r)) for r in rows]
        return self._selector_of(np.flatnonzero(case.mask))

    def _selector_of(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, Any]:
        faiss = self.faiss
        mask = np.zeros(self.n, dtype=bool)
        mask[rows] = True
        bitmap = np.packbits(mask, bitorder="little")
        # the selector points into the bitmap: keep both alive with it
        return rows, bitmap, faiss.IDSelectorBitmap(self.n, faiss.swig_ptr(bitmap))

    def search(
        self, queries: np.ndarray, k: int, ef: int, prepared: Any, curve: str
    ) -> tuple[np.ndarray, int]:
        self.faiss.omp_set_num_threads(1)
        if not per_query(prepared):
            return self._search(queries, prepared[2], k, ef), 0
        ids = np.empty((queries.shape[0], k), dtype=np.int64)
        for (_, _, selector), members in group_by_filter(prepared):
            ids[members] = self._search(queries[members], selector, k, ef)
        return ids, 0

    def _search(self, queries: np.ndarray, selector: Any, k: int, nprobe: int) -> np.ndarray:
        params = self.faiss.SearchParametersIVF(sel=selector, nprobe=min(nprobe, self.knob_limit))
        _, ids = self.index.search(queries, k, params=params)
        return ids.astype(np.int64, copy=False)

    def close(self) -> None:
        self.__dict__.pop("index", None)
        self.__dict__.pop("_quantizer", None)
