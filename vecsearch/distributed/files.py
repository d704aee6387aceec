"""A build's source as files: a directory (or list) of ``.npy`` / vector files or ``.parquet``
files, read by each shard for the rows whose ids route to it.

Ids are the rows' global positions (files in name order, rows in file order), so they are the
same whichever shard reads them. Every shard streams every file but keeps only its own rows:
the source is read once per shard, in parallel, and never held in RAM.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Iterator, List, Optional

import numpy as np

from vecsearch.disk.sources import open_source
from vecsearch.distributed.routing import shard_of

BLOCK_ROWS = 32_768
SUFFIXES = (".npy", ".parquet", ".fbin", ".fvecs", ".bvecs", ".u8bin", ".i8bin")


@dataclass
class FileSource:
    files: List[str]
    rows: List[int]  # per file
    dim: int
    column: Optional[str] = None  # the vector column of parquet files
    attribute_columns: List[str] = field(default_factory=list)  # parquet columns kept as attributes

    @property
    def count(self) -> int:
        return sum(self.rows)


def scan_files(source: Any, column: Optional[str] = None, attribute_columns: Optional[List[str]] = None) -> FileSource:
    """Lists the files of `source` (a directory, one file, or a list of files) with their row
    counts, checking that every one has vectors of the same length."""
    if isinstance(source, (str, os.PathLike)) and os.path.isdir(source):
        files = sorted(os.path.join(source, name) for name in os.listdir(source) if name.endswith(SUFFIXES))
        if not files:
            raise ValueError(f"{os.fspath(source)!r} holds no vector files ({', '.join(SUFFIXES)})")
    elif isinstance(source, (str, os.PathLike)):
        files = [os.fspath(source)]
    elif hasattr(source, "iter_batches"):  # a Ray Dataset: its tensor columns are no list<float> parquet
        raise TypeError("a Ray Dataset is not a build source yet: write its vectors to .npy files (or parquet "
                        "with a list<float> column) and build from their directory")
    else:
        try:
            files = [os.fspath(f) for f in source]
        except TypeError:
            raise TypeError(f"source must be a directory, a file or a list of files, got {type(source).__name__}") from None
        if not files:
            raise ValueError("the list of source files is empty")
    rows, dims = [], set()
    for path in files:
        src = open_source(path, BLOCK_ROWS, column=column)
        assert src.count is not None  # files know their length
        rows.append(src.count)
        dims.add(src.dim)
    if len(dims) != 1:
        raise ValueError(f"the source files hold vectors of different lengths: {sorted(dims)}")
    attribute_columns = list(attribute_columns or [])
    if attribute_columns and not all(f.endswith(".parquet") for f in files):
        raise ValueError("attribute_columns are read from parquet files; the source has other files")
    return FileSource(files, rows, dims.pop(), column, attribute_columns)


def shard_ids(src: FileSource, shard: int, shards: int) -> np.ndarray:
    """The ids (global row numbers) of the rows that belong to `shard`, in source order."""
    ids = np.arange(src.count, dtype=np.uint64)
    return ids[shard_of(ids, shards) == shard]


def shard_blocks(src: FileSource, shard: int, shards: int) -> Iterator[np.ndarray]:
    """The vectors of `shard`'s rows, block by block, in source order."""
    offset = 0
    for path, count in zip(src.files, src.rows):
        end = offset + count  # where this file's rows end, as scanned before the build
        for block in open_source(path, BLOCK_ROWS, column=src.column).blocks:
            ids = np.arange(offset, offset + block.shape[0], dtype=np.uint64)
            mine = shard_of(ids, shards) == shard
            offset += block.shape[0]
            if mine.any():
                yield np.asarray(block[mine], dtype=np.float32)
        if offset != end:
            raise ValueError(f"{path} changed while the index was built from it")


def shard_attributes(src: FileSource, shard: int, shards: int) -> Any:
    """A pyarrow Table of `shard`'s rows of the attribute columns (None without any)."""
    if not src.attribute_columns:
        return None
    import pyarrow as pa
    import pyarrow.parquet as pq

    parts, offset = [], 0
    for path, count in zip(src.files, src.rows):
        table = pq.read_table(path, columns=src.attribute_columns)
        ids = np.arange(offset, offset + count, dtype=np.uint64)
        parts.append(table.filter(pa.array(shard_of(ids, shards) == shard)))
        offset += count
    return pa.concat_tables(parts)
