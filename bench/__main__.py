"""``python -m bench [SUITE] [options]``: benchmark vecsearch against its peers.

Suites (subcommands):
    fanns             (default when no suite is given) FANNS filtered suite: EM, R, EMIS,
                      EM+R and unfiltered per-query filters on generated arXiv-like data
                      (20k x 384, a few minutes on 2 cores) or arxiv-fanns / debian / parquet
    unfiltered-quick  small unfiltered run, ~1-2 min on 2 cores (alias: quick)
    unfiltered        full recall/QPS sweep, 200k x 384 synthetic or your own files
    filtered          filtered search: vecsearch plans vs hnswlib, faiss, brute force per filter
    quantization      PQ / SQ8 / binary codes: size, recall, scan speed vs faiss
    storage           one HNSW graph walked with float32 vs SQ8 / PQ / binary codes + re-rank:
                      recall, QPS, RAM
    disk              codes in RAM, float vectors left on disk: re-rank reads, RSS, cold/warm cache,
                      at one or several scales (--scales) with a growth table toward 10M

Run ``python -m bench SUITE --help`` for the options.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .engines import ENGINES
from .fanns.cli import FANNS_HELP, add_fanns_options, run_fanns
from .filtered_cli import FILTERED_HELP, FILTERED_PRESET, add_filtered_options, run_filtered
from .argtypes import float_list, int_list
from .argtypes import names as split_names
from .disk import DISK_HELP, add_disk_options
from .quantization import QUANT_HELP, add_quantization_options
from .storage import STORAGE_HELP, add_storage_options

# Presets per suite: same options, different defaults.
_PRESETS: dict[str, dict[str, Any]] = {
    "unfiltered": {
        "n": 200_000,
        "nq": 1000,
        "efs": "10,16,24,32,48,64,96,128,192,256",
        "out": "bench-results/unfiltered",
    },
    "unfiltered-quick": {
        "n": 20_000, "nq": 1000, "efs": "10,16,32,64,128", "out": "bench-results/quick"
    },
}
_ALIASES = {"unfiltered-quick": ["quick"]}
_DEFAULT_SUITE = "fanns"


def _name_list(text: str) -> tuple[str, ...]:
    names = split_names(text)
    unknown = [n for n in names if n not in ENGINES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown method(s) {unknown}; choose from {','.join(ENGINES)}"
        )
    return names


def _add_unfiltered_options(p: argparse.ArgumentParser, preset: dict[str, Any]) -> None:
    data = p.add_argument_group("data")
    data.add_argument(
        "--data",
        default="generated",
        metavar="SOURCE",
        help="generated (default: the seeded synthetic mixture, --n x --dim) or debian:<dir> "
        "(the debian-minilm folder: base.npy and its queries.npy); --base/--queries read "
        "other files",
    )
    data.add_argument(
        "--n",
        type=int,
        default=None,
        help=f"base rows (synthetic default {preset['n']}; with --base: first N rows, default all)",
    )
    data.add_argument(
        "--nq",
        type=int,
        default=None,
        help=f"queries (synthetic default {preset['nq']}; with --queries: first NQ rows, "
        "default all)",
    )
    data.add_argument(
        "--dim", type=int, default=384, help="synthetic vector dimension (default 384)"
    )
    data.add_argument(
        "--seed", type=int, default=0, help="synthetic data and level-draw seed (default 0)"
    )
    data.add_argument(
        "--base", metavar="PATH", help="base vectors file (.fvecs/.bvecs/.fbin/.u8bin/.npy)"
    )
    data.add_argument("--queries", metavar="PATH", help="query vectors file, same formats")
    idx = p.add_argument_group("index and sweep")
    idx.add_argument("--M", type=int, default=16, help="HNSW M for every engine (default 16)")
    idx.add_argument(
        "--ef-construction", type=int, default=200, help="HNSW ef_construction (default 200)"
    )
    idx.add_argument(
        "--k", type=int, default=10, help="neighbours per query; recall@k (default 10)"
    )
    idx.add_argument(
        "--efs",
        type=int_list,
        default=int_list(preset["efs"]),
        help=f"search ef values (default {preset['efs']})",
    )
    idx.add_argument(
        "--threads",
        type=int_list,
        default=(1, 2),
        help="search thread counts to sweep (default 1,2)",
    )
    idx.add_argument(
        "--build-threads",
        type=int,
        default=None,
        help="threads every engine builds with (default: the largest --threads value)",
    )
    idx.add_argument(
        "--methods",
        type=_name_list,
        default=tuple(ENGINES),
        help=f"engines to run (default {','.join(ENGINES)})",
    )
    idx.add_argument(
        "--reps", type=int, default=3, help="timed repetitions per point, best kept (default 3)"
    )
    idx.add_argument(
        "--target-recall",
        type=float_list,
        default=(0.95, 0.99),
        help="headline recalls (default 0.95,0.99)",
    )
    idx.add_argument(
        "--stop-recall",
        type=float,
        default=0.995,
        help="each curve's knob keeps doubling past --efs until its recall reaches this, its "
        "QPS falls under --min-qps, or the knob's limit (default 0.995)",
    )
    idx.add_argument(
        "--min-qps",
        type=float,
        default=50.0,
        help="QPS floor that ends a curve's sweep (default 50)",
    )
    out = p.add_argument_group("output")
    out.add_argument(
        "--out",
        type=Path,
        default=Path(preset["out"]),
        help=f"results directory (default {preset['out']})",
    )
    out.add_argument(
        "--no-progress", dest="progress", action="store_false", help="no progress bars"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark vecsearch against hnswlib, faiss and usearch (recall@k vs QPS).",
        epilog=f"With no suite, runs '{_DEFAULT_SUITE}'.",
    )
    sub = parser.add_subparsers(dest="suite", metavar="SUITE")
    helps = {
        "unfiltered": "recall/QPS sweep without filters (full size: the lead's run)",
        "unfiltered-quick": "small unfiltered run (n=20000, 5 ef values), ~1-2 min on 2 cores",
    }
    add_fanns_options(sub.add_parser("fanns", help=FANNS_HELP, description=FANNS_HELP))
    for name, preset in _PRESETS.items():
        _add_unfiltered_options(
            sub.add_parser(
                name, help=helps[name], description=helps[name], aliases=_ALIASES.get(name, [])
            ),
            preset,
        )
    # The unfiltered options, then the filtered ones replacing --threads/--methods/--reps.
    filtered = sub.add_parser(
        "filtered", help=FILTERED_HELP, description=FILTERED_HELP, conflict_handler="resolve"
    )
    _add_unfiltered_options(filtered, FILTERED_PRESET)
    add_filtered_options(filtered)
    add_quantization_options(sub.add_parser("quantization", help=QUANT_HELP, description=QUANT_HELP))
    add_storage_options(sub.add_parser("storage", help=STORAGE_HELP, description=STORAGE_HELP))
    add_disk_options(sub.add_parser("disk", help=DISK_HELP, description=DISK_HELP))
    return parser


def _debian_dir(source: str, parser: argparse.ArgumentParser, suite: str) -> str | None:
    """The folder of ``--data debian:<dir>``; None for ``generated``."""
    if source == "generated":
        return None
    kind, _, path = source.partition(":")
    if kind != "debian" or not path:
        parser.exit(2, f"python -m bench {suite}: error: --data: use generated or debian:<dir>, "
                       f"got {source!r}\n")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        argv = [_DEFAULT_SUITE, *argv]  # bare `python -m bench [options]` runs the default suite
    args = parser.parse_args(argv)
    if args.suite == "filtered":
        return run_filtered(args, parser)
    if args.suite == "quantization":
        from .quantization import run_quantization

        return run_quantization(args)
    if args.suite == "storage":
        from .storage import run_storage

        return run_storage(args)
    if args.suite == "disk":
        from .disk import run_disk

        return run_disk(args)
    if args.suite == "fanns":
        return run_fanns(args, parser)
    suite = "unfiltered-quick" if args.suite == "quick" else args.suite

    from .unfiltered import UnfilteredConfig, run  # after parsing: --help stays fast

    preset = _PRESETS[suite]
    debian = _debian_dir(args.data, parser, suite)
    synthetic = args.base is None and debian is None
    cfg = UnfilteredConfig(
        n=args.n if args.n is not None or not synthetic else preset["n"],
        nq=args.nq if args.nq is not None or not synthetic else preset["nq"],
        dim=args.dim,
        base=args.base,
        queries=args.queries,
        seed=args.seed,
        M=args.M,
        ef_construction=args.ef_construction,
        k=args.k,
        efs=tuple(sorted(set(args.efs))),
        threads=tuple(sorted(set(args.threads))),
        build_threads=args.build_threads,
        methods=args.methods,
        out=args.out,
        reps=args.reps,
        targets=tuple(sorted(set(args.target_recall))),
        stop_recall=args.stop_recall,
        min_qps=args.min_qps,
        debian=debian,
        progress=args.progress and sys.stderr.isatty(),  # bars in a log file are noise
    )
    try:
        return run(cfg, suite=suite)
    except ValueError as e:
        parser.exit(2, f"python -m bench {suite}: error: {e}\n")
    except KeyboardInterrupt:  # before any engine ran (data / ground truth): nothing to report
        print("\ninterrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
