"""Compiles a filter expression into the postfix program the native core evaluates.

Leaves become row lists found through the column indexes (O(log n) each, no copy where the
index already holds the rows); ``&``, ``|`` and ``~`` become bitmap ops. The native side
(csrc/filter/program.cpp) maps rows to graph slots, sets bits, combines and counts, with the
GIL released, one program per thread. A range holding a large share of the rows is passed
instead as its stretch of the column's value order, which the native side tests against each
slot's rank in that order (AttributeStore.slot_ranks) a vector of slots at a time: setting
bits row by row costs a scattered write per match.
"""
from __future__ import annotations

from typing import Any, List, Tuple

import numpy as np

# Op codes, as csrc/filter/program.h numbers them.
ROWS, ALL, AND, OR, NOT, RANKS = 0, 1, 2, 3, 4, 5
# A range leaf is tested by rank when it matches more than this share of the slots: a scattered
# bit per match costs about as much as this many slots' rank tests.
RANK_SHARE = 1 / 32

RankRange = Tuple[np.ndarray, int, int]  # slot ranks (uint32), start, stop
Packed = Tuple[np.ndarray, List[np.ndarray], List[RankRange]]


class Program:
    """A postfix program under construction."""

    def __init__(self) -> None:
        self.ops: List[int] = []
        self.lists: List[np.ndarray] = []
        self.ranges: List[RankRange] = []

    def rows(self, rows: np.ndarray) -> None:
        """Push the rows of a leaf."""
        self.ops.append(ROWS)
        self.lists.append(np.ascontiguousarray(rows, dtype=np.int64))

    def ranks(self, ranks: np.ndarray, start: int, stop: int) -> None:
        """Push the slots whose rank is in [start, stop)."""
        self.ops.append(RANKS)
        self.ranges.append((ranks, int(start), int(stop)))

    def all(self) -> None:
        """Push every live row."""
        self.ops.append(ALL)

    def op(self, code: int) -> None:
        self.ops.append(code)

    def packed(self) -> Packed:
        return np.asarray(self.ops, dtype=np.uint8), self.lists, self.ranges


def emit_range(program: Program, store: Any, column: Any, lo: Any, hi: Any, lo_open: bool, hi_open: bool) -> None:
    """Push a numeric column's range: its rows, or, when they are many, its rank stretch."""
    start, stop = column.range_positions(lo, hi, lo_open, hi_open)
    if stop - start > RANK_SHARE * max(1, store.row_slots.shape[0]):
        program.ranks(store.slot_ranks(column), start, stop)
    else:
        program.rows(column.sorted_values()[1][start:stop])


def compile_filter(expr: Any, store: Any) -> Packed:
    """The packed program of `expr` over `store` (raises FilterError for schema mismatches)."""
    program = Program()
    expr.emit(store, program)
    return program.packed()
