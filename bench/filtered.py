"""The filtered suite: vecsearch's plans, hnswlib, faiss and brute force on filtered k-NN.

Order of work: load data, generate the attribute columns, build every case
(workload x selectivity) with its exact filtered ground truth, then for each
method build its index once with ``--threads`` threads and sweep ef on one
search thread over every case, dropping the index before the next method.

A curve stops early once its recall reaches ``--stop-recall`` or its QPS falls
under ``--min-qps``: past either, more ef only costs time (hnswlib's Python
filter callback makes its slow points very slow). Ctrl-C stops the run; the
points measured so far are still reported and written.
"""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vecsearch._progress import progress as progress_bar

from .engines import HNSWParams
from .filtered_data import WORKLOADS, FilterCase, build_cases, make_attributes
from .engines.exact import blas_limitable
from .filtered_engines import METHODS, PLANS, FilteredMethod, load_method
from .filtered_report import FilteredPoint, FilteredRun, format_report, write_results
from .machine import load_average, machine_info
from .measure import recall_at_k
from .records import RunResult
from .sweep import curve_done, knob_values
from .unfiltered import UnfilteredConfig, load_data

_PROBE_DIVISOR = 10  # the probe is nq // 10 queries
_MIN_TIMED = 0.05  # seconds of timed calls a fast point gets, at most _MAX_REPS calls
_MAX_REPS = 10


@dataclass(frozen=True)
class FilteredConfig:
    """Parameters of one run (see ``python -m bench filtered --help``).

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
    selectivities: tuple[float, ...]
    workloads: tuple[str, ...]
    methods: tuple[str, ...]
    plans: tuple[str, ...]
    build_threads: int
    out: Path
    reps: int = 1
    target_recall: float = 0.95
    stop_recall: float = 0.99
    min_qps: float = 20.0
    progress: bool = True
    storage: str = "auto"  # vecsearch's Index(storage=...): the default
    debian: str | None = None  # the debian-minilm folder (base.npy, queries.npy)

    def common(self) -> UnfilteredConfig:
        """The options shared with the unfiltered suite, to reuse its checks and data loading."""
        return UnfilteredConfig(
            n=self.n,
            nq=self.nq,
            dim=self.dim,
            base=self.base,
            queries=self.queries,
            seed=self.seed,
            M=self.M,
            ef_construction=self.ef_construction,
            k=self.k,
            efs=self.efs,
            threads=(self.build_threads,),
            methods=(),
            out=self.out,
            reps=self.reps,
            targets=(self.target_recall,),
            stop_recall=self.stop_recall,
            progress=self.progress,
            debian=self.debian,
        )

    def validate(self) -> None:
        """Raise ValueError on a configuration that cannot run."""
        self.common().validate()
        for option, given, known in (
            ("methods", self.methods, tuple(METHODS)),
            ("workloads", self.workloads, WORKLOADS),
            ("plans", self.plans, PLANS),
        ):
            unknown = [v for v in given if v not in known]
            if unknown or not given:
                raise ValueError(f"--{option}: unknown {unknown}; choose from {','.join(known)}")
        if not self.selectivities or not all(0 < s <= 1 for s in self.selectivities):
            raise ValueError(f"--selectivities must be in (0, 1], got {self.selectivities}")
        if not 0 < self.stop_recall <= 1:
            raise ValueError(f"--stop-recall must be in (0, 1], got {self.stop_recall}")
        if self.min_qps < 0:
            raise ValueError(f"--min-qps must be >= 0, got {self.min_qps}")


def filtered_recall(found: np.ndarray, truth: np.ndarray, k: int) -> float:
    """Recall@k over the true neighbours that exist: a case with fewer than k matches
    pads its truth with -1, which :func:`bench.measure.recall_at_k` counts as missed."""
    valid = int((truth[:, :k] >= 0).sum())
    if valid == 0:
        return 1.0
    return recall_at_k(found, truth, k) * truth[:, :k].size / valid


def measure(
    method: FilteredMethod,
    case: FilterCase,
    prepared: Any,
    curve: str,
    queries: np.ndarray,
    *,
    k: int,
    ef: int,
    reps: int,
    min_qps: float,
) -> FilteredPoint:
    """One point, single-threaded.

    First a probe over the first tenth of the queries, the warm-up. If even the
    probe runs under ``min_qps``, the probe is the point (its recall and QPS;
    ``queries`` says how many): the curve ends there anyway, and a full pass of
    hnswlib's or post-filtering's slowest points would take minutes at 200k.
    Otherwise timed calls over all queries, at least ``reps`` and until
    ``_MIN_TIMED`` seconds (a sub-millisecond call on a busy machine is noise);
    QPS from the fastest, recall from the first (every call returns the same ids).
    """
    nq = queries.shape[0]
    plan = method.plan(case, queries, k, ef, curve)
    probe = min(nq, max(1, nq // _PROBE_DIVISOR))
    start = time.perf_counter()
    ids, failures = method.search(queries[:probe], k, ef, _head(prepared, probe), curve)
    seconds = time.perf_counter() - start
    if probe < nq and probe / seconds < min_qps:
        times = [seconds]
    else:
        probe = nq
        times = []
        while len(times) < reps or (sum(times) < _MIN_TIMED and len(times) < _MAX_REPS):
            start = time.perf_counter()
            found = method.search(queries, k, ef, prepared, curve)
            times.append(time.perf_counter() - start)
            if len(times) == 1:
                ids, failures = found
    best = min(times)
    exact = curve in method.exact_curves
    return FilteredPoint(
        case.workload,
        case.selectivity,
        method.label(curve),
        None if exact else ef,
        filtered_recall(ids, case.truth[:probe], k),
        probe / best,
        best,
        tuple(times),
        failures,
        plan,
        probe,
    )


def _head(prepared: Any, count: int) -> Any:
    """The prepared filter of the first ``count`` queries (per-query filters are lists)."""
    return prepared[:count] if isinstance(prepared, list) else prepared


def sweep_cases(
    method: FilteredMethod, cases: list[FilterCase], queries: np.ndarray, cfg: FilteredConfig
) -> Iterator[FilteredPoint]:
    """Yield every point of ``method`` over ``cases``: each curve's knob sweep, from
    ``--efs`` (the method's start for its knob) doubling on until the recall reaches
    ``stop_recall``, the QPS falls under ``min_qps``, the recall converges or the knob hits
    its limit (:func:`bench.sweep.knob_values`); exact curves get one point."""
    with progress_bar(len(cases), method.name, enabled=cfg.progress, unit="case") as bar:
        for case in cases:
            prepared = method.prepare(case)
            for curve in method.case_curves(case):
                if curve in method.exact_curves:
                    knobs: Iterator[int] = iter(cfg.efs[:1])
                    recalls, qpss = [], []
                else:
                    recalls, qpss = [], []
                    knobs = knob_values(
                        method.knob_start(cfg.efs),
                        lambda: curve_done(recalls, qpss, stop_recall=cfg.stop_recall,
                                           min_qps=cfg.min_qps),
                        limit=method.knob_limit,
                    )  # fmt: skip
                for ef in knobs:
                    point = measure(
                        method, case, prepared, curve, queries,
                        k=cfg.k, ef=ef, reps=cfg.reps, min_qps=cfg.min_qps,
                    )  # fmt: skip
                    recalls.append(point.recall)
                    qpss.append(point.qps)
                    yield point
            bar.update(1)
            del prepared  # per-query filters can be large: free before the next case


def run(cfg: FilteredConfig, suite: str = "filtered") -> int:
    """Run the suite, print the report, write the result files.

    Returns:
        Process exit code: 0, or 130 after Ctrl-C (partial results are written).
    """
    cfg.validate()
    data = load_data(cfg.common())
    if data.n < cfg.k:
        raise ValueError(f"the base has {data.n} rows, fewer than k={cfg.k}")
    print(f"data: {data.name}, {data.n} x {data.dim}, {data.nq} queries", flush=True)
    load = load_average()
    if load is not None and load > 0.5:
        print(f"note: load average {load:.1f} before the run: timings will be noisy", flush=True)
    attrs = make_attributes(data.n, cfg.selectivities, cfg.workloads, cfg.seed)
    cases = build_cases(
        data, attrs, cfg.workloads, cfg.selectivities, cfg.k, cfg.seed, cfg.out / "gt",
        progress=cfg.progress,
    )  # fmt: skip

    config = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(cfg).items()}
    dataset = {"name": data.name, "n": data.n, "dim": data.dim, "nq": data.nq, **data.identity}
    fr = FilteredRun(RunResult(suite=suite, config=config, dataset=dataset, machine=machine_info()))
    if "bruteforce" in cfg.methods and not blas_limitable():
        fr.notes.append("numpy's BLAS could not be limited to 1 thread: bruteforce may use more")
    params = HNSWParams(dim=data.dim, M=cfg.M, ef_construction=cfg.ef_construction, seed=cfg.seed)
    result = fr.run
    try:
        for name in cfg.methods:
            try:
                method = load_method(name, params, cfg.plans, cfg.storage)
            except ImportError as e:
                result.skipped[name] = f"not available ({e})"
                print(f"note: skipping {name}: not available ({e})", flush=True)
                continue
            result.engines[name] = method.version
            try:
                build = method.build(data.base, attrs.columns, cfg.build_threads, cfg.progress)
                if build is not None:
                    result.builds.append(build)
                    print(
                        f"{name} {method.version}: built in {build.seconds:.2f} s"
                        f" ({cfg.build_threads} threads)",
                        flush=True,
                    )
                for point in sweep_cases(method, cases, data.queries, cfg):
                    fr.points.append(point)  # one by one: Ctrl-C keeps the finished ones
            # One broken method must not lose the others' results.
            except Exception as e:  # noqa: BLE001
                result.skipped[name] = f"failed: {type(e).__name__}: {e}"
                print(f"error: {name} failed, continuing without it:", file=sys.stderr)
                traceback.print_exc()
            finally:
                method.close()
    except KeyboardInterrupt:
        result.interrupted = True
        print("\ninterrupted: reporting what was measured so far", file=sys.stderr, flush=True)

    print()
    print(format_report(fr, cfg.target_recall))
    json_path, csv_path = write_results(fr, cfg.out, cfg.target_recall)
    print(f"\nwrote {json_path} and {csv_path}")
    return 130 if result.interrupted else 0
