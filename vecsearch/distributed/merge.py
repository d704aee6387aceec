"""The exact merge of per-shard top-k lists: the k smallest distances of their union.

Every shard answers the whole batch with its own k best, so the global k best of a query are
among the shards' rows; the merge is exact given those answers. Ties are broken by id so the
result does not depend on the order the shards answered in.
"""
from __future__ import annotations

from typing import Sequence, Tuple

import numpy as np

from vecsearch._validate import MISSING_ID
from vecsearch.search_info import SearchInfo, rows_info


def merge_topk(answers: Sequence[Tuple[np.ndarray, np.ndarray]], k: int) -> Tuple[np.ndarray, np.ndarray]:
    """Merges shard answers (ids uint64 [nq, k_s], distances float32 [nq, k_s]) into the k
    nearest per query, sorted by (distance, id); rows with fewer than k found are padded with
    MISSING_ID and inf as :meth:`vecsearch.Index.search` pads them."""
    ids = np.concatenate([a[0] for a in answers], axis=1)
    dists = np.concatenate([a[1] for a in answers], axis=1).astype(np.float32, copy=False)
    nq, width = ids.shape
    if width < k:  # fewer candidates than k in all: pad before choosing
        ids = np.concatenate([ids, np.full((nq, k - width), MISSING_ID, dtype=np.uint64)], axis=1)
        dists = np.concatenate([dists, np.full((nq, k - width), np.inf, dtype=np.float32)], axis=1)
    # Primary key distance, secondary id (padding sorts last: inf, then the largest id).
    order = np.lexsort((ids, dists), axis=1)[:, :k]
    return np.take_along_axis(ids, order, axis=1), np.take_along_axis(dists, order, axis=1)


def merge_info(ids: np.ndarray, infos: Sequence[SearchInfo]) -> SearchInfo:
    """The SearchInfo of merged rows `ids` from the shards' own: matches add up, a row is exact
    only if every shard's part was (the merge of exact top-k lists is exact), and the plan names
    each distinct shard plan, joined by ``+``."""
    matches = np.sum([info.matches for info in infos], axis=0)
    plans = np.stack([info.plan for info in infos], axis=1)
    plan = np.array(["+".join(dict.fromkeys(row)) for row in plans], dtype=object)
    return rows_info(ids, matches, plan, np.logical_and.reduce([info.exact for info in infos]))
