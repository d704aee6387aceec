"""``python -m bench [SUITE] [options]``: benchmark vecsearch against its peers.

Suites (subcommands), each registered below with its options and its run:
    fanns             (default when no suite is given) FANNS filtered suite: EM, R, EMIS,
                      EM+R and unfiltered per-query filters on generated arXiv-like data
                      (20k x 384, a few minutes on 2 cores) or arxiv-fanns / debian / parquet
    unfiltered        recall/QPS of every engine (vecsearch, SVS, SymphonyQG, glass, ScaNN,
                      hnswlib, faiss, usearch), 200k x 384 synthetic, debian-minilm or files
    unfiltered-quick  small unfiltered run (alias: quick)
    filtered          filtered search: vecsearch plans vs every filtered peer and the exact
                      pre-filter baselines, per filter kind and selectivity
    quantization      PQ / SQ8 / binary codes: size, recall, scan speed vs faiss
    storage           one HNSW graph walked with float32 vs SQ8 / PQ / binary codes + re-rank:
                      recall, QPS, RAM
    disk              codes in RAM, float vectors left on disk: re-rank reads, RSS, cold/warm cache,
                      at one or several scales (--scales) with a growth table toward 10M
    distributed       ShardedIndex on a local Ray as 1, 2, 4 shards vs one Index: recall at equal
                      ef, QPS, latency per batch size, scatter-gather overhead

Run ``python -m bench SUITE --help`` for the options.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .disk import DISK_HELP, add_disk_options
from .distributed import DISTRIBUTED_HELP, add_distributed_options
from .fanns.cli import FANNS_HELP, add_fanns_options, run_fanns
from .filtered_cli import FILTERED_HELP, add_filtered_cli, run_filtered
from .quantization import QUANT_HELP, add_quantization_options
from .storage import STORAGE_HELP, add_storage_options
from .unfiltered_cli import PRESETS, add_unfiltered_options, run_unfiltered

_DEFAULT_SUITE = "fanns"


@dataclass(frozen=True)
class Suite:
    """A subcommand: its help, how it adds its options, and how it runs from parsed arguments."""

    help: str
    add_options: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace, argparse.ArgumentParser], int]
    aliases: tuple[str, ...] = ()
    parser_kwargs: dict[str, Any] = field(default_factory=dict)


def _lazy(module: str, function: str) -> Callable[[argparse.Namespace, argparse.ArgumentParser], int]:
    """A run imported only when its suite runs (``--help`` stays fast)."""

    def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
        import importlib

        return int(getattr(importlib.import_module(module, __package__), function)(args))

    return run


def _unfiltered(suite: str) -> Suite:
    return Suite(
        help={"unfiltered": "recall/QPS of every engine without filters",
              "unfiltered-quick": "small unfiltered run (n=20000)"}[suite],
        add_options=lambda p: add_unfiltered_options(p, PRESETS[suite]),
        run=lambda args, parser: run_unfiltered(args, parser, suite),
        aliases=("quick",) if suite == "unfiltered-quick" else (),
    )  # fmt: skip


#: Every suite, in the order ``--help`` lists them.
SUITES: dict[str, Suite] = {
    "fanns": Suite(FANNS_HELP, add_fanns_options, run_fanns),
    "unfiltered": _unfiltered("unfiltered"),
    "unfiltered-quick": _unfiltered("unfiltered-quick"),
    "filtered": Suite(FILTERED_HELP, add_filtered_cli, run_filtered,
                      parser_kwargs={"conflict_handler": "resolve"}),
    "quantization": Suite(QUANT_HELP, add_quantization_options,
                          _lazy(".quantization", "run_quantization")),
    "storage": Suite(STORAGE_HELP, add_storage_options, _lazy(".storage", "run_storage")),
    "disk": Suite(DISK_HELP, add_disk_options, _lazy(".disk", "run_disk")),
    "distributed": Suite(DISTRIBUTED_HELP, add_distributed_options, _lazy(".distributed", "run_distributed")),
}  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark vecsearch against its peers (recall@k vs QPS at equal recall).",
        epilog=f"With no suite, runs '{_DEFAULT_SUITE}'.",
    )
    sub = parser.add_subparsers(dest="suite", metavar="SUITE")
    for name, suite in SUITES.items():
        p = sub.add_parser(name, help=suite.help, description=suite.help,
                           aliases=list(suite.aliases), **suite.parser_kwargs)  # fmt: skip
        suite.add_options(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        argv = [_DEFAULT_SUITE, *argv]  # bare `python -m bench [options]` runs the default suite
    args = parser.parse_args(argv)
    name = next(n for n, s in SUITES.items() if args.suite == n or args.suite in s.aliases)
    return SUITES[name].run(args, parser)


if __name__ == "__main__":
    sys.exit(main())
