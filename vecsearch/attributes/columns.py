"""Typed attribute columns, one value per row (rows are positions in insertion order).

Each column answers its filter operators with the row numbers that match (in no particular
order), through an index built on first use and rebuilt after appends: the value order for
numeric and date columns (a range is two binary searches and a slice), posting lists for
categories and tags (an equality is one list). The work therefore follows the number of
matches, not of rows; vecsearch/filters/program.py turns these row lists into slot bitmaps and
combines them natively.

Kinds: ``int`` (int64), ``float`` (float64), ``date`` (datetime64[ns], compared with dates,
datetimes or numpy datetime64), ``bool``, ``category`` (strings, dictionary-encoded) and ``tags``
(lists of strings). Every kind allows nulls (None / NaN / NaT).
"""
from __future__ import annotations

from typing import Any, Dict, List, Literal, Optional, Sequence, Tuple

import numpy as np

KINDS = ("int", "float", "date", "bool", "category", "tags")
EMPTY = np.zeros(0, dtype=np.int64)


def _concat(lists: List[np.ndarray]) -> np.ndarray:
    return np.concatenate(lists) if lists else EMPTY


class Column:
    """Base: a named column of `kind` with a null mask."""

    kind = ""

    def __init__(self, name: str):
        self.name = name
        self.null = np.zeros(0, dtype=bool)
        self._index: Any = None
        self._null_rows: Optional[np.ndarray] = None
        self.version = 0  # bumped by every change of values (range indexes rebuild on it)

    def __len__(self) -> int:
        return self.null.shape[0]

    def is_null(self) -> np.ndarray:
        if self._null_rows is None:
            self._null_rows = np.flatnonzero(self.null).astype(np.int64)
        return self._null_rows

    def _invalidate(self) -> None:
        self.version += 1
        self._index = None
        self._null_rows = None


def stretches(keys: np.ndarray, lo: Sequence[Any], hi: Sequence[Any], lo_open: Sequence[bool],
              hi_open: Sequence[bool]) -> Tuple[np.ndarray, np.ndarray]:
    """(starts, stops), int64: for each range i, the stretch of the ascending ``keys`` with
    lo[i] <(=) key <(=) hi[i] (None: that side unbounded), found with one search per bound side
    and constant type (ints and floats apart: neither is rounded to the other)."""
    starts = _positions(keys, lo, lo_open, 0, ("left", "right"))
    stops = _positions(keys, hi, hi_open, len(keys), ("right", "left"))
    return starts, np.maximum(starts, stops)


def _positions(keys: np.ndarray, bounds: Sequence[Any], open_: Sequence[bool], unbounded: int,
               sides: Tuple[Literal["left", "right"], Literal["left", "right"]]) -> np.ndarray:
    """int64 per bound: its position in ``keys`` (searched on sides[0] when closed, sides[1] when
    open), ``unbounded`` for None."""
    kinds = {type(v) for v in bounds}
    if len(kinds) == 1 and type(None) not in kinds and len(set(open_)) == 1:
        # The usual batch (per-query windows of one form): one search, no grouping.
        return keys.searchsorted(np.asarray(bounds), side=sides[bool(open_[0])]).astype(np.int64, copy=False)
    out = np.full(len(bounds), unbounded, dtype=np.int64)
    groups: Dict[Tuple[bool, bool], List[int]] = {}
    for i, (value, is_open) in enumerate(zip(bounds, open_)):
        if value is not None:
            groups.setdefault((bool(is_open), isinstance(value, (float, np.floating))), []).append(i)
    for (is_open, _), where in groups.items():
        out[where] = keys.searchsorted(np.asarray([bounds[i] for i in where]), side=sides[is_open])
    return out


class NumericColumn(Column):
    """int, float, date or bool values in one numpy array; nulls masked."""

    def __init__(self, name: str, kind: str):
        super().__init__(name)
        self.kind = kind
        dtype: Any = {"int": np.int64, "float": np.float64, "date": "datetime64[ns]", "bool": np.bool_}[kind]
        self.values = np.zeros(0, dtype=dtype)

    def append(self, values: np.ndarray, null: np.ndarray) -> None:
        self.values = np.concatenate([self.values, values.astype(self.values.dtype, copy=False)])
        self.null = np.concatenate([self.null, null])
        self._invalidate()

    def set(self, rows: np.ndarray, values: np.ndarray, null: np.ndarray) -> None:
        self.values[rows] = values.astype(self.values.dtype, copy=False)
        self.null[rows] = null
        self._invalidate()

    def sorted_values(self):
        """(the non-null values ascending, their rows int64): what range filters search."""
        if self._index is None:
            rows = np.flatnonzero(~self.null)
            keys = self.values[rows]
            order = np.argsort(keys, kind="stable")
            self._index = (keys[order], rows[order].astype(np.int64))
        return self._index

    def range_positions(self, lo: Sequence[Any], hi: Sequence[Any], lo_open: Sequence[bool],
                        hi_open: Sequence[bool]) -> Tuple[np.ndarray, np.ndarray]:
        """(starts, stops), int64: the stretches of the value order (sorted_values) holding the
        rows with lo[i] <(=) value <(=) hi[i] (None: that side unbounded); see stretches()."""
        return stretches(self.sorted_values()[0], lo, hi, lo_open, hi_open)

    def isin(self, values: np.ndarray) -> np.ndarray:
        keys, rows = self.sorted_values()
        values = np.unique(values)
        starts = np.searchsorted(keys, values, side="left")
        stops = np.searchsorted(keys, values, side="right")
        return _concat([rows[a:b] for a, b in zip(starts, stops)])


class CategoryColumn(Column):
    """Strings stored as int32 codes into `categories` (-1 = null), with posting lists."""

    kind = "category"

    def __init__(self, name: str):
        super().__init__(name)
        self.codes = np.zeros(0, dtype=np.int32)
        self.categories: List[str] = []
        self._code_of: Dict[str, int] = {}

    def encode(self, values: Sequence[Optional[str]]) -> np.ndarray:
        codes = np.empty(len(values), dtype=np.int32)
        for i, v in enumerate(values):
            if v is None:
                codes[i] = -1
                continue
            v = str(v)  # numpy str_ -> str
            code = self._code_of.get(v)
            if code is None:
                code = self._code_of[v] = len(self.categories)
                self.categories.append(v)
            codes[i] = code
        return codes

    def append(self, values: Sequence[Optional[str]]) -> None:
        codes = self.encode(values)
        self.codes = np.concatenate([self.codes, codes])
        self.null = np.concatenate([self.null, codes < 0])
        self._invalidate()

    def set(self, rows: np.ndarray, values: Sequence[Optional[str]]) -> None:
        codes = self.encode(values)
        self.codes[rows] = codes
        self.null[rows] = codes < 0
        self._invalidate()

    def _postings(self):
        if self._index is None:
            order = np.argsort(self.codes, kind="stable").astype(np.int64)
            bounds = np.searchsorted(self.codes[order], np.arange(-1, len(self.categories) + 1))
            self._index = (order, bounds)
        return self._index

    def _rows_of_code(self, code: int) -> np.ndarray:
        order, bounds = self._postings()
        return order[bounds[code + 1]:bounds[code + 2]]

    def isin(self, values: Sequence[str]) -> np.ndarray:
        codes = sorted({self._code_of[v] for v in values if v in self._code_of})
        return _concat([self._rows_of_code(c) for c in codes])

    def equal(self, value: str) -> np.ndarray:
        return self.isin([value])


class TagsColumn(Column):
    """Lists of strings in CSR form (offsets into `tag_codes`); posting list per tag.
    A null row differs from an empty list."""

    kind = "tags"

    def __init__(self, name: str):
        super().__init__(name)
        self.offsets = np.zeros(1, dtype=np.int64)
        self.tag_codes = np.zeros(0, dtype=np.int32)
        self.vocabulary: List[str] = []
        self._code_of: Dict[str, int] = {}

    def _encode_lists(self, lists: Sequence[Optional[Sequence[str]]]):
        flat: List[int] = []
        lengths = np.zeros(len(lists), dtype=np.int64)
        null = np.zeros(len(lists), dtype=bool)
        for i, tags in enumerate(lists):
            if tags is None:
                null[i] = True
                continue
            unique = []
            for t in tags:
                if not isinstance(t, str):
                    raise TypeError(f"column {self.name!r}: tags must be strings, got {type(t).__name__}")
                t = str(t)  # numpy str_ -> str
                code = self._code_of.get(t)
                if code is None:
                    code = self._code_of[t] = len(self.vocabulary)
                    self.vocabulary.append(t)
                unique.append(code)
            unique = sorted(set(unique))
            flat.extend(unique)
            lengths[i] = len(unique)
        return np.asarray(flat, dtype=np.int32), lengths, null

    def append(self, lists: Sequence[Optional[Sequence[str]]]) -> None:
        codes, lengths, null = self._encode_lists(lists)
        self.offsets = np.concatenate([self.offsets, self.offsets[-1] + np.cumsum(lengths)])
        self.tag_codes = np.concatenate([self.tag_codes, codes])
        self.null = np.concatenate([self.null, null])
        self._invalidate()

    def set(self, rows: np.ndarray, lists: Sequence[Optional[Sequence[str]]]) -> None:
        # Rebuild the CSR arrays with the new lists in place of the old ones.
        current = [self.row_tags(r) for r in range(len(self))]
        for r, tags in zip(rows.tolist(), lists):
            current[r] = None if tags is None else list(tags)
        vocab_before = (list(self.vocabulary), dict(self._code_of))
        self.offsets = np.zeros(1, dtype=np.int64)
        self.tag_codes = np.zeros(0, dtype=np.int32)
        self.null = np.zeros(0, dtype=bool)
        self.vocabulary, self._code_of = vocab_before
        self.append(current)

    def row_tags(self, row: int) -> Optional[List[str]]:
        if self.null[row]:
            return None
        codes = self.tag_codes[self.offsets[row]:self.offsets[row + 1]]
        return [self.vocabulary[c] for c in codes]

    def _postings(self):
        if self._index is None:
            rows = np.repeat(np.arange(len(self), dtype=np.int64), np.diff(self.offsets))
            order = np.argsort(self.tag_codes, kind="stable")
            bounds = np.searchsorted(self.tag_codes[order], np.arange(len(self.vocabulary) + 1))
            self._index = (rows[order], bounds)
        return self._index

    def _rows_with(self, tag: str) -> Optional[np.ndarray]:
        code = self._code_of.get(tag)
        if code is None:
            return None
        rows, bounds = self._postings()
        return rows[bounds[code]:bounds[code + 1]]

    def contains_any(self, tags: Sequence[str]) -> np.ndarray:
        """Rows holding at least one of `tags` (a row may appear once per tag it holds)."""
        return _concat([r for r in (self._rows_with(t) for t in set(tags)) if r is not None])

    def postings(self, tags: Sequence[str]) -> List[np.ndarray]:
        """One row list per distinct tag, shortest first (an unknown tag gives an empty list);
        contains_all is their intersection."""
        found = (self._rows_with(t) for t in set(tags))
        return sorted((EMPTY if rows is None else rows for rows in found), key=len)
