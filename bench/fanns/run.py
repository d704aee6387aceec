"""Order of work of the FANNS suite, and its configuration.

Load or generate the data, sample the query sets (seeded), compute each set's exact
filtered truth (cached), split into selectivity buckets; then for each method: build
its index with ``--threads`` threads (timed, peak RSS), save it once to measure its
size, and sweep ef on one search thread over every case it supports, dropping the
index before the next method. Ctrl-C stops the run; what was measured is reported.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Optional

from vecsearch._progress import progress as progress_bar

from ..engines import HNSWParams
from ..engines.exact import blas_limitable
from ..filtered_engines import PLANS
from ..sweep import curve_done, knob_values
from ..machine import load_average, machine_info
from . import methods as M
from .records import BuildRecord, FannsRun
from .data import CONTROLLED_KINDS, WORKLOADS, build_cases, load_source, query_sets
from ..rss import peak_rss_bytes, reset_peak, rss_bytes
from .measure import FannsPoint, index_bytes, measure_point


@dataclass(frozen=True)
class FannsConfig:
    """Parameters of one run (see ``python -m bench fanns --help``)."""

    data: str = "generated"
    n: Optional[int] = 20_000
    nq: Optional[int] = 500
    dim: int = 384
    seed: int = 0
    filter_columns: str = ""
    query_filters: str = "sampled"  # or "own": debian queries' own attributes
    workloads: tuple[str, ...] = WORKLOADS
    controlled: tuple[str, ...] = ("em",)
    levels: tuple[float, ...] = (0.01, 0.2, 0.8)
    methods: tuple[str, ...] = M.METHODS
    plans: tuple[str, ...] = PLANS
    M: int = 16
    ef_construction: int = 200
    k: int = 10
    efs: tuple[int, ...] = (10, 20, 40, 80, 160, 320)
    reps: int = 1
    threads: int = 2
    out: Path = Path("bench-results/fanns-quick")
    targets: tuple[float, ...] = (0.9, 0.95)
    stop_recall: float = 0.995
    min_qps: float = 20.0
    min_queries: int = 5
    progress: bool = True

    def validate(self) -> None:
        """Raise ValueError on options that cannot run."""
        checks = [
            (self.k >= 1, f"--k must be >= 1, got {self.k}"),
            (self.k <= 100, f"--k must be <= 100 (the published ground truth depth), got {self.k}"),
            (self.reps >= 1, f"--reps must be >= 1, got {self.reps}"),
            (self.threads >= 1, f"--threads must be >= 1, got {self.threads}"),
            (bool(self.efs) and min(self.efs) >= 1, f"--efs must be positive, got {self.efs}"),
            (all(0 < s <= 1 for s in self.levels), f"--levels must be in (0, 1], got {self.levels}"),
            (self.n is None or self.n >= 1, f"--n must be >= 1, got {self.n}"),
            (self.nq is None or self.nq >= 1, f"--nq must be >= 1, got {self.nq}"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)
        for option, given, known in (
            ("methods", self.methods, M.METHODS), ("workloads", self.workloads, WORKLOADS),
            ("controlled", self.controlled, CONTROLLED_KINDS), ("plans", self.plans, PLANS),
        ):  # fmt: skip
            unknown = [v for v in given if v not in known]
            if unknown:
                raise ValueError(f"--{option}: unknown {unknown}; choose from {','.join(known)}")
        if not self.methods:
            raise ValueError("--methods: give at least one")
        if not self.workloads and not (self.controlled and self.levels):
            raise ValueError("nothing to run: no --workloads and no --controlled sets")


def run(cfg: FannsConfig) -> int:
    """Run the suite, write ``results.json``, ``results.csv``, ``report.md`` and plots.

    Returns:
        0, or 130 after Ctrl-C (partial results are still written).
    """
    from .report import write_all  # matplotlib is imported only when writing

    cfg.validate()
    t0 = time.perf_counter()
    data = load_source(cfg.data, cfg.n, cfg.nq, cfg.dim, cfg.seed, cfg.filter_columns,
                       cfg.query_filters)
    print(f"data: {data.name}{' (synthetic)' if data.synthetic else ''}, {data.n} x {data.dim}, "
          f"{data.nq} queries", flush=True)  # fmt: skip
    load = load_average()
    if load is not None and load > 0.5:
        print(f"note: load average {load:.1f} before the run: timings will be noisy", flush=True)
    sets = query_sets(data, cfg.workloads, cfg.controlled, cfg.levels, cfg.seed)
    cases, notes = build_cases(data, sets, cfg.k, cfg.out / "gt", min_queries=cfg.min_queries,
                               progress=cfg.progress)  # fmt: skip
    del sets  # the cases hold their own rows of the masks
    # The loaded data and cases live to the end: frozen, later full collections skip them, so a
    # collection the methods' own allocations set off costs what it would in their application.
    gc.collect()
    gc.freeze()
    config = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(cfg).items()}
    dataset = {"name": data.name, "synthetic": data.synthetic, "n": data.n, "dim": data.dim,
               "nq": data.nq, "filter_columns": sorted(data.columns),
               "workloads": {w: s.describe() for w, s in data.specs.items()}, **data.identity}  # fmt: skip
    fr = FannsRun(config, dataset, machine_info(), notes=notes)
    fr.cases = [
        {"workload": c.workload, "bucket": c.bucket, "queries": int(c.rows.size),
         "selectivity_mean": c.selectivity, "selectivity_min": float(c.selectivities.min()),
         "selectivity_max": float(c.selectivities.max()), "matches_mean": c.matches}
        for c in cases
    ]  # fmt: skip
    for c in fr.cases:
        print(f"case {c['workload']:>10} {c['bucket']:>7}: {c['queries']:4d} queries, "
              f"selectivity {c['selectivity_mean']:.4f}", flush=True)  # fmt: skip
    if "bruteforce" in cfg.methods and not blas_limitable():
        fr.notes.append("numpy's BLAS could not be limited to 1 thread: bruteforce may use more")
    if "usearch" in cfg.methods:
        fr.notes.append("usearch: unfiltered workload only (its Python search takes no predicate)")
    fr.notes.append("vecsearch build time includes ingesting the filter columns "
                    f"({', '.join(sorted(data.columns))}); its search times include evaluating "
                    "each query's filter, the peers get theirs prepared outside the timed call")  # fmt: skip
    params = HNSWParams(dim=data.dim, M=cfg.M, ef_construction=cfg.ef_construction, seed=cfg.seed)
    try:
        for name in cfg.methods:
            _run_method(name, params, cfg, data, cases, fr)
    except KeyboardInterrupt:
        fr.interrupted = True
        print("\ninterrupted: reporting what was measured so far", file=sys.stderr, flush=True)
    fr.seconds = time.perf_counter() - t0
    paths = write_all(fr, cfg.out)
    print("\n" + paths["report_text"])
    print(f"\nwrote {', '.join(str(p) for k, p in paths.items() if k != 'report_text')}")
    return 130 if fr.interrupted else 0


def _run_method(name: str, params: HNSWParams, cfg: FannsConfig, data: Any, cases: list,
                fr: FannsRun) -> None:  # fmt: skip
    try:
        method = M.load_method(name, params, cfg.plans)
    except ImportError as e:
        fr.skipped[name] = f"not available ({e})"
        print(f"note: skipping {name}: not available ({e})", flush=True)
        return
    mine = [c for c in cases if M.supports(method, c)]
    if not mine:
        fr.skipped[name] = "no case it supports in this run"
        method.close()
        return
    try:
        reset_peak()
        before = rss_bytes()
        build = method.build(data.base, data.columns, cfg.threads, cfg.progress)
        record = BuildRecord(name, method.version, cfg.threads, build.seconds if build else None,
                             before, peak_rss_bytes(), index_bytes=index_bytes(method))  # fmt: skip
        fr.builds.append(record)
        if build is not None:
            print(f"{name} {method.version}: built in {build.seconds:.2f} s ({cfg.threads} threads)",
                  flush=True)  # fmt: skip
        reset_peak()
        with progress_bar(len(mine), name, enabled=cfg.progress, unit="case") as bar:
            for case in mine:
                prepared = M.prepare(method, case)
                for curve in M.curves(method, case):
                    for ef in _knobs(method, case, curve, cfg, fr.points):
                        fr.points.append(measure_point(
                            method, case, prepared, curve, data.base, k=cfg.k, ef=ef,
                            reps=cfg.reps, min_qps=cfg.min_qps,
                        ))  # fmt: skip
                bar.update(1)
                del prepared
        record.peak_query_rss = peak_rss_bytes()
    except Exception as e:  # noqa: BLE001 - one broken method must not lose the others
        fr.skipped[name] = f"failed: {type(e).__name__}: {e}"
        print(f"error: {name} failed, continuing without it:", file=sys.stderr)
        traceback.print_exc()
    finally:
        method.close()


def _knobs(
    method: Any, case: Any, curve: str, cfg: FannsConfig, points: list[FannsPoint]
) -> Iterator[int]:
    """The knob values of one curve: one for an exact curve; else from ``--efs`` doubling on
    until the curve reaches ``--stop-recall``, runs under ``--min-qps``, converges or hits
    the method's knob limit (so "never reaches" means it was tried)."""
    if M.is_exact(method, case, curve):
        yield cfg.efs[0]
        return
    first = len(points)

    def done() -> bool:
        mine = points[first:]
        return curve_done([p.recall for p in mine], [p.qps for p in mine],
                          stop_recall=cfg.stop_recall, min_qps=cfg.min_qps)  # fmt: skip

    yield from knob_values(method.knob_start(cfg.efs), done, limit=method.knob_limit)
