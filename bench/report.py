"""Turn a :class:`RunResult` into tables (stdout), ``results.json`` and ``results.csv``.

The headline compares methods at equal recall: each method's QPS at the
target recall (default 0.95), read off its recall-QPS curve by linear
interpolation between the two sweep points that bracket the target, and
vecsearch's QPS divided by each peer's. Only Pareto-optimal points are used
(no other point of the same method has both higher recall and higher QPS), so
a noisy, non-monotonic sweep cannot produce a bracket that skips a better point.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .records import RunResult, SweepPoint

REFERENCE = "vecsearch"
DASH = "\u2014"


@dataclass(frozen=True)
class AtRecall:
    """A method's throughput at the target recall.

    Attributes:
        qps: interpolated QPS, or None when the target was never reached.
        max_recall: best recall over the sweep.
        lower_bound: the smallest ef already beat the target, so ``qps`` is
            that point's QPS and the true value at the target is at least it.
    """

    qps: float | None
    max_recall: float
    lower_bound: bool = False


def qps_at_recall(points: Sequence[SweepPoint], target: float) -> AtRecall:
    """QPS at ``target`` recall by interpolating the recall-QPS Pareto frontier."""
    if not points:
        return AtRecall(None, 0.0)
    frontier = _pareto(points)  # ascending recall, descending QPS
    max_recall = frontier[-1].recall
    above = [p for p in frontier if p.recall >= target]
    below = [p for p in frontier if p.recall < target]
    if not above:
        return AtRecall(None, max_recall)
    hi = above[0]
    if not below:
        return AtRecall(hi.qps, max_recall, lower_bound=True)
    lo = below[-1]
    frac = (target - lo.recall) / (hi.recall - lo.recall)
    return AtRecall(lo.qps + frac * (hi.qps - lo.qps), max_recall)


def headline(result: RunResult, target: float) -> list[dict[str, Any]]:
    """One row per (method, threads): QPS at the target and vecsearch's ratio to it."""
    rows = []
    for threads in _threads(result):
        at = {m: qps_at_recall(_points(result, m, threads), target) for m in _methods(result)}
        ref = at.get(REFERENCE)
        for method, a in at.items():
            ratio, bound = _ratio(ref, a) if method != REFERENCE else (None, "")
            rows.append(
                {
                    "method": method,
                    "threads": threads,
                    "target_recall": target,
                    "qps": a.qps,
                    "qps_lower_bound": a.lower_bound,
                    "max_recall": a.max_recall,
                    "vecsearch_ratio": ratio,
                    "ratio_bound": bound,  # "", ">=" or "<=": how exact the ratio is
                }
            )
    return rows


def format_report(result: RunResult, target: float) -> str:
    """The human-readable report: sweep tables, build times, headline."""
    ds = result.dataset
    cfg = result.config
    lines = [
        f"== {result.suite}: {ds['name']} (n={ds['n']}, dim={ds['dim']}, nq={ds['nq']}), "
        + f"M={cfg['M']}, ef_construction={cfg['ef_construction']}, k={cfg['k']}"
    ]
    if result.interrupted:
        lines.append("!! interrupted: partial results")
    for name, reason in result.skipped.items():
        lines.append(f"   skipped {name}: {reason}")
    k = result.config["k"]
    if not result.builds and not result.sweeps:
        return "\n".join([*lines, "   (nothing measured)"])
    for threads in _threads(result):
        lines += ["", f"-- recall@{k} / QPS, {threads} thread{'s' if threads > 1 else ''}"]
        lines += _sweep_table(result, threads)
    lines += ["", "-- build", *_build_table(result)]
    if result.sweeps:
        lines += [
            "",
            f"-- headline: QPS at recall@{k} = {target:g} (interpolated)",
            *_headline_table(result, target),
        ]
    return "\n".join(lines)


def write_results(result: RunResult, out_dir: Path, target: float) -> tuple[Path, Path]:
    """Write ``results.json`` (everything) and ``results.csv`` (one row per sweep point)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, csv_path = out_dir / "results.json", out_dir / "results.csv"
    doc = result.to_dict()
    doc["headline"] = headline(result, target)
    json_path.write_text(json.dumps(doc, indent=2, default=str) + "\n")
    builds = {b.method: b for b in result.builds}
    with csv_path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "method",
                "threads",
                "ef",
                "recall",
                "qps",
                "seconds",
                "build_seconds",
                "build_threads",
            ]
        )
        for p in result.sweeps:
            b = builds.get(p.method)
            w.writerow(
                [
                    p.method,
                    p.threads,
                    p.ef,
                    f"{p.recall:.4f}",
                    f"{p.qps:.1f}",
                    f"{p.seconds:.6f}",
                    f"{b.seconds:.3f}" if b else "",
                    b.threads if b else "",
                ]
            )
    return json_path, csv_path


def _sweep_table(result: RunResult, threads: int) -> list[str]:
    methods = [m for m in _methods(result) if _points(result, m, threads)]
    efs = sorted({p.ef for p in result.sweeps if p.threads == threads})
    cells = {(p.method, p.ef): p for p in result.sweeps if p.threads == threads}
    # recall and QPS side by side per method: each curve reads down two columns
    header = ["ef"]
    for m in methods:
        header += [f"{m} R", f"{m} QPS"]
    rows = []
    for ef in efs:
        row = [str(ef)]
        for m in methods:
            p = cells.get((m, ef))
            row += [f"{p.recall:.4f}", f"{p.qps:,.0f}"] if p else ["", ""]
        rows.append(row)
    return _table(header, rows)


def _build_table(result: RunResult) -> list[str]:
    rows = [
        [b.method, str(b.threads), f"{b.seconds:.2f}", f"{b.n / b.seconds:,.0f}"]
        for b in result.builds
    ]
    return _table(["method", "threads", "seconds", "vectors/s"], rows)


def _headline_table(result: RunResult, target: float) -> list[str]:
    hl = headline(result, target)
    thread_counts = _threads(result)
    header = (
        ["method"]
        + [f"{t} thr QPS" for t in thread_counts]
        + [f"{t} thr {REFERENCE}/x" for t in thread_counts]
    )
    rows = []
    for m in _methods(result):
        by_t = {r["threads"]: r for r in hl if r["method"] == m}
        qps_cells, ratio_cells = [], []
        for t in thread_counts:
            r = by_t.get(t)
            if r is None:
                qps_cells.append("")
                ratio_cells.append("")
                continue
            if r["qps"] is None:
                qps_cells.append(f"{DASH} (max {r['max_recall']:.3f})")
            else:
                qps_cells.append(("\u2265" if r["qps_lower_bound"] else "") + f"{r['qps']:,.0f}")
            if m == REFERENCE or r["vecsearch_ratio"] is None:
                ratio_cells.append("" if m == REFERENCE else DASH)
            else:
                sym = {"": "", ">=": "\u2265", "<=": "\u2264"}[r["ratio_bound"]]
                ratio_cells.append(f"{sym}{r['vecsearch_ratio']:.2f}x")
        rows.append([m, *qps_cells, *ratio_cells])
    lines = _table(header, rows)
    lines.append(
        f"   ({REFERENCE}/x = {REFERENCE} QPS / that method's QPS at equal recall;"
        f" > 1 means {REFERENCE} is faster)"
    )
    return lines


def _ratio(ref: AtRecall | None, other: AtRecall) -> tuple[float | None, str]:
    if ref is None or ref.qps is None or other.qps is None:
        return None, ""
    if ref.lower_bound and other.lower_bound:
        return None, ""  # both are bounds in the same direction: nothing can be said
    bound = ">=" if ref.lower_bound else "<=" if other.lower_bound else ""
    return ref.qps / other.qps, bound


def _pareto(points: Sequence[SweepPoint]) -> list[SweepPoint]:
    best_qps = -1.0
    frontier = []
    for p in sorted(points, key=lambda p: (-p.recall, -p.qps)):
        if p.qps > best_qps:
            frontier.append(p)
            best_qps = p.qps
    return frontier[::-1]


def _methods(result: RunResult) -> list[str]:
    seen: dict[str, None] = {}
    for p in result.sweeps:
        seen.setdefault(p.method, None)
    return list(seen)


def _threads(result: RunResult) -> list[int]:
    return sorted({p.threads for p in result.sweeps})


def _points(result: RunResult, method: str, threads: int) -> list[SweepPoint]:
    return [p for p in result.sweeps if p.method == method and p.threads == threads]


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(c) for c in col) for col in zip(header, *rows)]
    # first column (labels) left-aligned, numbers right-aligned
    fmt = "  ".join(f"{{:{'<' if i == 0 else '>'}{w}}}" for i, w in enumerate(widths))
    out = [fmt.format(*header), "  ".join("-" * w for w in widths)]
    out += [fmt.format(*r) for r in rows]
    return ["   " + line for line in out]
