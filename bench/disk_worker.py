"""The disk suite's child processes: ``python -m bench.disk_worker TASK SPEC.json RESULT.json``, TASK
one of build, search, lancedb-build, lancedb-search (bench/disk_lancedb.py).

Each build and each search configuration runs in a fresh process, so its peak RSS (VmHWM) is its
own: the harness's data, and an earlier configuration's pages, never count. The parent passes a
JSON spec and reads a JSON result; nothing else is shared.
"""
from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from .disk_data import drop_cache, open_base
from .rss import peak_rss_bytes, reset_peak, rss_bytes, status_kb
from .measure import recall_at_k

MiB = 2**20


def _memory() -> dict[str, float]:
    """This process's RSS now, its peak, and the anonymous / file-backed split of RSS (MiB)."""
    return {"rss_mb": rss_bytes() / MiB, "peak_rss_mb": peak_rss_bytes() / MiB,
            "rss_anon_mb": status_kb("RssAnon") / 1024, "rss_file_mb": status_kb("RssFile") / 1024}


class PeakSampler:
    """Highest anonymous and file-backed RSS seen, sampled every ``interval`` s on a thread.

    VmHWM is one total; the kernel keeps no peak per kind, and the kinds differ in kind: file pages
    (a spill mapping, touched vector pages) are clean or written back and the kernel can drop them,
    anonymous ones it cannot. Sampling can miss a peak shorter than the interval.
    """

    def __init__(self, interval: float = 0.2) -> None:
        import threading

        self.anon_mb = self.file_mb = 0.0
        self._stop = threading.Event()
        self._interval = interval
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        self.anon_mb = max(self.anon_mb, status_kb("RssAnon") / 1024)
        self.file_mb = max(self.file_mb, status_kb("RssFile") / 1024)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._sample()

    def __enter__(self) -> "PeakSampler":
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def result(self) -> dict[str, float]:
        return {"peak_anon_mb": self.anon_mb, "peak_file_mb": self.file_mb}


def build(spec: dict[str, Any]) -> dict[str, Any]:
    """Build the index over the first ``n`` rows of ``spec["source"]`` and save it to ``spec["index"]``.

    ``vecsearch.build_on_disk`` when the library has it (bounded memory); else ``Index.add`` from
    chunks of the memmap and ``save``, which holds every vector in RAM.
    """
    import vecsearch

    start_memory = _memory()
    source = open_base(spec["source"], spec["n"])
    path = Path(spec["index"])
    params = dict(M=spec["M"], ef_construction=spec["ef_construction"], seed=spec["seed"])
    start = time.perf_counter()
    with PeakSampler() as sampler:
        method, save_seconds = _build_index(vecsearch, spec, source, path, params)
    seconds = time.perf_counter() - start
    memory = _memory()
    drop_cache(spec["source"])  # leave the page cache to the index file
    return dict(method=method, seconds=seconds, save_seconds=save_seconds, file_bytes=path.stat().st_size,
                start_rss_mb=start_memory["rss_mb"], peak_rss_mb=memory["peak_rss_mb"], **sampler.result(),
                n=spec["n"], cpu_seconds=_cpu_seconds())


def _build_index(vecsearch: Any, spec: dict[str, Any], source: np.ndarray, path: Path,
                 params: dict[str, Any]) -> tuple[str, float | None]:
    """The build itself (build_on_disk: the vectors never whole in RAM); returns the method and
    the seconds spent saving (None: part of the build)."""
    vecsearch.build_on_disk(path, source, metric="l2", storage=spec["storage"], num_threads=spec["threads"],
                            refine=spec.get("refine"),  # absent: "none"
                            memory_budget=spec["memory_budget"], progress=spec.get("progress", True),
                            load=False,  # loading is the search process's to measure, not the build's
                            **params)
    return "build_on_disk", None


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _io() -> dict[str, int]:
    """Bytes this process read from storage (missed the page cache) and its major faults so far."""
    read = 0
    try:
        with open("/proc/self/io") as f:
            read = int(next(line for line in f if line.startswith("read_bytes:")).split()[1])
    except (OSError, StopIteration, ValueError):
        pass
    return {"read_bytes": read, "majflt": resource.getrusage(resource.RUSAGE_SELF).ru_majflt}


def search(spec: dict[str, Any]) -> dict[str, Any]:
    """Load the index (vectors on disk through ``disk_io``, or wholly in RAM) and measure every point.

    Cold points first, each after the index file's pages are dropped (and, for a mapping, released
    from this process); then warm points, each after an untimed pass over the same queries.
    """
    import vecsearch

    path = Path(spec["index"])
    queries = np.load(spec["queries"])
    truth = np.load(spec["truth"])
    k, on_disk = spec["k"], spec["mode"] == "disk"
    kwargs: dict[str, Any] = {"vectors_on_disk": on_disk}
    if on_disk:
        kwargs["disk_io"] = spec["disk_io"]
    baseline = _memory()  # interpreter, numpy, vecsearch, queries: not the index's
    if on_disk:
        drop_cache(path)  # the load is measured from a cold cache too
    start = time.perf_counter()
    index = vecsearch.Index.load(path, **kwargs)
    load_seconds = time.perf_counter() - start
    filter_expr = None
    if spec.get("filter"):
        from vecsearch import F

        from .disk_data import FILTER_BUCKETS, filter_buckets

        ids = np.arange(len(index), dtype=np.uint64)  # build_on_disk without ids: row i has id i
        index.set_attributes(ids, {"bucket": (ids % FILTER_BUCKETS).astype(np.int64)})
        filter_expr = F("bucket") < filter_buckets(spec["filter"])
        index.explain(queries[0], filter_expr)  # the planner's one-time cost calibration, before any point
    after_load = _memory()
    parts = index.memory_usage()
    reset_peak()  # from here on, VmHWM is the search's peak, not the load's (which verifies every page)
    points = []
    with PeakSampler() as sampler:
        for cache in spec["caches"]:
            for ef, rerank in spec["points"]:
                points.append(_point(index, path, queries, truth, k, ef, rerank, cache, spec["reps"], filter_expr))
                _print_point(spec, points[-1])
    return dict(mode=spec["mode"], disk_io=kwargs.get("disk_io", "mmap" if on_disk else None), filter=spec.get("filter"),
                load_seconds=load_seconds, baseline=baseline, after_load=after_load,
                search={**_memory(), **sampler.result()}, memory_usage=parts, library_stats=hasattr(index, "stats"),
                points=points)


def _point(index: Any, path: Path, queries: np.ndarray, truth: np.ndarray, k: int, ef: int, rerank: int,
           cache: str, reps: int, filter_expr: Any = None) -> dict[str, Any]:
    def run() -> tuple[np.ndarray, float]:
        t0 = time.perf_counter()
        extra = {} if filter_expr is None else {"filter": filter_expr}
        ids, _ = index.search(queries, k=k, ef=ef, rerank=rerank, num_threads=1, **extra)
        return ids, time.perf_counter() - t0

    if cache == "cold":
        keepalive = getattr(index, "_keepalive", None)  # a mapping of the file: this process's pages too
        if keepalive is not None and hasattr(keepalive, "release") and keepalive.has("vectors"):
            keepalive.release("vectors")
        drop_cache(path)
        reps = 1  # only the first pass after the drop is cold
    else:
        ids, _ = run()  # warm-up: the pages these queries re-rank come into the cache
    if hasattr(index, "reset_stats"):
        index.reset_stats()
    before, times = _io(), []
    for _ in range(reps):
        ids, seconds = run()
        times.append(seconds)
    after = _io()
    nq, passes = len(queries), len(times)
    row = dict(cache=cache, ef=ef, rerank=rerank, recall=recall_at_k(ids.astype(np.int64), truth, k),
               qps=nq / min(times), times=times,
               read_kb_per_query=(after["read_bytes"] - before["read_bytes"]) / (nq * passes) / 1024,
               majflt_per_query=(after["majflt"] - before["majflt"]) / (nq * passes))
    if hasattr(index, "stats"):
        stats = index.stats()
        io = stats.get("io") or stats.get("disk") or {}  # "disk" was the name in the plan
        for key in ("rows_reranked", "rows_read", "rows_missed_cache", "bytes_read", "read_calls"):
            if key in io:
                row[f"lib_{key}_per_query"] = io[key] / (nq * passes)
    return row


def _print_point(spec: dict[str, Any], p: dict[str, Any]) -> None:
    label = f"{spec['mode']}/{spec['disk_io']}" if spec["mode"] == "disk" else "ram"
    if spec.get("filter"):
        label += f" {spec['filter']:.0%}"
    lib = f" lib={p['lib_bytes_read_per_query'] / 1024:7.1f} KiB/q" if "lib_bytes_read_per_query" in p else ""
    print(f"  {label:10s} {p['cache']:4s} ef={p['ef']:4d} rerank={p['rerank']:4d} recall@{spec['k']}={p['recall']:.4f} "
          f"QPS={p['qps']:7.0f} read={p['read_kb_per_query']:7.1f} KiB/q majflt={p['majflt_per_query']:5.1f}/q{lib}",
          flush=True)


def main(argv: list[str]) -> int:
    task, spec_path, result_path = argv
    spec = json.loads(Path(spec_path).read_text())
    from . import disk_lancedb

    tasks = {"build": build, "search": search, "lancedb-build": disk_lancedb.build,
             "lancedb-search": disk_lancedb.search}
    result = tasks[task](spec)
    tmp = Path(result_path + ".partial")
    tmp.write_text(json.dumps(result, indent=1))
    os.replace(tmp, result_path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
