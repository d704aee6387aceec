"""The filters of one search call, normalised once: filter strings parsed, one filter shared by
every query or one per query, and queries whose expressions are equal in structure and constants
mapped to one distinct filter (evaluated once; the planner and the blocked scans see it as a
filter shared by a block of queries). The range route and the bitmap plans both read this."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, List

import numpy as np

from vecsearch.filters.expr import Expr
from vecsearch.filters.text import parse_filter


@dataclass(frozen=True)
class FilterBatch:
    """``filters``: the distinct filters (expressions, id arrays, callables or numba cfuncs);
    ``filter_of``: uint32 [nq], the index in ``filters`` of each query's filter."""

    filters: List[Any]
    filter_of: np.ndarray

    @property
    def expressions_only(self) -> bool:
        """Every filter is an expression (the natively evaluated, range-indexable kind)."""
        return all(isinstance(f, Expr) for f in self.filters)

    def subset(self, rows: np.ndarray) -> "FilterBatch":
        """The batch of the queries ``rows`` (in that order), with only the filters they use."""
        used, filter_of = np.unique(self.filter_of[rows], return_inverse=True)
        return FilterBatch([self.filters[f] for f in used.tolist()], filter_of.astype(np.uint32))


def filter_batch(filter: Any, nq: int) -> FilterBatch:
    """The :class:`FilterBatch` of a search's ``filter`` argument for ``nq`` queries.

    Raises:
        ValueError: a list of per-query filters whose length is not ``nq``, or a filter string
            that does not parse (the message names the position).
    """
    if isinstance(filter, str):
        filter = parse_filter(filter)
    per_query = isinstance(filter, (list, tuple)) and len(filter) > 0 and all(
        isinstance(f, (Expr, str)) or callable(f) or np.ndim(f) >= 1 for f in filter
    )
    if not per_query:
        return FilterBatch([filter], np.zeros(nq, dtype=np.uint32))
    if len(filter) != nq:
        raise ValueError(f"got {len(filter)} filters for {nq} queries; pass one per query or one shared")
    filters = [parse_filter(f) if isinstance(f, str) else f for f in filter]
    if not all(isinstance(f, Expr) for f in filters):
        return FilterBatch(filters, np.arange(nq, dtype=np.uint32))
    # One dict lookup per query into a plain list (numpy item assignment costs as much again);
    # each key keeps its position and its first expression.
    seen: dict = {}
    filter_of = [seen.setdefault(e.key(), (len(seen), e))[0] for e in filters]
    first: List[Expr] = [e for _, e in seen.values()]
    return FilterBatch(first, np.array(filter_of, dtype=np.uint32))
