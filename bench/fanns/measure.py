"""Measurements of the FANNS suite: tie-aware recall, timed points, memory, index size.

Recall@k of a query = |returned items within its true k-th distance| / min(k, m), m the
items its filter passes; queries with m = 0 are left out of the mean. An item counts when
it passes the filter and is no farther than the true k-th neighbour (relative 1e-5): data
with duplicate vectors (debian-minilm has 3.9%) has ties in its top k, and any of the tied
items is a right answer. ``recall_ids`` is the strict id-overlap figure, also recorded.
"""

from __future__ import annotations

import gc
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..filtered_engines import FilteredMethod
from . import methods as M
from .data import FannsCase

_PROBE_DIVISOR = 10
_MIN_TIMED = 0.1  # seconds of timed passes a fast point gets (more passes, at most _MAX_REPS)
_MAX_REPS = 10


@dataclass(frozen=True)
class FannsPoint:
    """One (case, method curve, ef) measurement, single-threaded.

    Attributes:
        workload, bucket: the case (``em`` / ``<1%``; controlled sets ``em@0.2`` / ``s=0.2``).
        selectivity: mean selectivity of the case's queries.
        method: ``vecsearch-auto``, ``hnswlib``, ...; ef None for exact methods.
        recall: tie-aware recall@k; recall_ids: strict id overlap.
        qps: mean over the timed passes; qps_std their standard deviation; qps_best the fastest.
        queries: queries measured (the probe only when it ran under ``min_qps``).
        failures: queries the library raised on (scored 0).
        plan: what answered vecsearch-auto's queries (counts per plan, one untimed call).
    """

    workload: str
    bucket: str
    selectivity: float
    method: str
    ef: int | None
    recall: float
    recall_ids: float
    qps: float
    qps_std: float
    qps_best: float
    times: tuple[float, ...]
    queries: int
    failures: int = 0
    plan: str = ""


def recalls(case: FannsCase, found: np.ndarray, base: np.ndarray, k: int) -> tuple[float, float]:
    """(tie-aware recall, strict id recall) of ``found`` [m, k] (-1 = nothing) on ``case``."""
    m = found.shape[0]
    truth = case.truth[:m, :k]
    valid = (truth >= 0).sum(axis=1)
    keep = valid > 0
    if not keep.any():
        return 1.0, 1.0
    f = found[:, :k]
    ok = f >= 0
    strict = ((f[:, :, None] == truth[:, None, :]).any(axis=2) & ok).sum(axis=1)
    kth = case.truth_dists[np.arange(m), np.maximum(valid - 1, 0)].astype(np.float64)
    safe = np.where(ok, f, 0)
    diff = base[safe].astype(np.float64) - case.queries[:m, None, :].astype(np.float64)
    d = np.einsum("ijk,ijk->ij", diff, diff)
    passes = ok.copy()
    if case.masks is not None:
        passes &= case.masks[np.arange(m)[:, None], safe]
    close = passes & (d <= kth[:, None] * (1 + 1e-5) + 1e-6)
    tie = np.minimum(close.sum(axis=1), valid)
    return float((tie[keep] / valid[keep]).mean()), float((strict[keep] / valid[keep]).mean())


def measure_point(
    method: FilteredMethod, case: FannsCase, prepared: Any, curve: str, base: np.ndarray,
    *, k: int, ef: int, reps: int, min_qps: float,
) -> FannsPoint:
    """Probe (warm-up) over the first tenth of the case's queries; if that runs under
    ``min_qps`` it is the point, else timed passes over all of them: at least ``reps``,
    more (up to 10) until 0.1 s has been timed, since one pass of a few milliseconds on a
    shared machine is noise. QPS is the mean over the passes (std and best kept too).

    A full garbage collection runs first, untimed (as pyperf does between runs): otherwise the
    garbage earlier points left behind sets off a full collection inside whichever method's
    timed pass comes next (50-100 ms once, measured with the debian own filters)."""
    gc.collect()
    queries = case.queries
    nq = queries.shape[0]
    plan = M.plan(method, case, k, ef, curve, prepared)
    probe = min(nq, max(1, nq // _PROBE_DIVISOR))
    head = prepared[:probe] if isinstance(prepared, list) else prepared
    start = time.perf_counter()
    ids, failures = M.search(method, case, queries[:probe], k, ef, head, curve)
    seconds = time.perf_counter() - start
    if probe < nq and probe / seconds < min_qps:
        times = [seconds]
    else:
        probe, times = nq, []
        while len(times) < max(1, reps) or (sum(times) < _MIN_TIMED and len(times) < _MAX_REPS):
            start = time.perf_counter()
            found = M.search(method, case, queries, k, ef, prepared, curve)
            times.append(time.perf_counter() - start)
            if len(times) == 1:
                ids, failures = found
    qps = probe / np.array(times)
    recall, strict = recalls(case, ids, base, k)
    exact = M.is_exact(method, case, curve)
    # vecsearch's unfiltered curve is its default call (plan="auto", no filter)
    label = method.label("auto" if case.unfiltered and method.name == "vecsearch" else curve)
    return FannsPoint(
        case.workload, case.bucket, case.selectivity, label, None if exact else ef,
        recall, strict, float(qps.mean()), float(qps.std()), float(qps.max()), tuple(times),
        probe, failures, plan,
    )  # fmt: skip


def index_bytes(method: FilteredMethod) -> int | None:
    """Size of the method's index saved to disk in the library's own format (None: no index)."""
    engine = getattr(method, "engine", None)
    index = getattr(engine, "index", None)
    if index is None:
        return None
    tmp = Path(tempfile.mkdtemp(prefix="vecsearch-fanns-"))
    path = tmp / "index.bin"
    try:
        if method.name == "faiss":
            import faiss

            faiss.write_index(index, str(path))
        elif method.name == "hnswlib":
            index.save_index(str(path))
        else:  # vecsearch, usearch
            index.save(str(path))
        return sum(p.stat().st_size for p in tmp.rglob("*") if p.is_file())
    except Exception:  # noqa: BLE001 - a size we cannot get is reported as unknown
        return None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def cores() -> int:
    return os.cpu_count() or 1
