"""Filters of the filtered suite: synthetic attributes, anti-correlated id sets, exact truth.

Four workloads, each at every target selectivity ``s`` (exactly ``round(s * n)``
matching items, at least 1):

- ``equality``: one category column per selectivity, ``cat_<s>``, where the value
  ``eq_<s>`` is held by a random ``s`` of the items and the rest hold one of 8 filler
  values; filter ``F("cat_<s>") == "eq_<s>"``.
- ``range``: an int column ``num``, a random permutation of 0..n-1; filter
  ``F("num").between(0, m - 1)``.
- ``tags``: one tags column ``tags`` where tag ``t_<s>`` is on a random ``s`` of the
  items; filter ``F("tags").contains_any(["t_<s>"])``.
- ``anti`` (anti-correlated): per query, the ``m`` items farthest from that query,
  passed as a per-query list of allowed ids, so every true neighbour is far away.

Each random subset is drawn from its own seed stream keyed by (seed, workload, s),
so a case never depends on which other cases run. Shared-filter ground truth is
:func:`bench.data.ground_truth` over the matching subset (cached like the
unfiltered truth); anti ground truth is re-ranked exactly from the distance order
that defines the sets (see :func:`anti_truth`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vecsearch import F
from vecsearch._progress import progress as progress_bar
from vecsearch.datasets import exact_knn
from vecsearch.filters.expr import Expr

from . import data as bench_data

WORKLOADS = ("equality", "range", "tags", "anti")
SHARED_WORKLOADS = ("equality", "range", "tags")  # one filter for every query
ATTRIBUTES_VERSION = 1  # bump when the generated attributes change: keys the truth cache

_STREAM = 7_000  # seed-sequence stream of the attributes, apart from the vector streams
_WORKLOAD_STREAMS = {"equality": 0, "range": 1, "tags": 2}
_FILLERS = 8  # filler values of an equality column
_ORDER_CHUNK = 16  # queries per distance block when ordering items for anti


def label(s: float) -> str:
    """Short text form of a selectivity: 0.001, 0.5, 1."""
    return f"{s:g}"


def match_count(s: float, n: int) -> int:
    """How many of ``n`` items match at selectivity ``s`` (at least one)."""
    return min(n, max(1, round(s * n)))


@dataclass
class Attributes:
    """Generated attribute columns and what each shared filter selects.

    Attributes:
        columns: column name -> values, as ``vecsearch.Index.add(attributes=...)`` takes them.
        masks: (workload, s) -> bool [n], the items the filter matches.
        exprs: (workload, s) -> the vecsearch filter expression.
    """

    columns: dict[str, Any]
    masks: dict[tuple[str, float], np.ndarray]
    exprs: dict[tuple[str, float], Expr]


@dataclass
class FilterCase:
    """One workload at one selectivity: the filter in every form the methods need, and truth.

    Attributes:
        workload, selectivity: which case.
        matches: items each query may return.
        truth: exact filtered k-NN ids int64 [nq, k], -1 where fewer than k match.
        expr: shared workloads: the vecsearch expression.
        mask: shared workloads: bool [n] of the matching items.
        allowed: anti: int64 [nq, matches], row i the ids query i may return.
    """

    workload: str
    selectivity: float
    matches: int
    truth: np.ndarray
    expr: Expr | None = None
    mask: np.ndarray | None = None
    allowed: np.ndarray | None = None

    def query_mask(self, i: int, n: int) -> np.ndarray:
        """bool [n]: the items query ``i`` may return."""
        if self.mask is not None:
            return self.mask
        assert self.allowed is not None
        mask = np.zeros(n, dtype=bool)
        mask[self.allowed[i]] = True
        return mask


def build_cases(
    data: bench_data.Dataset,
    attrs: Attributes,
    workloads: Sequence[str],
    selectivities: Sequence[float],
    k: int,
    seed: int,
    cache_dir: Path,
    *,
    progress: bool = True,
) -> list[FilterCase]:
    """Every (workload, selectivity) case with its exact ground truth, in the order given."""
    cases = []
    order = anti_order(data.base, data.queries, progress=progress) if "anti" in workloads else None
    for workload in workloads:
        for s in selectivities:
            m = match_count(s, data.n)
            if workload == "anti":
                assert order is not None
                truth = anti_truth(data.base, data.queries, order, m, k)
                # a view: row i is contiguous, so vecsearch takes it without a copy
                cases.append(FilterCase(workload, s, m, truth, allowed=order[:, data.n - m :]))
                continue
            mask = attrs.masks[workload, s]
            tag = {"workload": workload, "s": s, "seed": seed, "version": ATTRIBUTES_VERSION}
            truth = shared_truth(data, mask, k, cache_dir, tag, progress=progress)
            cases.append(FilterCase(workload, s, m, truth, attrs.exprs[workload, s], mask))
    return cases


def make_attributes(
    n: int, selectivities: Sequence[float], workloads: Sequence[str], seed: int
) -> Attributes:
    """Attribute columns for the shared-filter workloads among ``workloads``."""
    attrs = Attributes({}, {}, {})
    if "equality" in workloads:
        for s in selectivities:
            rng = _rng(seed, "equality", s)
            mask = _random_mask(rng, n, match_count(s, n))
            names = np.array([f"other_{i}" for i in range(_FILLERS)])
            fillers = names[rng.integers(0, _FILLERS, n)]
            name, value = f"cat_{label(s)}", f"eq_{label(s)}"
            attrs.columns[name] = np.where(mask, value, fillers)
            attrs.masks["equality", s] = mask
            attrs.exprs["equality", s] = F(name) == value
    if "range" in workloads:
        num = _rng(seed, "range", 0.0).permutation(n).astype(np.int64)
        attrs.columns["num"] = num
        for s in selectivities:
            m = match_count(s, n)
            attrs.masks["range", s] = num < m
            attrs.exprs["range", s] = F("num").between(0, m - 1)
    if "tags" in workloads:
        tags: list[list[str]] = [[] for _ in range(n)]
        for s in selectivities:
            mask = _random_mask(_rng(seed, "tags", s), n, match_count(s, n))
            tag = f"t_{label(s)}"
            for i in np.flatnonzero(mask).tolist():
                tags[i].append(tag)
            attrs.masks["tags", s] = mask
            attrs.exprs["tags", s] = F("tags").contains_any([tag])
        attrs.columns["tags"] = tags
    return attrs


def anti_order(base: np.ndarray, queries: np.ndarray, *, progress: bool = True) -> np.ndarray:
    """Per query, every item id by ascending distance (ties by id): int64 [nq, n].

    The anti set at selectivity s is the last ``m`` ids of a row: the farthest items.
    Distances are float32 ``|x|^2 - 2 q.x`` (``|q|^2`` is constant per row).
    """
    nq, n = queries.shape[0], base.shape[0]
    norms = np.einsum("ij,ij->i", base, base)
    order = np.empty((nq, n), dtype=np.int64)
    with progress_bar(nq, "anti order", enabled=progress, unit="q") as bar:
        for q0 in range(0, nq, _ORDER_CHUNK):
            d = queries[q0 : q0 + _ORDER_CHUNK] @ base.T
            d *= np.float32(-2)
            d += norms[None, :]
            order[q0 : q0 + _ORDER_CHUNK] = np.argsort(d, axis=1, kind="stable")
            bar.update(d.shape[0])
    return order


def shared_truth(
    data: bench_data.Dataset,
    mask: np.ndarray,
    k: int,
    cache_dir: Path,
    tag: dict[str, Any],
    *,
    progress: bool = True,
) -> np.ndarray:
    """Exact filtered k-NN ids int64 [nq, k] (-1 padded) of one shared filter.

    The matching rows become a dataset of their own, so :func:`bench.data.ground_truth`
    computes and caches it; ``tag`` (workload, s, seed, version) keys the cache.
    """
    rows = np.flatnonzero(mask)
    base = data.base if rows.size == data.n else np.ascontiguousarray(data.base[rows])
    identity = {**data.identity, "filter": tag}
    subset = bench_data.Dataset(f"{data.name}-filtered", base, data.queries, identity)
    local = bench_data.ground_truth(subset, k, cache_dir, progress=progress)
    return _to_global(local, rows)


def anti_truth(
    base: np.ndarray, queries: np.ndarray, order: np.ndarray, m: int, k: int
) -> np.ndarray:
    """Exact k-NN ids int64 [nq, k] among each query's ``m`` farthest items.

    The nearest allowed items open the allowed suffix of the query's order, so
    only its first ``k`` plus a margin are re-ranked exactly (by ``exact_knn``),
    the same margin ``exact_knn`` itself keeps over its float32 pre-selection.
    """
    n = base.shape[0]
    width = min(m, k + max(10, k // 4))
    truth = np.full((queries.shape[0], k), -1, dtype=np.int64)
    for i in range(queries.shape[0]):
        window = order[i, n - m : n - m + width]
        local, _ = exact_knn(base[window], queries[i], k, progress=False)
        truth[i] = _to_global(local, window)[0]
    return truth


def _to_global(local: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Map subset row numbers back to item ids, keeping -1 padding."""
    return np.where(local >= 0, rows[np.maximum(local, 0)], -1).astype(np.int64)


def _random_mask(rng: np.random.Generator, n: int, m: int) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    mask[rng.permutation(n)[:m]] = True  # exactly m items, not m in expectation
    return mask


def _rng(seed: int, workload: str, s: float) -> np.random.Generator:
    key = (_STREAM, _WORKLOAD_STREAMS[workload], round(s * 1e9))
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))
