"""AttributeStore: the typed columns of an index, aligned to rows in insertion order, with the
map from external id to row and from row to graph slot (what native filter evaluation reads).
Deleted ids leave dead rows behind (no slot, never matched again)."""
from __future__ import annotations

import threading
from typing import Any, Dict, List, Tuple

import numpy as np

from vecsearch.attributes.columns import CategoryColumn, Column, NumericColumn, TagsColumn
from vecsearch.attributes.idmap import IdRowMap
from vecsearch.attributes.ingest import convert, infer_kind, to_columns
from vecsearch.errors import FilterError
from vecsearch.filters.program import ProgramCache

Prepared = Dict[str, Tuple[str, Any, np.ndarray]]  # name -> (kind, values, null)
NO_SLOT = np.uint32(2**32 - 1)
NO_RANK = np.uint32(2**32 - 1)  # slot_ranks() of a slot no range holds


def _new_column(name: str, kind: str) -> Column:
    if kind == "category":
        return CategoryColumn(name)
    if kind == "tags":
        return TagsColumn(name)
    return NumericColumn(name, kind)


class AttributeStore:
    """Columns plus row bookkeeping. Thread-safe: one lock guards every change and read."""

    def __init__(self) -> None:
        self.columns: Dict[str, Column] = {}
        self.ids = np.zeros(0, dtype=np.uint64)
        self.alive = np.zeros(0, dtype=bool)
        self.row_slots = np.zeros(0, dtype=np.uint32)  # NO_SLOT for dead rows
        self._row_of = IdRowMap()
        self.lock = threading.RLock()
        self.slots_version = 0  # bumped whenever row_slots changes
        self._ranks: Dict[str, Tuple[Any, np.ndarray]] = {}  # slot_ranks() per column
        self.programs = ProgramCache()  # compiled filters, for state()

    @property
    def schema(self) -> Dict[str, str]:
        """Column name -> kind."""
        return {name: col.kind for name, col in self.columns.items()}

    def __len__(self) -> int:
        return self.ids.shape[0]

    def nbytes(self) -> int:
        """Approximate bytes held: every column's arrays and indexes, the row arrays, and the
        id -> row map."""
        def arrays(obj: Any) -> int:
            if isinstance(obj, np.ndarray):
                return obj.nbytes
            if isinstance(obj, (tuple, list)):
                return sum(arrays(o) for o in obj)
            return 0

        with self.lock:
            total = self.ids.nbytes + self.alive.nbytes + self.row_slots.nbytes + self._row_of.nbytes
            for column in self.columns.values():
                total += sum(arrays(v) for v in vars(column).values())
            return total

    # -- writes: prepare (validate, no change) then commit ------------------------------------

    def prepare(self, attributes: Any, n: int, *, new_columns: bool = False) -> Prepared:
        """Validates and converts attributes for n new or updated rows; changes nothing.
        `new_columns`: columns the store lacks are allowed (set() creates them)."""
        if attributes is None:
            return {}
        columns = to_columns(attributes)
        prepared: Prepared = {}
        with self.lock:
            for name, values in columns.items():
                if not isinstance(name, str) or not name:
                    raise FilterError(f"column names must be non-empty strings, got {name!r}")
                kind = self.columns[name].kind if name in self.columns else infer_kind(name, values)
                if self.columns and name not in self.columns and len(self) and not new_columns:
                    raise FilterError(
                        f"unknown column {name!r}: the schema was fixed by the first add "
                        f"({', '.join(sorted(self.columns))})"
                    )
                converted, null = convert(name, kind, values, n)
                prepared[name] = (kind, converted, null)
        return prepared

    def append(self, ids: np.ndarray, prepared: Prepared, slots: np.ndarray) -> None:
        """Adds one row per id, living in the given graph slots; columns absent from `prepared`
        get nulls."""
        n = ids.shape[0]
        with self.lock:
            for name, (kind, _, _) in prepared.items():
                if name not in self.columns:
                    column = _new_column(name, kind)
                    self._append_nulls(column, len(self))
                    self.columns[name] = column
            for name, column in self.columns.items():
                if name in prepared:
                    _, values, null = prepared[name]
                    self._append(column, values, null)
                else:
                    self._append_nulls(column, n)
            start = len(self)
            self.ids = np.concatenate([self.ids, ids.astype(np.uint64)])
            self.alive = np.concatenate([self.alive, np.ones(n, dtype=bool)])
            self.row_slots = np.concatenate([self.row_slots, slots.astype(np.uint32)])
            self.slots_version += 1
            self._row_of.add(ids, np.arange(start, start + n))

    def set(self, ids: np.ndarray, prepared: Prepared) -> None:
        """Replaces the given columns' values of existing ids; a column the store lacks is
        created, null in every other row."""
        with self.lock:
            rows = self.rows_of(ids)
            for name, (kind, values, null) in prepared.items():
                column = self.columns.get(name)
                if column is None:
                    column = _new_column(name, kind)
                    self._append_nulls(column, len(self))
                    self.columns[name] = column
                if isinstance(column, NumericColumn):
                    column.set(rows, values, null)
                elif isinstance(column, (CategoryColumn, TagsColumn)):
                    column.set(rows, values)

    def delete(self, ids: np.ndarray) -> None:
        with self.lock:
            rows = self._row_of.remove(ids)
            self.alive[rows] = False
            self.row_slots[rows] = NO_SLOT
            self.slots_version += 1

    def rows_of(self, ids: np.ndarray) -> np.ndarray:
        with self.lock:
            return self._row_of.rows(ids)

    @staticmethod
    def _append(column: Column, values: Any, null: np.ndarray) -> None:
        if isinstance(column, NumericColumn):
            column.append(values, null)
        elif isinstance(column, (CategoryColumn, TagsColumn)):
            column.append(values)

    @staticmethod
    def _append_nulls(column: Column, n: int) -> None:
        if n == 0:
            return
        if isinstance(column, NumericColumn):
            column.append(np.zeros(n, dtype=column.values.dtype), np.ones(n, dtype=bool))
        elif isinstance(column, (CategoryColumn, TagsColumn)):
            column.append([None] * n)

    # -- reads --------------------------------------------------------------------------------

    def get(self, ids: np.ndarray) -> Dict[str, List[Any]]:
        """Column name -> values of `ids` (None for nulls)."""
        with self.lock:
            rows = self.rows_of(ids)
            out: Dict[str, List[Any]] = {}
            for name, column in self.columns.items():
                if isinstance(column, NumericColumn):
                    vals = column.values[rows].tolist()
                elif isinstance(column, CategoryColumn):
                    vals = [column.categories[c] if c >= 0 else None for c in column.codes[rows].tolist()]
                elif isinstance(column, TagsColumn):
                    vals = [column.row_tags(r) for r in rows.tolist()]
                out[name] = [None if column.null[r] else v for r, v in zip(rows.tolist(), vals)]
            return out

    def column(self, name: str) -> Column:
        column = self.columns.get(name)
        if column is None:
            known = ", ".join(sorted(self.columns)) or "none"
            raise FilterError(f"unknown field {name!r}; the index has attribute columns: {known}")
        return column

    def state(self) -> tuple:
        """Changes whenever a compiled filter could: any row's slot, any column's values, the
        set of columns."""
        return self.slots_version, tuple((name, id(c), c.version) for name, c in self.columns.items())

    def slot_ranks(self, column: NumericColumn) -> np.ndarray:
        """uint32 per graph slot: the position of the slot's row in the column's value order
        (NO_RANK for a slot without a live row or with a null): a range of the column, the
        stretch [start, stop) of that order, holds exactly the slots whose rank is in it, which
        the native core tests a vector of slots at a time. Kept until the column or the slots
        change."""
        key = (column.version, self.slots_version, self.row_slots.shape[0])
        cached = self._ranks.get(column.name)
        if cached is not None and cached[0] == key:
            return cached[1]
        _, rows = column.sorted_values()
        slots = self.row_slots[rows]
        live = slots != NO_SLOT
        held = self.row_slots[self.row_slots != NO_SLOT]
        n_slots = int(held.max()) + 1 if held.size else 0
        ranks = np.full(n_slots, NO_RANK, dtype=np.uint32)
        ranks[slots[live]] = np.flatnonzero(live).astype(np.uint32)
        self._ranks[column.name] = (key, ranks)
        return ranks

    def live_rows(self) -> np.ndarray:
        return np.flatnonzero(self.alive).astype(np.int64)
