"""The methods of the filtered suite: each library's filtered search behind one interface.

Every method searches single-threaded. ``prepare`` turns a case into the filter
form the library's API takes, outside the timed region:

- vecsearch: the expression (shared workloads) or one id array per query (anti),
  evaluated into bitmaps *inside* each timed ``search`` call, as a user's call would;
- hnswlib: a bool array over labels, read by the Python ``filter`` callback;
- faiss: the packed bitmap of an ``IDSelectorBitmap``;
- bruteforce: the matching rows (shared workloads) or the allowed ids (anti).

So vecsearch's times include building its filter and the peers' do not.
The index-backed methods reuse the unfiltered adapters (:mod:`bench.engines`)
for building; their libraries are imported when the method is constructed, so
a missing package raises ImportError there and only that method is skipped.
"""

from __future__ import annotations

import ctypes
import functools
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from .engines import Engine, HNSWParams, load_engine
from .engines.vecsearch_ import VecsearchEngine
from .filtered_data import FilterCase
from .measure import timed_build
from .records import BuildResult

PLANS = ("auto", "scan", "acorn", "post")


class FilteredMethod(ABC):
    """One library's filtered k-NN search; ``curves`` are its variants (vecsearch: plans)."""

    name: str = ""
    #: variants measured as separate curves; "" for a method with one.
    curves: tuple[str, ...] = ("",)
    #: curves whose answer is exact whatever ef is: measured at one point.
    exact_curves: frozenset[str] = frozenset()

    def __init__(self, params: HNSWParams) -> None:
        self.params = params

    @property
    @abstractmethod
    def version(self) -> str:
        """Version string of the underlying library."""

    def label(self, curve: str) -> str:
        """Method name in tables and files: ``vecsearch-auto``, ``hnswlib``."""
        return f"{self.name}-{curve}" if curve else self.name

    @abstractmethod
    def build(
        self, data: np.ndarray, attributes: dict[str, Any], threads: int, progress: bool
    ) -> BuildResult | None:
        """Index ``data`` (ids 0..n-1) and time it; None when there is no index to build."""

    @abstractmethod
    def prepare(self, case: FilterCase) -> Any:
        """The case's filter in this library's form (untimed): a list with one item per
        query for per-query filters (so ``prepared[:count]`` serves the first queries),
        anything else for a filter shared by every query."""

    @abstractmethod
    def search(
        self, queries: np.ndarray, k: int, ef: int, prepared: Any, curve: str
    ) -> tuple[np.ndarray, int]:
        """Filtered search of every query on one thread.

        Returns:
            (ids int64 [nq, k] with -1 where nothing was returned,
            number of queries the library raised on; they return nothing).
        """

    def plan(self, case: FilterCase, queries: np.ndarray, k: int, ef: int, curve: str) -> str:
        """The plan the curve uses for the batch ``queries`` ("" when the method has no plans)."""
        return ""

    def close(self) -> None:
        """Release the index before the next method runs."""


class _IndexMethod(FilteredMethod):
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


class VecsearchMethod(_IndexMethod):
    """``Index.search(filter=..., plan=...)``, one curve per plan; ``scan`` is exact."""

    name = "vecsearch"
    curves = PLANS
    exact_curves = frozenset({"scan"})
    engine: _AttributedVecsearch

    def __init__(self, params: HNSWParams, plans: tuple[str, ...] = PLANS, storage: str = "float32") -> None:
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
        return super().build(data, attributes, threads, progress)

    def prepare(self, case: FilterCase) -> Any:
        if case.expr is not None:
            return case.expr
        assert case.allowed is not None
        return list(case.allowed.view(np.uint64))  # rows are contiguous: no copy in vecsearch

    def search(
        self, queries: np.ndarray, k: int, ef: int, prepared: Any, curve: str
    ) -> tuple[np.ndarray, int]:
        ids, _ = self.engine.index.search(
            queries, k=k, ef=ef, num_threads=1, filter=prepared, plan=curve
        )
        return ids.view(np.int64), 0  # MISSING_ID reads as -1

    def plan(self, case: FilterCase, queries: np.ndarray, k: int, ef: int, curve: str) -> str:
        if curve != "auto":
            return curve
        prepared = self.prepare(case)
        shared = not isinstance(prepared, list)  # one filter for the whole batch: scanned as a block
        one = prepared if shared else prepared[0]
        return str(self.engine.index.explain(queries[0], one, k=k, ef=ef,
                                             shared_by=len(queries) if shared else 1).plan)


class HnswlibMethod(_IndexMethod):
    """hnswlib's ``knn_query(filter=...)``: one call per query, since a batch raises as a
    whole when any query finds fewer than k allowed items."""

    name = "hnswlib"

    def prepare(self, case: FilterCase) -> list[Callable[[int], Any]]:
        nq = case.truth.shape[0]
        if case.mask is not None:
            return [case.mask.__getitem__] * nq  # the bound method: no lambda frame per call
        return [case.query_mask(i, self.n).__getitem__ for i in range(nq)]

    def search(
        self, queries: np.ndarray, k: int, ef: int, prepared: Any, curve: str
    ) -> tuple[np.ndarray, int]:
        index = self.engine.index
        index.set_ef(ef)
        ids = np.full((queries.shape[0], k), -1, dtype=np.int64)
        failures = 0
        for i, allowed in enumerate(prepared):
            try:
                labels, _ = index.knn_query(queries[i], k=k, num_threads=1, filter=allowed)
            except RuntimeError:  # found fewer than k allowed items: returns nothing
                failures += 1
                continue
            ids[i] = labels[0]
        return ids, failures


class FaissMethod(_IndexMethod):
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
        faiss = self.faiss
        bitmap = np.packbits(mask, bitorder="little")
        selector = faiss.IDSelectorBitmap(mask.shape[0], faiss.swig_ptr(bitmap))
        # the selector points into the bitmap: keep both alive with the parameters
        return bitmap, selector, faiss.SearchParametersHNSW(sel=selector)

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


class BruteForce(FilteredMethod):
    """Exact numpy search, one query at a time on one BLAS thread.

    ``|x|^2 - 2 x.q`` over the matching rows, then ``argpartition``. A shared
    filter's rows are gathered once in ``prepare`` (they can be materialised
    ahead); a per-query filter's rows are gathered per query, or, when more
    than half the rows are allowed, all rows are scored and the allowed picked
    out (cheaper than copying most of the base).
    """

    name = "bruteforce"
    exact_curves = frozenset({""})

    @property
    def version(self) -> str:
        return f"numpy {np.__version__}"

    def build(
        self, data: np.ndarray, attributes: dict[str, Any], threads: int, progress: bool
    ) -> BuildResult | None:
        self.base = data
        self.norms = np.einsum("ij,ij->i", data, data)
        return None

    def prepare(self, case: FilterCase) -> Any:
        if case.mask is None:
            assert case.allowed is not None
            return list(case.allowed)
        rows = np.flatnonzero(case.mask)
        base = self.base if rows.size == self.base.shape[0] else self.base[rows]
        return base, self.norms[rows], rows

    def search(
        self, queries: np.ndarray, k: int, ef: int, prepared: Any, curve: str
    ) -> tuple[np.ndarray, int]:
        ids = np.full((queries.shape[0], k), -1, dtype=np.int64)
        with blas_threads(1):
            if not isinstance(prepared, list):
                base, norms, rows = prepared
                for i, q in enumerate(queries):
                    top = rows[_top_k(norms - 2 * (base @ q), k)]
                    ids[i, : top.size] = top
                return ids, 0
            n = self.base.shape[0]
            for i, (q, rows) in enumerate(zip(queries, prepared)):
                if 2 * rows.shape[0] > n:
                    d = (self.norms - 2 * (self.base @ q))[rows]
                else:
                    d = self.norms[rows] - 2 * (self.base[rows] @ q)
                top = rows[_top_k(d, k)]
                ids[i, : top.size] = top
        return ids, 0

    def close(self) -> None:
        self.__dict__.pop("base", None)


METHODS: dict[str, type[FilteredMethod]] = {
    "vecsearch": VecsearchMethod,
    "hnswlib": HnswlibMethod,
    "faiss": FaissMethod,
    "bruteforce": BruteForce,
}


def load_method(
    name: str, params: HNSWParams, plans: tuple[str, ...] = PLANS, storage: str = "float32"
) -> FilteredMethod:
    """Construct the named method; ImportError when its library is not installed."""
    if name == "vecsearch":
        return VecsearchMethod(params, plans, storage)
    return METHODS[name](params)


def _top_k(d: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k smallest of ``d``, ascending (all of them when fewer)."""
    if d.shape[0] > k:
        part = np.argpartition(d, k - 1)[:k]
        return part[np.argsort(d[part], kind="stable")]
    return np.argsort(d, kind="stable")


@contextmanager
def blas_threads(count: int) -> Iterator[None]:
    """numpy's OpenBLAS limited to ``count`` threads inside the block.

    A matrix-vector product over a large base is multi-threaded by OpenBLAS,
    which would make the "single-threaded" brute force use every core. Other
    BLAS builds are left alone (see :func:`blas_limitable`).
    """
    lib = _openblas()
    if lib is None:
        yield
        return
    set_threads, get_threads = lib
    before = get_threads()
    set_threads(count)
    try:
        yield
    finally:
        set_threads(before)


def blas_limitable() -> bool:
    """Whether :func:`blas_threads` can limit numpy's BLAS here."""
    return _openblas() is not None


@functools.lru_cache(maxsize=1)
def _openblas() -> tuple[Any, Any] | None:
    """(set_num_threads, get_num_threads) of the OpenBLAS numpy loaded, found like
    threadpoolctl does: among the mapped libraries (numpy wheels prefix the symbols)."""
    try:
        with open("/proc/self/maps") as f:
            paths = sorted({line.split()[-1] for line in f if "openblas" in line.lower()})
    except OSError:
        return None
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix in ("scipy_openblas", "openblas"):
            for suffix in ("64_", ""):
                set_threads = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
                get_threads = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                if set_threads is not None and get_threads is not None:
                    return set_threads, get_threads
    return None
