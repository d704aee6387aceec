"""Which shard holds an id, and how a batch of rows is cut into per-shard parts.

An id's shard is a stable hash of the id (splitmix64's finaliser, modulo the shard count), so a
delete or an update finds its row without asking every shard, and the same ids land on the same
shards in every process and every version. The name of the rule is written to the manifest.
"""
from __future__ import annotations

from typing import Any, List

import numpy as np

ROUTING = "splitmix64-mod"


def shard_of(ids: np.ndarray, shards: int) -> np.ndarray:
    """The shard (int64 in [0, shards)) of each uint64 id."""
    z = np.asarray(ids, dtype=np.uint64).copy()
    with np.errstate(over="ignore"):
        z += np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
    return (z % np.uint64(shards)).astype(np.int64)


def split_rows(ids: np.ndarray, shards: int) -> List[np.ndarray]:
    """For each shard, the positions (in order) of the rows whose id routes to it."""
    owner = shard_of(ids, shards)
    order = np.argsort(owner, kind="stable")
    bounds = np.searchsorted(owner[order], np.arange(shards + 1))
    return [order[bounds[s]:bounds[s + 1]] for s in range(shards)]


def take_rows(attributes: Any, rows: np.ndarray) -> Any:
    """The rows `rows` of attributes given as :meth:`vecsearch.Index.add` takes them: a dict of
    arrays or lists, a pandas DataFrame or a pyarrow Table (None stays None)."""
    if attributes is None:
        return None
    if hasattr(attributes, "iloc"):  # pandas
        return attributes.iloc[rows].reset_index(drop=True)
    if hasattr(attributes, "take") and hasattr(attributes, "schema"):  # pyarrow
        return attributes.take(rows)
    if isinstance(attributes, dict):
        return {name: _take_column(values, rows) for name, values in attributes.items()}
    raise TypeError(f"attributes must be a dict, a pandas DataFrame or a pyarrow Table, got "
                    f"{type(attributes).__name__}")


def _take_column(values: Any, rows: np.ndarray) -> Any:
    if isinstance(values, np.ndarray):
        return values[rows]
    if hasattr(values, "iloc"):  # a pandas Series
        return values.iloc[rows].reset_index(drop=True)
    values = list(values)  # lists, tuples, lists of tags: kept as Python objects
    return [values[i] for i in rows]
