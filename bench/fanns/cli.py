"""Command line of ``python -m bench fanns`` (also what a bare ``python -m bench`` runs).

Only argparse is imported here, so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..argtypes import names

FANNS_HELP = ("FANNS filtered suite (EM, R, EMIS, EM+R, unfiltered, controlled selectivity): "
              "vecsearch plans vs hnswlib, faiss HNSW and IVF, LanceDB, usearch and the exact "
              "pre-filter baselines")  # fmt: skip
QUICK = {"n": 20_000, "nq": 500}  # generated data: well under 10 minutes on 2 cores

_METHODS = "vecsearch,hnswlib,faiss,faiss-ivf,lancedb,usearch,bruteforce,faiss-flat"
_WORKLOADS = "unfiltered,em,r,emis,em+r"


def _numbers(kind: type) -> object:
    def parse(text: str) -> tuple:
        try:
            return tuple(kind(v) for v in text.split(",") if v.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None

    return parse


def add_fanns_options(p: argparse.ArgumentParser) -> None:
    """The ``fanns`` subcommand's options."""
    cores = os.cpu_count() or 1
    d = p.add_argument_group("data")
    d.add_argument("--data", default="generated", metavar="SOURCE",
                   help="generated (default, arXiv-like, seeded) | arxiv-fanns:<dir> | "
                        "debian:<dir> | parquet:<file>")
    d.add_argument("--n", type=int, default=None,
                   help=f"base items (generated default {QUICK['n']}; files: first N, default all)")
    d.add_argument("--nq", type=int, default=None,
                   help=f"queries (generated default {QUICK['nq']}; files: first NQ, default all)")
    d.add_argument("--dim", type=int, default=384, help="generated vector dimension (default 384)")
    d.add_argument("--seed", type=int, default=0, help="data, filter values and level seed (0)")
    d.add_argument("--filter-columns", default="", metavar="em=COL,r=COL,emis=COL",
                   help="columns of the EM / R / EMIS filters (required for parquet; overrides "
                        "the defaults, e.g. em=n_depends on debian)")
    d.add_argument("--query-filters", choices=("sampled", "own"), default="sampled",
                   help="sampled (default: filter values of random items, as FANNS does) or own "
                        "(debian only: each query's own section (em), its own most held tag (emis), "
                        "a 5%% installed-size window shared by all (r), own section and the window "
                        "(em+r))")
    w = p.add_argument_group("workloads")
    w.add_argument("--workloads", type=names, default=names(_WORKLOADS),
                   help=f"natural query sets (default {_WORKLOADS})")
    w.add_argument("--controlled", type=names, default=("em",),
                   help="controlled-selectivity sets for these filter kinds (em,r,emis; "
                        "default em; '' for none)")
    w.add_argument("--levels", type=_numbers(float), default=(0.01, 0.2, 0.8),
                   help="controlled selectivities (default 0.01,0.2,0.8; the paper: 0.2,0.4,0.6,0.8)")
    w.add_argument("--min-queries", type=int, default=5,
                   help="skip selectivity buckets with fewer queries (default 5)")
    m = p.add_argument_group("methods and sweep")
    m.add_argument("--methods", type=names, default=names(_METHODS),
                   help=f"methods (default {_METHODS})")
    m.add_argument("--plans", type=names, default=names("auto,scan,acorn,post"),
                   help="vecsearch plans, one curve each (default auto,scan,acorn,post)")
    m.add_argument("--M", type=int, default=16, help="HNSW M for every method (default 16)")
    m.add_argument("--ef-construction", type=int, default=200, help="(default 200)")
    m.add_argument("--k", type=int, default=10, help="neighbours per query, recall@k (default 10)")
    m.add_argument("--efs", type=_numbers(int), default=(10, 20, 40, 80, 160, 320),
                   help="search ef values (default 10,20,40,80,160,320)")
    m.add_argument("--reps", type=int, default=1,
                   help="timed passes per point, QPS mean ± std (default 1; the paper: 5)")
    m.add_argument("--threads", type=int, default=cores,
                   help=f"build threads (default all {cores}); search always runs on 1 thread")
    m.add_argument("--stop-recall", type=float, default=0.995,
                   help="end a curve once its recall reaches this (default 0.995)")
    m.add_argument("--min-qps", type=float, default=20.0,
                   help="end a curve once its QPS falls under this (default 20)")
    o = p.add_argument_group("output")
    o.add_argument("--out", type=Path, default=None,
                   help="results folder (default bench-results/fanns-quick for generated data, "
                        "bench-results/fanns-<source> otherwise)")
    o.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bars")


def run_fanns(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Run the suite from parsed arguments (bad options exit 2)."""
    from .run import FannsConfig, run  # after parsing: --help stays fast

    kind = args.data.partition(":")[0]
    generated = kind == "generated"
    cfg = FannsConfig(
        data=args.data,
        n=args.n if args.n is not None or not generated else QUICK["n"],
        nq=args.nq if args.nq is not None or not generated else QUICK["nq"],
        dim=args.dim, seed=args.seed, filter_columns=args.filter_columns,
        query_filters=args.query_filters,
        workloads=args.workloads, controlled=args.controlled, levels=tuple(sorted(set(args.levels))),
        methods=args.methods, plans=args.plans, M=args.M, ef_construction=args.ef_construction,
        k=args.k, efs=tuple(sorted(set(args.efs))), reps=args.reps, threads=args.threads,
        out=args.out or Path("bench-results/fanns-quick" if generated else f"bench-results/fanns-{kind}"),
        stop_recall=args.stop_recall, min_qps=args.min_qps, min_queries=args.min_queries,
        progress=args.progress and sys.stderr.isatty(),
    )  # fmt: skip
    try:
        return run(cfg)
    except (ValueError, FileNotFoundError) as e:
        parser.exit(2, f"python -m bench fanns: error: {e}\n")
    except KeyboardInterrupt:  # before any method ran: nothing to report
        print("\ninterrupted", file=sys.stderr)
        return 130
