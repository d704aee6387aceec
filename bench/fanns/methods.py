"""The FANNS suite's methods: the filtered suite's adapters with per-query filters, and usearch.

- ``vecsearch``: one curve per plan (``auto``, ``scan``, ``acorn``, ``post``); every query
  gets its own expression (``filter=[expr, ...]``), evaluated inside the timed call. The index
  has a range index on each int and date column (``create_range_index``, built as part of the
  build), so ``auto`` may answer ranges and equalities on one of them from it.
- ``vecsearch-auto-loop``: the same auto plan, one call per query (what a per-query loop
  costs our own binding, beside the peers that have only that form).
- ``hnswlib``: Python ``filter`` callback over each query's bool mask, one call per query,
  ``k = min(k, matches)``.
- ``faiss``: ``IndexHNSWFlat`` with one ``IDSelectorBitmap`` per query, one call each;
  ``faiss-ivf``: IVF-Flat with one selector per distinct filter, nprobe swept.
- ``lancedb``: each query's filter as SQL, pre- and post-filtered, one call per query.
- exact pre-filter baselines: ``bruteforce`` (numpy, one BLAS thread, queries sharing a
  filter in one matrix product) and ``faiss-flat`` (``IndexFlatL2`` + selector).
- ``usearch``: unfiltered workload only: its Python API (``Index.search``) takes no
  predicate, so it has no filtered search to measure.

On the unfiltered case the index methods run their plain batch search
(:class:`bench.engines.Engine.search` on one thread), one curve named after the library.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engines import HNSWParams
from ..filtered_engines import (
    METHODS as FILTERED_METHODS,
    PLANS,
    FilteredMethod,
    VecsearchMethod,
    IndexMethod,
)
from .data import FannsCase

METHODS = (
    "vecsearch", "hnswlib", "faiss", "faiss-ivf", "lancedb", "usearch", "bruteforce", "faiss-flat",
)
UNFILTERED_ONLY = frozenset({"usearch"})


class FannsVecsearch(VecsearchMethod):
    """vecsearch with one expression per query and range indexes on its numeric columns."""

    range_indexes = True

    def prepare(self, case: Any) -> Any:
        if case.exprs:
            return list(case.exprs)
        return super().prepare(case)


class UsearchMethod(IndexMethod):
    """usearch, unfiltered only (no predicate in its Python search API)."""

    name = "usearch"

    def prepare(self, case: Any) -> Any:
        if not getattr(case, "unfiltered", False):
            raise ValueError("usearch's Python API has no filtered search")
        return None

    def search(
        self, queries: np.ndarray, k: int, ef: int, prepared: Any, curve: str
    ) -> tuple[np.ndarray, int]:
        return self.engine.search(queries, k, ef, 1), 0


def load_method(name: str, params: HNSWParams, plans: tuple[str, ...] = PLANS) -> FilteredMethod:
    """Construct the named method; ImportError when its library is missing."""
    if name == "vecsearch":
        return FannsVecsearch(params, plans)
    classes: dict[str, type[FilteredMethod]] = {**FILTERED_METHODS, "usearch": UsearchMethod}
    classes.pop("vecsearch")
    if name not in classes:
        raise ValueError(f"--methods: unknown {name!r}; choose from {','.join(METHODS)}")
    return classes[name](params)


def supports(method: FilteredMethod, case: FannsCase) -> bool:
    return case.unfiltered or method.name not in UNFILTERED_ONLY


def curves(method: FilteredMethod, case: FannsCase) -> tuple[str, ...]:
    """Curves measured on ``case``: vecsearch's plans apply to filtered cases only."""
    if case.unfiltered and method.name == "vecsearch":
        return ("",)
    return method.case_curves(case)


def is_exact(method: FilteredMethod, case: FannsCase, curve: str) -> bool:
    return curve in method.exact_curves and not (case.unfiltered and method.name == "vecsearch")


def prepare(method: FilteredMethod, case: FannsCase) -> Any:
    """The case's filters in the method's form (untimed); None for unfiltered index search."""
    if case.unfiltered and isinstance(method, IndexMethod):
        return None
    return method.prepare(case)


def search(
    method: FilteredMethod, case: FannsCase, queries: np.ndarray, k: int, ef: int,
    prepared: Any, curve: str,
) -> tuple[np.ndarray, int]:
    """One single-threaded pass; the unfiltered case uses the library's plain search."""
    if case.unfiltered and isinstance(method, IndexMethod):
        return method.engine.search(queries, k, ef, 1), 0
    return method.search(queries, k, ef, prepared, curve)


def plan(method: FilteredMethod, case: FannsCase, k: int, ef: int, curve: str, prepared: Any) -> str:
    """What answered vecsearch-auto's queries of the case in one untimed call of the whole batch
    (``return_info``), e.g. ``range`` or ``codes 150/acorn 201`` when they differ: the plans the
    search took, which see how many queries of the batch share each filter (explain() of one
    query alone does not)."""
    if case.unfiltered or method.name != "vecsearch" or curve != "auto":
        return curve if method.name == "vecsearch" and not case.unfiltered else ""
    index = method.engine.index  # type: ignore[attr-defined]
    info = index.search(case.queries, k=k, ef=ef, num_threads=1, filter=prepared, return_info=True)[2]
    names, counts = np.unique(np.asarray(info.plan, dtype=str), return_counts=True)
    if len(names) == 1:
        return str(names[0])
    return "/".join(f"{p} {c}" for c, p in sorted(zip(counts.tolist(), names.tolist()), reverse=True))
