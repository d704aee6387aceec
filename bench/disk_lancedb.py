"""LanceDB as the disk suite's peer: an embedded store whose vectors live in its own files.

The base rows stream from the memmapped ``.npy`` into a Lance table (``id``, ``vector``) in
batches, then an ``IVF_PQ`` index is trained: ``sqrt(n)`` partitions and one PQ sub-quantizer
per 4 dimensions (as the vecsearch index's PQ), the configuration LanceDB documents for large
tables. A search probes ``nprobes`` partitions on the PQ codes and, with ``refine_factor`` r,
reads ``r * k`` full vectors from the table's files to re-rank them: its counterpart of our
re-rank reads. Every (nprobes, refine_factor) pair of the sweep is measured cold (the table's
file pages dropped first) and warm, with the bytes this process read from storage, as for
vecsearch. Queries go as one batch call per pass (LanceDB's multi-vector query, its fastest
form); LanceDB runs its own thread pool, so it is not held to one search thread (reported).
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from .disk_data import drop_cache, open_base
from .measure import recall_at_k

BATCH_ROWS = 65_536
# Finer around the refine factors and probe counts where recall@10 crosses 0.95 (1M x 384).
NPROBES = (8, 16, 24, 32, 48, 64, 128)
REFINE_FACTORS = (1, 4, 6, 10, 30)


def build(spec: dict[str, Any]) -> dict[str, Any]:
    """The table and its IVF_PQ index under ``spec["dir"]``; wall time, peak RSS, bytes on disk."""
    import lancedb
    import lancedb.index
    import pyarrow as pa

    from .disk_worker import PeakSampler, _memory

    base = open_base(spec["source"], spec["n"])
    n, dim = base.shape
    schema = pa.schema([pa.field("id", pa.int64()), pa.field("vector", pa.list_(pa.float32(), dim))])

    def batches():
        for start in range(0, n, BATCH_ROWS):
            rows = np.ascontiguousarray(base[start:start + BATCH_ROWS], dtype=np.float32)
            yield pa.RecordBatch.from_arrays(
                [pa.array(np.arange(start, start + len(rows), dtype=np.int64)),
                 pa.FixedSizeListArray.from_arrays(pa.array(rows.ravel()), dim)], schema=schema)

    start = time.perf_counter()
    with PeakSampler() as sampler:
        table = lancedb.connect(spec["dir"]).create_table("base", batches(), schema=schema, mode="overwrite")
        loaded = time.perf_counter() - start
        partitions = max(1, int(round(np.sqrt(n))))
        table.create_index("vector", config=lancedb.index.IvfPq(
            distance_type="l2", num_partitions=partitions, num_sub_vectors=dim // 4))
    seconds = time.perf_counter() - start
    return dict(method="lancedb IVF_PQ", seconds=seconds, load_seconds=loaded, partitions=partitions,
                sub_vectors=dim // 4, file_bytes=_dir_bytes(spec["dir"]), **_memory(), **sampler.result(),
                version=lancedb.__version__)


def search(spec: dict[str, Any]) -> dict[str, Any]:
    """Every (nprobes, refine_factor) point, cold then warm, with recall, QPS and bytes read."""
    import lancedb

    from .disk_worker import PeakSampler, _io, _memory

    queries = np.load(spec["queries"])
    truth = np.load(spec["truth"])
    k = spec["k"]
    baseline = _memory()
    _drop_dir(spec["dir"])
    start = time.perf_counter()
    table = lancedb.connect(spec["dir"]).open_table("base")
    load_seconds = time.perf_counter() - start

    def run(nprobes: int, refine: int) -> tuple[np.ndarray, float]:
        t0 = time.perf_counter()
        query = table.search(list(queries)).nprobes(nprobes).limit(k).select(["id", "_distance"])
        if refine > 1:
            query = query.refine_factor(refine)
        result = query.to_arrow()
        seconds = time.perf_counter() - t0
        ids = np.full((len(queries), k), -1, dtype=np.int64)
        which, found = result.column("query_index").to_numpy(), result.column("id").to_numpy()
        for i in range(len(queries)):
            mine = found[which == i][:k]
            ids[i, :mine.size] = mine
        return ids, seconds

    points = []
    with PeakSampler() as sampler:
        for cache in ("cold", "warm"):
            for nprobes in spec.get("nprobes", NPROBES):
                for refine in spec.get("refine_factors", REFINE_FACTORS):
                    if cache == "cold":
                        _drop_dir(spec["dir"])
                        reps = 1
                    else:
                        run(nprobes, refine)
                        reps = spec["reps"]
                    before, times = _io(), []
                    for _ in range(reps):
                        ids, seconds = run(nprobes, refine)
                        times.append(seconds)
                    after = _io()
                    nq = len(queries) * len(times)
                    points.append(dict(cache=cache, nprobes=nprobes, refine_factor=refine,
                                       recall=recall_at_k(ids, truth, k), qps=len(queries) / min(times),
                                       read_kb_per_query=(after["read_bytes"] - before["read_bytes"]) / nq / 1024,
                                       majflt_per_query=(after["majflt"] - before["majflt"]) / nq))
                    p = points[-1]
                    print(f"  lancedb    {cache:4s} nprobes={nprobes:4d} refine={refine:3d} recall@{k}={p['recall']:.4f} "
                          f"QPS={p['qps']:7.0f} read={p['read_kb_per_query']:7.1f} KiB/q", flush=True)
    return dict(mode="lancedb", disk_io="lance", load_seconds=load_seconds, baseline=baseline,
                search={**_memory(), **sampler.result()}, points=points)


def _dir_bytes(directory: str) -> int:
    return sum(f.stat().st_size for f in Path(directory).rglob("*") if f.is_file())


def _drop_dir(directory: str) -> None:
    for root, _, files in os.walk(directory):
        for name in files:
            drop_cache(os.path.join(root, name))
