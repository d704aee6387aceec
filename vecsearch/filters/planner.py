"""Per-query choice between an exact scan of the matching set, an ACORN walk and a post-filtered
walk, from the exact match count and costs measured on the index itself.

Cost model (microseconds per query, measured by :meth:`CostModel.measure` on the index itself).
Every plan has a fixed part (descent, bitmap walk, miss probes, call overhead) and a part that
grows with the work; both are fitted from timings at two sizes, since at small ef or few matches
the fixed part dominates:

- scan:  ``scan_fixed + matches * scan_per_match``: one exact distance per matching vector; when
  ``b >= SCAN_BLOCK_MIN`` queries of a batch share the filter, the native scan scores them as a
  block (each vector read from memory once for the block, then scored against every query in
  it), and a query's share is ``scan_block_fixed + matches * (scan_block_per_query +
  scan_block_per_block / b)``: the arithmetic is paid per query, the memory pass once per block.
  Both per-match parts are fitted from blocks of two sizes, the fixed part from a block scanning a
  few hundred matches (the single-query ``scan_fixed`` came out at half of it there). (The native
  scan splits a batch wider than its cache budget, or to give each thread a block, so for very
  wide batches the estimate is a little low.)
- acorn: ``fixed(s) + ef * per_ef(s)``, measured at a few selectivities s on random filters and
  interpolated in log-selectivity. An ACORN hop reads two-hop neighbour lists while few
  neighbours match, so a hop costs several unfiltered hops at 10% and about one at 50%.
- post:  ``walk_fixed + walk_per_ef * ef / selectivity``: the walk keeps expanding until it holds
  ef matches and no closer candidate, so it visits about ef / selectivity nodes.

After the descent, the native ACORN walk compares the share of matches around the query with
the overall selectivity: a filter that fails near the query (matches far from it) sends that
query to the exact scan. After any walk, a few random matching vectors are probed; if one is
closer than the walk's worst answer, the walk missed matches and the query is scanned too.

Post-filtering is only eligible from ``POST_MIN_SELECTIVITY`` up: below it its cost grows as
1 / selectivity and a walk that meets too few matches falls back to the scan anyway.
"""
from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Tuple

import numpy as np

from vecsearch import _core

PLANS = {"scan": 0, "acorn": 1, "post": 2, "codes": 3}
POST_MIN_SELECTIVITY = 0.2
CALIBRATION_SELECTIVITIES = (0.01, 0.1, 0.5, 1.0)  # where ACORN's cost is measured
CALIBRATION_EFS = (16, 64)  # the two beam widths each walk is timed at
CALIBRATION_QUERIES = 16
SCAN_BLOCK_MIN = 4  # queries sharing a filter that the native scan answers as a block
SCAN_BLOCK_WIDEN = 4  # the wider calibration block has this many times the calibration queries
SCAN_BLOCK_SELECTIVITY = 0.1  # share of the slots the blocked scans are calibrated on
SCAN_BLOCK_FEW = 256  # matches of the blocked scan whose time gives a blocked query's fixed part


def _line(x0: float, y0: float, x1: float, y1: float) -> Tuple[float, float]:
    """(intercept, slope) through two timings, neither negative (timing noise can cross them)."""
    slope = max(0.0, (y1 - y0) / (x1 - x0))
    return max(0.0, y0 - slope * x0), slope


# CostModel.scan_preference of an index whose scans score codes and read from disk.
DISK_SCAN_PREFERENCE = 1.5


@dataclass(frozen=True)
class CostModel:
    """Measured costs of one index, in microseconds."""

    scan_fixed: float
    scan_per_match: float
    scan_block_per_query: float  # blocked scan: per match and query ...
    scan_block_per_block: float  # ... plus per match and block, shared by its queries
    walk_fixed: float
    walk_per_ef: float
    acorn: Tuple[Tuple[float, float, float], ...]  # (selectivity, fixed, per unit of ef), ascending
    measured_at_size: int
    # The scan is chosen while it costs at most this many times the cheapest walk. 1 in RAM; with
    # the vectors on disk the scan ranks every match by its codes (then the refine bound) while a
    # walk's recall at the same ef is lower: measured at 2M x 384 and 1 %, the code scan gave
    # recall 0.9996 in 2.75 ms, ACORN 0.947 in 2.0 ms at ef 512 and 0.970 in 6.4 ms at ef 2048.
    scan_preference: float = 1.0
    # The widest block the blocked scans were timed at (queries).
    scan_block_widest: int = SCAN_BLOCK_WIDEN * CALIBRATION_QUERIES
    # False where scans are never blocked across queries (code scans of a disk index): every
    # query then pays the per-query scan cost, however many share its filter.
    blocked_scans: bool = True
    # A query's fixed part in a blocked scan (None: scan_fixed).
    scan_block_fixed: Optional[float] = None
    # The codes plan (an index with SQ8 codes in RAM): every match's code scored with an int8
    # query, then the best max(k, rerank) re-scored exactly: codes_fixed + depth * codes_per_depth
    # + matches * (codes_block_per_query + codes_block_per_block / b when b >= SCAN_BLOCK_MIN
    # queries share the filter, else codes_per_match). inf: the index has no such codes.
    codes_fixed: float = float("inf")
    codes_per_depth: float = 0.0
    codes_per_match: float = 0.0
    codes_block_per_query: float = 0.0
    codes_block_per_block: float = 0.0

    @classmethod
    def measure(cls, core: Any, queries: np.ndarray, size: int, code_scans: bool = False) -> "CostModel":
        """Times each plan on `queries` (a few stored vectors, so walks behave as for real
        queries): scans of every slot and of a 1% sample, blocked scans of a 10% sample at two
        block sizes, unfiltered walks, and ACORN walks over random filters at each of
        ``CALIBRATION_SELECTIVITIES``, each walk at both ``CALIBRATION_EFS``. Each figure is the
        fastest of 3 runs in CPU time of the calling thread (which runs them: one search thread),
        so a run the OS preempted on a loaded machine does not inflate one plan's cost against
        another's. ``code_scans``: the index has SQ8 codes in RAM, so the codes plan is timed too (1 % and
        10 % samples, shared by the block and alone, at two re-rank depths)."""
        words, epoch = core.ids_to_bitmap(np.zeros(0, dtype=np.uint64))
        slots = core.slot_count()
        rng = np.random.default_rng(0)
        nq = queries.shape[0]

        def timed(plan: str, bitmap: np.ndarray, nq: int, per_call: int = 1,
                  ef: int = CALIBRATION_EFS[1], source: np.ndarray = queries) -> float:
            """Microseconds per query, for nq queries of `source` sent per_call at a time."""
            plans = np.full(per_call, PLANS[plan], dtype=np.uint8)
            matches = np.array([_popcount(bitmap)], dtype=np.uint64)
            shared = np.zeros(per_call, dtype=np.uint32)
            best = float("inf")
            for _ in range(3):
                start = time.thread_time()
                for i in range(0, nq - per_call + 1, per_call):
                    core.search_filtered(source[i:i + per_call], 10, ef, ef, 1, bitmap[np.newaxis, :],
                                         matches, shared, plans, epoch)
                best = min(best, time.thread_time() - start)
            return best * 1e6 / (nq - nq % per_call)

        def walk_line(plan: str, bitmap: np.ndarray) -> Tuple[float, float]:
            lo, hi = CALIBRATION_EFS
            return _line(lo, timed(plan, bitmap, nq, nq, lo), hi, timed(plan, bitmap, nq, nq, hi))

        every = np.full_like(words, np.uint64(2**64 - 1))
        sample = _random_bitmap(rng, words.shape[0], 0.01)
        scan_q = max(1, min(nq, 200_000 // max(slots, 1)))
        block_q = nq if slots <= 1_000_000 else SCAN_BLOCK_MIN
        scan_fixed, scan_per_match = _line(_popcount(sample) or 1, timed("scan", sample, nq), max(slots, 2),
                                           timed("scan", every, scan_q))
        walk_fixed, walk_per_ef = walk_line("post", every)
        acorn = tuple((s, *walk_line("acorn", _random_bitmap(rng, words.shape[0], s)))
                      for s in CALIBRATION_SELECTIVITIES)
        # Per match and query in a block of b queries, against 1 / b: the intercept is the
        # arithmetic, the slope the memory pass the block shares. Timed on scattered matches
        # (as a filter leaves them, not a sequential sweep); the wide block repeats the
        # calibration queries (a scan's cost does not depend on what they are).
        scattered = _random_bitmap(rng, words.shape[0], SCAN_BLOCK_SELECTIVITY)
        wide = np.tile(queries[:block_q], (SCAN_BLOCK_WIDEN, 1))
        narrow, widened = block_q, SCAN_BLOCK_WIDEN * block_q
        narrow_cost, wide_cost = (
            max(0.0, timed("scan", scattered, b, per_call=b, source=wide) - scan_fixed)
            / max(_popcount(scattered), 1)
            for b in (narrow, widened)
        )
        block_per_query, block_per_block = _line(1 / widened, wide_cost, 1 / narrow, narrow_cost)
        handful = _random_bitmap(rng, words.shape[0], min(1.0, SCAN_BLOCK_FEW / max(slots, 1)))
        handful_cost = timed("scan", handful, narrow, per_call=narrow, source=wide)
        block_fixed = max(0.0, handful_cost - _popcount(handful) * (block_per_query + block_per_block / narrow))
        codes: Dict[str, float] = {}
        if code_scans:
            lo, hi = CALIBRATION_EFS
            few, many = max(_popcount(sample), 1), max(_popcount(scattered), 2)
            base = timed("codes", sample, nq, per_call=nq, ef=lo)
            per_depth = max(0.0, (timed("codes", sample, nq, per_call=nq, ef=hi) - base) / (hi - lo))
            shared_fixed, shared = _line(few, base, many, timed("codes", scattered, nq, per_call=nq, ef=lo))
            _, alone = _line(few, timed("codes", sample, nq, ef=lo), many, timed("codes", scattered, nq, ef=lo))
            # As the blocked scan: per match and query in a block of b against 1 / b (the codes are
            # gathered once per block, scored once per query).
            wide_per_match = max(0.0, timed("codes", scattered, widened, per_call=widened, ef=lo, source=wide)
                                 - shared_fixed) / many
            codes_per_query, codes_per_block = _line(1 / widened, wide_per_match, 1 / narrow, shared)
            codes = dict(codes_fixed=max(0.0, shared_fixed - lo * per_depth), codes_per_depth=per_depth,
                         codes_per_match=max(alone, shared), codes_block_per_query=codes_per_query,
                         codes_block_per_block=codes_per_block)
        return cls(
            scan_fixed=scan_fixed,
            scan_per_match=scan_per_match,
            scan_block_per_query=block_per_query,
            scan_block_per_block=block_per_block,
            scan_block_widest=widened,
            scan_block_fixed=block_fixed,
            walk_fixed=walk_fixed,
            walk_per_ef=walk_per_ef,
            acorn=acorn,
            measured_at_size=size,
            **codes,  # type: ignore[arg-type]  # the codes_* fields, all floats
        )

    def costs(self, matches: np.ndarray, live: int, ef: int, shared_by: np.ndarray) -> Dict[str, np.ndarray]:
        """Estimated microseconds of each plan for filters with these match counts (``ef``: the
        beam width, and the codes plan's re-rank depth), by the formulas of the module docstring
        (evaluated natively: csrc/filter/plan_costs.cpp)."""
        return dict(zip(PLANS, self.evaluate(matches, live, ef, shared_by, ranked=False)))

    def evaluate(self, matches: np.ndarray, live: int, ef: int, shared_by: np.ndarray, *, ranked: bool) -> np.ndarray:
        """float64 [plans, filters] (PLANS order): :meth:`costs`, or with ``ranked`` as the planner
        compares them (the scan divided by ``scan_preference``, post infinite below
        ``POST_MIN_SELECTIVITY``)."""
        params, acorn = self.native
        return _core.plan_costs(params, acorn, np.ascontiguousarray(matches, dtype=np.int64),
                                np.ascontiguousarray(shared_by, dtype=np.int64), int(live), int(ef), ranked)

    def choose(self, matches: np.ndarray, live: int, k: int, ef: int, shared_by: np.ndarray) -> np.ndarray:
        """uint8 per filter: the PLANS code of its lowest ranked estimate (:meth:`evaluate` at
        beam width ``max(ef, k)``, the first of equal ones), the scan for at most k matches."""
        params, acorn = self.native
        return _core.plan_choose(params, acorn, np.ascontiguousarray(matches, dtype=np.int64),
                                 np.ascontiguousarray(shared_by, dtype=np.int64), int(live), int(k), int(ef))

    @functools.cached_property
    def native(self) -> Tuple[np.ndarray, np.ndarray]:
        """(params, acorn): the model as csrc/filter/plan_costs.h reads it (PlanCostModel::Param
        order), built once; the search binding chooses a batch's plans from it."""
        params = np.array([
            self.scan_fixed, self.scan_per_match, self.scan_block_per_query, self.scan_block_per_block,
            self.scan_block_widest, float(self.blocked_scans), self.walk_fixed, self.walk_per_ef,
            self.scan_preference, self.codes_fixed, self.codes_per_depth, self.codes_per_match,
            self.codes_block_per_query, self.codes_block_per_block, POST_MIN_SELECTIVITY, SCAN_BLOCK_MIN,
            self.block_fixed,
        ], dtype=np.float64)
        acorn = np.array([(np.log(s), f, c) for s, f, c in self.acorn], dtype=np.float64).reshape(-1, 3)
        return params, acorn

    @property
    def block_fixed(self) -> float:
        """A blocked scan's fixed part per query."""
        return self.scan_fixed if self.scan_block_fixed is None else self.scan_block_fixed

    def stale(self, size: int) -> bool:
        """Whether the index grew or shrank enough to measure again."""
        return not (self.measured_at_size / 2 <= size <= self.measured_at_size * 2)


def _random_bitmap(rng: np.random.Generator, n_words: int, selectivity: float) -> np.ndarray:
    bits = rng.random(n_words * 64) < selectivity
    return np.packbits(bits, bitorder="little").view(np.uint64)


def _popcount(words: np.ndarray) -> int:
    return int(np.unpackbits(words.view(np.uint8)).sum())


@dataclass(frozen=True)
class QueryPlan:
    """What :meth:`vecsearch.Index.explain` reports for one query."""

    plan: str
    matches: int
    live: int
    selectivity: float
    estimated_us: Dict[str, float] = field(default_factory=dict)
    eligible: tuple = ()
    # With the vectors on disk: float rows the query is expected to read (at most the re-rank
    # depth, and never a row that fails the filter); None in RAM.
    rows_read: Optional[float] = None
    # The column whose range index can answer the filter (plan "range" when it is cheapest).
    range_index: Optional[str] = None


def _ranked_costs(matches: np.ndarray, live: int, k: int, ef: int, model: CostModel,
                  shared_by: np.ndarray) -> np.ndarray:
    """[plans, filters]: each eligible plan's cost as the planner ranks it (inf: not eligible).

    The codes plan is eligible for per-query filters too: where a filter is anti-correlated with
    its query (its matches all far away, crowded within code error of one distance), the native
    re-rank keeps re-scoring while an estimate is within the codes' measured error of the k-th
    exact distance, and answers exactly when its candidate pool runs out (tests/test_filters.py,
    the farthest 50 % on 32-d data: recall >= 0.95, where a margin from the re-scored
    candidates' own spread alone gave 0.885)."""
    return model.evaluate(matches, live, max(ef, k), shared_by, ranked=True)


def plan_codes(matches: np.ndarray, live: int, k: int, ef: int, model: CostModel, shared_by: np.ndarray) -> np.ndarray:
    """The cheapest eligible plan (a PLANS code, uint8) for each filter, whose match count is in
    `matches` and which `shared_by` queries of the batch use."""
    matches = np.asarray(matches, dtype=np.int64)
    if matches.size and _scan_wins_below(model, max(ef, k)) >= int(matches.max()):
        return np.full(matches.shape[0], PLANS["scan"], dtype=np.uint8)  # the few-matches batch
    return model.choose(matches, live, k, ef, shared_by)


def _scan_wins_below(model: CostModel, ef: int) -> float:
    """A match count up to which the scan is the cheapest plan whatever the selectivity and
    sharing: its dearest cost there is under every other plan's cheapest. A batch of small
    filters is planned from this bound alone, without the native per-filter evaluation and the
    array conversions of its call."""
    per_match = max(model.scan_per_match, model.scan_block_per_query + model.scan_block_per_block)
    others = min(min(f for _, f, _ in model.acorn) + min(c for _, _, c in model.acorn) * ef,
                 model.walk_fixed + model.walk_per_ef * ef,  # post at selectivity 1, its cheapest
                 model.codes_fixed + model.codes_per_depth * ef)
    return (others * model.scan_preference - max(model.scan_fixed, model.block_fixed)) / max(per_match, 1e-12)


def cheapest_cost(matches: np.ndarray, live: int, k: int, ef: int, model: CostModel,
                  shared_by: np.ndarray) -> np.ndarray:
    """The estimated microseconds of the plan :func:`plan_codes` picks for each filter (what a
    range index must beat to answer it instead)."""
    matches = np.asarray(matches, dtype=np.int64)
    return _ranked_costs(matches, live, k, ef, model, shared_by).min(axis=0)


def choose_plan(matches: int, live: int, k: int, ef: int, model: CostModel, shared_by: int = 1) -> QueryPlan:
    """The cheapest eligible plan for one query whose filter `shared_by` queries of the batch use."""
    code = int(plan_codes(np.array([matches]), live, k, ef, model, np.array([shared_by]))[0])
    costs = {name: float(v[0]) for name, v in model.costs(np.array([matches]), live, max(ef, k),
                                                           np.array([shared_by])).items()
             if name != "codes" or np.isfinite(model.codes_fixed)}
    selectivity = matches / live if live else 0.0
    eligible: Tuple[str, ...] = ("scan", "acorn", "post") if selectivity >= POST_MIN_SELECTIVITY else ("scan", "acorn")
    if np.isfinite(model.codes_fixed):
        eligible += ("codes",)
    plan = next(name for name, c in PLANS.items() if c == code)
    return QueryPlan(plan, matches, live, selectivity, costs, eligible)
