"""Vectors plus attribute columns in one parquet file (needs pyarrow: ``pip install vecsearch[arrow]``).

Layout: one row per item; the vectors in a list / fixed-size-list column of floats
(default name ``vector``); every other column is an attribute (ints, floats, bools,
strings, dictionaries, lists of strings). :func:`write_parquet` writes the same
layout, e.g. for embedded texts (:mod:`vecsearch.datasets.embed`).
"""

from __future__ import annotations

import os
from typing import Any, Optional, Sequence, Union

import numpy as np

__all__ = ["arrow_columns", "load_parquet", "require_pyarrow", "write_parquet"]

PathLike = Union[str, "os.PathLike[str]"]


def require_pyarrow() -> Any:
    """Import pyarrow, or raise ImportError saying how to install it."""
    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401
    except ImportError as e:
        raise ImportError(
            "reading and writing parquet needs pyarrow: pip install 'vecsearch[arrow]'"
        ) from e
    return pyarrow


def arrow_columns(table: Any, skip: Sequence[str] = ()) -> dict[str, Any]:
    """pyarrow Table -> attribute columns: numeric/bool columns without nulls as numpy
    arrays, everything else (strings, dictionaries, lists, columns with nulls) as lists."""
    pa = require_pyarrow()
    cols: dict[str, Any] = {}
    for name in table.column_names:
        if name in skip:
            continue
        col = table.column(name)
        t = col.type
        if pa.types.is_dictionary(t):
            cols[name] = col.cast(t.value_type).to_pylist()
        elif (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)) and (
            col.null_count == 0
        ):
            cols[name] = col.to_numpy()
        else:
            cols[name] = col.to_pylist()
    return cols


def load_parquet(
    path: PathLike, *, vector_column: str = "vector", columns: Optional[Sequence[str]] = None
) -> tuple[np.ndarray, dict[str, Any]]:
    """Read vectors and attribute columns from a parquet file.

    Args:
        path: the file.
        vector_column: the list-of-floats column holding the vectors.
        columns: attribute columns to keep (default: all others).

    Returns:
        ``(float32 [n, d] C-contiguous, {column: values})``.

    Raises:
        ImportError: pyarrow missing.
        ValueError: no such vector column, null or ragged vectors, unknown columns.
    """
    require_pyarrow()
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as e:  # pyarrow raises its own ArrowInvalid / OSError mix
        raise ValueError(f"{path}: not a readable parquet file ({e})") from e
    if vector_column not in table.column_names:
        raise ValueError(
            f"{path}: no vector column {vector_column!r}; columns are {table.column_names}"
        )
    vectors = _vectors(table.column(vector_column), path)
    if columns is not None:
        missing = [c for c in columns if c not in table.column_names]
        if missing:
            raise ValueError(f"{path}: no column(s) {missing}; columns are {table.column_names}")
        table = table.select([vector_column, *columns])
    return vectors, arrow_columns(table, skip=(vector_column,))


def _vectors(col: Any, path: PathLike) -> np.ndarray:
    pa = require_pyarrow()
    if col.null_count:
        raise ValueError(f"{path}: the vector column has {col.null_count} null rows")
    col = col.combine_chunks()
    if not (pa.types.is_list(col.type) or pa.types.is_large_list(col.type)
            or pa.types.is_fixed_size_list(col.type)):  # fmt: skip
        raise ValueError(f"{path}: the vector column has type {col.type}, expected a list of floats")
    lengths = np.asarray(col.value_lengths()) if not pa.types.is_fixed_size_list(col.type) else None
    n = len(col)
    flat = np.asarray(col.flatten().to_numpy(zero_copy_only=False), dtype=np.float32)
    if n == 0:
        return np.empty((0, 0), dtype=np.float32)
    dim = int(lengths[0]) if lengths is not None else flat.size // n
    if lengths is not None and (lengths != dim).any():
        i = int(np.flatnonzero(lengths != dim)[0])
        raise ValueError(f"{path}: vector row {i} has length {lengths[i]}, row 0 has {lengths[0]}")
    return np.ascontiguousarray(flat.reshape(n, dim))


def write_parquet(
    path: PathLike, vectors: np.ndarray, attributes: Optional[dict[str, Any]] = None,
    *, vector_column: str = "vector",
) -> None:
    """Write vectors (as a fixed-size list column) and attribute columns to parquet."""
    pa = require_pyarrow()
    import pyarrow.parquet as pq

    x = np.ascontiguousarray(vectors, dtype=np.float32)
    if x.ndim != 2:
        raise ValueError(f"vectors must be 2-D, got shape {x.shape}")
    arrays = {vector_column: pa.FixedSizeListArray.from_arrays(pa.array(x.ravel()), x.shape[1])}
    for name, values in (attributes or {}).items():
        if len(values) != x.shape[0]:
            raise ValueError(f"column {name!r} has {len(values)} values for {x.shape[0]} vectors")
        arrays[name] = pa.array(values.tolist() if isinstance(values, np.ndarray) else values)
    pq.write_table(pa.table(arrays), path)
