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


def is_ours(method: str) -> bool:
    """vecsearch and its variants (``vecsearch-sq8``): what the peers are compared with."""
    return method == REFERENCE or method.startswith(REFERENCE + "-")


def headline(result: RunResult, target: float) -> list[dict[str, Any]]:
    """One row per (method, threads): QPS at the target, vecsearch's ratio to it, and for
    vecsearch's rows the best peer at that target and the ratio to it."""
    rows = []
    for threads in _threads(result):
        at = {m: qps_at_recall(_points(result, m, threads), target) for m in _methods(result)}
        best = _best_peer(at)
        ref = at.get(REFERENCE)
        for method, a in at.items():
            ratio, bound = _ratio(ref, a) if method != REFERENCE else (None, "")
            row = {
                "method": method,
                "threads": threads,
                "target_recall": target,
                "qps": a.qps,
                "qps_lower_bound": a.lower_bound,
                "max_recall": a.max_recall,
                "vecsearch_ratio": ratio,
                "ratio_bound": bound,  # "", ">=" or "<=": how exact the ratio is
            }
            if is_ours(method):
                row["best_peer"] = best
                row["vs_best_peer"], row["vs_best_peer_bound"] = (
                    _ratio(a, at[best]) if best else (None, "")
                )
            rows.append(row)
    return rows


def format_report(result: RunResult, targets: float | Sequence[float]) -> str:
    """The human-readable report: sweep tables, build times and sizes, headline per target."""
    targets = (targets,) if isinstance(targets, (int, float)) else tuple(targets)
    ds = result.dataset
    cfg = result.config
    lines = [
        f"== {result.suite}: {ds['name']} (n={ds['n']}, dim={ds['dim']}, nq={ds['nq']}), "
        + f"M={cfg['M']}, ef_construction={cfg['ef_construction']}, k={cfg['k']}"
    ]
    lines.append("   " + _machine_line(result))
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
            f"-- headline: QPS at recall@{k} = {', '.join(f'{t:g}' for t in targets)}"
            " (interpolated on each curve's Pareto frontier)",
            *_headline_table(result, targets),
        ]
    return "\n".join(lines)


def write_results(
    result: RunResult, out_dir: Path, targets: float | Sequence[float]
) -> tuple[Path, Path]:
    """Write ``results.json`` (everything) and ``results.csv`` (one row per sweep point)."""
    targets = (targets,) if isinstance(targets, (int, float)) else tuple(targets)
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, csv_path = out_dir / "results.json", out_dir / "results.csv"
    doc = result.to_dict()
    doc["headline"] = [row for t in targets for row in headline(result, t)]
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
    """One row per point, each curve's points together (long form: a dozen engines side by
    side would not fit a terminal)."""
    rows = []
    for m in _methods(result):
        for p in sorted(_points(result, m, threads), key=lambda p: p.ef):
            rows.append([m, str(p.ef), f"{p.recall:.4f}", f"{p.qps:,.0f}"])
    return _table(["method", "knob", "recall", "QPS"], rows)


def _build_table(result: RunResult) -> list[str]:
    versions = result.engines
    rows = [
        [
            b.method,
            versions.get(b.method, ""),
            str(b.threads),
            f"{b.seconds:.2f}",
            f"{b.n / b.seconds:,.0f}",
            "" if b.index_bytes is None else f"{b.index_bytes / b.n:,.0f}",
        ]
        for b in result.builds
    ]
    return _table(["method", "version", "threads", "seconds", "vectors/s", "bytes/vector"], rows)


def _machine_line(result: RunResult) -> str:
    m = result.machine
    simd = (m.get("vecsearch_simd") or {}).get("level", "?")
    load = m.get("load_average_1min")
    load_text = "?" if load is None else f"{load:.2f}"
    return (
        f"machine: {m.get('cpu', '?')}, {m.get('cores', '?')} cores, vecsearch SIMD {simd}, "
        f"python {m.get('python', '?')}, numpy {m.get('numpy', '?')}, load average {load_text} "
        "at the start"
    )


def _headline_table(result: RunResult, targets: Sequence[float]) -> list[str]:
    lines: list[str] = []
    for threads in _threads(result):
        rows_by_target = {
            t: {r["method"]: r for r in headline(result, t) if r["threads"] == threads}
            for t in targets
        }
        header = ["method"]
        for t in targets:
            header += [f"QPS@{t:g}", f"{REFERENCE}/x @{t:g}"]
        rows = []
        for m in _methods(result):
            row = [m]
            for t in targets:
                r = rows_by_target[t].get(m)
                if r is None:
                    row += ["", ""]
                    continue
                row.append(_qps_cell(r))
                if m == REFERENCE:
                    row.append("")
                else:
                    row.append(_ratio_cell(r["vecsearch_ratio"], r["ratio_bound"]))
            rows.append(row)
        lines += [f"   {threads} thread{'s' if threads > 1 else ''}:", *_table(header, rows)]
        for t in targets:
            for m, r in rows_by_target[t].items():
                if not is_ours(m):
                    continue
                best = r["best_peer"]
                if best is None:
                    lines.append(f"   @{t:g}: no peer reached it; {m} {_qps_cell(r)}")
                    continue
                ratio = _ratio_cell(r["vs_best_peer"], r["vs_best_peer_bound"])
                peer = rows_by_target[t][best]
                lines.append(
                    f"   @{t:g}: {m} {_qps_cell(r)} / best peer {best} {_qps_cell(peer)} = {ratio}"
                )
    lines.append(
        f"   ({REFERENCE}/x = {REFERENCE} QPS / that method's QPS at equal recall;"
        f" > 1 means {REFERENCE} is faster; \u2014 (max r): never reached, r the best recall"
        " of a sweep that kept doubling its knob until it reached the stop recall, ran under"
        " the QPS floor, or hit the knob's limit)"
    )
    return lines


def _qps_cell(r: dict[str, Any]) -> str:
    if r["qps"] is None:
        return f"{DASH} (max {r['max_recall']:.3f})"
    return ("\u2265" if r["qps_lower_bound"] else "") + f"{r['qps']:,.0f}"


def _ratio_cell(ratio: float | None, bound: str) -> str:
    if ratio is None:
        return DASH
    return {"": "", ">=": "\u2265", "<=": "\u2264"}[bound] + f"{ratio:.2f}x"


def _best_peer(at: dict[str, AtRecall]) -> str | None:
    reached = [m for m, a in at.items() if not is_ours(m) and a.qps is not None]
    return max(reached, key=lambda m: at[m].qps or 0.0) if reached else None


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
