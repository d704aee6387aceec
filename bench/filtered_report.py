"""Records and report of the filtered suite: per-case tables, headline, result files.

The headline reads each method's QPS at the target recall off its curve with
:func:`bench.report.qps_at_recall` (linear interpolation on the recall-QPS
Pareto frontier), per workload and selectivity, and divides vecsearch-auto's
QPS by the best of every other method (peers and baselines, named) and by the
faster exact pre-filter baseline (bruteforce, faiss-flat). Exact methods
(vecsearch-scan and the baselines) have a single point measured without ef; its
QPS holds at any target it reaches, so it is used as is rather than as a bound.
Points measured on the probe queries only (under ``--min-qps``) are shown, marked,
and never used in a headline figure.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .filtered_data import label, match_count
from .records import RunResult, SweepPoint
from .report import DASH, AtRecall, _build_table, _ratio, _table, qps_at_recall

AUTO = "vecsearch-auto"
#: The exact pre-filter baselines: "auto/exact" divides by the faster of them.
EXACT = ("bruteforce", "faiss-flat")
_BOUND = {"": "", ">=": "\u2265", "<=": "\u2264"}


@dataclass(frozen=True)
class FilteredPoint:
    """One (case, method, ef) measurement over the whole query batch, single-threaded.

    Attributes:
        method: method and curve, e.g. ``vecsearch-acorn``, ``hnswlib``.
        ef: beam width; None for an exact method (one point, no ef).
        recall: mean recall@k against the exact filtered neighbours (a query
            with fewer than k matches is scored on the ones it has).
        qps: queries per second of the fastest timed call.
        times: wall time of every timed call.
        failures: queries the library raised on (hnswlib: fewer than k found);
            they returned nothing and score 0.
        plan: the plan vecsearch used for the first query ("" for peers).
        queries: queries measured: all of them, or only the probe (the first
            tenth) when even that ran under ``--min-qps``.
    """

    workload: str
    selectivity: float
    method: str
    ef: int | None
    recall: float
    qps: float
    seconds: float
    times: tuple[float, ...]
    failures: int = 0
    plan: str = ""
    queries: int = 0

    def sweep_point(self) -> SweepPoint:
        """As the unfiltered record, for :mod:`bench.report`'s arithmetic."""
        ef = self.ef or 0
        return SweepPoint(self.method, 1, ef, self.recall, self.qps, self.seconds, self.times)


@dataclass
class FilteredRun:
    """A filtered run: ``run`` holds what it shares with unfiltered ones (config,
    dataset, machine, engines, skipped, builds, interrupted; its ``sweeps`` stay empty)."""

    run: RunResult
    points: list[FilteredPoint] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def at_recall(points: Sequence[FilteredPoint], target: float) -> AtRecall:
    """A method's QPS at ``target`` recall in one case."""
    if len(points) == 1 and points[0].ef is None:  # exact: no recall to trade for speed
        p = points[0]
        return AtRecall(p.qps if p.recall >= target else None, p.recall)
    return qps_at_recall([p.sweep_point() for p in points], target)


def headline(fr: FilteredRun, target: float) -> list[dict[str, Any]]:
    """One row per case: each method's QPS at ``target``, and vecsearch-auto's ratios."""
    rows = []
    nq = fr.run.dataset.get("nq", 0)
    for workload, s in _cases(fr):
        by_method = _by_method(fr, workload, s)
        at = {}
        for m, pts in by_method.items():
            full = [p for p in pts if p.queries >= nq]
            at[m] = at_recall(full, target) if full else AtRecall(None, max(p.recall for p in pts))
        auto = at.get(AUTO)
        reached = [m for m in at if not m.startswith("vecsearch") and at[m].qps is not None]
        best = max(reached, key=lambda m: at[m].qps or 0.0) if reached else None
        peer_ratio, peer_bound = _ratio(auto, at[best]) if best else (None, "")
        exact = [m for m in EXACT if m in reached]
        best_exact = max(exact, key=lambda m: at[m].qps or 0.0) if exact else None
        bf_ratio, bf_bound = _ratio(auto, at[best_exact]) if best_exact else (None, "")
        rows.append(
            {
                "workload": workload,
                "selectivity": s,
                "target_recall": target,
                "methods": {
                    m: {"qps": a.qps, "qps_lower_bound": a.lower_bound, "max_recall": a.max_recall}
                    for m, a in at.items()
                },
                "auto_plans": _auto_plans(by_method.get(AUTO, [])),
                "best_peer": best,
                "auto_vs_best_peer": peer_ratio,
                "auto_vs_best_peer_bound": peer_bound,  # "", ">=" or "<=": how exact it is
                "best_exact": best_exact,
                "auto_vs_exact": bf_ratio,
                "auto_vs_exact_bound": bf_bound,
            }
        )
    return rows


def format_report(fr: FilteredRun, target: float) -> str:
    """The human-readable report: one table per case, build times, headline."""
    run = fr.run
    ds, cfg = run.dataset, run.config
    lines = [
        f"== {run.suite}: {ds['name']} (n={ds['n']}, dim={ds['dim']}, nq={ds['nq']}), "
        f"M={cfg['M']}, ef_construction={cfg['ef_construction']}, k={cfg['k']}, "
        "search on 1 thread"
    ]
    if run.interrupted:
        lines.append("!! interrupted: partial results")
    lines += [f"   skipped {name}: {reason}" for name, reason in run.skipped.items()]
    lines += [f"   note: {note}" for note in fr.notes]
    if not run.builds and not fr.points:
        return "\n".join([*lines, "   (nothing measured)"])
    k = cfg["k"]
    for workload, s in _cases(fr):
        matches = match_count(s, ds["n"])
        lines += ["", f"-- {workload} s={label(s)} ({matches} matches): recall@{k} QPS per ef"]
        lines += _case_table(fr, workload, s)
    lines += ["", "-- build", *_build_table(run)]
    if fr.points:
        lines += [
            "",
            f"-- headline: QPS at recall@{k} = {target:g} (interpolated), 1 thread",
            *_headline_table(fr, target),
        ]
    return "\n".join(lines)


def write_results(fr: FilteredRun, out_dir: Path, target: float) -> tuple[Path, Path]:
    """Write ``results.json`` (everything) and ``results.csv`` (one row per point)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, csv_path = out_dir / "results.json", out_dir / "results.csv"
    doc = fr.run.to_dict()
    del doc["sweeps"]  # always empty here: the points replace them
    doc["notes"] = fr.notes
    doc["points"] = [asdict(p) for p in fr.points]
    doc["headline"] = headline(fr, target)
    json_path.write_text(json.dumps(doc, indent=2, default=str) + "\n")
    builds = {b.method: b for b in fr.run.builds}
    with csv_path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            ["workload", "selectivity", "method", "ef", "recall", "qps", "seconds", "queries",
             "failures", "plan", "build_seconds", "build_threads"]
        )  # fmt: skip
        for p in fr.points:
            b = next((builds[m] for m in builds if p.method == m or p.method.startswith(m + "-")),
                     None)  # fmt: skip
            w.writerow(
                [
                    p.workload,
                    label(p.selectivity),
                    p.method,
                    "" if p.ef is None else p.ef,
                    f"{p.recall:.4f}",
                    f"{p.qps:.1f}",
                    f"{p.seconds:.6f}",
                    p.queries,
                    p.failures,
                    p.plan,
                    f"{b.seconds:.3f}" if b else "",
                    b.threads if b else "",
                ]
            )
    return json_path, csv_path


def _case_table(fr: FilteredRun, workload: str, s: float) -> list[str]:
    # One row per method, one column per ef: "recall qps" cells keep 7 curves readable.
    by_method = _by_method(fr, workload, s)
    cells = {(p.method, p.ef): p for pts in by_method.values() for p in pts}
    efs: list[int | None] = sorted({p.ef for p in cells.values() if p.ef is not None})
    if any(p.ef is None for p in cells.values()):
        efs.insert(0, None)
    nq = fr.run.dataset["nq"]
    header = ["method", *("exact" if ef is None else f"ef {ef}" for ef in efs)]
    rows = []
    for m in by_method:
        row = [m]
        for ef in efs:
            p = cells.get((m, ef))
            # * queries the library raised on (scored 0); ~ probe only (under --min-qps)
            marks = ("*" if p.failures else "") + ("~" if p.queries < nq else "") if p else ""
            row.append(f"{p.recall:.3f}{marks} {_short(p.qps)}" if p else "")
        rows.append(row)
    if AUTO in by_method:
        plans = [cells[AUTO, ef].plan if (AUTO, ef) in cells else "" for ef in efs]
        rows.append(["  auto plan", *plans])
    lines = _table(header, rows)
    failed = [p for p in cells.values() if p.failures]
    if failed:
        worst = max(failed, key=lambda p: p.failures)
        lines.append(
            f"   * {worst.method} raised on up to {worst.failures} queries: fewer than k"
            " allowed items found, nothing returned, scored 0"
        )
    probed = [p for p in cells.values() if p.queries < nq]
    if probed:
        lines.append(
            f"   ~ under --min-qps on the first {probed[0].queries} queries: measured on those only"
        )
    return lines


def _short(qps: float) -> str:
    """QPS in 4-5 characters: 939, 4.1k, 114k."""
    if qps >= 10_000:
        return f"{qps / 1000:.0f}k"
    if qps >= 1000:
        return f"{qps / 1000:.1f}k"
    return f"{qps:.0f}"


def _headline_table(fr: FilteredRun, target: float) -> list[str]:
    rows_in = headline(fr, target)
    methods = _methods(fr)
    header = ["case", *methods, "auto plan", "auto/best (who)", "auto/exact"]
    rows = []
    for r in rows_in:
        cells = [f"{r['workload']} {label(r['selectivity'])}"]
        for m in methods:
            a = r["methods"].get(m)
            if a is None:
                cells.append("")
            elif a["qps"] is None:
                cells.append(f"{DASH} ({a['max_recall']:.2f})")
            else:
                cells.append(("\u2265" if a["qps_lower_bound"] else "") + f"{a['qps']:,.0f}")
        cells.append(r["auto_plans"])
        peer = r["auto_vs_best_peer"]
        bf = r["auto_vs_exact"]
        cells.append(DASH if peer is None else
                     f"{_BOUND[r['auto_vs_best_peer_bound']]}{peer:.2f}x ({r['best_peer']})")
        cells.append(DASH if bf is None else f"{_BOUND[r['auto_vs_exact_bound']]}{bf:.2f}x")
        rows.append(cells)
    lines = _table(header, rows)
    lines.append(
        f"   ({DASH} (r): {target:g} never reached, r = best recall of a sweep that doubled its"
        " knob until the stop recall, the QPS floor, a plateau or its limit; auto/best ="
        " vecsearch-auto QPS / the fastest other method, peers and baselines alike; auto/exact ="
        " / the faster exact pre-filter baseline; > 1 means vecsearch-auto is faster; points"
        " measured on the probe queries only never count; LanceDB runs its own thread pool)"
    )
    return lines


def _auto_plans(points: Sequence[FilteredPoint]) -> str:
    """Plans vecsearch-auto chose over its sweep, in ef order: ``acorn`` or ``acorn/scan``."""
    seen: dict[str, None] = {}
    for p in sorted(points, key=lambda p: p.ef or 0):
        if p.plan:
            seen.setdefault(p.plan, None)
    return "/".join(seen)


def _cases(fr: FilteredRun) -> list[tuple[str, float]]:
    seen: dict[tuple[str, float], None] = {}
    for p in fr.points:
        seen.setdefault((p.workload, p.selectivity), None)
    order = {w: i for i, w in enumerate(fr.run.config.get("workloads", ()))}
    return sorted(seen, key=lambda c: (order.get(c[0], len(order)), c[1]))


def _methods(fr: FilteredRun) -> list[str]:
    seen: dict[str, None] = {}
    for p in fr.points:
        seen.setdefault(p.method, None)
    return list(seen)


def _by_method(fr: FilteredRun, workload: str, s: float) -> dict[str, list[FilteredPoint]]:
    out: dict[str, list[FilteredPoint]] = {}
    for p in fr.points:
        if p.workload == workload and p.selectivity == s:
            out.setdefault(p.method, []).append(p)
    return out
