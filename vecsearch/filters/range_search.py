"""Searches answered by a range index (vecsearch/filters/range_index.py): which queries of a batch
it answers, by the planner's measured costs, and the rest sent to the bitmap plans."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable, ContextManager, Optional, Tuple

import numpy as np

from vecsearch import _core
from vecsearch.filters.batch import FilterBatch
from vecsearch.filters.planner import CostModel
from vecsearch.filters.range_index import RangeIndex, range_filters
from vecsearch.search_info import ANSWERED

RANGE_ANSWERED = ANSWERED.index("range")  # search_info's code of a row the range index answered
# Microseconds a batch pays to send queries down the bitmap plans: a search call of their own, with
# the filters compiled, evaluated into bitmaps and planned (150-250 us measured on this project's
# 2-core Xeon, mostly Python), which the range index's spans do not need.
SPLIT_COST_US = 100.0


@dataclass(frozen=True)
class RangeRoute:
    """A batch whose every filter is a range on one indexed column: the index, the codes its
    spans index into, each distinct filter's span [begin, end) and each query's filter."""

    index: RangeIndex
    codes: Any
    spans: np.ndarray
    filter_of: np.ndarray

    @functools.cached_property
    def matches(self) -> np.ndarray:
        """int64 per filter: the live vectors in its range."""
        return (self.spans[:, 1] - self.spans[:, 0]).astype(np.int64)

    def asked(self, k: int, ef: int, rerank: int, live: int, model: CostModel) -> np.ndarray:
        """bool per query: the range index answers it. Per query the cheaper side, but the bitmap
        plans cost a batch a call of their own (SPLIT_COST_US) that the range index's spans do
        not: unless the queries they would answer faster save more than that in all, the range
        index answers every query with a match. Decided natively (csrc/filter/plan_costs.h,
        range_asked): a dozen numpy operations on arrays of a few filters cost a small batch
        40-50 us, more than its range scans."""
        assert self.index.cost is not None
        params, acorn = model.native
        return _core.range_asked(params, acorn, self.index.cost.native, self.matches, self.filter_of, live, k, ef,
                                 rerank, SPLIT_COST_US)

    def estimate(self, k: int, ef: int, rerank: int, shared_by: int, live: int, model: CostModel
                 ) -> Tuple[float, bool]:
        """(the range index's estimated microseconds for the first filter, whether a batch of
        ``shared_by`` queries with that filter goes to the range index: :meth:`asked`, so
        explain() and search agree)."""
        assert self.index.cost is not None
        first = RangeRoute(self.index, self.codes, self.spans[:1], np.zeros(shared_by, dtype=np.uint32))
        cost = float(self.index.cost.estimate(first.matches, max(k, rerank), np.array([shared_by]))[0])
        return cost, bool(first.asked(k, ef, rerank, live, model)[0])

    def search(self, core: Any, data: np.ndarray, k: int, ef: int, rerank: int, threads: int, batch: FilterBatch,
               live: int, model: Optional[CostModel], bitmap_search: Callable, plan: str):
        """(ids, distances, answered codes, matches) of the batch: the range index answers every
        query (model None: forced) or those it is cheaper for; `bitmap_search` the others."""
        nq = data.shape[0]
        asked = (np.ones(nq, dtype=bool) if model is None
                 else self.asked(k, ef, rerank, live, model))
        if not asked.any():
            return bitmap_search(data, k, ef, rerank, threads, batch, plan)
        matches = self.matches[self.filter_of]
        answered = np.full(nq, RANGE_ANSWERED, dtype=np.uint8)
        if asked.all():
            ids, dists = core.search_range(self.codes, data, k, rerank, threads, self.spans, self.filter_of)
            return ids, dists, answered, matches
        # Per-query ranges of mixed widths: the range index answers those it is cheaper for.
        ids = np.empty((nq, k), dtype=np.uint64)
        dists = np.empty((nq, k), dtype=np.float32)
        ids[asked], dists[asked] = core.search_range(self.codes, np.ascontiguousarray(data[asked]), k, rerank,
                                                     threads, self.spans, self.filter_of[asked])
        rest = np.flatnonzero(~asked)
        ids[rest], dists[rest], answered[rest], matches[rest] = bitmap_search(
            np.ascontiguousarray(data[rest]), k, ef, rerank, threads, batch.subset(rest), plan)
        return ids, dists, answered, matches


def route(indexes: dict, core: Any, store: Any, batch: FilterBatch, plan: str, threads: int,
          gate: ContextManager) -> Optional[RangeRoute]:
    """The range route of a batch, with the index rebuilt first (inside `gate`, which keeps adds
    and deletes out) when stale; None when no range index answers every filter. plan="range"
    without one raises ValueError."""
    routed = range_filters(indexes, store, batch) if indexes else None
    if routed is None:
        if plan == "range":
            raise ValueError("plan='range' needs filters that are ranges on a column with a range index "
                             f"(indexed: {sorted(indexes) or 'none'}); see create_range_index")
        return None
    index, bounds, filter_of = routed
    if not index.fresh(core, store):
        with gate:
            index.refresh(core, store, threads)
    codes, spans = index.spans(bounds)
    return RangeRoute(index, codes, spans, filter_of)
