"""Per-query choice between an exact scan of the matching set, an ACORN walk and a post-filtered
walk, from the exact match count and costs measured on the index itself.

Cost model (microseconds per query, constants measured by :meth:`CostModel.measure`):

- scan:  ``matches * scan_per_match``: one exact distance per matching vector.
- acorn: ``acorn_factor * walk_per_ef * ef``: ACORN truncates each filtered neighbour list to
  the level-0 degree, so its walk costs about an unfiltered walk of the same beam.
- post:  ``walk_per_ef * ef / selectivity``: the walk keeps expanding until it holds ef matches
  and no closer candidate, so it visits about ef / selectivity nodes.

After a walk, a few random matching vectors are probed natively; if one is closer than the
walk's worst answer, the walk missed matches (anti-correlated filters) and the query is answered
by the exact scan instead, whatever the plan.

Post-filtering is only eligible from ``POST_MIN_SELECTIVITY`` up: below it its cost grows as
1 / selectivity while ACORN's stays near an unfiltered walk.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Dict

import numpy as np

PLANS = {"scan": 0, "acorn": 1, "post": 2}
POST_MIN_SELECTIVITY = 0.5
ACORN_FACTOR = 1.3  # ACORN walk / unfiltered walk at the same ef (measured 1.2-1.5 on 50k x 384)


@dataclass(frozen=True)
class CostModel:
    """Measured costs of one index, in microseconds."""

    scan_per_match: float
    walk_per_ef: float
    measured_at_size: int

    @classmethod
    def measure(cls, core: Any, dim: int, size: int) -> "CostModel":
        """Times a full scan and an unfiltered walk on a few stored vectors used as queries."""
        words, epoch = core.ids_to_bitmap(np.zeros(0, dtype=np.uint64))
        words[:] = np.uint64(2**64 - 1)
        bitmaps = words[np.newaxis, :]
        slots = core.slot_count()
        matches = np.array([slots], dtype=np.uint64)
        queries = np.random.default_rng(0).normal(size=(8, dim)).astype(np.float32)
        filter_of = np.zeros(len(queries), dtype=np.uint32)

        def timed(plan: str, ef: int, nq: int) -> float:
            plans = np.full(nq, PLANS[plan], dtype=np.uint8)
            best = float("inf")
            for _ in range(3):
                start = time.perf_counter()
                core.search_filtered(queries[:nq], 10, ef, 1, bitmaps, matches, filter_of[:nq], plans, epoch)
                best = min(best, time.perf_counter() - start)
            return best * 1e6 / nq

        ef = 64
        scan_q = max(1, min(8, 200_000 // max(slots, 1)))
        return cls(
            scan_per_match=timed("scan", ef, scan_q) / max(slots, 1),
            walk_per_ef=timed("post", ef, 8) / ef,
            measured_at_size=size,
        )

    def stale(self, size: int) -> bool:
        """Whether the index grew or shrank enough to measure again."""
        return not (self.measured_at_size / 2 <= size <= self.measured_at_size * 2)


@dataclass(frozen=True)
class QueryPlan:
    """What :meth:`vecsearch.Index.explain` reports for one query."""

    plan: str
    matches: int
    live: int
    selectivity: float
    estimated_us: Dict[str, float] = field(default_factory=dict)
    eligible: tuple = ()


def choose_plan(matches: int, live: int, k: int, ef: int, model: CostModel) -> QueryPlan:
    """The cheapest eligible plan for one query."""
    selectivity = matches / live if live else 0.0
    walk = model.walk_per_ef * max(ef, k)
    costs = {
        "scan": matches * model.scan_per_match,
        "acorn": ACORN_FACTOR * walk,
        "post": walk / max(selectivity, 1e-12),
    }
    eligible = ("scan", "acorn", "post") if selectivity >= POST_MIN_SELECTIVITY else ("scan", "acorn")
    plan = "scan" if matches <= k else min(eligible, key=costs.__getitem__)
    return QueryPlan(plan, matches, live, selectivity, costs, eligible)
