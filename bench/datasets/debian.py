"""The debian-minilm layout: ``base.npy``, ``attributes.parquet``, ``queries.npy``, ``queries.parquet``.

62,763 MiniLM (384-d, unit-norm) embeddings of Debian package descriptions with the
packages' archive metadata as attributes, and 1,000 real short-description queries
(see that folder's README). FANNS-style workloads on its real attributes
(:data:`DEBIAN_WORKLOADS`): EM on ``section``, R on ``installed_size_kb``, EMIS on
``tags``, and EM+R. Needs pyarrow for the parquet files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

import numpy as np

from vecsearch.datasets.parquet import arrow_columns, require_pyarrow
from vecsearch.datasets.vectorio import read_npy

__all__ = ["DEBIAN_FILES", "DEBIAN_WORKLOADS", "DebianSet", "load_debian"]

PathLike = Union[str, "os.PathLike[str]"]
DEBIAN_FILES = ("base.npy", "attributes.parquet", "queries.npy", "queries.parquet")
#: workload -> (EM column, R column, EMIS column), as in the FANNS benchmark's filter types.
DEBIAN_WORKLOADS = {
    "em": ("section", None, None),
    "r": (None, "installed_size_kb", None),
    "emis": (None, None, "tags"),
    "em+r": ("section", "installed_size_kb", None),
}
_SKIP = ("id", "package", "version", "short_desc")  # identifiers and free text: not filters


@dataclass
class DebianSet:
    """Base vectors (memory-mapped), queries, and attribute columns.

    Attributes:
        base: float32 [n, 384] read-only memmap.
        queries: float32 [nq, 384].
        attributes: filterable columns (section, component, priority, installed_size_kb,
            maintainer, tags, n_depends, architecture, desc_len).
        query_text: the text each query embeds.
    """

    base: np.ndarray
    queries: np.ndarray
    attributes: dict[str, Any]
    query_text: list[str]


def load_debian(directory: PathLike) -> DebianSet:
    """Load a debian-minilm folder.

    Raises:
        FileNotFoundError: a file is missing.
        ValueError: shapes or row counts that disagree, or rows not in ``id`` order.
        ImportError: pyarrow missing.
    """
    d = Path(directory)
    for name in DEBIAN_FILES:
        if not (d / name).is_file():
            raise FileNotFoundError(f"{d}: missing {name} (a debian-minilm file)")
    require_pyarrow()
    import pyarrow.parquet as pq

    base = read_npy(d / "base.npy")
    queries = np.ascontiguousarray(read_npy(d / "queries.npy"), dtype=np.float32)
    if base.shape[1] != queries.shape[1]:
        raise ValueError(f"{d}: queries have dim {queries.shape[1]}, base has {base.shape[1]}")
    table = pq.read_table(d / "attributes.parquet")
    if table.num_rows != base.shape[0]:
        raise ValueError(
            f"{d / 'attributes.parquet'}: {table.num_rows} rows for {base.shape[0]} vectors"
        )
    if "id" in table.column_names:
        ids = table.column("id").to_numpy()
        if not np.array_equal(ids, np.arange(base.shape[0])):
            raise ValueError(f"{d / 'attributes.parquet'}: rows are not in id order 0..n-1")
    qtable = pq.read_table(d / "queries.parquet", columns=["query"])
    if qtable.num_rows != queries.shape[0]:
        raise ValueError(
            f"{d / 'queries.parquet'}: {qtable.num_rows} rows for {queries.shape[0]} queries"
        )
    attrs = arrow_columns(table, skip=_SKIP)
    if "tags" in attrs:
        attrs["tags"] = [t or [] for t in attrs["tags"]]
    return DebianSet(base, queries, attrs, qtable.column("query").to_pylist())
