"""``python -m bench disk``: an index with compact codes in RAM and its float vectors left in the
file (``Index.load(path, vectors_on_disk=True)``), against the same index wholly in RAM.

Per re-rank depth: recall@k, single-thread QPS, bytes the process read from storage per query
(``/proc/self/io`` ``read_bytes``: reads that missed the page cache) and major page faults per
query, with the page cache cold (the file's pages dropped with ``posix_fadvise(DONTNEED)``
before the point) and warm; and the process's RSS. Linux only for the I/O counters.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path
from typing import Any

import numpy as np

from .argtypes import int_list
from .data import add_vector_data_options

DISK_HELP = "codes in RAM, float vectors on disk (re-rank reads): recall, QPS, bytes read, RSS vs in-RAM"




def add_disk_options(p: argparse.ArgumentParser) -> None:
    add_vector_data_options(p, n=200_000, nq=500)
    p.add_argument("--storage", default="pq", choices=("sq8", "pq", "binary"), help="codes in RAM (default pq)")
    p.add_argument("--ef", type=int, default=32, help="beam width; widened to the re-rank depth (default 32)")
    p.add_argument("--reranks", type=int_list, default=(0, 32, 64, 128, 256, 512),
                   help="re-rank depths (default 0,32,64,128,256,512)")
    p.add_argument("--k", type=int, default=10, help="recall@k (default 10)")
    p.add_argument("--out", type=Path, default=Path("bench-results/disk"), help="results directory")


def _io() -> dict[str, int]:
    """Bytes this process read from storage and its major faults so far."""
    read = 0
    try:
        with open("/proc/self/io") as f:
            read = int(next(line for line in f if line.startswith("read_bytes:")).split()[1])
    except (OSError, StopIteration, ValueError):
        pass
    return {"read_bytes": read, "majflt": resource.getrusage(resource.RUSAGE_SELF).ru_majflt}


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        kb = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    return kb / 1024


def _drop_cache(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def _point(index: Any, queries: np.ndarray, truth: np.ndarray, k: int, ef: int, rerank: int,
           cold: Path | None) -> dict[str, Any]:
    if cold is not None:
        index._keepalive.release("vectors")  # this process's pages of the vectors, then the cache's
        _drop_cache(cold)
    before, start = _io(), time.perf_counter()
    ids, _ = index.search(queries, k=k, ef=ef, rerank=rerank, num_threads=1)
    seconds, after = time.perf_counter() - start, _io()
    hits = [len(set(a) & set(b)) for a, b in zip(ids.astype(np.int64), truth)]
    nq = len(queries)
    return dict(rerank=rerank, cache="cold" if cold else "warm", recall=float(np.mean(hits)) / k,
                qps=nq / seconds, read_kb_per_query=(after["read_bytes"] - before["read_bytes"]) / nq / 1024,
                majflt_per_query=(after["majflt"] - before["majflt"]) / nq, rss_mb=_rss_mb())


def run_disk(args: argparse.Namespace) -> int:
    import vecsearch

    from .data import from_args, ground_truth

    data = from_args(args)
    truth = ground_truth(data, args.k, args.out / "gt")
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{data.name}-{args.storage}.vs"
    start = time.perf_counter()
    built = vecsearch.Index(data.dim, "l2", storage=args.storage)
    built.add(data.base)
    built.save(path)
    print(f"{data.name}: {args.storage} index built and saved in {time.perf_counter() - start:.1f} s "
          f"({path.stat().st_size / 2**20:.0f} MiB)")
    del built
    rows = []
    for mode in ("disk", "ram"):
        index = vecsearch.Index.load(path, vectors_on_disk=(mode == "disk"))
        parts = index.memory_usage()
        caches = (path, None) if mode == "disk" else (None,)
        for cold in caches:
            for rerank in args.reranks:
                row = dict(mode=mode, **_point(index, data.queries, truth, args.k, args.ef, rerank, cold))
                row["ram_mb_index"] = (parts["total"] - (parts["vectors"] if mode == "disk" else 0)) / 2**20
                rows.append(row)
                print(f"  {mode:4s} {row['cache']:4s} rerank={rerank:4d} recall@{args.k}={row['recall']:.4f} "
                      f"QPS={row['qps']:8.0f} read={row['read_kb_per_query']:7.1f} KiB/q "
                      f"majflt={row['majflt_per_query']:6.1f}/q RSS={row['rss_mb']:7.0f} MiB")
        del index
    (args.out / "disk.json").write_text(json.dumps(dict(dataset=data.identity, storage=args.storage, ef=args.ef,
                                                        k=args.k, points=rows), indent=2))
    print(f"wrote {args.out / 'disk.json'}")
    return 0
