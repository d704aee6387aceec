"""Timing: index build, and recall/QPS sweeps over ef at a fixed thread count."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from vecsearch._progress import progress as progress_bar

from .engines import Engine
from .records import BuildResult, SweepPoint
from .sweep import curve_done, knob_values

_BUILD_CHUNKS = 50  # add calls per build: smooth progress, Ctrl-C seen within ~2% of a build


def recall_at_k(found: np.ndarray, truth: np.ndarray, k: int) -> float:
    """Mean fraction of the true k nearest ids among the k returned; negative ids never match."""
    f, t = found[:, :k], truth[:, :k]
    hits = (f[:, :, None] == t[:, None, :]).any(axis=2) & (f >= 0)
    return float(hits.sum()) / t.size


class TieAwareRecall:
    """Recall@k that counts ties: a returned id is right if it is one of the true k or lies no
    farther from the query than the true k-th neighbour. Data with duplicate vectors
    (debian-minilm has 3.9 %) has several equally right answers, and id recall would cap every
    method below 1 for the choice among them alone."""

    def __init__(self, base: np.ndarray, queries: np.ndarray, truth: np.ndarray,
                 truth_dists: np.ndarray, k: int) -> None:
        self.base, self.queries, self.truth, self.k = base, queries, truth[:, :k], k
        kth = truth_dists[:, k - 1].astype(np.float64)
        self.bound = kth * (1 + 1e-5) + 1e-6  # float32 distances of a tie may differ in the last bit

    def __call__(self, found: np.ndarray) -> float:
        f = found[:, : self.k]
        valid = f >= 0
        rows = self.base[np.where(valid, f, 0)].astype(np.float64)
        d = ((rows - self.queries[:, None, :].astype(np.float64)) ** 2).sum(axis=2)
        same = (f[:, :, None] == self.truth[:, None, :]).any(axis=2)
        hits = valid & (same | (d <= self.bound[:, None]))
        return float(np.minimum(hits.sum(axis=1), self.k).sum()) / self.truth.size


def timed_build(
    engine: Engine, data: np.ndarray, threads: int, *, progress: bool = True
) -> BuildResult:
    """Build ``engine`` over ``data`` with ``threads`` threads and time it."""
    n = data.shape[0]
    chunk = max(1000, math.ceil(n / _BUILD_CHUNKS))
    with progress_bar(n, f"build {engine.name}", enabled=progress) as bar:
        start = time.perf_counter()
        engine.build(data, threads, chunk=chunk, on_chunk=bar.update)
        seconds = time.perf_counter() - start
    return BuildResult(engine.name, threads, seconds, n, engine.index_bytes())


def sweep(
    engine: Engine,
    queries: np.ndarray,
    truth: np.ndarray | Callable[[np.ndarray], float],
    *,
    k: int,
    efs: Sequence[int],
    threads: int,
    reps: int = 3,
    stop_recall: float = 1.0,
    min_qps: float = 0.0,
    progress: bool = True,
) -> Iterator[SweepPoint]:
    """Yield one :class:`SweepPoint` per knob value, ascending.

    The knob starts at the engine's start values for ``efs`` and keeps doubling past
    them (up to the engine's limit) until a point reaches ``stop_recall`` or runs under
    ``min_qps``, so a curve that stops short of a target was tried past it.
    For each value: one untimed warm-up batch (its ids give the recall; it also
    warms caches and thread pools), then ``reps`` timed batches; QPS is from
    the fastest, the usual choice on a machine shared with other work.
    Yielding point by point lets the caller keep what was measured if the
    run is interrupted. ``truth`` is the true ids, or a function scoring the found ids
    (:class:`TieAwareRecall`).
    """
    nq = queries.shape[0]
    score = truth if callable(truth) else (lambda ids: recall_at_k(ids, truth, k))
    recalls: list[float] = []
    qpss: list[float] = []

    def done() -> bool:
        return curve_done(recalls, qpss, stop_recall=stop_recall, min_qps=min_qps)

    start = engine.knob_start(efs)
    label = f"{engine.name} x{threads}"
    with progress_bar(len(start), label, enabled=progress, unit=engine.knob) as bar:
        for ef in knob_values(start, done, limit=engine.knob_limit):
            ids = engine.search(queries, k, ef, threads)
            recall = score(ids)
            times = []
            for _ in range(reps):
                t0 = time.perf_counter()
                engine.search(queries, k, ef, threads)
                times.append(time.perf_counter() - t0)
            best = min(times)
            recalls.append(recall)
            qpss.append(nq / best)
            bar.update(1)
            yield SweepPoint(engine.name, threads, ef, recall, nq / best, best, tuple(times))
