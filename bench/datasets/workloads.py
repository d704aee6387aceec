"""FANNS workloads: per-query filters on real attribute columns, and their exact ground truth.

Filter types of the FANNS benchmark (Iff et al. 2025), on any attribute columns:

- ``em``   exact match: ``column == label``
- ``r``    range: ``lo <= column <= hi`` (inclusive)
- ``emis`` exact match in set: ``label in column`` (a multi-valued / tags column)
- ``em+r`` both an exact match and a range
- ``unfiltered``

Natural query sets sample each query's filter values from the base's own values
(seeded): an EM label is the value of a random item, a range spans the values of
two random items, an EMIS label is one value of a random item with a non-empty
set. Controlled sets (:func:`controlled_sets`) add synthetic columns so every
query matches exactly ``round(s * n)`` items at the chosen levels.

Ground truth (:func:`filtered_knn`) is the exact top-k among each query's passing
items: float32 BLAS over query tiles with the failing items masked out, a few
spare candidates re-ranked in float64, ties broken by id; cached on disk under a
hash of every input (vectors, masks, k, metric).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

from vecsearch._progress import progress as progress_bar

__all__ = [
    "BUCKETS",
    "QuerySet",
    "WorkloadSpec",
    "bucket_of",
    "controlled_sets",
    "filtered_knn",
    "cached_filtered_knn",
    "make_query_set",
    "query_set_from_values",
]

#: Per-query selectivity buckets: (label, lower bound inclusive, upper bound exclusive).
BUCKETS = (("<1%", 0.0, 0.01), ("1-10%", 0.01, 0.1), ("10-50%", 0.1, 0.5), (">50%", 0.5, 1.01))
_TILE_CELLS = 1 << 24  # float32 cells of one [queries x base] distance tile (64 MiB)


@dataclass(frozen=True)
class WorkloadSpec:
    """Which columns a workload filters on.

    Attributes:
        name: ``em``, ``r``, ``emis``, ``em+r`` or ``unfiltered``.
        em: column of the exact match (int or string values).
        r: ordered column of the range (int or float).
        emis: multi-valued column (lists of strings).
    """

    name: str
    em: Optional[str] = None
    r: Optional[str] = None
    emis: Optional[str] = None

    def describe(self) -> str:
        parts = []
        if self.em:
            parts.append(f"{self.em} == label")
        if self.r:
            parts.append(f"lo <= {self.r} <= hi")
        if self.emis:
            parts.append(f"label in {self.emis}")
        return " and ".join(parts) or "no filter"


@dataclass
class QuerySet:
    """One workload's filters, one per query, in every form a method needs.

    Attributes:
        workload: the spec's name (``em``, ``r``, ...).
        level: target selectivity of a controlled set; None for natural ones.
        description: the predicate in words.
        values: per query the filter values (JSON-able dicts).
        masks: bool [nq, n], the items each query may return.
        exprs: per query the ``vecsearch.F`` expression (None when unfiltered).
    """

    workload: str
    level: Optional[float]
    description: str
    values: list[Optional[dict[str, Any]]]
    masks: np.ndarray
    exprs: list[Any] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.workload if self.level is None else f"{self.workload}@{self.level:g}"

    @property
    def selectivity(self) -> np.ndarray:
        """float64 [nq]: fraction of items each query's filter passes."""
        return self.masks.mean(axis=1)

    @property
    def member(self) -> np.ndarray:
        """bool [nq]: the queries this set filters (False where its values were None)."""
        return np.array([v is not None for v in self.values], dtype=bool)

    def buckets(self) -> list[str]:
        """Per query its selectivity bucket label (or ``s=<level>`` for a controlled set)."""
        if self.level is not None:
            return [f"s={self.level:g}"] * self.masks.shape[0]
        return [bucket_of(s) for s in self.selectivity]


def bucket_of(selectivity: float) -> str:
    """The :data:`BUCKETS` label of one selectivity."""
    for name, lo, hi in BUCKETS:
        if lo <= selectivity < hi:
            return name
    raise ValueError(f"selectivity {selectivity} outside [0, 1]")


def _rng(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(9_100, *key)))


_STREAMS = {"em": 1, "r": 2, "emis": 3, "em+r": 4, "unfiltered": 5}


class _Columns:
    """Column lookups built once: value codes for EM, numeric arrays for R, inverted lists."""

    def __init__(self, columns: dict[str, Any]) -> None:
        self.columns = columns
        self._codes: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._posting: dict[str, dict[str, np.ndarray]] = {}

    def get(self, name: str) -> Any:
        if name not in self.columns:
            raise KeyError(f"no attribute column {name!r}; have {sorted(self.columns)}")
        return self.columns[name]

    def codes(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        if name not in self._codes:
            col = self.get(name)
            arr = col if isinstance(col, np.ndarray) else np.asarray(col, dtype=object)
            uniq, inv = np.unique(arr, return_inverse=True)
            self._codes[name] = (uniq, inv.reshape(-1))
        return self._codes[name]

    def numeric(self, name: str) -> np.ndarray:
        col = np.asarray(self.get(name))
        if col.dtype.kind not in "iuf":
            raise ValueError(f"range column {name!r} must be numeric, got dtype {col.dtype}")
        return col

    def posting(self, name: str) -> dict[str, np.ndarray]:
        if name not in self._posting:
            lists: dict[str, list[int]] = {}
            for i, values in enumerate(self.get(name)):
                for v in values or ():
                    lists.setdefault(v, []).append(i)
            self._posting[name] = {v: np.asarray(ix, dtype=np.int64) for v, ix in lists.items()}
        return self._posting[name]


def _sample_values(
    cols: _Columns, spec: WorkloadSpec, nq: int, rng: np.random.Generator
) -> list[dict[str, Any]]:
    n = len(cols.get(spec.em or spec.r or spec.emis)) if spec.name != "unfiltered" else 0
    values: list[dict[str, Any]] = [{} for _ in range(nq)]
    if spec.em:
        col = cols.get(spec.em)
        for v, i in zip(values, rng.integers(0, n, nq)):
            v["label"] = _py(col[int(i)])
    if spec.r:
        col = cols.numeric(spec.r)
        pairs = np.sort(col[rng.integers(0, n, (nq, 2))], axis=1)
        for v, (lo, hi) in zip(values, pairs):
            v["range_start"], v["range_end"] = _py(lo), _py(hi)
    if spec.emis:
        col = cols.get(spec.emis)
        nonempty = np.flatnonzero([bool(t) for t in col])
        if nonempty.size == 0:
            raise ValueError(f"column {spec.emis!r} has no item with a value to sample")
        for v, i in zip(values, rng.choice(nonempty, nq)):
            tags = list(col[int(i)])
            v["tag"] = tags[int(rng.integers(0, len(tags)))]
    return values


def _py(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def query_set_from_values(
    columns: dict[str, Any],
    spec: WorkloadSpec,
    values: Sequence[Optional[dict[str, Any]]],
    *,
    level: Optional[float] = None,
    _cols: Optional[_Columns] = None,
) -> QuerySet:
    """Masks and expressions for given per-query filter values.

    Args:
        columns: attribute columns of the base, one value per item.
        spec: which columns the workload uses.
        values: per query ``{"label": ...}``, ``{"range_start": a, "range_end": b}``
            and/or ``{"tag": ...}`` as the spec needs; None leaves the query out of the set
            (no item passes, no expression: :meth:`QuerySet.member`).
        level: the target selectivity when the set is a controlled one.
    """
    from vecsearch.filters.expr import F  # the package's own import: keeps this module light

    cols = _cols or _Columns(columns)
    n = len(next(iter(columns.values())))
    nq = len(values)
    masks = np.ones((nq, n), dtype=bool)
    exprs: list[Any] = [None] * nq
    given = [(j, v) for j, v in enumerate(values) if v is not None]
    masks[[j for j, v in enumerate(values) if v is None]] = False
    if spec.em:
        uniq, inv = cols.codes(spec.em)
        for j, v in given:
            pos = np.searchsorted(uniq, v["label"])
            hit = pos < uniq.size and uniq[pos] == v["label"]
            masks[j] &= (inv == pos) if hit else False
    if spec.r:
        col = cols.numeric(spec.r)
        for j, v in given:
            masks[j] &= (col >= v["range_start"]) & (col <= v["range_end"])
    if spec.emis:
        posting = cols.posting(spec.emis)
        for j, v in given:
            m = np.zeros(n, dtype=bool)
            m[posting.get(v["tag"], np.empty(0, dtype=np.int64))] = True
            masks[j] &= m
    if spec.name != "unfiltered":
        for j, v in given:
            parts = []
            if spec.em:
                parts.append(F(spec.em) == v["label"])
            if spec.r:
                parts.append(F(spec.r).between(v["range_start"], v["range_end"]))
            if spec.emis:
                parts.append(F(spec.emis).contains_any([v["tag"]]))
            e = parts[0]
            for p in parts[1:]:
                e = e & p
            exprs[j] = e
    return QuerySet(spec.name, level, spec.describe(), list(values), masks, exprs)


def make_query_set(
    columns: dict[str, Any], spec: WorkloadSpec, nq: int, seed: int
) -> QuerySet:
    """A natural query set: filter values sampled from the base's values, seeded.

    Example:
        >>> cols = {"year": np.array([2001, 2005, 2010, 2020])}
        >>> qs = make_query_set(cols, WorkloadSpec("r", r="year"), nq=3, seed=0)
        >>> qs.masks.shape
        (3, 4)
    """
    if spec.name not in _STREAMS:
        raise ValueError(f"unknown workload {spec.name!r}; expected one of {sorted(_STREAMS)}")
    cols = _Columns(columns)
    values = _sample_values(cols, spec, nq, _rng(seed, _STREAMS[spec.name]))
    return query_set_from_values(columns, spec, values, _cols=cols)


def controlled_sets(
    n: int, nq: int, kinds: Sequence[str], levels: Sequence[float], seed: int
) -> tuple[dict[str, Any], list[QuerySet]]:
    """Synthetic columns and query sets whose every query matches exactly ``round(s*n)`` items.

    - ``em``: column ``ctrl_em_<s>`` holds labels ``0..L-1`` on ``L = floor(1/s)`` disjoint
      random groups of ``round(s*n)`` items (the rest hold -1); a query asks for one group.
    - ``r``: column ``ctrl_rank``, a random permutation of ``0..n-1``; a query asks for a
      random window of ``round(s*n)`` consecutive ranks.
    - ``emis``: column ``ctrl_tags``; tag ``s<s>_<j>`` (j < 4) is on its own random
      ``round(s*n)`` items; a query asks for one of them.

    Returns:
        ``(columns to add to the base, one QuerySet per kind and level)``.
    """
    unknown = [k for k in kinds if k not in ("em", "r", "emis")]
    if unknown:
        raise ValueError(f"controlled sets exist for em, r, emis; got {unknown}")
    if not all(0 < s <= 1 for s in levels):
        raise ValueError(f"levels must be in (0, 1], got {list(levels)}")
    cols: dict[str, Any] = {}
    sets: list[QuerySet] = []
    tags: list[list[str]] = [[] for _ in range(n)]
    rank = _rng(seed, 20).permutation(n).astype(np.int64)
    for li, s in enumerate(levels):
        m = min(n, max(1, round(s * n)))
        rng = _rng(seed, 21, li)
        for kind in kinds:
            if kind == "em":
                groups = max(1, n // m)
                perm = rng.permutation(n)
                col = np.full(n, -1, dtype=np.int64)
                for g in range(groups):
                    col[perm[g * m : (g + 1) * m]] = g
                name = f"ctrl_em_{s:g}"
                cols[name] = col
                spec = WorkloadSpec("em", em=name)
                vals = [{"label": int(g)} for g in rng.integers(0, groups, nq)]
            elif kind == "r":
                cols["ctrl_rank"] = rank
                spec = WorkloadSpec("r", r="ctrl_rank")
                starts = rng.integers(0, n - m + 1, nq)
                vals = [{"range_start": int(a), "range_end": int(a + m - 1)} for a in starts]
            else:
                names = [f"s{s:g}_{j}" for j in range(4)]
                for t in names:
                    for i in rng.permutation(n)[:m].tolist():
                        tags[i].append(t)
                cols["ctrl_tags"] = tags
                spec = WorkloadSpec("emis", emis="ctrl_tags")
                vals = [{"tag": names[int(j)]} for j in rng.integers(0, len(names), nq)]
            sets.append((spec, vals, s))  # type: ignore[arg-type]
    built = []
    cache = _Columns(cols)
    for spec, vals, s in sets:  # type: ignore[misc]
        built.append(query_set_from_values(cols, spec, vals, level=s, _cols=cache))
    return cols, built


def filtered_knn(
    base: np.ndarray,
    queries: np.ndarray,
    masks: Optional[np.ndarray],
    k: int,
    *,
    progress: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact squared-L2 top-k of each query among the items its mask allows.

    Args:
        base: [n, d] (memmaps welcome; read tile by tile).
        queries: [nq, d].
        masks: bool [nq, n] or None for no filter.
        k: neighbours per query.
        progress: tqdm bar over queries.

    Returns:
        ``(ids int64 [nq, k], dists float32 [nq, k])`` ascending, -1 / inf where fewer
        than k items pass.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    n, nq = base.shape[0], queries.shape[0]
    if masks is not None and masks.shape != (nq, n):
        raise ValueError(f"masks have shape {masks.shape}, expected {(nq, n)}")
    x = np.ascontiguousarray(base, dtype=np.float32)
    q = np.ascontiguousarray(queries, dtype=np.float32)
    norms = np.einsum("ij,ij->i", x, x)
    keep = min(n, k + max(10, k // 4))
    tile = max(1, min(nq, _TILE_CELLS // max(n, 1)))
    ids = np.full((nq, k), -1, dtype=np.int64)
    dists = np.full((nq, k), np.inf, dtype=np.float32)
    with progress_bar(nq, "filtered ground truth", enabled=progress, unit="q") as bar:
        for q0 in range(0, nq, tile):
            qt = q[q0 : q0 + tile]
            d = qt @ x.T
            d *= np.float32(-2)
            d += norms[None, :]
            if masks is not None:
                d[~masks[q0 : q0 + tile]] = np.inf
            cand = np.argpartition(d, keep - 1, axis=1)[:, :keep] if keep < n else (
                np.broadcast_to(np.arange(n), d.shape))  # fmt: skip
            approx = np.take_along_axis(d, cand, axis=1)
            diff = x[cand].astype(np.float64) - qt[:, None, :].astype(np.float64)
            exact = np.einsum("ijk,ijk->ij", diff, diff)
            exact[~np.isfinite(approx)] = np.inf
            order = np.lexsort((cand, exact), axis=-1)[:, :k]
            top_d = np.take_along_axis(exact, order, axis=1)
            top_i = np.where(np.isfinite(top_d), np.take_along_axis(cand, order, axis=1), -1)
            w = top_d.shape[1]
            ids[q0 : q0 + tile, :w] = top_i
            dists[q0 : q0 + tile, :w] = top_d
            bar.update(qt.shape[0])
    return ids, dists


def cached_filtered_knn(
    base: np.ndarray,
    queries: np.ndarray,
    masks: Optional[np.ndarray],
    k: int,
    cache_dir: os.PathLike[str] | str,
    *,
    progress: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`filtered_knn`, cached as ``<cache_dir>/fgt-<hash>.npz``.

    The key hashes the bytes of the base, the queries and the packed masks plus k,
    so any change of data, filter values or k recomputes it; an unreadable cache
    file is recomputed too.
    """
    h = hashlib.blake2b(digest_size=12)
    for part in (base, queries):
        arr = np.ascontiguousarray(part, dtype=np.float32)
        h.update(str(arr.shape).encode())
        h.update(memoryview(arr).cast("B"))
    h.update(b"nomask" if masks is None else np.packbits(masks, axis=None).tobytes())
    h.update(f"k={k};l2;v1".encode())
    path = Path(cache_dir) / f"fgt-{h.hexdigest()}.npz"
    if path.exists():
        try:
            with np.load(path, allow_pickle=False) as z:
                ids, dists = z["ids"], z["dists"]
            if ids.shape == (queries.shape[0], k):
                return ids, dists
        except (OSError, ValueError, KeyError):
            pass
    ids, dists = filtered_knn(base, queries, masks, k, progress=progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp.npz")
    np.savez(tmp, ids=ids, dists=dists)
    os.replace(tmp, path)
    return ids, dists
