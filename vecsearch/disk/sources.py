"""Vectors for an out-of-core build, as a stream of row blocks that never holds the whole set:
an array (a ``np.memmap`` included), a vector file (``.npy``, ``.fbin``, ``.fvecs``, ...: opened
memory-mapped), a parquet file (one list<float> column, read in record batches through pyarrow)
or any iterable of 2-D arrays."""
from __future__ import annotations

import ctypes
import functools
import itertools
import mmap
import os
from dataclasses import dataclass
from typing import Any, Iterator, Optional

import numpy as np


@dataclass
class VectorSource:
    dim: int
    count: Optional[int]  # None: an iterable of unknown length
    blocks: Iterator[np.ndarray]


def open_source(source: Any, block_rows: int, *, column: Optional[str] = None) -> VectorSource:
    """A VectorSource over `source` yielding blocks of at most `block_rows` rows (iterables
    yield their own blocks). `column` names the vector column of a parquet file."""
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if path.endswith(".parquet"):
            return _parquet(path, block_rows, column)
        from vecsearch.datasets.vectorio import load_vectors

        source = load_vectors(path)
    if isinstance(source, np.ndarray):
        if source.ndim != 2:
            raise ValueError(f"a vector source array must be 2-d, got shape {source.shape}")
        return VectorSource(source.shape[1], source.shape[0], _array_blocks(source, block_rows))
    try:
        it = iter(source)
    except TypeError:
        raise TypeError(f"cannot read vectors from {type(source).__name__}: expected an array, a path "
                        "or an iterable of 2-d arrays") from None
    first = next(it, None)
    if first is None:
        raise ValueError("the vector source is empty")
    first = np.asarray(first)
    if first.ndim != 2:
        raise ValueError(f"an iterable source must yield 2-d arrays, got shape {first.shape}")
    return VectorSource(first.shape[1], None, itertools.chain([first], it))


def _array_blocks(source: np.ndarray, block_rows: int) -> Iterator[np.ndarray]:
    # Only a read-only mapping: dropping pages of a copy-on-write one would lose its edits.
    mapped = isinstance(source, np.memmap) and getattr(source, "mode", None) == "r"
    for i in range(0, source.shape[0], block_rows):
        block = source[i:i + block_rows]
        yield block
        if mapped:  # read once: let its pages go, or a pass over the file would stay resident
            _release_pages(block)


def _release_pages(block: np.ndarray) -> None:
    """madvise(MADV_DONTNEED) on the whole pages under a block of a read-only file mapping: the
    process drops them (the page cache keeps them for anyone who needs them again)."""
    if not hasattr(mmap, "MADV_DONTNEED") or not block.flags.c_contiguous or block.nbytes == 0:
        return
    page = mmap.PAGESIZE
    start = block.ctypes.data
    first = -(-start // page) * page  # pages wholly inside the block: never a neighbour's
    last = (start + block.nbytes) // page * page
    if last > first:
        _libc().madvise(ctypes.c_void_p(first), ctypes.c_size_t(last - first), mmap.MADV_DONTNEED)


@functools.lru_cache(maxsize=1)
def _libc() -> Any:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.madvise.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    return libc


def _parquet(path: str, block_rows: int, column: Optional[str]) -> VectorSource:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ImportError("reading parquet needs pyarrow: pip install 'vecsearch[arrow]'") from None
    f = pq.ParquetFile(path)
    names = f.schema_arrow.names
    if column is None:
        lists = [field.name for field in f.schema_arrow if str(field.type).startswith(("list", "fixed_size_list", "large_list"))]
        if len(lists) != 1:
            raise ValueError(f"{path}: pass column= to say which column holds the vectors (list columns: {lists})")
        column = lists[0]
    if column not in names:
        raise ValueError(f"{path}: no column {column!r} (columns: {names})")
    first = next(f.iter_batches(batch_size=1, columns=[column]))
    dim = len(first.column(0)[0])

    def blocks() -> Iterator[np.ndarray]:
        for batch in f.iter_batches(batch_size=block_rows, columns=[column]):
            values = batch.column(0).flatten().to_numpy(zero_copy_only=False)
            if values.size != batch.num_rows * dim:
                raise ValueError(f"{path}: column {column!r} has vectors of different lengths")
            yield values.reshape(batch.num_rows, dim)

    return VectorSource(dim, f.metadata.num_rows, blocks())
