"""``python -m bench quantization``: vecsearch quantizers against their faiss counterparts.

For each configuration (PQ m=48 and m=96 at 8 bits, optionally OPQ; SQ8; binary) on the same
data: bytes per vector, train and encode time, recall@k of the brute-force code scan alone and
after re-ranking its top R candidates with exact distances, and single-thread scan throughput
(vectors/s and GB/s of codes) - next to faiss ``IndexPQ``, ``IndexScalarQuantizer(QT_8bit)``
and ``IndexBinaryFlat`` measured in the same run, with the vecsearch/faiss ratio.

Scan throughput is a k-nearest search (top-k heap included) of ``--scan-queries`` queries over
all codes on one thread, best of ``--reps``; both libraries do the same work.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .argtypes import names as split_names
from .argtypes import positive_int_list

QUANT_HELP = "quantizers (PQ, SQ8, binary): size, recall, scan speed vs faiss"
_CONFIGS = ("pq48", "pq96", "opq48", "sq8", "binary")
_DEFAULT_CONFIGS = "pq48,pq96,sq8,binary"


def _configs(text: str) -> tuple[str, ...]:
    names = split_names(text)
    bad = [n for n in names if n not in _CONFIGS]
    if bad or not names:
        raise argparse.ArgumentTypeError(f"unknown config(s) {bad}; choose from {','.join(_CONFIGS)}")
    return names




def add_quantization_options(p: argparse.ArgumentParser) -> None:
    data = p.add_argument_group("data")
    data.add_argument("--n", type=int, default=None, help="base rows (synthetic default 200000)")
    data.add_argument("--nq", type=int, default=None, help="queries for recall (default 1000)")
    data.add_argument("--dim", type=int, default=384, help="synthetic dimension (default 384)")
    data.add_argument("--seed", type=int, default=0, help="data and training seed (default 0)")
    data.add_argument("--base", metavar="PATH", help="base vectors file (.npy/.fvecs/.fbin/...)")
    data.add_argument("--queries", metavar="PATH", help="query vectors file, same formats")
    data.add_argument("--metric", choices=("l2", "ip"), default="l2", help="distance (default l2)")
    run = p.add_argument_group("run")
    run.add_argument("--configs", type=_configs, default=_configs(_DEFAULT_CONFIGS),
                     help=f"from {','.join(_CONFIGS)} (default {_DEFAULT_CONFIGS})")
    run.add_argument("--binary-threshold", choices=("sign", "mean"), default="mean",
                     help="binary quantizer threshold (default mean)")
    run.add_argument("--k", type=int, default=10, help="recall@k (default 10)")
    run.add_argument("--rerank", type=positive_int_list, default=(100, 1000),
                     help="re-rank depths R (default 100,1000)")
    run.add_argument("--scan-queries", type=int, default=200,
                     help="queries timed for scan throughput (default 200)")
    run.add_argument("--reps", type=int, default=3, help="timed repetitions, best kept (default 3)")
    run.add_argument("--threads", type=int, default=0,
                     help="threads for training, encoding and recall runs (default 0 = all); "
                          "scans are always timed on one thread")
    run.add_argument("--no-faiss", dest="faiss", action="store_false", help="skip faiss")
    out = p.add_argument_group("output")
    out.add_argument("--out", type=Path, default=Path("bench-results/quantization"),
                     help="results directory (default bench-results/quantization)")


@dataclass
class Row:
    """One quantizer measured on one dataset."""

    library: str
    config: str
    bytes_per_vector: int
    train_s: float
    encode_s: float
    recall_codes: float
    recall_rerank: dict[str, float] = field(default_factory=dict)
    scan_vectors_per_s: float = 0.0
    scan_gb_per_s: float = 0.0
    ratio_vs_faiss: float | None = None


def _recall(found: np.ndarray, truth: np.ndarray, k: int) -> float:
    hits = sum(len(set(f[:k].tolist()) & set(t[:k].tolist())) for f, t in zip(found, truth))
    return hits / (k * len(truth))


def _rerank(base: np.ndarray, queries: np.ndarray, cand: np.ndarray, k: int, metric: str) -> np.ndarray:
    """Top-k of each candidate row by exact distance."""
    out = np.full((len(queries), k), -1, np.int64)
    for i, (q, c) in enumerate(zip(queries, cand)):
        c = c[c >= 0]
        v = base[c]
        d = ((v - q) ** 2).sum(1) if metric == "l2" else -(v @ q)
        # Ties (duplicate vectors) break by id, as in the ground truth, whatever order the
        # candidates came in.
        out[i, : min(k, len(c))] = c[np.lexsort((c, d))[:k]]
    return out


def _best_time(fn: Callable[[], Any], reps: int) -> float:
    best = float("inf")
    for _ in range(max(1, reps)):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def _ours(cfg: str, args: argparse.Namespace, dim: int):
    import vecsearch

    metric = args.metric
    if cfg.startswith("opq"):
        return vecsearch.PQ(int(cfg[3:]), 8, opq=True, metric=metric, seed=args.seed)
    if cfg.startswith("pq"):
        return vecsearch.PQ(int(cfg[2:]), 8, metric=metric, seed=args.seed)
    if cfg == "sq8":
        return vecsearch.SQ8(metric)
    return vecsearch.BinaryQuantizer(args.binary_threshold, metric=metric)


def _measure_ours(cfg, args, base, queries, truth, scan_q) -> tuple[Row, Any, np.ndarray]:
    q = _ours(cfg, args, base.shape[1])
    _, train_s = _timed(lambda: q.train(base, threads=args.threads))
    codes, encode_s = _timed(lambda: q.encode(base, threads=args.threads))
    top, _ = q.search(codes, queries, args.k, threads=args.threads)
    cand, _ = q.search(codes, queries, max(args.rerank), threads=args.threads)
    row = Row("vecsearch", cfg, q.code_size, train_s, encode_s, _recall(top, truth, args.k))
    for r in args.rerank:
        row.recall_rerank[str(r)] = _recall(_rerank(base, queries, cand[:, :r], args.k, args.metric), truth, args.k)
    t = _best_time(lambda: q.search(codes, scan_q, args.k, threads=1), args.reps)
    row.scan_vectors_per_s = len(scan_q) * len(base) / t
    row.scan_gb_per_s = row.scan_vectors_per_s * q.code_size / 1e9
    return row, q, codes


def _measure_faiss(cfg, args, base, queries, truth, scan_q, ours, codes) -> Row | None:
    import faiss

    dim = base.shape[1]
    fmetric = faiss.METRIC_L2 if args.metric == "l2" else faiss.METRIC_INNER_PRODUCT
    faiss.omp_set_num_threads(args.threads or faiss.omp_get_max_threads())
    if cfg.startswith("opq"):
        return None  # faiss OPQ lives in an IndexPreTransform; the PQ rows compare the scans
    if cfg.startswith("pq"):
        index = faiss.IndexPQ(dim, int(cfg[2:]), 8, fmetric)
        name = "IndexPQ"
    elif cfg == "sq8":
        index = faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_8bit, fmetric)
        name = "IndexScalarQuantizer(QT_8bit)"
    else:
        index = faiss.IndexBinaryFlat(ours.code_size * 8)
        name = "IndexBinaryFlat"
    if cfg == "binary":  # same bits as ours: only the Hamming scan differs
        train_s = 0.0
        _, encode_s = _timed(lambda: index.add(codes))
        search_q, search_scan = ours.encode(queries), ours.encode(scan_q)
    else:
        _, train_s = _timed(lambda: index.train(base))
        _, encode_s = _timed(lambda: index.add(base))
        search_q, search_scan = queries, scan_q
    # faiss orders ties differently for different k: recall@k comes from a k-search.
    _, top = index.search(search_q, args.k)
    _, cand = index.search(search_q, max(args.rerank))
    row = Row(f"faiss {name}", cfg, int(index.code_size), train_s, encode_s, _recall(top, truth, args.k))
    for r in args.rerank:
        row.recall_rerank[str(r)] = _recall(_rerank(base, queries, cand[:, :r], args.k, args.metric), truth, args.k)
    faiss.omp_set_num_threads(1)
    t = _best_time(lambda: index.search(search_scan, args.k), args.reps)
    row.scan_vectors_per_s = len(scan_q) * len(base) / t
    row.scan_gb_per_s = row.scan_vectors_per_s * row.bytes_per_vector / 1e9
    return row


def _table(rows: list[Row], rerank: tuple[int, ...], k: int) -> str:
    head = ["library", "config", "B/vec", "train s", "encode s", f"R@{k} codes"]
    head += [f"R@{k} rr{r}" for r in rerank] + ["scan Mvec/s", "scan GB/s", "ours/faiss"]
    lines = [head]
    for r in rows:
        lines.append([
            r.library, r.config, str(r.bytes_per_vector), f"{r.train_s:.2f}", f"{r.encode_s:.2f}",
            f"{r.recall_codes:.3f}", *[f"{r.recall_rerank[str(x)]:.3f}" for x in rerank],
            f"{r.scan_vectors_per_s / 1e6:.1f}", f"{r.scan_gb_per_s:.2f}",
            "" if r.ratio_vs_faiss is None else f"{r.ratio_vs_faiss:.2f}x",
        ])
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths)) for line in lines)


def run_quantization(args: argparse.Namespace) -> int:
    from vecsearch.datasets import exact_knn

    from .data import from_files, synthetic
    from .machine import machine_info

    if (args.base is None) != (args.queries is None):
        raise SystemExit("python -m bench quantization: --base and --queries go together")
    if args.base is None:
        data = synthetic(args.n or 200_000, args.nq or 1000, args.dim, args.seed)
    else:
        data = from_files(args.base, args.queries, args.n, args.nq)
    base, queries = data.base, data.queries
    if args.metric == "ip":  # 1 - dot ranks like cosine only on unit vectors; say what we ran
        norms = np.linalg.norm(base[:1000], axis=1)
        print(f"ip metric; base norms in [{norms.min():.3f}, {norms.max():.3f}] (first 1000 rows)")
    scan_q = queries[: args.scan_queries]
    print(f"data {data.name}: n={len(base)} nq={len(queries)} dim={base.shape[1]} metric={args.metric}")
    truth, _ = exact_knn(base, queries, args.k, args.metric, progress=False)

    rows: list[Row] = []
    for cfg in args.configs:
        print(f"-- {cfg}", flush=True)
        ours, q, codes = _measure_ours(cfg, args, base, queries, truth, scan_q)
        rows.append(ours)
        if args.faiss:
            theirs = _measure_faiss(cfg, args, base, queries, truth, scan_q, q, codes)
            if theirs is not None:
                ours.ratio_vs_faiss = ours.scan_vectors_per_s / theirs.scan_vectors_per_s
                rows.append(theirs)
    table = _table(rows, args.rerank, args.k)
    print(table)

    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"quantization-{data.name}-{args.metric}.json"
    opts = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    path.write_text(json.dumps({
        "suite": "quantization", "dataset": data.name, "identity": data.identity, "options": opts,
        "machine": machine_info(), "rows": [asdict(r) for r in rows], "table": table,
    }, indent=2, default=list))
    print(f"wrote {path}")
    return 0
