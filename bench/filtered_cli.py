"""Command line of ``python -m bench filtered``: options on top of the unfiltered ones.

The subcommand's parser gets the unfiltered suite's options first (data, index,
sweep, output; see ``bench/unfiltered_cli.py``) and then this module's, with
``conflict_handler="resolve"`` so ``--threads``, ``--methods`` and ``--reps``
take their filtered meaning. Only argparse is imported here: ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import os

from .argtypes import float_list, names

#: Defaults of the unfiltered options for this suite (same keys as bench.unfiltered_cli.PRESETS).
FILTERED_PRESET = {
    "n": 200_000,
    "nq": 200,
    "efs": "10,20,40,80,160,320",
    "out": "bench-results/filtered",
}
FILTERED_HELP = ("filtered search: vecsearch plans vs hnswlib, faiss HNSW and IVF, LanceDB and the exact "
                 "pre-filter baselines, per filter kind and selectivity")

_METHODS = "vecsearch,hnswlib,faiss,faiss-ivf,lancedb,bruteforce,faiss-flat"
_WORKLOADS = "equality,range,tags,anti"
_PLANS = "auto,scan,acorn,post"
_SELECTIVITIES = "0.001,0.01,0.1,0.5,1.0"


def add_filtered_options(p: argparse.ArgumentParser) -> None:
    """Add the filtered suite's options; call after the unfiltered ones (``p`` resolves
    conflicts, so these replace ``--threads``, ``--methods`` and ``--reps``)."""
    cores = os.cpu_count() or 1
    idx = p.add_argument_group("methods and sweep")
    idx.add_argument(
        "--threads",
        type=int,
        default=cores,
        help=f"build threads (default: all {cores} cores); search always runs on 1 thread",
    )
    idx.add_argument(
        "--methods",
        type=names,
        default=names(_METHODS),
        help=f"methods to run (default {_METHODS})",
    )
    idx.add_argument(
        "--plans",
        type=names,
        default=names(_PLANS),
        help=f"vecsearch plans, one curve each (default {_PLANS})",
    )
    idx.add_argument(
        "--storage",
        choices=("auto", "float32", "sq8", "pq", "binary"),
        default="auto",
        help="vecsearch's storage: auto (the Index default: SQ8 codes when they hold the "
        "neighbours, else float32), float32, or codes every walk uses before an exact re-rank",
    )
    idx.add_argument(
        "--reps", type=int, default=1, help="timed calls per point after the warm-up (default 1)"
    )
    idx.add_argument(
        "--target-recall", type=float, default=0.95, help="headline recall (default 0.95)"
    )
    idx.add_argument(
        "--stop-recall",
        type=float,
        default=0.99,
        help="stop a curve's ef sweep once its recall reaches this (default 0.99)",
    )
    idx.add_argument(
        "--min-qps",
        type=float,
        default=20.0,
        help="stop a curve's ef sweep once its QPS falls under this (default 20)",
    )
    flt = p.add_argument_group("filters")
    flt.add_argument(
        "--selectivities",
        type=float_list,
        default=float_list(_SELECTIVITIES),
        help=f"fractions of the items each filter matches (default {_SELECTIVITIES})",
    )
    flt.add_argument(
        "--workloads",
        type=names,
        default=names(_WORKLOADS),
        help=f"filter kinds (default {_WORKLOADS}; see bench/README.md)",
    )


def add_filtered_cli(p: argparse.ArgumentParser) -> None:
    """The unfiltered options with this suite's defaults, then the filtered ones over them."""
    from .unfiltered_cli import add_unfiltered_options

    add_unfiltered_options(p, FILTERED_PRESET)
    add_filtered_options(p)


def run_filtered(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Run the suite from parsed arguments (errors exit 2, like the unfiltered suites)."""
    from .filtered import FilteredConfig, run  # after parsing: --help stays fast
    from .unfiltered_cli import common_fields, run_config

    cfg = FilteredConfig(
        **common_fields(args, parser, "filtered", FILTERED_PRESET),
        selectivities=tuple(sorted(set(args.selectivities))),
        workloads=args.workloads,
        methods=args.methods,
        plans=args.plans,
        storage=args.storage,
        build_threads=args.threads,
        target_recall=args.target_recall,
    )
    return run_config(run, cfg, parser, "filtered")
