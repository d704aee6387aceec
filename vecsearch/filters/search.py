"""Filtered searches of one :class:`vecsearch.Index`: the filters' bitmaps, the range route, the
cost model the planner decides with, and the axis codes of the codes plan. The index delegates
``search(filter=...)`` and ``explain`` here; this module owns the state only they need (the
measured cost model and when the axis codes were last tried)."""
from __future__ import annotations

import contextlib
import dataclasses
from typing import TYPE_CHECKING, Any, Dict, Optional, Tuple

import numpy as np

from vecsearch.errors import _StaleFilterError
from vecsearch.filters.batch import FilterBatch, filter_batch
from vecsearch.filters.bitmaps import filter_bitmaps
from vecsearch.filters.planner import (CALIBRATION_QUERIES, DISK_SCAN_PREFERENCE, PLANS, CostModel, QueryPlan,
                                       choose_plan)
from vecsearch.filters.range_search import RangeRoute, route
from vecsearch.quant.projection import AXES_SAMPLE, attach_axis_codes

if TYPE_CHECKING:
    from vecsearch.index import Index

# A filtered search whose bitmaps went stale this many times (adds and deletes racing it) makes
# its last attempt holding the write gate, which no add or delete can pass.
FILTER_RETRIES = 2

# ids uint64 [nq, k], distances float32 [nq, k], what answered each query, each query's live matches
Answer = Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


class FilteredSearch:
    """The filtered half of an index's query path: Python API -> here (filters, plan model) ->
    the binding's ``search_filtered`` (which plans and walks natively) or the range index."""

    def __init__(self, index: "Index") -> None:
        self._index = index
        self.cost_model: Optional[CostModel] = None  # measured on first use, again when stale
        self._axes_tried: Optional[Tuple[Any, int]] = None  # (codec, size) axis codes were last tried at
        # Plan counts of the planner's own calibration searches, left out of stats()["plans"].
        self.calibration_plans: Dict[str, int] = {}

    def storage_changed(self) -> None:
        """The walk's codes changed: plan costs must be measured again."""
        self.cost_model = None

    def search(self, data: np.ndarray, k: int, ef: int, rerank: int, threads: int, filter: Any,
               plan: str) -> Answer:
        ix = self._index
        if plan != "auto" and plan != "range" and plan not in PLANS:
            raise ValueError(f"unknown plan {plan!r}; expected 'auto', 'scan', 'acorn', 'post', 'codes' or 'range'")
        if plan == "codes" and not ix._sq8_in_ram:
            raise ValueError(f"plan='codes' needs SQ8 codes and the vectors in RAM; this index's storage is "
                             f"{ix.storage!r}" + (" with its vectors on disk" if ix._disk_io else ""))
        batch = filter_batch(filter, data.shape[0])
        self.ensure_axis_codes()
        for _ in range(FILTER_RETRIES):
            try:
                return self._search_once(data, k, ef, rerank, threads, batch, plan, gated=False)
            except _StaleFilterError:
                pass
        with ix._write_gate:  # no add or delete can make this attempt stale
            return self._search_once(data, k, ef, rerank, threads, batch, plan, gated=True)

    def explain(self, filter: Any, k: int, ef: int, shared_by: int) -> QueryPlan:
        """The plan a search of one query with `filter` would take (see :meth:`Index.explain`)."""
        ix = self._index
        batch = filter_batch(filter, 1)
        _, matches, _ = filter_bitmaps(ix._core, ix._attributes, batch)
        chosen = choose_plan(int(matches[batch.filter_of[0]]), len(ix), k, ef, self.costs(), shared_by)
        routed = self._range_route(batch, "auto", False, 0)
        if routed is not None:
            chosen = self._explain_range(chosen, routed, k, ef, shared_by)
        if ix._disk_io is None:
            return chosen
        return dataclasses.replace(chosen, rows_read=self._expected_rows(chosen, k, ef))

    def costs(self) -> CostModel:
        """The cost model, measured on a sample of the index's own vectors when missing or stale."""
        ix = self._index
        size = len(ix)
        if self.cost_model is None or self.cost_model.stale(size):
            queries = ix._sample_vectors(lambda live: np.random.default_rng(0).choice(
                live, min(CALIBRATION_QUERIES, live.shape[0]), replace=False))
            before = dict(ix._core.plan_stats())
            model = CostModel.measure(ix._core, queries, size, ix._sq8_in_ram)
            if ix._scans_codes:
                model = dataclasses.replace(model, scan_preference=DISK_SCAN_PREFERENCE, blocked_scans=False)
            self.cost_model = model
            after = dict(ix._core.plan_stats())
            self.calibration_plans = {name: self.calibration_plans.get(name, 0) + after[name] - before[name]
                                      for name in after}
        return self.cost_model

    def ensure_axis_codes(self) -> None:
        """Axis codes for the codes plan's first pass (:mod:`vecsearch.quant.projection`): built
        with the SQ8 codes (attached, loaded, or trained by a first add; a new codec drops them),
        and tried again only once the index has doubled since a sample showed no few axes holding
        most of the variance."""
        ix = self._index
        if not ix._sq8_in_ram or ix._core.axis_code_dim():
            return
        tried = self._axes_tried
        if tried is not None and tried[0] is ix.quantizer and len(ix) < 2 * tried[1]:
            return
        self._axes_tried = (ix.quantizer, len(ix))
        seed = ix.seed
        attach_axis_codes(ix._core, ix._sample_vectors(lambda live: np.random.default_rng(seed).choice(
            live, min(AXES_SAMPLE, live.shape[0]), replace=False)), 0)
        self.cost_model = None  # the codes plan's cost changed

    def _search_once(self, data: np.ndarray, k: int, ef: int, rerank: int, threads: int, batch: FilterBatch,
                     plan: str, gated: bool) -> Answer:
        routed = self._range_route(batch, plan, gated, threads)
        if routed is None:
            return self._search_bitmaps(data, k, ef, rerank, threads, batch, plan)
        forced = plan == "range"
        return routed.search(self._index._core, data, k, ef, rerank, threads, batch, len(self._index),
                             None if forced else self.costs(), self._search_bitmaps, plan)

    def _range_route(self, batch: FilterBatch, plan: str, gated: bool, threads: int) -> Optional[RangeRoute]:
        """The range index that answers every filter of the batch, fresh (rebuilt first when
        the index or its column changed, holding the write gate); None otherwise."""
        if plan not in ("auto", "range"):
            return None
        ix = self._index
        gate = contextlib.nullcontext() if gated else ix._write_gate
        return route(ix._range_indexes, ix._core, ix._attributes, batch, plan, threads, gate)

    def _search_bitmaps(self, data: np.ndarray, k: int, ef: int, rerank: int, threads: int, batch: FilterBatch,
                        plan: str) -> Answer:
        ix = self._index
        nq = data.shape[0]
        bitmaps, matches, epoch = filter_bitmaps(ix._core, ix._attributes, batch, threads)
        filter_of = batch.filter_of
        # plan "auto": no plans, the binding chooses as planner.plan_codes would from the model's figures
        plans, model = (None, self.costs().native) if plan == "auto" else \
            (np.full(nq, PLANS[plan], dtype=np.uint8), (None, None))
        ids, dists, answered = ix._core.search_filtered(data, k, ef, rerank, threads, bitmaps, matches, filter_of,
                                                        plans, epoch, *model)
        return ids, dists, answered, matches[filter_of]

    def _explain_range(self, chosen: QueryPlan, routed: RangeRoute, k: int, ef: int, shared_by: int) -> QueryPlan:
        """`chosen` with the range index's estimate beside the other plans', and its plan when a search
        of `shared_by` such queries would take it."""
        ix = self._index
        rerank = ix._rerank_for(ef, k, None)
        cost, taken = routed.estimate(k, ef, rerank, shared_by, len(ix), self.costs())
        return dataclasses.replace(chosen, plan="range" if taken else chosen.plan,
                                   estimated_us={**chosen.estimated_us, "range": cost},
                                   eligible=(*chosen.eligible, "range"), range_index=routed.index.column)

    def _expected_rows(self, chosen: QueryPlan, k: int, ef: int) -> float:
        """Float rows a query of this plan reads from disk: a mapped file's exact scan reads every
        match; otherwise at most the re-rank depth of the matches, and with a refine code the mean
        this index has read per re-ranked query so far, when it has searched."""
        ix = self._index
        if ix.quantizer is None or (chosen.plan == "scan" and not ix._scans_codes):
            return float(chosen.matches)
        rows = float(min(chosen.matches, ix._rerank_for(ef, k, None)))
        io = ix._core.io_stats()
        if io["queries"] and ix._core.has_refine():
            rows = min(rows, io["rows_reranked"] / io["queries"])
        return rows
