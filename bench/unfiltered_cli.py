"""Command line of ``python -m bench unfiltered`` and ``unfiltered-quick``: data, index and
sweep, output options, and the run. Only argparse is imported at module level: ``--help``
stays fast."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .argtypes import float_list, int_list
from .argtypes import names as split_names
from .engines import ENGINES

#: Presets per unfiltered suite: same options, different defaults.
PRESETS: dict[str, dict[str, Any]] = {
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


def _name_list(text: str) -> tuple[str, ...]:
    names = split_names(text)
    unknown = [n for n in names if n not in ENGINES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown method(s) {unknown}; choose from {','.join(ENGINES)}"
        )
    return names


def add_unfiltered_options(p: argparse.ArgumentParser, preset: dict[str, Any]) -> None:
    """The unfiltered options (data, index and sweep, output) with ``preset``'s defaults."""
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


def _debian_dir(source: str, parser: argparse.ArgumentParser, suite: str) -> str | None:
    """The folder of ``--data debian:<dir>``; None for ``generated``."""
    if source == "generated":
        return None
    kind, _, path = source.partition(":")
    if kind != "debian" or not path:
        parser.exit(2, f"python -m bench {suite}: error: --data: use generated or debian:<dir>, "
                       f"got {source!r}\n")
    return path


def common_fields(
    args: argparse.Namespace, parser: argparse.ArgumentParser, suite: str, preset: dict[str, Any]
) -> dict[str, Any]:
    """The config fields every suite on these options shares: the data (generated at the
    preset's size unless given), the graph, the sweep and the output."""
    debian = _debian_dir(args.data, parser, suite)
    synthetic = args.base is None and debian is None
    return dict(
        n=args.n if args.n is not None or not synthetic else preset["n"],
        nq=args.nq if args.nq is not None or not synthetic else preset["nq"],
        dim=args.dim,
        base=args.base,
        queries=args.queries,
        debian=debian,
        seed=args.seed,
        M=args.M,
        ef_construction=args.ef_construction,
        k=args.k,
        efs=tuple(sorted(set(args.efs))),
        out=args.out,
        reps=args.reps,
        stop_recall=args.stop_recall,
        min_qps=args.min_qps,
        progress=args.progress and sys.stderr.isatty(),  # bars in a log file are noise
    )


def run_config(run: Any, cfg: Any, parser: argparse.ArgumentParser, suite: str) -> int:
    """``run(cfg, suite=suite)``: a bad configuration exits 2 with the suite's name, Ctrl-C
    before anything was measured exits 130."""
    try:
        return int(run(cfg, suite=suite))
    except ValueError as e:
        parser.exit(2, f"python -m bench {suite}: error: {e}\n")
    except KeyboardInterrupt:  # before any method ran (data / ground truth): nothing to report
        print("\ninterrupted", file=sys.stderr)
        return 130


def run_unfiltered(args: argparse.Namespace, parser: argparse.ArgumentParser, suite: str) -> int:
    """Run the suite ``suite`` (a key of :data:`PRESETS`) from parsed arguments."""
    from .unfiltered import UnfilteredConfig, run  # after parsing: --help stays fast

    cfg = UnfilteredConfig(
        **common_fields(args, parser, suite, PRESETS[suite]),
        threads=tuple(sorted(set(args.threads))),
        build_threads=args.build_threads,
        methods=args.methods,
        targets=tuple(sorted(set(args.target_recall))),
    )
    return run_config(run, cfg, parser, suite)
