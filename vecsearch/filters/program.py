"""Compiles a filter expression into the postfix program the native core evaluates.

Leaves become row lists found through the column indexes (O(log n) each, no copy where the
index already holds the rows); ``&``, ``|`` and ``~`` become bitmap ops. The native side
(csrc/filter/program.cpp) maps rows to graph slots, sets bits, combines and counts, with the
GIL released, one program per thread.
"""
from __future__ import annotations

from typing import Any, List, Tuple

import numpy as np

# Op codes, as csrc/filter/program.h numbers them.
ROWS, ALL, AND, OR, NOT = 0, 1, 2, 3, 4

Packed = Tuple[np.ndarray, List[np.ndarray]]


class Program:
    """A postfix program under construction."""

    def __init__(self) -> None:
        self.ops: List[int] = []
        self.lists: List[np.ndarray] = []

    def rows(self, rows: np.ndarray) -> None:
        """Push the rows of a leaf."""
        self.ops.append(ROWS)
        self.lists.append(np.ascontiguousarray(rows, dtype=np.int64))

    def all(self) -> None:
        """Push every live row."""
        self.ops.append(ALL)

    def op(self, code: int) -> None:
        self.ops.append(code)

    def packed(self) -> Packed:
        return np.asarray(self.ops, dtype=np.uint8), self.lists


def compile_filter(expr: Any, store: Any) -> Packed:
    """The packed program of `expr` over `store` (raises FilterError for schema mismatches)."""
    program = Program()
    expr.emit(store, program)
    return program.packed()
