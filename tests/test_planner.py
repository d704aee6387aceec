"""The planner's shortcut for batches of small filters (every filter under the match count where
the scan's dearest cost is below every other plan's cheapest) must choose exactly what the full
per-filter cost comparison chooses."""
from __future__ import annotations

import numpy as np

from vecsearch.filters.planner import PLANS, CostModel, _ranked_costs, _scan_wins_below, plan_codes


def _random_model(rng: np.random.Generator, codes: bool) -> CostModel:
    acorn = tuple((s, float(rng.uniform(2, 40)), float(rng.uniform(0.05, 1.0))) for s in (0.001, 0.01, 0.1, 1.0))
    extra = dict(codes_fixed=float(rng.uniform(2, 30)), codes_per_depth=float(rng.uniform(0.01, 0.2)),
                 codes_per_match=float(rng.uniform(0.002, 0.02)), codes_block_per_query=float(rng.uniform(0.001, 0.01)),
                 codes_block_per_block=float(rng.uniform(0.001, 0.01))) if codes else {}
    return CostModel(scan_fixed=float(rng.uniform(0.5, 10)), scan_per_match=float(rng.uniform(0.005, 0.1)),
                     scan_block_per_query=float(rng.uniform(0.001, 0.02)), scan_block_per_block=float(rng.uniform(0.001, 0.05)),
                     walk_fixed=float(rng.uniform(2, 40)), walk_per_ef=float(rng.uniform(0.05, 1.0)), acorn=acorn,
                     measured_at_size=100_000, scan_preference=float(rng.choice([1.0, 3.0])),
                     blocked_scans=bool(rng.integers(2)), **extra)


def test_small_filter_shortcut_equals_the_full_comparison():
    rng = np.random.default_rng(0)
    shortcuts = 0
    for trial in range(400):
        model = _random_model(rng, codes=bool(trial % 2))
        live, k, ef = 100_000, 10, int(rng.choice([10, 40, 200]))
        bound = _scan_wins_below(model, max(ef, k))
        top = max(1, int(bound * rng.uniform(0.5, 1.5))) if np.isfinite(bound) and bound > 1 else 50
        matches = rng.integers(0, top + 1, size=int(rng.integers(1, 30)))
        shared_by = rng.integers(1, 300, size=matches.shape[0])
        full = np.argmin(_ranked_costs(matches, live, k, ef, model, shared_by), axis=0).astype(np.uint8)
        full[matches <= k] = PLANS["scan"]
        shortcuts += int(bound >= matches.max())
        np.testing.assert_array_equal(plan_codes(matches, live, k, ef, model, shared_by), full, err_msg=str(model))
    assert shortcuts > 50  # the shortcut was taken, and still agreed
