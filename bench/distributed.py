"""``python -m bench distributed``: one data set as 1, 2 and 4 shards of a ShardedIndex on a
local Ray, against one vecsearch Index over the same data.

For each layout: build time; recall@k at equal ef, unfiltered and with a shared filter (about
10 % of the rows), against exact ground truth; QPS of the whole query set; latency per batch
(p50 / p99) at several batch sizes; and the scatter-gather overhead per batch (the wall time of
the remote calls less the slowest shard's own search, from ``ShardedIndex.stats()``) and the
merge. The single index searches with every core; the shards share the same cores.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .argtypes import int_list
from .machine import machine_info
from .measure import recall_at_k

DISTRIBUTED_HELP = "ShardedIndex on a local Ray (1, 2, 4 shards) vs one Index: recall, QPS, latency, overhead"


def add_distributed_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", default="generated", metavar="SOURCE",
                   help="generated (the seeded synthetic mixture, --n x 384) or debian:<dir> (debian-minilm, "
                        "its public queries and its section column)")
    p.add_argument("--n", type=int, default=100_000, help="generated base rows (default 100000)")
    p.add_argument("--nq", type=int, default=1000, help="generated queries (default 1000)")
    p.add_argument("--shards", type=int_list, default=(1, 2, 4), help="shard counts (default 1,2,4)")
    p.add_argument("--efs", type=int_list, default=(16, 32, 64, 128), help="beam widths (default 16,32,64,128)")
    p.add_argument("--batch-sizes", type=int_list, default=(1, 10, 100, 1000),
                   help="queries per search call for the latency table (default 1,10,100,1000)")
    p.add_argument("--k", type=int, default=10, help="recall@k (default 10)")
    p.add_argument("--M", type=int, default=16, help="graph degree M (default 16)")
    p.add_argument("--ef-construction", type=int, default=200, help="(default 200)")
    p.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray (default 2)")
    p.add_argument("--out", type=Path, default=Path("bench-results/distributed"), help="results directory")


def _data(args: argparse.Namespace) -> tuple[str, np.ndarray, np.ndarray, dict, Any, np.ndarray]:
    """(name, base, queries, attributes, filter, mask of the rows the filter keeps)."""
    from vecsearch import F

    if args.data == "generated":
        from vecsearch.datasets import clustered_dataset

        base, queries = clustered_dataset(args.n, args.nq, 384, seed=0)
        year = np.random.default_rng(0).integers(2000, 2030, base.shape[0])
        return f"generated-{args.n}x384", base, queries, {"year": year}, F("year") >= 2027, year >= 2027
    kind, _, path = args.data.partition(":")
    if kind != "debian" or not path:
        raise ValueError(f"--data: use generated or debian:<dir>, got {args.data!r}")
    from .datasets.debian import load_debian

    d = load_debian(path)
    section = np.asarray(d.attributes["section"])
    base = np.ascontiguousarray(d.base, dtype=np.float32)
    return (f"debian-minilm-{base.shape[0]}x{base.shape[1]}", base, d.queries, {"section": section},
            F("section") == "libs", section == "libs")


def _truth(base: np.ndarray, queries: np.ndarray, k: int, mask: np.ndarray | None) -> np.ndarray:
    from vecsearch.datasets import exact_knn

    if mask is None:
        return exact_knn(base, queries, k, progress=False)[0]
    rows = np.flatnonzero(mask)
    return rows[exact_knn(base[rows], queries, k, progress=False)[0]]


def _timed(search: Callable[[np.ndarray], Any], queries: np.ndarray, batch: int, budget: float = 3.0) -> list[float]:
    """Seconds per call of `search` on consecutive batches of `batch` queries, for about `budget` s."""
    times, start, i = [], time.perf_counter(), 0
    while time.perf_counter() - start < budget or len(times) < 5:
        chunk = queries[i:i + batch] if i + batch <= len(queries) else queries[:batch]
        i = (i + batch) % max(len(queries) - batch + 1, 1)
        t = time.perf_counter()
        search(chunk)
        times.append(time.perf_counter() - t)
        if len(times) >= 2000:
            break
    return times


def run_distributed(args: argparse.Namespace) -> int:
    import ray

    import vecsearch
    from vecsearch.distributed import ShardedIndex

    name, base, queries, attrs, flt, mask = _data(args)
    k = args.k
    truth = {"none": _truth(base, queries, k, None), "filter": _truth(base, queries, k, mask)}
    print(f"{name}: {len(queries)} queries, filter keeps {mask.mean():.1%} of the rows")
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False)
    layouts: list[dict[str, Any]] = []

    def measure(label: str, index: Any, build_s: float, threads: int | None) -> None:
        extra = {} if threads is None else {"num_threads": threads}
        row: dict[str, Any] = {"layout": label, "build_s": build_s, "recall": {}, "qps": {}, "latency": {}}
        for case, f in (("none", None), ("filter", flt)):
            for ef in args.efs:
                found, _ = index.search(queries, k, ef=ef, filter=f, **extra)
                t = time.perf_counter()
                index.search(queries, k, ef=ef, filter=f, **extra)
                row["recall"][f"{case}@{ef}"] = recall_at_k(found.view(np.int64), truth[case], k)
                row["qps"][f"{case}@{ef}"] = len(queries) / (time.perf_counter() - t)
        ef = args.efs[len(args.efs) // 2]
        for batch in args.batch_sizes:
            if hasattr(index, "reset_stats") and threads is None:
                index.reset_stats()
            times = np.asarray(_timed(lambda q: index.search(q, k, ef=ef, **extra), queries, batch))
            cell = {"ef": ef, "p50_ms": 1e3 * float(np.percentile(times, 50)),
                    "p99_ms": 1e3 * float(np.percentile(times, 99)), "qps": batch / float(times.mean())}
            if threads is None:  # sharded: what distribution cost per batch
                lat = index.stats()["latency"]
                cell["overhead_ms"] = 1e3 * lat["overhead"]["p50"]
                cell["merge_ms"] = 1e3 * lat["merge"]["p50"]
            row["latency"][str(batch)] = cell
        layouts.append(row)
        print(json.dumps(row))

    single = vecsearch.Index(base.shape[1], M=args.M, ef_construction=args.ef_construction)
    t = time.perf_counter()
    single.add(base, attributes=attrs, num_threads=args.cpus)
    measure("one Index", single, time.perf_counter() - t, args.cpus)
    del single
    for shards in args.shards:
        index = ShardedIndex(base.shape[1], shards=shards, M=args.M, ef_construction=args.ef_construction)
        t = time.perf_counter()
        index.add(base, attributes=attrs)
        measure(f"{shards} shard{'s' if shards > 1 else ''}", index, time.perf_counter() - t, None)
        index.close()
    if started:
        ray.shutdown()
    args.out.mkdir(parents=True, exist_ok=True)
    result = {"data": name, "filter_selectivity": float(mask.mean()), "k": k, "cpus": args.cpus,
              "machine": machine_info(), "layouts": layouts}
    (args.out / "results.json").write_text(json.dumps(result, indent=1))
    report = _report(result, args)
    (args.out / "report.md").write_text(report)
    print(report)
    return 0


def _report(result: dict[str, Any], args: argparse.Namespace) -> str:
    lines = [f"# python -m bench distributed: {result['data']}, k={result['k']}, local Ray with "
             f"{result['cpus']} CPUs", "",
             f"Filter: shared by the batch, keeps {result['filter_selectivity']:.1%} of the rows. "
             "One Index searches with every CPU; the shards share them.", "",
             "## Recall@k and QPS at equal ef (whole query set in one call)", "",
             "| layout | build s | " + " | ".join(f"{c} ef={ef}" for c in ("none", "filter") for ef in args.efs) + " |",
             "|---|---|" + "---|" * (2 * len(args.efs))]
    for row in result["layouts"]:
        cells = [f"{row['recall'][f'{c}@{ef}']:.3f} / {row['qps'][f'{c}@{ef}']:,.0f}"
                 for c in ("none", "filter") for ef in args.efs]
        lines.append(f"| {row['layout']} | {row['build_s']:.1f} | " + " | ".join(cells) + " |")
    lines += ["", "Cells: recall / QPS.", "", "## Latency per batch (unfiltered)", "",
              "| layout | batch | ef | p50 ms | p99 ms | QPS | overhead p50 ms | merge p50 ms |",
              "|---|---|---|---|---|---|---|---|"]
    for row in result["layouts"]:
        for batch, c in row["latency"].items():
            lines.append(f"| {row['layout']} | {batch} | {c['ef']} | {c['p50_ms']:.2f} | {c['p99_ms']:.2f} | "
                         f"{c['qps']:,.0f} | {c.get('overhead_ms', float('nan')):.2f} | "
                         f"{c.get('merge_ms', float('nan')):.3f} |")
    lines += ["", "Overhead: the scatter-gather wall time of a batch less its slowest shard's own search "
              "(remote calls, object transfer, scheduling)."]
    return "\n".join(lines) + "\n"
