"""``python -m bench storage``: one HNSW graph searched with float32 vectors and with each
quantized storage (``Index.set_storage``: SQ8, PQ at several code sizes, binary): recall@k and
single-thread QPS per (ef, rerank), and the RAM each holds outside the re-rank vectors.

The graph is built once from the float vectors; every storage walks the same graph, so the
differences are the codes alone. "RAM outside re-rank vectors" is graph + codes + ids (the float
rows are what the disk tier moves out of RAM), against graph + float vectors + ids for float32.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from .argtypes import int_list
from .argtypes import names as split_names
from .data import add_vector_data_options

STORAGE_HELP = "HNSW walked with float32 vs SQ8 / PQ / binary codes plus exact re-rank: recall, QPS, RAM"
_DEFAULT_STORAGES = "float32,sq8,pq96,pq48,binary"


def _storages(text: str) -> tuple[str, ...]:
    names = split_names(text)
    for name in names:
        if name not in ("float32", "sq8", "binary") and not (name.startswith("pq") and name[2:].isdigit()):
            raise argparse.ArgumentTypeError(f"unknown storage {name!r}: float32, sq8, binary or pq<m>")
    return names




def add_storage_options(p: argparse.ArgumentParser) -> None:
    add_vector_data_options(p, n=200_000, nq=1000)
    p.add_argument("--M", type=int, default=16, help="HNSW M (default 16)")
    p.add_argument("--ef-construction", type=int, default=200, help="HNSW ef_construction (default 200)")
    p.add_argument("--storages", type=_storages, default=_storages(_DEFAULT_STORAGES),
                   help=f"storages to compare (default {_DEFAULT_STORAGES})")
    p.add_argument("--efs", type=int_list, default=(32, 64, 128, 256), help="beam widths (default 32,64,128,256)")
    p.add_argument("--reranks", type=int_list, default=(0, 50, 100, 200, 500),
                   help="re-rank depths; the beam widens to the depth (default 0,50,100,200,500)")
    p.add_argument("--k", type=int, default=10, help="recall@k (default 10)")
    p.add_argument("--target-recall", type=float, default=0.95, help="headline recall (default 0.95)")
    p.add_argument("--out", type=Path, default=Path("bench-results/storage"), help="results directory")


def _quantizer(name: str, metric: str) -> Any:
    import vecsearch

    if name.startswith("pq"):
        return vecsearch.PQ(int(name[2:]), metric=metric)
    return name


def _outside_rerank(parts: dict, storage: str) -> int:
    """RAM a storage needs besides the float vectors used for re-ranking."""
    keep = ("graph", "codes", "ids", "attributes")
    if storage == "float32":
        keep += ("vectors",)
    return sum(parts[key] for key in keep)


def _search(index: Any, queries: np.ndarray, k: int, ef: int, rerank: int) -> tuple[np.ndarray, float]:
    index.search(queries[: max(1, len(queries) // 10)], k=k, ef=ef, rerank=rerank, num_threads=1)  # warm-up
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        ids, _ = index.search(queries, k=k, ef=ef, rerank=rerank, num_threads=1)
        best = min(best, time.perf_counter() - start)
    return ids, len(queries) / best


def run_storage(args: argparse.Namespace) -> int:
    import vecsearch

    from .data import from_args, ground_truth

    data = from_args(args)
    truth = ground_truth(data, args.k, args.out / "gt")
    index = vecsearch.Index(data.dim, "l2", M=args.M, ef_construction=args.ef_construction)
    start = time.perf_counter()
    index.add(data.base)
    print(f"{data.name}: HNSW M={args.M} built in {time.perf_counter() - start:.1f} s")
    rows, headline = [], []
    float_ram = None
    for storage in args.storages:
        start = time.perf_counter()
        index.set_storage(_quantizer(storage, "l2"))
        encode_s = time.perf_counter() - start
        parts = index.memory_usage()
        ram = _outside_rerank(parts, storage)
        float_ram = ram if storage == "float32" else float_ram
        best = None
        reranks = (0,) if storage == "float32" else args.reranks
        for ef in args.efs:
            for rerank in reranks:
                ids, qps = _search(index, data.queries, args.k, ef, rerank)
                hits = [len(set(a) & set(b)) for a, b in zip(ids.astype(np.int64), truth)]
                recall = float(np.mean(hits)) / args.k
                rows.append(dict(storage=storage, ef=ef, rerank=rerank, recall=recall, qps=qps))
                print(f"  {storage:8s} ef={ef:4d} rerank={rerank:4d}  recall@{args.k}={recall:.4f}  QPS={qps:8.0f}")
                if recall >= args.target_recall and (best is None or qps > best["qps"]):
                    best = rows[-1]
        headline.append(dict(storage=storage, code_bytes=(index.quantizer.code_size if index.quantizer else 0),
                             ram_outside_rerank=ram, parts=parts, set_storage_s=encode_s, best=best))
    index.set_storage("float32")
    print(f"\nbest single-thread QPS at recall@{args.k} >= {args.target_recall}, RAM besides the re-rank vectors")
    print(f"  {'storage':8s} {'bytes/vec':>9s} {'RAM MB':>8s} {'vs float':>8s} {'QPS':>8s} {'ef':>4s} {'rerank':>6s}")
    for h in headline:
        b = h["best"]
        share = f"{h['ram_outside_rerank'] / float_ram:.2f}" if float_ram else "—"
        qps = f"{b['qps']:8.0f} {b['ef']:4d} {b['rerank']:6d}" if b else f"{'—':>8s}"
        print(f"  {h['storage']:8s} {h['code_bytes']:9d} {h['ram_outside_rerank'] / 2**20:8.1f} {share:>8s} {qps}")
    args.out.mkdir(parents=True, exist_ok=True)
    result = dict(dataset=data.identity, M=args.M, ef_construction=args.ef_construction, k=args.k,
                  target_recall=args.target_recall, points=rows, headline=headline)
    (args.out / "storage.json").write_text(json.dumps(result, indent=2))
    print(f"wrote {args.out / 'storage.json'}")
    return 0
