"""Compiled predicates: a numba ``@cfunc("uint8(uint64)")`` (or ``boolean(uint64)``) taking an
id and returning nonzero to admit it. The native core calls it through its address without the
GIL, once per live vector per search call. numba is optional: nothing here imports it.

Example:
    >>> from numba import cfunc, types                                   # doctest: +SKIP
    >>> @cfunc(types.uint8(types.uint64))                                 # doctest: +SKIP
    ... def even(i):
    ...     return i % 2 == 0
    >>> index.search(queries, k=10, filter=even)                          # doctest: +SKIP
"""
from __future__ import annotations

import ctypes
from typing import Any, Optional

from vecsearch.errors import FilterError

_ARG_TYPES = (ctypes.c_uint64, ctypes.c_ulong, ctypes.c_ulonglong)
_RESULT_TYPES = (ctypes.c_uint8, ctypes.c_ubyte, ctypes.c_bool)


def compiled_predicate_address(obj: Any) -> Optional[int]:
    """The entry point of a numba cfunc with the predicate signature; None for other objects;
    FilterError for a cfunc of another signature (calling it would be undefined behaviour)."""
    address = getattr(obj, "address", None)
    cfunc = getattr(obj, "ctypes", None)
    if not isinstance(address, int) or cfunc is None or not hasattr(cfunc, "argtypes"):
        return None
    argtypes = list(cfunc.argtypes or [])
    ok = (len(argtypes) == 1 and ctypes.sizeof(argtypes[0]) == 8 and argtypes[0] in _ARG_TYPES
          and cfunc.restype in _RESULT_TYPES)
    if not ok:
        raise FilterError(
            "a compiled filter must have the signature uint8(uint64) (the id in, nonzero to keep it); "
            f"got {getattr(obj, '_sig', None) or (argtypes, cfunc.restype)}"
        )
    return address
