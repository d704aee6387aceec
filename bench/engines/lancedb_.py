"""LanceDB adapter: the embedded, filtered vector store many applications pick.

The base goes into a Lance table on disk (a temporary directory) with an ``id`` column,
the vectors and every attribute column, with scalar indexes on the attributes (BTREE
for numbers, BITMAP for categories, LABEL_LIST for tags) and an ``IVF_HNSW_SQ`` vector
index (HNSW with ``M`` links over SQ codes, one partition per ~100k rows, every
partition probed). Filters are SQL where-clauses (:mod:`bench.engines.sql`).

- ``lancedb-pre``: ``where(sql, prefilter=True)``, knob ``ef``;
- ``lancedb-post``: ``where(sql, prefilter=False)``: the walk fetches ``max(k, ef)``
  rows, the filter drops the failing ones, and the first k are kept; knob ``ef``.

A filter shared by the batch is one multi-vector query (LanceDB's batch call); per-query
filters are one call per query, as its API has no batch form for them. LanceDB runs its
own thread pool: searches are not held to one thread (noted in the reports).
Per-query id-list filters (the filtered suite's ``anti`` workload) have no SQL form short
of ``id IN (...)`` over thousands of ids, so the method declines those cases.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from typing import Any

import numpy as np

from ..filtered_data import FilterCase
from ..records import BuildResult
from ._version import dist_version
from .filtered import FilteredMethod
from .sql import safe_names, to_sql

#: Rows per IVF partition: each partition holds one HNSW graph.
_PARTITION_ROWS = 100_000


class LanceDbMethod(FilteredMethod):
    name = "lancedb"
    curves = ("pre", "post")
    filters = "sql"
    disk = True

    def __init__(self, params: Any) -> None:
        super().__init__(params)
        import lancedb  # ImportError here: the method is skipped with the reason
        import lancedb.index
        import pyarrow as pa

        self.lancedb, self.index_configs, self.pa = lancedb, lancedb.index, pa

    @property
    def version(self) -> str:
        return dist_version("lancedb", self.lancedb)

    def build(
        self, data: np.ndarray, attributes: dict[str, Any], threads: int, progress: bool
    ) -> BuildResult | None:
        pa = self.pa
        n, dim = data.shape
        columns = {
            "id": pa.array(np.arange(n, dtype=np.int64)),
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(data.ravel()), dim),
        }
        self.names = safe_names(list(attributes))
        columns.update({self.names[name]: _arrow_column(pa, v) for name, v in attributes.items()})
        self._dir = tempfile.mkdtemp(prefix="bench-lancedb-")
        start = time.perf_counter()
        table = self.lancedb.connect(self._dir).create_table("base", pa.table(columns))
        index = self.index_configs
        for name, column in columns.items():
            if name == "vector":
                continue
            kind = index.LabelList() if pa.types.is_list(column.type) else (
                index.Bitmap() if pa.types.is_string(column.type) else index.BTree())
            table.create_index(name, config=kind)
        table.create_index("vector", config=index.IvfHnswSq(
            distance_type="l2", num_partitions=max(1, n // _PARTITION_ROWS), m=self.params.M,
            ef_construction=self.params.ef_construction,
        ))  # fmt: skip
        self.table = table
        self.partitions = max(1, n // _PARTITION_ROWS)
        return BuildResult(self.name, threads, time.perf_counter() - start, n)

    def case_curves(self, case: FilterCase) -> tuple[str, ...]:
        if case.expr is None and not getattr(case, "exprs", None) and case.mask is None:
            return ()  # an id-list filter per query: no SQL form (see the module docstring)
        return self.curves

    def prepare(self, case: FilterCase) -> Any:
        exprs = getattr(case, "exprs", None)
        if exprs:
            return [to_sql(e, self.names) for e in exprs]
        if case.expr is not None:
            return to_sql(case.expr, self.names)
        return None  # no filter: the unfiltered case

    def search(
        self, queries: np.ndarray, k: int, ef: int, prepared: Any, curve: str
    ) -> tuple[np.ndarray, int]:
        ids = np.full((queries.shape[0], k), -1, dtype=np.int64)
        if isinstance(prepared, list):
            for i, (q, where) in enumerate(zip(queries, prepared)):
                found = self._query(q, where, k, ef, curve).column("id").to_numpy()
                ids[i, : found.size] = found[:k]
            return ids, 0
        result = self._query(list(queries), prepared, k, ef, curve)
        rows = result.column("query_index").to_numpy()
        found = result.column("id").to_numpy()
        for i in range(queries.shape[0]):  # rows come grouped by query, nearest first
            mine = found[rows == i][:k]
            ids[i, : mine.size] = mine
        return ids, 0

    def _query(self, q: Any, where: str | None, k: int, ef: int, curve: str) -> Any:
        post = curve == "post"
        builder = self.table.search(q).limit(max(k, ef) if post else k)
        if where is not None:
            builder = builder.where(where, prefilter=not post)
        builder = builder.nprobes(self.partitions).ef(max(ef, k)).select(["id", "_distance"])
        return builder.to_arrow()

    def close(self) -> None:
        self.__dict__.pop("table", None)
        scratch = self.__dict__.pop("_dir", None)
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)


def _arrow_column(pa: Any, values: Any) -> Any:
    """An attribute column as arrow: numpy arrays as they are, lists of lists as tags."""
    if isinstance(values, np.ndarray):
        return pa.array(values.tolist() if values.dtype.kind == "U" else values)
    values = list(values)
    if values and isinstance(values[0], (list, tuple)):
        return pa.array(values, type=pa.list_(pa.string()))
    return pa.array(values)
