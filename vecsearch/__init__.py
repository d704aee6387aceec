"""vecsearch: filtered approximate nearest-neighbour search with a native C++ core."""
from __future__ import annotations

import warnings as _warnings

from vecsearch import _core
from vecsearch._validate import MISSING_ID
from vecsearch.errors import (
    DimensionError,
    FilterError,
    DTypeError,
    DuplicateIdError,
    EmptyIndexError,
    FormatError,
    FormatVersionError,
    IncompleteIndexError,
    MemoryBudgetError,
    NonFiniteError,
    UnknownIdError,
    VecsearchError,
)
from vecsearch.filters.expr import F
from vecsearch.index import Index
from vecsearch.disk import build_on_disk, plan_memory
from vecsearch.quant import PQ, SQ8, BinaryQuantizer, NotTrainedError, Quantizer

__version__ = "0.1.0"


def simd_info() -> dict:
    """The SIMD level in use (``"avx512"``, ``"avx2"`` or ``"scalar"``), the levels this CPU
    supports, and whether ``VECSEARCH_SIMD`` forced the choice."""
    info = dict(_core.simd_info())
    info.pop("warning", None)
    return info


if _core.simd_info()["warning"]:
    _warnings.warn(_core.simd_info()["warning"], RuntimeWarning, stacklevel=2)

__all__ = [
    "Index",
    "Quantizer",
    "PQ",
    "SQ8",
    "BinaryQuantizer",
    "NotTrainedError",
    "F",
    "FilterError",
    "MISSING_ID",
    "simd_info",
    "VecsearchError",
    "DimensionError",
    "DTypeError",
    "NonFiniteError",
    "DuplicateIdError",
    "UnknownIdError",
    "EmptyIndexError",
    "FormatError",
    "FormatVersionError",
    "IncompleteIndexError",
    "MemoryBudgetError",
    "build_on_disk",
    "plan_memory",
]
