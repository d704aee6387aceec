"""Filter expressions over attribute columns.

    F("year") >= 2018, F("price").between(5, 10), F("section") == "python",
    F("section").isin(["libs", "devel"]), F("tags").contains_any(["x", "y"]),
    F("tags").contains_all([...]), F("size").is_null(), combined with &, | and ~.

Semantics follow pandas: a comparison is false on a null value, and ``~`` is the plain
complement (so ``~(F("x") == 1)`` includes rows where x is null). ``!=`` is false on nulls too.
An unknown category or tag value simply matches nothing; an unknown field, or a value of the
wrong type for its column, raises FilterError when the filter is used.
"""
from __future__ import annotations

import datetime as _dt
import itertools
from dataclasses import dataclass
from typing import Any, Sequence, Tuple

import numpy as np

from vecsearch.errors import FilterError
from vecsearch.filters.program import AND, NOT, OR, Program

_NUMERIC = ("int", "float", "date", "bool")


class Expr:
    """A boolean filter over rows; combine with ``&``, ``|`` and ``~``."""

    def __and__(self, other: "Expr") -> "Expr":
        return And(self, _expr(other))

    def __or__(self, other: "Expr") -> "Expr":
        return Or(self, _expr(other))

    def __invert__(self) -> "Expr":
        return Not(self)

    def __bool__(self) -> bool:
        raise TypeError("a filter expression has no truth value: combine with &, |, ~ (not and/or/not)")

    def emit(self, store: Any, program: Program) -> None:  # pragma: no cover - every subclass overrides
        """Appends this expression's ops over `store` to `program`."""
        raise NotImplementedError

    def key(self) -> Any:
        """A hashable form of the expression's structure and constants: equal for expressions
        that select the same rows by construction (``F("a") == 1`` built twice), so a batch
        evaluates them once and scans their queries together. Unhashable constants make the
        key the object itself. Kept on the expression (it is immutable): per-query filter lists
        reused across searches, and parsed strings (cached), pay for it once."""
        memo = self.__dict__.get("_memo_key")
        if memo is None:
            key = self._key()
            try:
                memo = _HashedKey(key, hash(key))
            except TypeError:
                memo = self
            object.__setattr__(self, "_memo_key", memo)
        return memo

    def _key(self) -> tuple:
        # The dataclass fields in declaration order, read from __dict__ (dataclasses.fields()
        # costs as much again; the memos come after them), kept once built.
        memo = self.__dict__.get("_memo_raw")
        if memo is None:
            values = itertools.islice(self.__dict__.values(), len(self.__dataclass_fields__))  # type: ignore[attr-defined]
            memo = (type(self).__name__,
                    *[v._key() if isinstance(v, Expr) else (type(v).__name__, v) for v in values])
            object.__setattr__(self, "_memo_raw", memo)
        return memo


class _HashedKey:
    """An expression key with its hash computed once (a tuple hashes its whole tree each time)."""

    __slots__ = ("value", "hash")

    def __init__(self, value: tuple, hashed: int) -> None:
        self.value, self.hash = value, hashed

    def __hash__(self) -> int:
        return self.hash

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _HashedKey) and self.hash == other.hash and self.value == other.value


def _expr(value: Any) -> Expr:
    if not isinstance(value, Expr):
        raise TypeError(f"cannot combine a filter expression with {type(value).__name__}")
    return value


@dataclass(frozen=True, eq=False)
class Compare(Expr):
    field: str
    op: str  # == != < <= > >=
    value: Any

    def emit(self, store: Any, program: Program) -> None:
        column = store.column(self.field)
        if column.kind == "tags":
            raise FilterError(f"field {self.field!r} holds tags: use contains_any / contains_all, not {self.op}")
        if column.kind == "category":
            if self.op not in ("==", "!="):
                raise FilterError(f"field {self.field!r} is a category: only ==, != and isin apply, not {self.op}")
            value = _category_value(self.field, self.value)
        else:
            value = _numeric_value(self.field, column.kind, self.value)
            if column.kind == "bool" and self.op not in ("==", "!="):
                raise FilterError(f"field {self.field!r} is bool: only == and != apply")
        def equal() -> None:
            if column.kind == "category":
                program.rows(column.equal(value))
            else:
                program.range(column, value, value, False, False)

        if self.op == "==":
            equal()
        elif self.op == "!=":  # neither equal nor null
            equal()
            program.rows(column.is_null())
            program.op(OR)
            program.op(NOT)
        else:
            lo, hi, lo_open, hi_open = {
                "<": (None, value, False, True), "<=": (None, value, False, False),
                ">": (value, None, True, False), ">=": (value, None, False, False),
            }[self.op]
            program.range(column, lo, hi, lo_open, hi_open)


@dataclass(frozen=True, eq=False)
class Between(Expr):
    field: str
    lo: Any
    hi: Any

    def emit(self, store: Any, program: Program) -> None:
        column = store.column(self.field)
        if column.kind not in ("int", "float", "date"):
            raise FilterError(f"field {self.field!r} is {column.kind}: between needs an int, float or date column")
        lo = _numeric_value(self.field, column.kind, self.lo)
        hi = _numeric_value(self.field, column.kind, self.hi)
        program.range(column, lo, hi, False, False)


@dataclass(frozen=True, eq=False)
class IsIn(Expr):
    field: str
    values: Tuple[Any, ...]

    def emit(self, store: Any, program: Program) -> None:
        column = store.column(self.field)
        if column.kind == "category":
            program.rows(column.isin([_category_value(self.field, v) for v in self.values]))
            return
        if column.kind == "tags":
            raise FilterError(f"field {self.field!r} holds tags: use contains_any / contains_all, not isin")
        values = [_numeric_value(self.field, column.kind, v) for v in self.values]
        if column.kind == "int":  # 2.5 is in no int column (a cast would make it 2)
            values = [v for v in values if float(v).is_integer()]
        program.rows(column.isin(np.array(values, dtype=column.values.dtype)))


@dataclass(frozen=True, eq=False)
class Contains(Expr):
    field: str
    tags: Tuple[str, ...]
    all: bool

    def emit(self, store: Any, program: Program) -> None:
        column = store.column(self.field)
        if column.kind != "tags":
            what = "contains_all" if self.all else "contains_any"
            raise FilterError(f"field {self.field!r} is {column.kind}: {what} needs a tags column")
        for t in self.tags:
            if not isinstance(t, str):
                raise FilterError(f"field {self.field!r}: tags are strings, got {type(t).__name__}")
        if not self.all:
            program.rows(column.contains_any(self.tags))
        elif not self.tags:  # every non-null row contains the empty set
            program.rows(column.is_null())
            program.op(NOT)
        else:
            for i, rows in enumerate(column.postings(self.tags)):
                program.rows(rows)
                if i:
                    program.op(AND)


@dataclass(frozen=True, eq=False)
class IsNull(Expr):
    field: str

    def emit(self, store: Any, program: Program) -> None:
        program.rows(store.column(self.field).is_null())


@dataclass(frozen=True, eq=False)
class And(Expr):
    left: Expr
    right: Expr

    def emit(self, store: Any, program: Program) -> None:
        self.left.emit(store, program)
        self.right.emit(store, program)
        program.op(AND)


@dataclass(frozen=True, eq=False)
class Or(Expr):
    left: Expr
    right: Expr

    def emit(self, store: Any, program: Program) -> None:
        self.left.emit(store, program)
        self.right.emit(store, program)
        program.op(OR)


@dataclass(frozen=True, eq=False)
class Not(Expr):
    inner: Expr

    def emit(self, store: Any, program: Program) -> None:
        self.inner.emit(store, program)
        program.op(NOT)


class F:
    """A reference to an attribute column, the start of every filter expression."""

    __hash__ = None  # type: ignore[assignment]  # == builds an expression

    def __init__(self, name: str):
        if not isinstance(name, str):
            raise TypeError(f"field names are strings, got {type(name).__name__}")
        self.name = name

    def __eq__(self, value: Any) -> Expr:  # type: ignore[override]
        return Compare(self.name, "==", value)

    def __ne__(self, value: Any) -> Expr:  # type: ignore[override]
        return Compare(self.name, "!=", value)

    def __lt__(self, value: Any) -> Expr:
        return Compare(self.name, "<", value)

    def __le__(self, value: Any) -> Expr:
        return Compare(self.name, "<=", value)

    def __gt__(self, value: Any) -> Expr:
        return Compare(self.name, ">", value)

    def __ge__(self, value: Any) -> Expr:
        return Compare(self.name, ">=", value)

    def between(self, lo: Any, hi: Any) -> Expr:
        """lo <= value <= hi (both ends inclusive)."""
        return Between(self.name, lo, hi)

    def isin(self, values: Sequence[Any]) -> Expr:
        return IsIn(self.name, tuple(values))

    def contains_any(self, tags: Sequence[str]) -> Expr:
        """Rows whose tag list holds at least one of `tags`."""
        return Contains(self.name, tuple(tags), all=False)

    def contains_all(self, tags: Sequence[str]) -> Expr:
        """Rows whose tag list holds every one of `tags`."""
        return Contains(self.name, tuple(tags), all=True)

    def is_null(self) -> Expr:
        return IsNull(self.name)

    def __repr__(self) -> str:
        return f"F({self.name!r})"


def _category_value(field: str, value: Any) -> str:
    if not isinstance(value, str):
        raise FilterError(f"field {field!r} is a category (strings); cannot compare it with {type(value).__name__}")
    return value


def _numeric_value(field: str, kind: str, value: Any) -> Any:
    if kind == "date":
        if isinstance(value, (_dt.date, np.datetime64, str)):
            try:
                return np.datetime64(value, "ns")  # type: ignore[call-overload]  # numpy's stubs omit date + unit
            except ValueError:
                raise FilterError(f"field {field!r} is a date; {value!r} is not a date") from None
        raise FilterError(f"field {field!r} is a date; cannot compare it with {type(value).__name__}")
    if kind == "bool":
        if not isinstance(value, (bool, np.bool_)):
            raise FilterError(f"field {field!r} is bool; cannot compare it with {type(value).__name__}")
        return bool(value)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise FilterError(f"field {field!r} is {kind}; cannot compare it with {type(value).__name__}")
    if isinstance(value, (float, np.floating)) and value != value:
        raise FilterError(f"field {field!r}: NaN matches nothing; use is_null() for missing values")
    return value
