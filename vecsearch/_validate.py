"""Conversion and checking of user input at the Python boundary.

Vectors: any floating dtype (float16/32/64) and any memory layout are accepted and converted
once to C-contiguous float32; integer, bool, complex and object arrays are refused, because a
silent cast there usually hides a bug. Ids: any integer dtype, non-negative, converted to uint64.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from vecsearch.errors import DimensionError, DTypeError, DuplicateIdError, NonFiniteError

MISSING_ID = np.uint64(2**64 - 1)
METRICS = ("l2", "ip", "cosine")
MAX_DIM = 1 << 16
MAX_M = 2048
MAX_ACORN_GAMMA = 64


def as_vectors(data: Any, dim: int, what: str) -> np.ndarray:
    """Returns `data` as a C-contiguous float32 matrix [n, dim]; a 1-d array is one row."""
    arr = np.asarray(data)
    if arr.dtype.kind != "f":
        raise DTypeError(f"{what} must be floating point (float32 preferred), got dtype {arr.dtype}")
    if arr.ndim == 1:
        arr = arr[np.newaxis, :]
    if arr.ndim != 2:
        raise DimensionError(f"{what} must be a 1-d vector or a 2-d array [n, {dim}], got {arr.ndim}-d")
    if arr.shape[1] != dim:
        raise DimensionError(f"{what} have dim {arr.shape[1]}, index has dim {dim}")
    with np.errstate(over="ignore"):  # a float64 too large for float32 becomes inf, refused below
        arr = np.ascontiguousarray(arr, dtype=np.float32)
    finite = np.isfinite(arr).all(axis=1)
    if not finite.all():
        row = int(np.flatnonzero(~finite)[0])
        raise NonFiniteError(f"{what} row {row} contains NaN or inf (after conversion to float32)")
    return arr


def normalized(arr: np.ndarray, what: str) -> np.ndarray:
    """Rows scaled to unit length, for the cosine metric."""
    norms = np.linalg.norm(arr, axis=1)
    if arr.shape[0] and not (norms > 0).all():
        row = int(np.flatnonzero(~(norms > 0))[0])
        raise ValueError(f"{what} row {row} is a zero vector, which has no direction for the cosine metric")
    return np.ascontiguousarray(arr / norms[:, np.newaxis], dtype=np.float32)


def as_ids(ids: Any, what: str = "ids", count: Optional[int] = None) -> np.ndarray:
    """Returns `ids` as a 1-d uint64 array, checking dtype, sign and the reserved MISSING_ID."""
    arr = np.asarray(ids)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.size == 0 and arr.dtype.kind == "f":  # np.asarray([]) is float64
        arr = arr.astype(np.uint64)
    if arr.dtype.kind not in "iu":
        raise DTypeError(f"{what} must be integers, got dtype {arr.dtype}")
    if arr.ndim != 1:
        raise ValueError(f"{what} must be 1-d, got shape {arr.shape}")
    if arr.dtype.kind == "i" and arr.size and arr.min() < 0:
        raise ValueError(f"{what} must be non-negative, got {int(arr.min())}")
    arr = np.ascontiguousarray(arr, dtype=np.uint64)
    if arr.size and (arr == MISSING_ID).any():
        raise ValueError(f"{what}: 2**64-1 is reserved as the missing-result marker")
    if count is not None and arr.shape[0] != count:
        raise ValueError(f"got {arr.shape[0]} {what} for {count} vectors")
    return arr


def require_distinct(ids: np.ndarray, call: str) -> None:
    """Raises DuplicateIdError naming the first id that repeats within one `call` ("add", ...)."""
    uniq, counts = np.unique(ids, return_counts=True)
    if uniq.shape[0] != ids.shape[0]:
        raise DuplicateIdError(f"id {int(uniq[counts > 1][0])} appears more than once in this {call}")


def positive_int(value: Any, what: str, *, maximum: Optional[int] = None) -> int:
    """`value` as an int >= 1 (and <= maximum), else ValueError naming `what`."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{what} must be an integer, got {type(value).__name__}")
    value = int(value)
    if value < 1:
        raise ValueError(f"{what} must be at least 1, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{what} must be at most {maximum}, got {value}")
    return value


def non_negative_int(value: Any, what: str, *, maximum: int) -> int:
    """`value` as an int in [0, maximum], else ValueError naming `what` (a wrong type too)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= int(value) <= maximum:
        raise ValueError(f"{what} must be an integer in [0, {maximum}], got {value!r}")
    return int(value)
