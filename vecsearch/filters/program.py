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

from collections import OrderedDict
from typing import Any, Dict, Hashable, List, Optional, Sequence, Tuple

import numpy as np

from vecsearch import _core

# Op codes, as csrc/filter/program.h numbers them.
ROWS, ALL, AND, OR, NOT, RANKS = 0, 1, 2, 3, 4, 5
# A range leaf is tested by rank when it matches more than this share of the slots: a scattered
# bit per match costs about as much as this many slots' rank tests.
RANK_SHARE = 1 / 32

RankRange = Tuple[np.ndarray, int, int]  # slot ranks (uint32), start, stop
# A program as the native core holds it (ops, row lists and rank ranges checked once; ``.ops`` and
# ``.nbytes`` readable): passing one to a search costs a reference, not a re-read of its arrays.
Packed = _core.FilterProgram


class _Stretch:
    """A numeric range leaf whose stretch of the column's value order is not yet looked up:
    a batch's are found together, one search per column, bound side and constant type."""

    __slots__ = ("column", "lo", "hi", "lo_open", "hi_open")

    def __init__(self, column: Any, lo: Any, hi: Any, lo_open: bool, hi_open: bool) -> None:
        self.column, self.lo, self.hi, self.lo_open, self.hi_open = column, lo, hi, lo_open, hi_open


class Program:
    """A postfix program under construction: per op, its payload (a leaf's rows, rank range or
    pending stretch; None for the others)."""

    def __init__(self) -> None:
        self.ops: List[int] = []
        self.payloads: List[Any] = []
        self.pending: List[int] = []  # ops whose payload is a _Stretch

    def rows(self, rows: np.ndarray) -> None:
        """Push the rows of a leaf."""
        self.ops.append(ROWS)
        self.payloads.append(np.ascontiguousarray(rows, dtype=np.int64))

    def range(self, column: Any, lo: Any, hi: Any, lo_open: bool, hi_open: bool) -> None:
        """Push a numeric column's rows with lo <(=) value <(=) hi (None: that side unbounded)."""
        self.pending.append(len(self.ops))
        self.ops.append(ROWS)  # RANKS once resolved, if the stretch is wide
        self.payloads.append(_Stretch(column, lo, hi, lo_open, hi_open))

    def all(self) -> None:
        """Push every live row."""
        self.ops.append(ALL)
        self.payloads.append(None)

    def op(self, code: int) -> None:
        self.ops.append(code)
        self.payloads.append(None)

    def packed(self) -> Packed:
        lists = [p for o, p in zip(self.ops, self.payloads) if o == ROWS]
        ranges = [p for o, p in zip(self.ops, self.payloads) if o == RANKS]
        return _core.FilterProgram(np.asarray(self.ops, dtype=np.uint8), lists, ranges)


class ProgramCache:
    """Packed programs by expression key (vecsearch.filters.expr.Expr.key), kept while the store
    is in the state they were compiled for: a filter a search repeats is compiled once. Least
    recently used programs go first past ``max_bytes`` of payload (their row lists are mostly
    views of the column indexes, so this over-counts)."""

    def __init__(self, max_bytes: int = 64 << 20) -> None:
        self.max_bytes = max_bytes
        self._state: Any = None
        self._programs: "OrderedDict[Hashable, Tuple[Packed, int]]" = OrderedDict()
        self._bytes = 0

    def get(self, key: Hashable, state: Any) -> Optional[Packed]:
        if state != self._state:
            self._state, self._bytes = state, 0
            self._programs.clear()
            return None
        found = self._programs.get(key)
        if found is None:
            return None
        self._programs.move_to_end(key)
        return found[0]

    def put(self, key: Hashable, program: Packed) -> None:
        size = program.nbytes
        if size > self.max_bytes:
            return
        old = self._programs.pop(key, None)
        self._bytes += size - (old[1] if old else 0)
        self._programs[key] = (program, size)
        while self._bytes > self.max_bytes:
            _, (_, dropped) = self._programs.popitem(last=False)
            self._bytes -= dropped

    def __len__(self) -> int:
        return len(self._programs)


def compile_filters(exprs: Sequence[Any], store: Any) -> List[Packed]:
    """The packed programs of `exprs` over `store` (raises FilterError for schema mismatches),
    from the store's ProgramCache when it holds them for its current state. The range leaves
    of those compiled are looked up together: per-query ranges differ in constants only."""
    cache: ProgramCache = store.programs
    state = store.state()
    packed: List[Optional[Packed]] = [cache.get(expr.key(), state) for expr in exprs]
    missing = [i for i, p in enumerate(packed) if p is None]
    programs = []
    for i in missing:
        program = Program()
        exprs[i].emit(store, program)
        programs.append(program)
    _resolve_stretches(programs, store)
    for i, program in zip(missing, programs):
        packed[i] = done = program.packed()
        cache.put(exprs[i].key(), done)
    return packed  # type: ignore[return-value]  # every None was filled


def compile_filter(expr: Any, store: Any) -> Packed:
    """The packed program of one expression (see compile_filters)."""
    return compile_filters([expr], store)[0]


def _resolve_stretches(programs: List[Program], store: Any) -> None:
    """Replaces each pending stretch by its rows, or by its rank range when it is wide."""
    by_column: Dict[int, List[Tuple[Program, int, _Stretch]]] = {}
    for program in programs:
        for i in program.pending:
            stretch = program.payloads[i]
            by_column.setdefault(id(stretch.column), []).append((program, i, stretch))
        program.pending = []
    wide = RANK_SHARE * max(1, store.row_slots.shape[0])
    for found in by_column.values():
        column = found[0][2].column
        stretches = [s for _, _, s in found]
        starts, stops = column.range_positions([s.lo for s in stretches], [s.hi for s in stretches],
                                               [s.lo_open for s in stretches], [s.hi_open for s in stretches])
        rows = column.sorted_values()[1]
        ranks = None
        for (program, i, _), start, stop in zip(found, starts.tolist(), stops.tolist()):
            if stop - start > wide:
                ranks = store.slot_ranks(column) if ranks is None else ranks
                program.ops[i], program.payloads[i] = RANKS, (ranks, start, stop)
            else:
                program.payloads[i] = np.ascontiguousarray(rows[start:stop], dtype=np.int64)
