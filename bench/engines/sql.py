"""vecsearch filter expressions written as SQL where-clauses, for stores that take text
(LanceDB's DataFusion dialect: backquoted columns, ``array_has_any`` for tags)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from vecsearch.filters.expr import And, Between, Compare, Contains, Expr, IsIn, IsNull, Not, Or

_OPS = {"==": "=", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


def to_sql(expr: Expr, columns: Mapping[str, str] | None = None) -> str:
    """The where-clause meaning the same rows as ``expr`` (nulls compare false, as in both).

    ``columns`` renames fields (a store may refuse some characters in column names)."""

    def col(name: str) -> str:
        return "`" + (columns or {}).get(name, name).replace("`", "``") + "`"

    def sql(e: Expr) -> str:
        if isinstance(e, Compare):
            return f"{col(e.field)} {_OPS[e.op]} {_literal(e.value)}"
        if isinstance(e, Between):
            return f"{col(e.field)} BETWEEN {_literal(e.lo)} AND {_literal(e.hi)}"
        if isinstance(e, IsIn):
            return f"{col(e.field)} IN ({', '.join(_literal(v) for v in e.values)})"
        if isinstance(e, Contains):
            fn = "array_has_all" if e.all else "array_has_any"
            return f"{fn}({col(e.field)}, [{', '.join(_literal(t) for t in e.tags)}])"
        if isinstance(e, IsNull):
            return f"{col(e.field)} IS NULL"
        if isinstance(e, And):
            return f"({sql(e.left)}) AND ({sql(e.right)})"
        if isinstance(e, Or):
            return f"({sql(e.left)}) OR ({sql(e.right)})"
        if isinstance(e, Not):
            return f"NOT ({sql(e.inner)})"
        raise TypeError(f"no SQL form for {type(e).__name__}")

    return sql(expr)


def safe_names(names: list[str]) -> dict[str, str]:
    """Column names with every character but letters, digits and ``_`` replaced (Lance refuses
    ``.`` in a top-level field), numbered where two would collide."""
    out: dict[str, str] = {}
    for i, name in enumerate(names):
        safe = "".join(c if c.isalnum() or c == "_" else "_" for c in name)
        out[name] = safe if safe not in out.values() else f"{safe}_{i}"
    return out


def _literal(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"no SQL literal for {type(value).__name__} {value!r}")
