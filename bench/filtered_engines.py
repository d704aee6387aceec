"""The methods of the filtered suite: each library's filtered search behind one interface.

Every method searches single-threaded. ``prepare`` turns a case into the filter
form the library's API takes, outside the timed region:

- vecsearch: the expression (shared workloads) or one id array per query (anti),
  evaluated into bitmaps *inside* each timed ``search`` call, as a user's call would;
- hnswlib: a bool array over labels, read by the Python ``filter`` callback;
- faiss: the packed bitmap of an ``IDSelectorBitmap`` (HNSW; ``faiss-ivf``: IVF-Flat,
  nprobe swept; ``faiss-flat``: exact);
- bruteforce: the matching rows (shared workloads) or the allowed ids (anti), queries
  sharing a filter answered by one matrix product;
- lancedb: the filter as a SQL where-clause, pre- and post-filtered.

So vecsearch's times include building its filter and the peers' do not.
The index-backed methods reuse the unfiltered adapters (:mod:`bench.engines`)
for building; their libraries are imported when the method is constructed, so
a missing package raises ImportError there and only that method is skipped.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from .engines import Engine, HNSWParams, load_engine
from .engines.exact import BruteForce
from .engines.faiss_selected import FaissFlat, FaissIvf, bitmap_selector
from .engines.filtered import FilteredMethod
from .engines.lancedb_ import LanceDbMethod
from .engines.vecsearch_ import VecsearchEngine
from .filtered_data import FilterCase
from .measure import timed_build
from .records import BuildResult

PLANS = ("auto", "scan", "acorn", "post")


class IndexMethod(FilteredMethod):
    """A method backed by one of :mod:`bench.engines`'s adapters."""

    engine: Engine

    def __init__(self, params: HNSWParams) -> None:
        super().__init__(params)
        self.engine = self._make_engine()  # ImportError: library missing

    def _make_engine(self) -> Engine:
        return load_engine(self.name, self.params)

    @property
    def version(self) -> str:
        return self.engine.version

    def build(
        self, data: np.ndarray, attributes: dict[str, Any], threads: int, progress: bool
    ) -> BuildResult | None:
        self.n = data.shape[0]
        return timed_build(self.engine, data, threads, progress=progress)

    def close(self) -> None:
        self.engine.close()


class _AttributedVecsearch(VecsearchEngine):
    """The vecsearch adapter, with each add also carrying its rows' attribute columns."""

    def __init__(self, params: HNSWParams) -> None:
        super().__init__(params)
        self.attributes: dict[str, Any] = {}  # column -> values of every row, set before build

    def add(self, data: np.ndarray, start: int, threads: int) -> None:
        stop = start + data.shape[0]
        part = {name: values[start:stop] for name, values in self.attributes.items()}
        ids = self.index.add(data, attributes=part or None, num_threads=threads, progress=False)
        if ids[0] != start:
            raise RuntimeError(f"vecsearch assigned ids from {ids[0]}, expected {start}")


#: vecsearch's auto plan called once per query in a Python loop: what the per-query loop
#: the peers without a batch form must use costs our own binding, measured beside them.
LOOP = "auto-loop"


class VecsearchMethod(IndexMethod):
    """``Index.search(filter=..., plan=...)``, one curve per plan; ``scan`` is exact. On a
    per-query-filter case the batch call is also timed as a loop of single-query calls."""

    name = "vecsearch"
    curves = PLANS
    exact_curves = frozenset({"scan"})
    filters = "expression"
    engine: _AttributedVecsearch
    #: also create a range index on every int, float and date column, as part of the build
    range_indexes = False

    def __init__(self, params: HNSWParams, plans: tuple[str, ...] = PLANS, storage: str = "auto") -> None:
        self.storage = storage
        super().__init__(params)
        self.curves = plans

    def _make_engine(self) -> Engine:
        engine = _AttributedVecsearch(self.params)
        engine.storage = self.storage
        return engine

    def build(
        self, data: np.ndarray, attributes: dict[str, Any], threads: int, progress: bool
    ) -> BuildResult | None:
        self.engine.attributes = attributes  # build time includes attribute ingest
        result = super().build(data, attributes, threads, progress)
        if not self.range_indexes:
            return result
        seconds = create_range_indexes(self.engine.index, threads, self.name)
        return None if result is None else dataclasses.replace(result, method=self.name,
                                                               seconds=result.seconds + seconds)

    def prepare(self, case: FilterCase) -> Any:
        if case.expr is not None:
            return case.expr
        assert case.allowed is not None
        return list(case.allowed.view(np.uint64))  # rows are contiguous: no copy in vecsearch

    def case_curves(self, case: FilterCase) -> tuple[str, ...]:
        if case.mask is None and "auto" in self.curves:
            return (*self.curves, LOOP)
        return self.curves

    def search(
        self, queries: np.ndarray, k: int, ef: int, prepared: Any, curve: str
    ) -> tuple[np.ndarray, int]:
        index = self.engine.index
        if curve == LOOP:
            ids = np.empty((queries.shape[0], k), dtype=np.uint64)
            for i, one in enumerate(prepared):
                ids[i] = index.search(queries[i], k=k, ef=ef, num_threads=1, filter=one)[0][0]
            return ids.view(np.int64), 0
        ids, _ = index.search(queries, k=k, ef=ef, num_threads=1, filter=prepared, plan=curve)
        return ids.view(np.int64), 0  # MISSING_ID reads as -1

    def plan(self, case: FilterCase, queries: np.ndarray, k: int, ef: int, curve: str) -> str:
        if curve not in ("auto", LOOP):
            return curve
        prepared = self.prepare(case)
        shared = not isinstance(prepared, list)  # one filter for the whole batch: scanned as a block
        one = prepared if shared else prepared[0]
        return str(self.engine.index.explain(queries[0], one, k=k, ef=ef,
                                             shared_by=len(queries) if shared else 1).plan)


def create_range_indexes(index: Any, threads: int, label: str) -> float:
    """Creates a range index on every int, float and date column of a vecsearch index, as a user
    filtering by ranges (or equality) on them would; prints their build time and memory and
    returns the seconds."""
    start = time.perf_counter()
    for column, kind in index.attribute_schema.items():
        if kind in ("int", "float", "date"):
            index.create_range_index(column, num_threads=threads)
    seconds = time.perf_counter() - start
    size = index.memory_usage()["range_indexes"]
    print(f"  {label}: range indexes on {', '.join(index.range_indexes) or 'none'} built in "
          f"{seconds:.2f} s, {size / 2**20:.1f} MiB ({size / max(len(index), 1):.0f} B/vector)")
    return seconds


class RangedVecsearchMethod(VecsearchMethod):
    """vecsearch with a range index on every int, float or date column (``create_range_index``):
    ``auto`` (the planner may now pick the range index) and ``range`` (forced) curves. The range
    indexes' build time is part of the build and printed with their memory."""

    name = "vecsearch-ranged"
    range_indexes = True

    def __init__(self, params: HNSWParams, plans: tuple[str, ...] = ("auto", "range"), storage: str = "auto"
                 ) -> None:
        super().__init__(params, plans, storage)

    def case_curves(self, case: FilterCase) -> tuple[str, ...]:
        if case.workload != "range":  # the forced curve only where a range index applies
            return tuple(c for c in super().case_curves(case) if c != "range")
        return super().case_curves(case)


class HnswlibMethod(IndexMethod):
    """hnswlib's ``knn_query(filter=...)`` with ``k = min(k, matches)`` (it raises when it finds
    fewer than k allowed items): a shared filter is one batch call (per query only if the
    batch raises), a per-query filter one call per query (its API has no batch form)."""

    name = "hnswlib"
    filters = "callback"

    def prepare(self, case: FilterCase) -> Any:
        if case.mask is not None:  # the bound method: no lambda frame per call
            return case.mask.__getitem__, int(case.mask.sum())
        masks = [case.query_mask(i, self.n) for i in range(case.truth.shape[0])]
        return [(m.__getitem__, int(m.sum())) for m in masks]

    def search(
        self, queries: np.ndarray, k: int, ef: int, prepared: Any, curve: str
    ) -> tuple[np.ndarray, int]:
        index = self.engine.index
        index.set_ef(ef)
        ids = np.full((queries.shape[0], k), -1, dtype=np.int64)
        if not isinstance(prepared, list):
            allowed, matches = prepared
            want = min(k, matches)
            if want == 0:
                return ids, 0
            try:
                labels, _ = index.knn_query(queries, k=want, num_threads=1, filter=allowed)
                ids[:, :want] = labels
                return ids, 0
            except RuntimeError:  # some query found fewer than want: answer each alone
                prepared = [prepared] * queries.shape[0]
        failures = 0
        for i, (allowed, matches) in enumerate(prepared):
            want = min(k, matches)
            if want == 0:
                continue
            try:
                labels, _ = index.knn_query(queries[i], k=want, num_threads=1, filter=allowed)
            except RuntimeError:  # the walk found fewer than want allowed items
                failures += 1
                continue
            ids[i, :want] = labels[0]
        return ids, failures


class FaissMethod(IndexMethod):
    """faiss ``IndexHNSWFlat`` with ``SearchParametersHNSW(sel=IDSelectorBitmap)``: one batch
    for a shared filter, one call per query for per-query filters."""

    name = "faiss"

    def __init__(self, params: HNSWParams) -> None:
        super().__init__(params)
        import faiss  # present: load_engine succeeded

        self.faiss = faiss

    def prepare(self, case: FilterCase) -> Any:
        if case.mask is not None:
            return self._selector(case.mask)
        return [self._selector(case.query_mask(i, self.n)) for i in range(case.truth.shape[0])]

    def _selector(self, mask: np.ndarray) -> tuple[Any, ...]:
        bitmap, selector = bitmap_selector(self.faiss, mask)
        return bitmap, selector, self.faiss.SearchParametersHNSW(sel=selector)

    def search(
        self, queries: np.ndarray, k: int, ef: int, prepared: Any, curve: str
    ) -> tuple[np.ndarray, int]:
        self.faiss.omp_set_num_threads(1)
        index = self.engine.index
        if not isinstance(prepared, list):
            params = prepared[2]
            params.efSearch = ef
            _, ids = index.search(queries, k, params=params)
            return ids.astype(np.int64, copy=False), 0
        ids = np.empty((queries.shape[0], k), dtype=np.int64)
        for i, (_, _, params) in enumerate(prepared):
            params.efSearch = ef
            ids[i] = index.search(queries[i : i + 1], k, params=params)[1][0]
        return ids, 0


METHODS: dict[str, type[FilteredMethod]] = {
    "vecsearch": VecsearchMethod,
    "vecsearch-ranged": RangedVecsearchMethod,
    "hnswlib": HnswlibMethod,
    "faiss": FaissMethod,
    "faiss-ivf": FaissIvf,
    "faiss-flat": FaissFlat,
    "bruteforce": BruteForce,
    "lancedb": LanceDbMethod,
}

#: The exact pre-filter baselines: the report's "exact" column is the faster of them per case.
EXACT_BASELINES = ("bruteforce", "faiss-flat")


def load_method(
    name: str, params: HNSWParams, plans: tuple[str, ...] = PLANS, storage: str = "auto"
) -> FilteredMethod:
    """Construct the named method; ImportError when its library is not installed."""
    if name == "vecsearch":
        return VecsearchMethod(params, plans, storage)
    if name == "vecsearch-ranged":
        return RangedVecsearchMethod(params, storage=storage)
    return METHODS[name](params)


