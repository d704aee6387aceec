"""The planner: its shortcut for batches of small filters (every filter under the match count where
the scan's dearest cost is below every other plan's cheapest) must choose exactly what the full
per-filter cost comparison chooses, and the native evaluation of the costs must follow the
formulas the planner module documents (a numpy oracle)."""
from __future__ import annotations

import numpy as np
import pytest

from vecsearch import _core
from vecsearch.errors import InvalidArgumentError
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
                     blocked_scans=bool(rng.integers(2)),
                     scan_block_fixed=float(rng.uniform(0.5, 20)) if rng.integers(2) else None, **extra)


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


def _numpy_costs(model: CostModel, matches: np.ndarray, live: int, ef: int, shared_by: np.ndarray) -> np.ndarray:
    """The planner module docstring's formulas in numpy: the oracle of the native evaluation."""
    m = matches.astype(np.float64)
    selectivity = np.maximum(m / max(live, 1), 1e-12)
    b = np.maximum(shared_by.astype(np.float64), 1.0)
    blocked = b >= 4
    per_block = 1 / np.minimum(b, model.scan_block_widest)
    blocked_scan = blocked & model.blocked_scans
    scan = np.where(blocked_scan, model.block_fixed, model.scan_fixed) + m * np.where(
        blocked_scan, model.scan_block_per_query + model.scan_block_per_block * per_block, model.scan_per_match)
    xs = np.log([s for s, _, _ in model.acorn])
    acorn = (np.interp(np.log(selectivity), xs, [f for _, f, _ in model.acorn])
             + np.interp(np.log(selectivity), xs, [c for _, _, c in model.acorn]) * ef)
    post = model.walk_fixed + model.walk_per_ef * ef / selectivity
    codes = model.codes_fixed + model.codes_per_depth * ef + m * np.where(
        blocked, model.codes_block_per_query + model.codes_block_per_block * per_block, model.codes_per_match)
    return np.stack([scan, acorn, post, codes])


def test_native_costs_follow_the_documented_formulas():
    rng = np.random.default_rng(1)
    for trial in range(200):
        model = _random_model(rng, codes=bool(trial % 2))
        live, ef = int(rng.choice([1, 1000, 100_000])), int(rng.choice([10, 64, 500]))
        # Selectivities below, between and above the ACORN points, and exactly on them.
        matches = np.concatenate([rng.integers(0, live + 1, size=20), np.array([0, live, live // 100])]).astype(np.int64)
        shared_by = rng.integers(0, 200, size=matches.shape[0])
        want = _numpy_costs(model, matches, live, ef, shared_by)
        raw = model.costs(matches, live, ef, shared_by)
        np.testing.assert_allclose(np.stack([raw[p] for p in PLANS]), want, rtol=1e-12)
        ranked = _ranked_costs(matches, live, 1, ef, model, shared_by)
        want[0] /= model.scan_preference
        want[2] = np.where(matches >= 0.2 * live, want[2], np.inf)
        np.testing.assert_allclose(ranked, want, rtol=1e-12)


def test_native_costs_refuse_bad_arrays():
    model = _random_model(np.random.default_rng(2), codes=True)
    params, acorn = model.native
    one = np.zeros(1, dtype=np.int64)
    with pytest.raises(InvalidArgumentError, match="params"):
        _core.plan_costs(params[:-1], acorn, one, one, 10, 10, True)
    with pytest.raises(InvalidArgumentError, match="ascend"):
        _core.plan_costs(params, acorn[::-1].copy(), one, one, 10, 10, True)
    with pytest.raises(InvalidArgumentError, match="one length"):
        _core.plan_costs(params, acorn, one, np.zeros(2, dtype=np.int64), 10, 10, True)
    with pytest.raises(InvalidArgumentError, match="dtype"):
        _core.plan_costs(params, acorn, one.astype(np.float64), one, 10, 10, True)


def test_search_chooses_natively_what_plan_codes_chooses(make_data_queries):
    """With plans=None the search binding picks each query's plan from the model itself: for
    random models over filters of many sizes and sharings, it answers exactly as when given
    plan_codes' choices (same plan reported per query, same rows), and the plans differ between
    models, so a binding that ignored the model or miscounted the sharing would differ."""
    from vecsearch import F, Index
    x, q = make_data_queries(3000, 40, 16, seed=5)
    index = Index(16, M=8, ef_construction=40, storage="sq8")
    group = np.random.default_rng(5).integers(0, 40, 3000)
    index.add(x, attributes={"g": group})
    core, store = index._core, index._attributes
    from vecsearch.filters.batch import filter_batch
    from vecsearch.filters.bitmaps import filter_bitmaps
    index.search(q[:1], 5, filter=F("g") < 3)  # attach the axis codes the codes plan uses
    rng = np.random.default_rng(6)
    seen = set()
    for trial in range(30):
        model = _random_model(rng, codes=True)
        params, acorn = model.native
        tops = rng.integers(1, 41, size=q.shape[0])
        # Repeated bounds make filters shared by several queries (the blocked scans' case).
        batch = filter_batch([F("g") < int(t) for t in tops], q.shape[0])
        bitmaps, matches, epoch = filter_bitmaps(core, store, batch)
        sharing = np.bincount(batch.filter_of, minlength=len(matches))
        plans = plan_codes(matches, len(index), 5, 20, model, sharing)[batch.filter_of]
        given = core.search_filtered(q, 5, 20, 20, 1, bitmaps, matches, batch.filter_of, plans, epoch)
        native = core.search_filtered(q, 5, 20, 20, 1, bitmaps, matches, batch.filter_of, None, epoch, params, acorn)
        np.testing.assert_array_equal(native[2], given[2])
        np.testing.assert_array_equal(native[0], given[0])
        seen.update(np.unique(plans).tolist())
    assert len(seen) >= 3  # the models led to different plans
    with pytest.raises(InvalidArgumentError, match="params"):
        core.search_filtered(q, 5, 20, 20, 1, bitmaps, matches, batch.filter_of, None, epoch)
