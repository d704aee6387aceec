"""Turning user attribute input into per-column values of one kind.

Accepted containers: a mapping of column name -> array/list, a pandas DataFrame, or a pyarrow
Table or RecordBatch (parquet works through ``pyarrow.parquet.read_table``). pandas and pyarrow
are optional: they are imported only when such an object is passed.
"""
from __future__ import annotations

import datetime as _dt
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from vecsearch.errors import FilterError

Values = Tuple[str, Any, np.ndarray]  # (kind, values, null mask)


def to_columns(attributes: Any) -> Dict[str, Any]:
    """Column name -> a numpy array or a Python list, from any accepted container."""
    module = type(attributes).__module__
    if module.startswith("pandas"):
        return {str(name): _from_pandas(attributes[name]) for name in attributes.columns}
    if module.startswith("pyarrow"):
        return {str(name): _from_arrow(attributes.column(i)) for i, name in enumerate(attributes.schema.names)}
    if isinstance(attributes, dict):
        return {str(k): v for k, v in attributes.items()}
    raise TypeError(
        f"attributes must be a dict of columns, a pandas DataFrame or a pyarrow Table, got {type(attributes).__name__}"
    )


def _from_pandas(series: Any) -> Any:
    dtype = str(series.dtype)
    if dtype == "category" or dtype.startswith(("object", "string", "str")):
        return [None if _is_missing(v) else (list(v) if isinstance(v, (list, tuple, np.ndarray)) else v)
                for v in series.tolist()]
    if dtype.startswith("datetime64"):
        return series.to_numpy(dtype="datetime64[ns]")
    if dtype in ("Int64", "Int32", "boolean", "Float64"):
        return [None if _is_missing(v) else v for v in series.tolist()]
    return series.to_numpy()


def _from_arrow(column: Any) -> Any:
    import pyarrow as pa

    t = column.type
    if pa.types.is_dictionary(t):
        column = column.cast(t.value_type)
        t = column.type
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        return np.array(column.cast(pa.timestamp("ns")).to_numpy(zero_copy_only=False), dtype="datetime64[ns]")
    if (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)) and column.null_count == 0:
        return column.to_numpy()
    return column.to_pylist()


def _is_missing(v: Any) -> bool:
    if v is None:
        return True
    try:
        return bool(v != v)  # NaN, NaT, pandas NA
    except (TypeError, ValueError):
        return False


def infer_kind(name: str, values: Any) -> str:
    """The column kind of a new column."""
    if isinstance(values, np.ndarray) and values.dtype != object:
        k = values.dtype.kind
        if k in "iu":
            return "int"
        if k == "f":
            return "float"
        if k == "b":
            return "bool"
        if k == "M":
            return "date"
        if k in "US":
            return "category"
        raise FilterError(f"column {name!r}: unsupported dtype {values.dtype}")
    for v in values:
        if _is_missing(v):
            continue
        if isinstance(v, (bool, np.bool_)):
            return "bool"
        if isinstance(v, (int, np.integer)):
            return "int"
        if isinstance(v, (float, np.floating)):
            return "float"
        if isinstance(v, (_dt.date, np.datetime64)):
            return "date"
        if isinstance(v, str):
            return "category"
        if isinstance(v, (list, tuple, np.ndarray)):
            return "tags"
        raise FilterError(f"column {name!r}: cannot store values of type {type(v).__name__}")
    raise FilterError(f"column {name!r}: every value is null, so its type cannot be inferred")


def convert(name: str, kind: str, values: Any, n: int) -> Tuple[Any, np.ndarray]:
    """(values in the column's storage form, null mask) for n rows, or FilterError."""
    if len(values) != n:
        raise ValueError(f"column {name!r} has {len(values)} values for {n} vectors")
    if kind in ("category", "tags"):
        items = values.tolist() if isinstance(values, np.ndarray) else list(values)
        null = np.array([_is_missing(v) if not isinstance(v, (list, tuple, np.ndarray)) else False for v in items],
                        dtype=bool)
        out: List[Any] = []
        for v, is_null in zip(items, null):
            if is_null:
                out.append(None)
            elif kind == "category":
                if not isinstance(v, str):
                    raise FilterError(f"column {name!r} holds categories (strings), got {type(v).__name__}")
                out.append(v)
            else:
                if isinstance(v, str) or not isinstance(v, (list, tuple, np.ndarray)):
                    raise FilterError(f"column {name!r} holds tags (lists of strings), got {type(v).__name__}")
                out.append(list(v))
        return out, null
    if isinstance(values, np.ndarray) and values.dtype != object:
        return _convert_array(name, kind, values)
    items = list(values)
    null = np.array([_is_missing(v) for v in items], dtype=bool)
    filler = {"int": 0, "float": 0.0, "bool": False, "date": np.datetime64("NaT")}[kind]
    return _convert_array(name, kind, np.array([filler if m else v for v, m in zip(items, null)], dtype=object),
                          extra_null=null)


def _convert_array(name: str, kind: str, arr: np.ndarray, extra_null: Optional[np.ndarray] = None):
    null = np.zeros(arr.shape[0], dtype=bool) if extra_null is None else extra_null
    try:
        if kind == "int":
            if arr.dtype.kind not in "iu" and not (arr.dtype == object and all(
                    isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) for v in arr)):
                raise TypeError
            out = arr.astype(np.int64)
        elif kind == "float":
            if arr.dtype.kind == "b" or (arr.dtype == object and any(isinstance(v, (bool, str)) for v in arr)):
                raise TypeError
            out = arr.astype(np.float64)
            null = null | np.isnan(out)
        elif kind == "bool":
            if arr.dtype.kind != "b" and not (arr.dtype == object and all(isinstance(v, (bool, np.bool_)) for v in arr)):
                raise TypeError
            out = arr.astype(bool)
        else:
            if arr.dtype.kind not in "MO" or (arr.dtype == object and any(
                    not isinstance(v, (_dt.date, np.datetime64)) for v in arr)):
                raise TypeError
            out = arr.astype("datetime64[ns]")
            null = null | np.isnat(out)
    except (TypeError, ValueError):
        raise FilterError(f"column {name!r} is {kind}; these values are not ({arr.dtype})") from None
    return out, null
