"""vecsearch: filtered approximate nearest-neighbour search with a native C++ core."""
from __future__ import annotations

import os as _os
import warnings as _warnings

try:
    from vecsearch import _core
except ImportError as _missing:
    if getattr(_missing, "name", None) not in ("vecsearch", "vecsearch._core"):
        raise  # the core is there but would not load: its own error says why
    # The usual cause: `python -m ...` run from the repository root after a plain `pip install .`,
    # so the source folder (no compiled core) shadows the installed package.
    raise ImportError(
        f"vecsearch's native core is not built in {_os.path.dirname(__file__)}: this looks like "
        "the source folder shadowing an installed vecsearch. From the repository root, install "
        "it editable (`pip install -e .`, as the README says) or build it in place (`python "
        "setup.py build_ext --inplace`); or run from another directory."
    ) from None
from vecsearch._validate import MISSING_ID
from vecsearch.errors import (
    DimensionError,
    FilterError,
    FilterSyntaxError,
    DTypeError,
    DuplicateIdError,
    EmptyIndexError,
    FormatError,
    FormatVersionError,
    IncompleteIndexError,
    InvalidArgumentError,
    MemoryBudgetError,
    NonFiniteError,
    ShardError,
    UnknownIdError,
    VecsearchError,
)
from vecsearch.filters.expr import F
from vecsearch.index import Index
from vecsearch.search_info import SearchInfo
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
    "SearchInfo",
    "Quantizer",
    "PQ",
    "SQ8",
    "BinaryQuantizer",
    "NotTrainedError",
    "F",
    "FilterError",
    "FilterSyntaxError",
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
    "InvalidArgumentError",
    "MemoryBudgetError",
    "ShardError",
    "build_on_disk",
    "plan_memory",
]
