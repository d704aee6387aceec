"""The unfiltered suite: every engine on the same data, recall/QPS over an ef sweep.

Order of work: load data, exact ground truth (cached), then for each engine
build once with the largest thread count and sweep ef at each thread count,
dropping the index before the next engine so only one is in memory. Ctrl-C
stops the run; the points measured so far are still reported and written.
"""

from __future__ import annotations

import sys
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path

from . import data as bench_data
from .engines import ENGINES, HNSWParams, load_engine
from .machine import load_average, machine_info
from .measure import TieAwareRecall, sweep, timed_build
from .records import RunResult
from .report import format_report, write_results


@dataclass(frozen=True)
class UnfilteredConfig:
    """Parameters of one run (see ``python -m bench unfiltered --help``).

    ``n`` / ``nq`` of None mean "all rows" for file data; synthetic data needs them set.
    """

    n: int | None
    nq: int | None
    dim: int
    base: str | None
    queries: str | None
    seed: int
    M: int
    ef_construction: int
    k: int
    efs: tuple[int, ...]
    threads: tuple[int, ...]
    methods: tuple[str, ...]
    out: Path
    reps: int = 3
    build_threads: int | None = None  # None: the largest of ``threads``
    targets: tuple[float, ...] = (0.95, 0.99)
    stop_recall: float = 0.995
    min_qps: float = 50.0
    progress: bool = True
    debian: str | None = None  # the debian-minilm folder (base.npy, queries.npy)

    def validate(self) -> None:
        """Raise ValueError on a configuration that cannot run."""
        unknown = [m for m in self.methods if m not in ENGINES]
        if unknown:
            raise ValueError(
                f"unknown method(s) {', '.join(unknown)}; choose from {', '.join(ENGINES)}"
            )
        if (self.base is None) != (self.queries is None):
            raise ValueError("--base and --queries go together")
        if self.debian is not None and self.base is not None:
            raise ValueError("--data debian:PATH and --base/--queries are two data sources: pick one")
        if self.base is None and self.debian is None and (self.n is None or self.nq is None):
            raise ValueError("synthetic data needs --n and --nq")
        checks = {
            "k": self.k,
            "M": self.M,
            "ef-construction": self.ef_construction,
            "reps": self.reps,
            "dim": self.dim,
        }
        checks.update({"n": self.n or 1, "nq": self.nq or 1})
        for name, value in checks.items():
            if value < 1:
                raise ValueError(f"--{name} must be >= 1, got {value}")
        if not self.efs or min(self.efs) < 1:
            raise ValueError(f"--efs needs positive values, got {self.efs}")
        if self.build_threads is not None and self.build_threads < 1:
            raise ValueError(f"--build-threads must be >= 1, got {self.build_threads}")
        if not self.threads or min(self.threads) < 1:
            raise ValueError(f"--threads needs positive values, got {self.threads}")
        if not self.targets or not all(0 < t <= 1 for t in self.targets):
            raise ValueError(f"--target-recall values must be in (0, 1], got {self.targets}")
        if not 0 < self.stop_recall <= 1:
            raise ValueError(f"--stop-recall must be in (0, 1], got {self.stop_recall}")


def load_data(cfg: UnfilteredConfig) -> bench_data.Dataset:
    """The dataset the config names: debian-minilm, local files or the synthetic mixture."""
    if cfg.debian is not None:
        root = Path(cfg.debian)
        data = bench_data.from_files(str(root / "base.npy"), str(root / "queries.npy"), cfg.n, cfg.nq)
        data.name = f"debian-minilm-{data.n}x{data.dim}"
        return data
    if cfg.base is not None and cfg.queries is not None:
        return bench_data.from_files(cfg.base, cfg.queries, cfg.n, cfg.nq)
    assert cfg.n is not None and cfg.nq is not None  # checked by validate()
    return bench_data.synthetic(cfg.n, cfg.nq, cfg.dim, cfg.seed)


def run(cfg: UnfilteredConfig, suite: str = "unfiltered") -> int:
    """Run the suite, print the report, write the result files.

    Returns:
        Process exit code: 0, or 130 after Ctrl-C (partial results are written).
    """
    cfg.validate()
    data = load_data(cfg)
    if data.n < cfg.k:
        raise ValueError(f"the base has {data.n} rows, fewer than k={cfg.k}")
    print(f"data: {data.name}, {data.n} x {data.dim}, {data.nq} queries", flush=True)
    load = load_average()
    if load is not None and load > 0.5:
        print(f"note: load average {load:.1f} before the run: timings will be noisy", flush=True)
    ids, dists = bench_data.ground_truth_with_distances(
        data, cfg.k, cfg.out / "gt", progress=cfg.progress
    )
    truth = TieAwareRecall(data.base, data.queries, ids, dists, cfg.k)

    config = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(cfg).items()}
    dataset = {"name": data.name, "n": data.n, "dim": data.dim, "nq": data.nq, **data.identity}
    result = RunResult(suite=suite, config=config, dataset=dataset, machine=machine_info())
    params = HNSWParams(dim=data.dim, M=cfg.M, ef_construction=cfg.ef_construction, seed=cfg.seed)
    build_threads = cfg.build_threads or max(cfg.threads)
    try:
        for name in cfg.methods:
            try:
                engine = load_engine(name, params)
            except ImportError as e:
                result.skipped[name] = f"not available ({e})"
                print(f"note: skipping {name}: not available ({e})", flush=True)
                continue
            result.engines[name] = engine.version
            try:
                build = timed_build(engine, data.base, build_threads, progress=cfg.progress)
                result.builds.append(build)
                size = "" if build.index_bytes is None else f", {build.index_bytes / data.n:,.0f} B/vector"
                print(
                    f"{name} {engine.version}: built in {build.seconds:.2f} s"
                    f" ({build_threads} threads){size}",
                    flush=True,
                )
                for threads in cfg.threads:
                    points = sweep(
                        engine,
                        data.queries,
                        truth,
                        k=cfg.k,
                        efs=cfg.efs,
                        threads=threads,
                        reps=cfg.reps,
                        stop_recall=cfg.stop_recall,
                        min_qps=cfg.min_qps,
                        progress=cfg.progress,
                    )
                    for point in points:  # appended one by one: Ctrl-C keeps the finished ones
                        result.sweeps.append(point)
            # One broken engine must not lose the others' results.
            except Exception as e:  # noqa: BLE001
                result.skipped[name] = f"failed: {type(e).__name__}: {e}"
                print(f"error: {name} failed, continuing without it:", file=sys.stderr)
                traceback.print_exc()
            finally:
                engine.close()
    except KeyboardInterrupt:
        result.interrupted = True
        print("\ninterrupted: reporting what was measured so far", file=sys.stderr, flush=True)

    print()
    print(format_report(result, cfg.targets))
    json_path, csv_path = write_results(result, cfg.out, cfg.targets)
    print(f"\nwrote {json_path} and {csv_path}")
    return 130 if result.interrupted else 0
