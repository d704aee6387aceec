"""The debian-minilm layout: ``base.npy``, ``attributes.parquet``, ``queries.npy``, ``queries.parquet``.

62,763 MiniLM (384-d, unit-norm) embeddings of Debian package descriptions with the
packages' archive metadata as attributes, and 1,000 real short-description queries
(see that folder's README). FANNS-style workloads on its real attributes
(:data:`DEBIAN_WORKLOADS`): EM on ``section``, R on ``installed_size_kb``, EMIS on
``tags``, and EM+R. Needs pyarrow for the parquet files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import numpy as np

from vecsearch.datasets.parquet import arrow_columns, require_pyarrow
from vecsearch.datasets.vectorio import read_npy

__all__ = ["DEBIAN_FILES", "DEBIAN_WORKLOADS", "WINDOW_SHARE", "DebianSet", "load_debian", "own_filter_values"]

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
WINDOW_SHARE = 0.05  # the shared installed-size window of the "own" filters: 5 % of the items


@dataclass
class DebianSet:
    """Base vectors (memory-mapped), queries, and attribute columns.

    Attributes:
        base: float32 [n, 384] read-only memmap.
        queries: float32 [nq, 384].
        attributes: filterable columns (section, component, priority, installed_size_kb,
            maintainer, tags, n_depends, architecture, desc_len).
        query_text: the text each query embeds.
        query_attributes: the attributes of each query's own (removed) package, the same
            columns as ``attributes`` where ``queries.parquet`` has them.
    """

    base: np.ndarray
    queries: np.ndarray
    attributes: dict[str, Any]
    query_text: list[str]
    query_attributes: dict[str, Any] = field(default_factory=dict)


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
    qtable = pq.read_table(d / "queries.parquet")
    if qtable.num_rows != queries.shape[0]:
        raise ValueError(
            f"{d / 'queries.parquet'}: {qtable.num_rows} rows for {queries.shape[0]} queries"
        )
    attrs = arrow_columns(table, skip=_SKIP)
    own = arrow_columns(qtable, skip=(*_SKIP, "query_id", "query"))
    for columns in (attrs, own):
        if "tags" in columns:
            columns["tags"] = [t or [] for t in columns["tags"]]
    return DebianSet(base, queries, attrs, qtable.column("query").to_pylist(), own)


def own_filter_values(
    attributes: dict[str, Any], query_attributes: dict[str, Any], nq: int
) -> dict[str, list[dict[str, Any] | None]]:
    """The real filters of the first ``nq`` queries, as FANNS query-set values per workload.

    ``attributes`` are the base's columns (:attr:`DebianSet.attributes`, or their first
    rows when the base is cut), ``query_attributes`` the queries' own
    (:attr:`DebianSet.query_attributes`).

    - ``em``: ``section ==`` the query's own package's section;
    - ``emis``: its own tag held by the most base items (None for an untagged query: it
      has no own tag and is left out of that set);
    - ``r``: one ``installed_size_kb`` window holding the middle ``WINDOW_SHARE`` of the
      items (around the median), shared by every query;
    - ``em+r``: own section and that window.

    Raises:
        ValueError: ``queries.parquet`` lacks the ``section`` or ``tags`` column.
    """
    missing = [c for c in ("section", "tags") if c not in query_attributes]
    if missing:
        raise ValueError(f"queries.parquet has no {missing} column(s): the own filters need them")
    held: dict[str, int] = {}
    for tags in attributes["tags"]:
        for t in tags:
            held[t] = held.get(t, 0) + 1
    sizes = np.sort(np.asarray(attributes["installed_size_kb"]))
    m = max(1, round(WINDOW_SHARE * sizes.size))
    first = max(0, sizes.size // 2 - m // 2)
    last = min(sizes.size, first + m) - 1
    # ties at the ends can widen the window a little past m items
    window = {"range_start": int(sizes[first]), "range_end": int(sizes[last])}
    sections = query_attributes["section"][:nq]
    tags = query_attributes["tags"][:nq]
    return {
        "em": [{"label": s} for s in sections],
        "emis": [{"tag": max(t, key=lambda x: (held.get(x, 0), x))} if t else None for t in tags],
        "r": [dict(window) for _ in sections],
        "em+r": [{"label": s, **window} for s in sections],
    }
