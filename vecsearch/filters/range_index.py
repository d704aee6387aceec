"""Range indexes: an index's vectors kept again in the order of one numeric attribute column, so
that a range predicate on it (``F("year").between(2018, 2020)``, ``"size >= 1000 AND size < 5000"``)
selects one contiguous stretch of that order instead of scattered rows.

The native side (csrc/graph/range_codes.h) stores the stretch as SQ8 codes interleaved by 16 rows
(of the vectors' leading principal axes when a few of them hold most of the variance,
vecsearch/quant/projection.py),
scanned by a block of queries with VNNI integer dot products while each chunk sits in L2; each
query's best ``max(k, rerank)`` are then re-scored exactly from the index's vectors. At low and mid
selectivity this reads a quarter of the bytes of the exact scan of the float rows, with no bitmap
to build and no row to skip; a graph walk instead must step over the non-matching nodes.

The codes are built at one mutation epoch of the index and one version of the column. Any add,
delete, or change of the column makes them stale: the next search that would use them rebuilds
them first (one sort of the column, one encoding pass: about a second per million rows).
"""
from __future__ import annotations

import functools
import threading
import time
from dataclasses import dataclass
from typing import Any, List, Optional, Sequence, Tuple

import numpy as np

from vecsearch.attributes.columns import stretches
from vecsearch.attributes.store import NO_SLOT
from vecsearch.errors import FilterError, FormatError
from vecsearch.filters.expr import And, Between, Compare, _numeric_value
from vecsearch.quant.projection import AXES_SAMPLE, principal_axes

RANGE_KINDS = ("int", "float", "date")
# Queries sharing a range that the native range search scans as a block (RangeCostModel::kRangeBlockMin).
RANGE_BLOCK_MIN = 4
# Bounds of a range: (lo, hi, lo_open, hi_open), None for an open side.
Bounds = Tuple[Any, Any, bool, bool]
_CALIBRATION_DEPTHS = (16, 64)  # re-rank depths the calibration times


def range_bounds(expr: Any, column: str, kind: str) -> Optional[Bounds]:
    """The bounds of `expr` when it is a range on `column` alone (a comparison, a between, or an
    AND of them); None for any other filter."""
    if isinstance(expr, Between) and expr.field == column:
        return (_numeric_value(column, kind, expr.lo), _numeric_value(column, kind, expr.hi), False, False)
    if isinstance(expr, Compare) and expr.field == column and expr.op in ("<", "<=", ">", ">=", "=="):
        value = _numeric_value(column, kind, expr.value)
        return {
            "<": (None, value, False, True), "<=": (None, value, False, False),
            ">": (value, None, True, False), ">=": (value, None, False, False),
            "==": (value, value, False, False),
        }[expr.op]
    if isinstance(expr, And):
        left = range_bounds(expr.left, column, kind)
        right = None if left is None else range_bounds(expr.right, column, kind)
        return None if left is None or right is None else _intersect(left, right)
    return None


def _intersect(a: Bounds, b: Bounds) -> Bounds:
    lo, lo_open = a[0], a[2]
    if b[0] is not None and (lo is None or b[0] > lo or (b[0] == lo and b[2])):
        lo, lo_open = b[0], b[2]
    hi, hi_open = a[1], a[3]
    if b[1] is not None and (hi is None or b[1] < hi or (b[1] == hi and b[3])):
        hi, hi_open = b[1], b[3]
    return lo, hi, lo_open, hi_open


@dataclass(frozen=True)
class RangeCost:
    """Measured microseconds of a range-index query: ``fixed + depth * per_depth + rows *
    per_row``, per_row for a query whose batch shares its range (scanned as a block) or alone."""

    fixed: float
    per_depth: float
    per_row_shared: float
    per_row_alone: float

    def estimate(self, rows: np.ndarray, depth: int, shared_by: np.ndarray) -> np.ndarray:
        per_row = np.where(np.asarray(shared_by) >= RANGE_BLOCK_MIN, self.per_row_shared, self.per_row_alone)
        return self.fixed + depth * self.per_depth + np.asarray(rows, dtype=np.float64) * per_row

    @functools.cached_property
    def native(self) -> np.ndarray:
        """The four figures in field order, as csrc/filter/plan_costs.h's RangeCostModel reads them."""
        return np.array([self.fixed, self.per_depth, self.per_row_shared, self.per_row_alone], dtype=np.float64)


@dataclass(frozen=True)
class _Built:
    """Native codes and the column's live values in their order, built together."""

    codes: Any
    keys: np.ndarray
    epoch: int
    version: int


class RangeIndex:
    """The range index of one numeric column of an :class:`vecsearch.Index` (see
    :meth:`vecsearch.Index.create_range_index`)."""

    def __init__(self, column: str) -> None:
        self.column = column
        self._built: Optional[_Built] = None
        self._lock = threading.Lock()
        self.cost: Optional[RangeCost] = None
        self.build_seconds = 0.0
        self._measured_at = 0

    def fresh(self, core: Any, store: Any) -> bool:
        """Whether the codes hold the index and column as they are now."""
        built = self._built
        return built is not None and (built.epoch, built.version) == (core.epoch(), store.column(self.column).version)

    def refresh(self, core: Any, store: Any, threads: int) -> None:
        """Builds the codes unless they are fresh. The caller holds the index's write gate, so no
        add or delete runs between the snapshot of the column and the native build."""
        with self._lock:
            if self.fresh(core, store):
                return
            start = time.perf_counter()
            with store.lock:
                column = store.column(self.column)
                keys, rows = column.sorted_values()
                slots = store.row_slots[rows]
                live = slots != NO_SLOT
                keys, slots, version = keys[live], np.ascontiguousarray(slots[live]), column.version
                ids = store.ids[rows[live]]
            codes = core.build_range_codes(slots, threads, *_projection(core, ids))
            self._built = _Built(codes, keys, codes.epoch(), version)  # one assignment: searches see all or none
            self.build_seconds = time.perf_counter() - start
            if self.cost is None or not (core.size() / 2 <= self._measured_at <= core.size() * 2):
                self.cost = self._calibrate(core, codes, ids)
                self._measured_at = core.size()

    def spans(self, bounds: Sequence[Bounds]) -> Tuple[Any, np.ndarray]:
        """(the built codes, uint64 [len(bounds), 2]): the stretch [begin, end) of the column
        order each range selects, in those codes (a later rebuild does not move them)."""
        built = self._built
        assert built is not None, "refresh() first"
        lo, hi, lo_open, hi_open = zip(*bounds) if bounds else ((), (), (), ())
        begin, end = stretches(built.keys, lo, hi, lo_open, hi_open)
        return built.codes, np.stack([begin, end], axis=1).astype(np.uint64)

    def memory_bytes(self) -> int:
        """Bytes of the codes, slots and the column's sorted values."""
        built = self._built
        return 0 if built is None else int(built.codes.memory_bytes()) + built.keys.nbytes

    def _calibrate(self, core: Any, codes: Any, ids: np.ndarray) -> RangeCost:
        """Times the range search on stored vectors as queries (one thread, best of 3, CPU
        time): spans of two lengths at two depths, shared by a block and alone."""
        n = int(codes.size())
        rng = np.random.default_rng(0)
        if n == 0:
            return RangeCost(0.0, 0.0, 0.0, 0.0)
        queries = core.get_vectors(np.ascontiguousarray(ids[rng.choice(n, min(16, n), replace=False)]))
        nq = queries.shape[0]
        short, long = min(n, 256), min(n, max(4096, n // 10))

        def timed(rows: int, depth: int, shared: bool) -> float:
            spans = np.array([[0, rows]] * (1 if shared else nq), dtype=np.uint64)
            filter_of = np.zeros(nq, dtype=np.uint32) if shared else np.arange(nq, dtype=np.uint32)
            best = float("inf")
            for _ in range(3):
                start = time.thread_time()
                core.search_range(codes, queries, 10, depth, 1, spans, filter_of)
                best = min(best, time.thread_time() - start)
            return best * 1e6 / nq

        lo, hi = _CALIBRATION_DEPTHS
        base = timed(short, lo, True)
        per_depth = max(0.0, (timed(short, hi, True) - base) / (hi - lo))
        span = max(long - short, 1)
        per_row_shared = max(0.0, (timed(long, lo, True) - base) / span)
        per_row_alone = max(per_row_shared, (timed(long, lo, False) - timed(short, lo, False)) / span)
        fixed = max(0.0, base - lo * per_depth - short * per_row_shared)
        return RangeCost(fixed, per_depth, per_row_shared, per_row_alone)


def _projection(core: Any, ids: np.ndarray) -> Tuple[Optional[np.ndarray], Optional[np.ndarray]]:
    """(mean, axes) of the principal axes the codes keep, or (None, None) to keep every dimension:
    learnt from up to AXES_SAMPLE of the indexed rows."""
    if len(ids) == 0:
        return None, None
    rng = np.random.default_rng(0)
    take = ids if len(ids) <= AXES_SAMPLE else ids[np.sort(rng.choice(len(ids), AXES_SAMPLE, replace=False))]
    found = principal_axes(core.get_vectors(np.ascontiguousarray(take)))
    return (None, None) if found is None else found


def check_range_column(store: Any, column: str) -> None:
    """Raises FilterError unless `column` is an int, float or date column of `store`."""
    kind = store.column(column).kind
    if kind not in RANGE_KINDS:
        raise FilterError(f"a range index needs an int, float or date column; {column!r} is {kind}")


def load_range_indexes(columns: Any, store: Any, path: Any) -> dict:
    """The range indexes a saved index names in its meta (built on first use)."""
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        raise FormatError(f"{path}: meta field 'range_indexes' is not a list of column names")
    for column in columns:
        if column not in store.columns or store.columns[column].kind not in RANGE_KINDS:
            raise FormatError(f"{path}: a range index on {column!r}, which is not a saved int, float or date column")
    return {column: RangeIndex(column) for column in columns}


def range_filters(indexes: dict, store: Any, batch: Any) -> Optional[Tuple[RangeIndex, List[Bounds], np.ndarray]]:
    """(the range index, the bounds of each distinct filter, the filter of each query) when one
    range index answers every filter of the batch (a vecsearch.filters.batch.FilterBatch); None
    when some filter is not a range on one indexed column."""
    if not batch.expressions_only:
        return None
    exprs, filter_of = batch.filters, batch.filter_of
    for column, index in indexes.items():
        kind = store.column(column).kind
        bounds: List[Bounds] = []
        for f in exprs:  # most batches fail on their first filter: stop there
            b = range_bounds(f, column, kind)
            if b is None:
                break
            bounds.append(b)
        else:
            return index, bounds, filter_of
    return None
