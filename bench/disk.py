"""``python -m bench disk``: an index with compact codes in RAM and its float vectors left in the
file (``Index.load(path, vectors_on_disk=True)``), against the same index wholly in RAM, at one or
several scales (``--scales``), with base sets that are never whole in RAM.

Per scale: the base vectors are streamed to a ``.npy`` (cached), exact ground truth is computed over
the memmap in blocks (cached), the index is built in a child process (wall time, that process's
peak RSS, file size; reused on later runs unless ``--rebuild``), and each search configuration
(disk through ``pread`` / ``mmap``, and in RAM) runs in its own fresh child that reports its own
peak RSS during search. Per (ef, re-rank depth): recall@k, single-thread QPS, bytes read from
storage per query (``/proc/self/io``, and the library's own counters when ``Index.stats`` exists),
major faults per query, page cache cold (the file's pages dropped before the point) and warm.
Then a growth table over the scales, extrapolated to ``--extrapolate-to`` (labelled as estimates).
Linux only for the I/O and memory counters.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from .argtypes import names, positive_int_list
from .data import add_vector_data_options
from .disk_data import DiskData, files_on_disk, filtered_ground_truth, ground_truth, synthetic_on_disk

DISK_HELP = ("codes in RAM, float vectors on disk (re-rank reads): recall, QPS, bytes read, peak RSS vs in-RAM, "
             "at one or several scales")
DISK_IOS = ("io_uring", "pread", "mmap")
_ROOT = Path(__file__).resolve().parent.parent  # the checkout holding bench/ (and an in-place vecsearch)


def add_disk_options(p: argparse.ArgumentParser) -> None:
    add_vector_data_options(p, n=200_000, nq=500)
    p.add_argument("--scales", type=positive_int_list, default=None,
                   help="base sizes to run, e.g. 500000,1000000,2000000 (default: --n); with --base, first rows")
    p.add_argument("--storage", default="pq", choices=("sq8", "pq", "binary"), help="codes in RAM (default pq)")
    p.add_argument("--refine", default="auto", type=_refine_arg,
                   help="refine codes in RAM with PQ codes: auto (default: the library's choice), none, or a "
                        "number of sub-quantizers")
    p.add_argument("--M", type=int, default=16, help="HNSW M (default 16)")
    p.add_argument("--ef-construction", type=int, default=200, help="HNSW ef_construction (default 200)")
    p.add_argument("--build-threads", type=int, default=None, help="build threads (default all cores)")
    p.add_argument("--memory-budget-mb", type=int, default=None, help="build_on_disk memory budget (MiB)")
    p.add_argument("--efs", type=positive_int_list, default=(32, 64, 128),
                   help="beam widths; a beam narrower than the re-rank depth is widened to it (default 32,64,128)")
    p.add_argument("--reranks", type=positive_int_list, default=(16, 32, 64, 128, 256),
                   help="re-rank depths: candidates re-scored with the float vectors (default 16,32,64,128,256)")
    p.add_argument("--disk-io", type=names, default=DISK_IOS,
                   help="how re-rank rows are read: io_uring, pread, mmap (default all three; io_uring where the kernel allows it)")
    p.add_argument("--ram-max-n", type=int, default=2_000_000,
                   help="also measure the in-RAM index at scales up to this n (default 2000000)")
    p.add_argument("--filters", type=_shares, default=(),
                   help="also search with filters matching these shares of the rows, e.g. 0.01,0.1 (row i has "
                        "bucket i %% 100; the filter is bucket < share * 100); ground truth among the matches")
    p.add_argument("--peers", type=names, default=("lancedb",),
                   help="peers on disk measured on the same data: lancedb (IVF_PQ with refine, on its own files), "
                        "or none (default lancedb, where installed)")
    p.add_argument("--peer-max-n", type=int, default=2_000_000,
                   help="measure the peers at scales up to this n (default 2000000)")
    p.add_argument("--reps", type=int, default=3, help="timed warm passes per point, fastest kept (default 3)")
    p.add_argument("--k", type=int, default=10, help="recall@k (default 10)")
    p.add_argument("--target-recall", type=float, default=0.95, help="headline recall (default 0.95)")
    p.add_argument("--extrapolate-to", type=int, default=10_000_000, help="growth estimate at this n (default 10M)")
    p.add_argument("--rebuild", action="store_true", help="build even when a cached index of this data exists")
    p.add_argument("--data-dir", type=Path, default=None, help="where base vectors are written (default OUT/data)")
    p.add_argument("--out", type=Path, default=Path("bench-results/disk"), help="results directory")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bars")


def _refine_arg(text: str) -> str | int:
    if text in ("auto", "none"):
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--refine takes auto, none or a number, got {text!r}") from None


def _shares(text: str) -> tuple[float, ...]:
    from .disk_data import filter_buckets

    try:
        shares = tuple(float(t) for t in text.split(",") if t)
        for share in shares:
            filter_buckets(share)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"--filters: {e}") from None
    return shares


def _grid(efs: tuple[int, ...], reranks: tuple[int, ...]) -> list[tuple[int, int]]:
    """(beam, re-rank) pairs; the library widens a beam to the re-rank depth, so equal pairs are dropped."""
    return sorted({(max(ef, rerank), rerank) for ef in efs for rerank in reranks})


def _disk_ios(asked: tuple[str, ...]) -> list[str]:
    """The asked read paths this machine has (io_uring may be disabled by the kernel or policy)."""
    from vecsearch import _core

    unknown = set(asked) - set(DISK_IOS)
    if unknown:
        raise SystemExit(f"python -m bench disk: unknown --disk-io {sorted(unknown)}; choose from {DISK_IOS}")
    if "io_uring" in asked and not _core.io_uring_available():
        print("note: io_uring is not available here: skipping that read path")
        return [io for io in asked if io != "io_uring"]
    return list(asked)


def _child(task: str, spec: dict[str, Any], work: Path) -> dict[str, Any]:
    """Run one worker task in a fresh interpreter and return its JSON result."""
    work.mkdir(parents=True, exist_ok=True)
    fd, spec_path = tempfile.mkstemp(prefix=f"{task}-", suffix=".json", dir=work)
    with os.fdopen(fd, "w") as f:
        json.dump(spec, f)
    result_path = spec_path.replace(".json", ".result.json")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(_ROOT), os.environ.get("PYTHONPATH")])))
    try:
        proc = subprocess.run([sys.executable, "-m", "bench.disk_worker", task, spec_path, result_path], env=env)
        if proc.returncode != 0:
            hint = " (killed: out of memory?)" if proc.returncode == -9 else ""
            raise RuntimeError(f"the {task} worker exited with status {proc.returncode}{hint}")
        return json.loads(Path(result_path).read_text())
    finally:
        for leftover in (spec_path, result_path):
            Path(leftover).unlink(missing_ok=True)


def _data(args: argparse.Namespace, n: int, largest: int) -> DiskData:
    data_dir = args.data_dir or args.out / "data"
    if args.base:
        return files_on_disk(args.base, args.queries, n, args.nq, data_dir)
    # One file of the largest scale's rows; smaller scales read its first rows.
    return synthetic_on_disk(n, args.nq, args.dim, args.seed, data_dir, rows_in_file=largest, progress=args.progress)


def _build(args: argparse.Namespace, data: DiskData, work: Path) -> tuple[Path, dict[str, Any]]:
    """The index file for this data and these parameters: built in a child, or reused with its record."""
    params: dict[str, Any] = dict(storage=args.storage, M=args.M, ef_construction=args.ef_construction, seed=args.seed)
    if args.refine != "none":  # indexes from before refine codes had none: their key stays
        params["refine"] = args.refine
    rows = {k: v for k, v in data.identity.items() if k not in ("nq", "queries")}  # the queries don't change the index
    key = hashlib.sha256(json.dumps([rows, params], sort_keys=True).encode()).hexdigest()[:12]
    index_path = args.out / "index" / f"{data.name}-{args.storage}-{key}.vs"
    record_path = index_path.with_suffix(".build.json")
    method = "build_on_disk"
    if not args.rebuild and index_path.exists() and record_path.exists():
        record = json.loads(record_path.read_text())
        if record.get("method") == method and record.get("file_bytes") == index_path.stat().st_size:
            print(f"  reusing {index_path} (built in {record['seconds']:.1f} s; --rebuild to build again)")
            return index_path, {**record, "reused": True}
    index_path.parent.mkdir(parents=True, exist_ok=True)
    spec = dict(source=str(data.base_path), n=data.n, index=str(index_path), threads=args.build_threads,
                progress=args.progress,
                memory_budget=None if args.memory_budget_mb is None else args.memory_budget_mb * 2**20, **params)
    print(f"  building {args.storage} index with {method} in a child process ...", flush=True)
    record = _child("build", spec, work)
    record_path.write_text(json.dumps(record, indent=1))
    return index_path, {**record, "reused": False}


def run_scale(args: argparse.Namespace, n: int, disk_ios: list[str], largest: int) -> dict[str, Any]:
    """Data, ground truth, build and every search configuration at one base size."""
    started = time.perf_counter()
    data = _data(args, n, largest)
    data_seconds = time.perf_counter() - started
    print(f"{data.name}: data ready in {data_seconds:.1f} s ({data.base_path})", flush=True)
    started = time.perf_counter()
    truth = ground_truth(data, args.k, args.out / "gt", progress=args.progress)
    truth_seconds = time.perf_counter() - started
    print(f"  ground truth in {truth_seconds:.1f} s", flush=True)
    work = args.out / "work"
    work.mkdir(parents=True, exist_ok=True)
    truth_path = work / f"truth-{data.name}-k{args.k}.npy"
    np.save(truth_path, truth)
    index_path, build = _build(args, data, work)
    print(f"  build: {build['seconds']:.1f} s, peak RSS {build['peak_rss_mb']:.0f} MiB, "
          f"file {build['file_bytes'] / 2**20:.0f} MiB ({build['method']})", flush=True)
    configs = [("disk", io) for io in disk_ios]
    if n <= args.ram_max_n:
        configs.append(("ram", None))
    searches = []
    runs = [(mode, io, None, truth_path) for mode, io in configs]
    for share in args.filters:  # filtered: the disk paths only, each with its own ground truth
        filtered_truth = work / f"truth-{data.name}-k{args.k}-filter{share:g}.npy"
        np.save(filtered_truth, filtered_ground_truth(data, args.k, share))
        runs += [(mode, io, share, filtered_truth) for mode, io in configs if mode == "disk"]
    for mode, io, share, truth_file in runs:
        spec = dict(index=str(index_path), queries=str(data.queries_path), truth=str(truth_file), k=args.k,
                    mode=mode, disk_io=io, caches=["cold", "warm"] if mode == "disk" else ["warm"],
                    points=_grid(args.efs, args.reranks), reps=args.reps, filter=share)
        result = _child("search", spec, work)
        print(f"  {mode}/{result['disk_io'] or '-'}: load {result['load_seconds']:.1f} s (peak RSS while loading "
              f"{result['after_load']['peak_rss_mb']:.0f} MiB), RSS after load {result['after_load']['rss_mb']:.0f} "
              f"MiB, peak RSS during search {result['search']['peak_rss_mb']:.0f} MiB "
              f"(process baseline {result['baseline']['rss_mb']:.0f} MiB)", flush=True)
        searches.append(result)
    peers = _peers(args, data, truth_path, work) if n <= args.peer_max_n else []
    return dict(n=n, dim=data.dim, dataset=data.identity, name=data.name, index=str(index_path),
                base_bytes=data.n * data.dim * 4, data_seconds=data_seconds,
                truth_seconds=truth_seconds, build=build, searches=searches, peers=peers)  # data/truth: ~0 when cached


def _peers(args: argparse.Namespace, data: DiskData, truth_path: Path, work: Path) -> list[dict[str, Any]]:
    """Each asked peer built (or reused) on the same rows and searched with the same queries."""
    peers = []
    if "lancedb" not in args.peers:
        return peers
    try:
        import lancedb  # noqa: F401
    except ImportError as e:
        print(f"  lancedb: skipped ({e}; pip install lancedb)")
        return peers
    rows = {k: v for k, v in data.identity.items() if k not in ("nq", "queries")}
    key = hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()[:12]
    directory = args.out / "lancedb" / f"{data.name}-{key}"
    record_path = directory.with_suffix(".build.json")
    if not args.rebuild and record_path.exists() and directory.exists():
        build = {**json.loads(record_path.read_text()), "reused": True}
        print(f"  lancedb: reusing {directory} (built in {build['seconds']:.1f} s)")
    else:
        print("  building the lancedb table and IVF_PQ index in a child process ...", flush=True)
        build = _child("lancedb-build", dict(source=str(data.base_path), n=data.n, dir=str(directory)), work)
        record_path.write_text(json.dumps(build, indent=1))
    print(f"  lancedb build: {build['seconds']:.1f} s, peak RSS {build['peak_rss_mb']:.0f} MiB, "
          f"files {build['file_bytes'] / 2**20:.0f} MiB", flush=True)
    result = _child("lancedb-search", dict(dir=str(directory), queries=str(data.queries_path), truth=str(truth_path),
                                           k=args.k, reps=args.reps), work)
    peers.append(dict(name="lancedb", build=build, **result))
    return peers


def run_disk(args: argparse.Namespace) -> int:
    from .disk_report import growth, print_growth, print_peers, print_rerank_curve, print_scale, result_points
    from .machine import machine_info

    scales = args.scales or (args.n,)
    args.progress = args.progress and sys.stderr.isatty()  # bars in a log file are noise
    disk_ios = _disk_ios(args.disk_io)
    args.out.mkdir(parents=True, exist_ok=True)
    config = {key: (str(v) if isinstance(v, Path) else v) for key, v in vars(args).items() if key != "func"}
    out = args.out / "disk.json"
    results: list[dict[str, Any]] = []

    def write() -> None:
        summary = growth(results, args.target_recall, args.extrapolate_to)
        out.write_text(json.dumps(dict(config=config, machine=machine_info(), scales=results,
                                       points=result_points(results), growth=summary), indent=1))

    status = 0
    try:
        for n in scales:
            results.append(run_scale(args, n, disk_ios, max(scales)))
            print_rerank_curve(results[-1], args.k)
            print_scale(results[-1], args.k, args.target_recall)
            print_peers(results[-1], args.k, args.target_recall)
            write()  # after every scale: an interrupted growth run keeps what it measured
    except KeyboardInterrupt:
        print("\ninterrupted: reporting the scales measured so far", file=sys.stderr)
        status = 130
    except RuntimeError as e:  # a worker failed (at the largest scale, often memory): keep the smaller ones
        print(f"\nn = {scales[len(results)]:,}: {e}; reporting the scales measured so far", file=sys.stderr)
        status = 1
    if not results:
        return status
    write()
    print_growth(growth(results, args.target_recall, args.extrapolate_to), args.target_recall)
    print(f"wrote {out}")
    return status
