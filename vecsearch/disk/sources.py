"""Vectors for an out-of-core build, as a stream of row blocks that never holds the whole set:
an array (a ``np.memmap`` included), a vector file (``.npy``, ``.fbin``, ``.fvecs``, ...: opened
memory-mapped), a parquet file (one list<float> column, read in record batches through pyarrow)
or any iterable of 2-D arrays."""
from __future__ import annotations

import itertools
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
        n = source.shape[0]
        return VectorSource(source.shape[1], n, (source[i:i + block_rows] for i in range(0, n, block_rows)))
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
