"""Per-query choice between an exact scan of the matching set, an ACORN walk and a post-filtered
walk, from the exact match count and costs measured on the index itself.

Cost model (microseconds per query, measured by :meth:`CostModel.measure` on the index itself):

- scan:  ``matches * scan_per_match``: one exact distance per matching vector; when at least
  ``SCAN_BLOCK_MIN`` queries of a batch share the filter, the native scan scores them in blocks
  (each vector read once per block) and the cheaper ``scan_per_match_block`` applies.
- acorn: ``ef * acorn_per_ef(selectivity)``: measured at a few selectivities on random filters
  and interpolated in log-selectivity. An ACORN hop reads two-hop neighbour lists while few
  neighbours match, so a hop costs several unfiltered hops at 10% and about one at 50%.
- post:  ``walk_per_ef * ef / selectivity``: the walk keeps expanding until it holds ef matches
  and no closer candidate, so it visits about ef / selectivity nodes.

After the descent, the native ACORN walk compares the share of matches around the query with
the overall selectivity: a filter that fails near the query (matches far from it) sends that
query to the exact scan. After any walk, a few random matching vectors are probed; if one is
closer than the walk's worst answer, the walk missed matches and the query is scanned too.

Post-filtering is only eligible from ``POST_MIN_SELECTIVITY`` up: below it its cost grows as
1 / selectivity while ACORN's stays near an unfiltered walk.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Dict, Tuple

import numpy as np

PLANS = {"scan": 0, "acorn": 1, "post": 2}
POST_MIN_SELECTIVITY = 0.5
CALIBRATION_SELECTIVITIES = (0.01, 0.1, 0.5)  # where ACORN's cost is measured
CALIBRATION_EF = 64
CALIBRATION_QUERIES = 16
SCAN_BLOCK_MIN = 4  # queries sharing a filter that the native scan answers as a block


@dataclass(frozen=True)
class CostModel:
    """Measured costs of one index, in microseconds."""

    scan_per_match: float
    scan_per_match_block: float
    walk_per_ef: float
    acorn_per_ef: Tuple[Tuple[float, float], ...]  # (selectivity, cost per unit of ef), ascending
    measured_at_size: int

    @classmethod
    def measure(cls, core: Any, queries: np.ndarray, size: int) -> "CostModel":
        """Times each plan on `queries` (a few stored vectors, so walks behave as for real
        queries): a scan and an unfiltered walk over every slot, and ACORN walks over random
        filters at each of ``CALIBRATION_SELECTIVITIES``. Each figure is the fastest of 3 runs."""
        words, epoch = core.ids_to_bitmap(np.zeros(0, dtype=np.uint64))
        slots = core.slot_count()
        rng = np.random.default_rng(0)
        nq = queries.shape[0]
        filter_of = np.zeros(nq, dtype=np.uint32)

        def timed(plan: str, bitmap: np.ndarray, nq: int, per_call: int = 1) -> float:
            """Microseconds per query, for nq queries sent per_call at a time."""
            plans = np.full(per_call, PLANS[plan], dtype=np.uint8)
            matches = np.array([_popcount(bitmap)], dtype=np.uint64)
            best = float("inf")
            for _ in range(3):
                start = time.perf_counter()
                for i in range(0, nq - per_call + 1, per_call):
                    core.search_filtered(queries[i:i + per_call], 10, CALIBRATION_EF, CALIBRATION_EF, 1,
                                         bitmap[np.newaxis, :],
                                         matches, filter_of[:per_call], plans, epoch)
                best = min(best, time.perf_counter() - start)
            return best * 1e6 / (nq - nq % per_call)

        every = np.full_like(words, np.uint64(2**64 - 1))
        scan_q = max(1, min(nq, 200_000 // max(slots, 1)))
        block_q = nq if slots <= 1_000_000 else SCAN_BLOCK_MIN
        acorn = tuple(
            (s, timed("acorn", _random_bitmap(rng, words.shape[0], s), nq, per_call=nq) / CALIBRATION_EF)
            for s in CALIBRATION_SELECTIVITIES
        )
        return cls(
            scan_per_match=timed("scan", every, scan_q) / max(slots, 1),
            scan_per_match_block=timed("scan", every, block_q, per_call=block_q) / max(slots, 1),
            walk_per_ef=timed("post", every, nq, per_call=nq) / CALIBRATION_EF,
            acorn_per_ef=acorn,
            measured_at_size=size,
        )

    def acorn_us(self, selectivity: float, ef: int) -> float:
        """Estimated ACORN cost of one query."""
        xs = np.log([s for s, _ in self.acorn_per_ef])
        ys = [c for _, c in self.acorn_per_ef]
        return float(np.interp(np.log(max(selectivity, 1e-12)), xs, ys)) * ef

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


def choose_plan(matches: int, live: int, k: int, ef: int, model: CostModel, shared_by: int = 1) -> QueryPlan:
    """The cheapest eligible plan for one query whose filter `shared_by` queries of the batch use."""
    selectivity = matches / live if live else 0.0
    ef = max(ef, k)
    costs = {
        "scan": matches * (model.scan_per_match_block if shared_by >= SCAN_BLOCK_MIN else model.scan_per_match),
        "acorn": model.acorn_us(selectivity, ef),
        "post": model.walk_per_ef * ef / max(selectivity, 1e-12),
    }
    eligible = ("scan", "acorn", "post") if selectivity >= POST_MIN_SELECTIVITY else ("scan", "acorn")
    plan = "scan" if matches <= k else min(eligible, key=costs.__getitem__)
    return QueryPlan(plan, matches, live, selectivity, costs, eligible)
