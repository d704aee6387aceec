"""Inputs of the FANNS suite: a data source, its query sets, and the cases measured.

``--data`` picks the source:

- ``generated`` (default): :func:`bench.datasets.generate_arxiv_like`, seeded;
- ``arxiv-fanns:<dir>``: the published 10-file layout (its EM/R/EMIS query files and
  ground truth; EM+R is sampled here);
- ``debian:<dir>``: the debian-minilm layout;
- ``parquet:<file>``: vectors + attributes; the last ``--nq`` rows become the queries.

Each query set is split by the measured selectivity of each query's filter into
buckets (<1%, 1-10%, 10-50%, >50%); controlled sets form one bucket per level.
A *case* is one (query set, bucket) with its queries, filters and exact truth.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

from ..datasets import (
    ARXIV_WORKLOADS,
    QuerySet,
    WorkloadSpec,
    cached_filtered_knn,
    controlled_sets,
    make_query_set,
)
from ..datasets.arxiv_like import ARXIV_LIKE_VERSION, generate_arxiv_like
from ..datasets.workloads import BUCKETS, query_set_from_values

from ..data import file_identity
from ..filtered_data import FilterCase

WORKLOADS = ("unfiltered", "em", "r", "emis", "em+r")
CONTROLLED_KINDS = ("em", "r", "emis")


@dataclass
class FannsData:
    """Vectors, the attribute columns the filters need, and the natural query sets.

    Attributes:
        name: label for reports.
        synthetic: generated data (reports say so).
        base, queries: float32, C-contiguous.
        columns: attribute columns given to the indexes (only those filters use).
        specs: workload -> columns it filters on.
        given: workload -> query set read from files (arxiv-fanns), else sampled.
        given_truth: workload -> ragged published ground truth, when present.
        identity: JSON-able description of the source.
    """

    name: str
    synthetic: bool
    base: np.ndarray
    queries: np.ndarray
    columns: dict[str, Any]
    specs: dict[str, WorkloadSpec]
    identity: dict[str, Any]
    given: dict[str, QuerySet] = field(default_factory=dict)
    given_truth: dict[str, list[np.ndarray]] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(self.base.shape[0])

    @property
    def nq(self) -> int:
        return int(self.queries.shape[0])

    @property
    def dim(self) -> int:
        return int(self.base.shape[1])


@dataclass
class FannsCase(FilterCase):
    """One (query set, bucket): a :class:`FilterCase` whose filter differs per query.

    ``masks`` holds each query's passing items as a bool row (hnswlib, faiss; brute force
    turns them into id lists per case when it prepares), ``exprs`` the vecsearch
    expressions; ``expr``/``mask``/``allowed`` of the base class stay None except for the
    unfiltered case (an all-true ``mask``).
    """

    bucket: str = ""
    level: Optional[float] = None
    rows: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    queries: np.ndarray = field(default_factory=lambda: np.empty((0, 0), np.float32))
    masks: Optional[np.ndarray] = None
    exprs: list[Any] = field(default_factory=list)
    truth_dists: np.ndarray = field(default_factory=lambda: np.empty((0, 0), np.float32))
    selectivities: np.ndarray = field(default_factory=lambda: np.empty(0))

    def query_mask(self, i: int, n: int) -> np.ndarray:
        if self.masks is None:
            assert self.mask is not None
            return self.mask
        return self.masks[i]

    @property
    def unfiltered(self) -> bool:
        return self.workload == "unfiltered"

    @property
    def key(self) -> str:
        return f"{self.workload} {self.bucket}"


def _parse_columns(text: str) -> dict[str, str]:
    out = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        kind, _, col = part.partition("=")
        if kind not in ("em", "r", "emis") or not col:
            raise ValueError(f"--filter-columns: expected em=COL,r=COL,emis=COL; got {part!r}")
        out[kind] = col
    return out


def _specs(em: Optional[str], r: Optional[str], emis: Optional[str]) -> dict[str, WorkloadSpec]:
    specs = {"unfiltered": WorkloadSpec("unfiltered")}
    if em:
        specs["em"] = WorkloadSpec("em", em=em)
    if r:
        specs["r"] = WorkloadSpec("r", r=r)
    if emis:
        specs["emis"] = WorkloadSpec("emis", emis=emis)
    if em and r:
        specs["em+r"] = WorkloadSpec("em+r", em=em, r=r)
    return specs


def load_source(
    source: str, n: Optional[int], nq: Optional[int], dim: int, seed: int, filter_columns: str = "",
    query_filters: str = "sampled",
) -> FannsData:
    """Load (or generate) the data named by ``--data``.

    ``query_filters="own"`` (debian only) gives each query its own package's filters
    (:func:`bench.datasets.debian.own_filter_values`) instead of values sampled from items.

    Raises:
        ValueError: unknown source kind, bad sizes, or columns the data does not have.
    """
    kind, _, arg = source.partition(":")
    override = _parse_columns(filter_columns)
    if query_filters not in ("sampled", "own"):
        raise ValueError(f"--query-filters: sampled or own, got {query_filters!r}")
    if query_filters == "own" and kind != "debian":
        raise ValueError("--query-filters own needs --data debian:<dir> (its queries' own attributes)")
    if kind == "generated":
        if not n or not nq:
            raise ValueError("generated data needs --n and --nq")
        ds = generate_arxiv_like(n, nq, dim, seed=seed)
        cols = {**dict(zip(("em", "r", "emis"), (c for c in _arxiv_cols()))), **override}
        identity = {"kind": "arxiv-like", "version": ARXIV_LIKE_VERSION, "n": n, "nq": nq,
                    "dim": dim, "seed": seed}  # fmt: skip
        data = FannsData(f"arxiv-like-{n}x{dim}", True, ds.base, ds.queries, ds.attributes,
                         _specs(cols.get("em"), cols.get("r"), cols.get("emis")), identity)  # fmt: skip
    elif kind == "arxiv-fanns":
        data = _arxiv_fanns(arg, n, nq, override)
    elif kind == "debian":
        from ..datasets.debian import DEBIAN_WORKLOADS, load_debian, own_filter_values

        ds = load_debian(arg)
        em, r, emis = DEBIAN_WORKLOADS["em+r"][0], DEBIAN_WORKLOADS["r"][1], DEBIAN_WORKLOADS["emis"][2]
        cols = {"em": em, "r": r, "emis": emis, **override}
        base = np.ascontiguousarray(ds.base[:n], dtype=np.float32)
        attrs = {k: v[: base.shape[0]] for k, v in ds.attributes.items()}
        queries = np.ascontiguousarray(ds.queries[:nq], dtype=np.float32)
        data = FannsData(f"debian-minilm-{base.shape[0]}x{base.shape[1]}", False, base, queries,
                         attrs, _specs(cols.get("em"), cols.get("r"), cols.get("emis")),
                         {"kind": "debian", **file_identity(Path(arg) / "base.npy"),
                          "n": base.shape[0], "nq": queries.shape[0]})  # fmt: skip
        if query_filters == "own":
            if override:
                raise ValueError("--query-filters own uses the debian columns: drop --filter-columns")
            data.identity["query_filters"] = "own"
            for w, values in own_filter_values(attrs, ds.query_attributes, queries.shape[0]).items():
                data.given[w] = query_set_from_values(attrs, data.specs[w], values)
    elif kind == "parquet":
        from vecsearch.datasets.parquet import load_parquet

        if not override:
            raise ValueError("parquet data needs --filter-columns em=COL,r=COL,emis=COL")
        vectors, attrs = load_parquet(arg)
        nq = nq or 100
        if vectors.shape[0] <= nq:
            raise ValueError(f"{arg}: {vectors.shape[0]} rows, need more than --nq {nq}")
        stop = vectors.shape[0] - nq
        base = vectors[: min(stop, n) if n else stop]
        data = FannsData(f"{Path(arg).stem}-{base.shape[0]}x{base.shape[1]}", False,
                         np.ascontiguousarray(base), np.ascontiguousarray(vectors[stop:]),
                         {k: v[: base.shape[0]] for k, v in attrs.items()},
                         _specs(override.get("em"), override.get("r"), override.get("emis")),
                         {"kind": "parquet", **file_identity(Path(arg))})  # fmt: skip
    else:
        raise ValueError(
            f"--data: unknown source {source!r}; use generated, arxiv-fanns:<dir>, debian:<dir>"
            " or parquet:<file>"
        )
    used = {c for s in data.specs.values() for c in (s.em, s.r, s.emis) if c}
    missing = sorted(used - set(data.columns))
    if missing:
        raise ValueError(f"{data.name}: no attribute column(s) {missing}; have {sorted(data.columns)}")
    data.columns = {c: data.columns[c] for c in sorted(used)}
    return data


def _arxiv_cols() -> tuple[str, str, str]:
    em, r = ARXIV_WORKLOADS["em+r"][0], ARXIV_WORKLOADS["em+r"][1]
    return em, r, ARXIV_WORKLOADS["emis"][2]  # type: ignore[return-value]


def _arxiv_fanns(directory: str, n: Optional[int], nq: Optional[int], override: dict[str, str]) -> FannsData:
    from vecsearch.datasets import load_fanns

    ds = load_fanns(directory)
    if n is not None and n < ds.n:
        raise ValueError("--n cannot cut an arxiv-fanns set: its ground truth covers every item")
    nq = min(nq or ds.nq, ds.nq)
    em, r, emis = _arxiv_cols()
    specs = _specs(em, r, emis)
    queries = np.ascontiguousarray(ds.queries[:nq], dtype=np.float32)
    data = FannsData(f"arxiv-for-fanns-{ds.n}x{ds.base.shape[1]}", False,
                     np.ascontiguousarray(ds.base, dtype=np.float32), queries, ds.attributes, specs,
                     {"kind": "arxiv-fanns", **file_identity(Path(directory) / "database_vectors.fvecs"),
                      "nq": nq})  # fmt: skip
    given_values = {
        "em": [{"label": int(v)} for v in ds.em_labels[:nq]],
        "r": [{"range_start": int(a), "range_end": int(b)} for a, b in ds.r_ranges[:nq]],
        "emis": [{"tag": v} for v in ds.emis_labels[:nq]],
    }
    for w, values in given_values.items():
        data.given[w] = query_set_from_values(ds.attributes, specs[w], values)
    for w, rows in ds.ground_truth.items():
        data.given_truth[w] = rows[:nq]
    return data


def query_sets(
    data: FannsData, workloads: Sequence[str], controlled: Sequence[str],
    levels: Sequence[float], seed: int,
) -> list[QuerySet]:
    """Natural sets per workload (given or sampled) then controlled sets; adds the
    controlled columns to ``data.columns``."""
    sets = []
    for w in workloads:
        if w not in WORKLOADS:
            raise ValueError(f"--workloads: unknown {w!r}; choose from {','.join(WORKLOADS)}")
        if w not in data.specs:
            raise ValueError(f"workload {w!r} needs a filter column this data set lacks")
        sets.append(data.given.get(w) or make_query_set(data.columns, data.specs[w], data.nq, seed))
    if controlled and levels:
        extra, ctrl = controlled_sets(data.n, data.nq, controlled, levels, seed)
        data.columns.update(extra)
        sets += ctrl
    return sets


def build_cases(
    data: FannsData, sets: Sequence[QuerySet], k: int, cache_dir: Path, *,
    min_queries: int = 5, progress: bool = True,
) -> tuple[list[FannsCase], list[str]]:
    """Split every query set into selectivity buckets with exact truth.

    Buckets with fewer than ``min_queries`` queries are dropped (listed in the notes).
    """
    cases, notes = [], []
    order = [b[0] for b in BUCKETS]
    for qs in sets:
        unfiltered = qs.workload == "unfiltered"
        masks = None if unfiltered else qs.masks
        given = data.given_truth.get(qs.workload) if qs.level is None else None
        if given is not None and k <= 100:
            ids = _pad(given, k)
            dists = _distances(data.base, data.queries, ids)
        else:
            ids, dists = cached_filtered_knn(data.base, data.queries, masks, k, cache_dir,
                                             progress=progress)  # fmt: skip
        buckets = np.array(["all"] * data.nq if unfiltered else qs.buckets())
        left_out = ~qs.member
        if left_out.any():
            buckets[left_out] = ""  # no bucket: such a query has no filter value in this set
            notes.append(f"{qs.name}: {int(left_out.sum())} queries without a value, left out")
        sel = qs.selectivity
        for b in (["all"] if unfiltered else sorted(set(buckets) - {""}, key=_bucket_order(order))):
            rows = np.flatnonzero(buckets == b)
            if rows.size < min_queries:
                notes.append(f"{qs.name} {b}: {rows.size} queries, under {min_queries}: not measured")
                continue
            sub_masks = None if unfiltered else np.ascontiguousarray(qs.masks[rows])
            cases.append(FannsCase(
                workload=qs.name, selectivity=float(sel[rows].mean()),
                matches=int(qs.masks[rows].sum(axis=1).mean()), truth=ids[rows],
                mask=np.ones(data.n, dtype=bool) if unfiltered else None,
                bucket=b, level=qs.level, rows=rows, queries=np.ascontiguousarray(data.queries[rows]),
                masks=sub_masks, exprs=[] if unfiltered else [qs.exprs[i] for i in rows],
                truth_dists=dists[rows], selectivities=sel[rows],
            ))  # fmt: skip
    return cases, notes


def _bucket_order(order: list[str]) -> Any:
    return lambda b: (order.index(b) if b in order else len(order), b)


def _pad(rows: Sequence[np.ndarray], k: int) -> np.ndarray:
    from vecsearch.datasets import pad_ground_truth

    return pad_ground_truth(rows, k)


def _distances(base: np.ndarray, queries: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Squared L2 of each truth id (inf for -1), for tie-aware recall."""
    safe = np.maximum(ids, 0)
    diff = base[safe].astype(np.float64) - queries[:, None, :].astype(np.float64)
    d = np.einsum("ijk,ijk->ij", diff, diff).astype(np.float32)
    d[ids < 0] = np.inf
    return d


def data_key(identity: dict[str, Any]) -> str:
    """Short stable hash of a source identity."""
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:12]
