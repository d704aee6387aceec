"""The numpy exact pre-filter baseline, and the per-query filter grouping the baselines share.

- ``bruteforce``: numpy on one BLAS thread. Queries that share a filter are answered
  as one matrix product over the matching rows (``|x|^2 - 2 Q X^T``, in blocks of
  queries that keep the distance matrix in a few MiB), then ``argpartition`` per row;
  per-query filters are grouped by identical filter first (FANNS labels repeat), and a
  filter allowing most rows scores every row and masks the rest.

The other exact baseline, ``faiss-flat``, is in :mod:`bench.engines.faiss_selected`; the
report's "exact pre-filter" baseline is the faster of the two per case.
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..filtered_data import FilterCase
from ..records import BuildResult
from .filtered import FilteredMethod, per_query, query_rows

#: Distances computed per block of queries: 4M floats (16 MiB) bound the temporary.
_BLOCK_FLOATS = 1 << 22


class BruteForce(FilteredMethod):
    """Exact numpy search, one BLAS thread, queries sharing a filter in one product."""

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
        return matching_rows(case)

    def search(
        self, queries: np.ndarray, k: int, ef: int, prepared: Any, curve: str
    ) -> tuple[np.ndarray, int]:
        ids = np.full((queries.shape[0], k), -1, dtype=np.int64)
        with blas_threads(1):
            if not per_query(prepared):
                ids[:] = self._block(queries, prepared, k)
                return ids, 0
            for rows, members in group_by_filter(prepared):
                ids[members] = self._block(queries[members], rows, k)
        return ids, 0

    def _block(self, queries: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
        """Exact top-k among ``rows`` for every query, ids padded with -1."""
        n = self.base.shape[0]
        out = np.full((queries.shape[0], k), -1, dtype=np.int64)
        if rows.size == 0:
            return out
        whole = 2 * rows.size > n  # most rows allowed: score all, mask the rest (no gather)
        base = self.base if whole else self.base[rows]
        norms = self.norms if whole else self.norms[rows]
        step = max(1, _BLOCK_FLOATS // base.shape[0])
        for start in range(0, queries.shape[0], step):
            d = norms[None, :] - 2 * (queries[start : start + step] @ base.T)
            if whole:
                d = d[:, rows]
            pos = top_k_rows(d, k) if rows.size > k else np.argsort(d, axis=1, kind="stable")
            out[start : start + step, : pos.shape[1]] = rows[pos]
        return out

    def close(self) -> None:
        self.__dict__.pop("base", None)


def matching_rows(case: FilterCase) -> Any:
    """The rows a case's filter allows: one array for a shared filter, else a keyed array per
    query (:func:`keyed`), as the exact baselines take them."""
    rows = query_rows(case)
    if rows is not None:
        return [keyed(r) for r in rows]
    return np.flatnonzero(case.mask)


def keyed(rows: np.ndarray, payload: Any = None) -> tuple[bytes, Any]:
    """A per-query filter with the key that groups identical ones (made when preparing)."""
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    return rows.tobytes(), rows if payload is None else payload


def group_by_filter(prepared: list[tuple[bytes, Any]]) -> Iterator[tuple[Any, np.ndarray]]:
    """(payload, query positions) per distinct filter among keyed per-query filters: queries
    with the same filter are answered together, as a user holding them would."""
    groups: dict[bytes, list[int]] = {}
    payloads: dict[bytes, Any] = {}
    for i, (key, payload) in enumerate(prepared):
        groups.setdefault(key, []).append(i)
        payloads.setdefault(key, payload)
    for key, members in groups.items():
        yield payloads[key], np.asarray(members, dtype=np.int64)


def top_k_rows(d: np.ndarray, k: int) -> np.ndarray:
    """Per row of ``d``, the positions of its k smallest values, ascending."""
    part = np.argpartition(d, k - 1, axis=1)[:, :k]
    order = np.argsort(np.take_along_axis(d, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


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
