"""Outputs of the FANNS suite: ``results.json``, ``results.csv``, ``report.md`` and plots.

Headline: per case (workload x selectivity bucket) each method's best measured QPS among
its points with recall@k >= 0.90 and >= 0.95 ("—" with its best recall when never
reached), and vecsearch-auto's QPS over the best peer library's (hnswlib, faiss, usearch)
and over brute force. No interpolation: the QPS is that of a point actually measured.
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any, Optional, Sequence

from .measure import FannsPoint
from .records import FannsRun

DASH = "\u2014"
OURS = ("vecsearch-auto",)  # the default call: plan="auto" (no filter on the unfiltered case)
#: The exact pre-filter baselines; "ours / exact" compares with the faster of them.
EXACT = ("bruteforce", "faiss-flat")
PROBE = "~"  # a point measured on the probe queries only: shown, never in a ratio


def is_ours(method: str) -> bool:
    """vecsearch's curves (plans, the per-query loop): everything else is a peer or baseline."""
    return method.startswith("vecsearch")


def case_keys(fr: FannsRun) -> list[tuple[str, str]]:
    """(workload, bucket) in the order the cases were built."""
    return [(c["workload"], c["bucket"]) for c in fr.cases]


def methods(fr: FannsRun) -> list[str]:
    seen: dict[str, None] = {}
    for p in fr.points:
        seen.setdefault(p.method, None)
    return list(seen)


def points_of(fr: FannsRun, workload: str, bucket: str, method: str) -> list[FannsPoint]:
    return [p for p in fr.points if (p.workload, p.bucket, p.method) == (workload, bucket, method)]


def best_at(points: Sequence[FannsPoint], target: float) -> tuple[Optional[FannsPoint], float]:
    """(fastest point with recall >= target or None, best recall)."""
    if not points:
        return None, 0.0
    ok = [p for p in points if p.recall >= target]
    return (max(ok, key=lambda p: p.qps) if ok else None), max(p.recall for p in points)


def headline(fr: FannsRun) -> list[dict[str, Any]]:
    """One row per case and target recall: every method's best QPS, the best of all peers and
    baselines (named), the best exact pre-filter baseline, and our ratios to both. Points
    measured on the probe queries only (too slow for a full pass) are left out."""
    queries = {(c["workload"], c["bucket"]): c["queries"] for c in fr.cases}
    rows = []
    for workload, bucket in case_keys(fr):
        for target in fr.config["targets"]:
            cells: dict[str, Any] = {}
            for m in methods(fr):
                pts = points_of(fr, workload, bucket, m)
                if not pts:
                    continue
                full = [p for p in pts if p.queries >= queries[workload, bucket]]
                best, _ = best_at(full, target)
                top = max(p.recall for p in pts)
                cells[m] = {"qps": best.qps if best else None,
                            "qps_std": best.qps_std if best else None,
                            "ef": best.ef if best else None, "max_recall": top,
                            "probe_only": not full}  # fmt: skip
            ours = next((m for m in OURS if m in cells), None)
            others = {m: c["qps"] for m, c in cells.items() if not is_ours(m) and c["qps"]}
            best_peer = max(others, key=others.__getitem__) if others else None
            exact = {m: others[m] for m in EXACT if m in others}
            best_exact = max(exact, key=exact.__getitem__) if exact else None
            our_q = cells[ours]["qps"] if ours else None
            rows.append({
                "workload": workload, "bucket": bucket, "target_recall": target,
                "methods": cells, "ours": ours, "best_peer": best_peer, "best_exact": best_exact,
                "ours_vs_best_peer": our_q / others[best_peer] if our_q and best_peer else None,
                "ours_vs_exact": our_q / exact[best_exact] if our_q and best_exact else None,
            })  # fmt: skip
    return rows


def _fmt_qps(cell: Optional[dict[str, Any]], reps: int) -> str:
    if cell is None:
        return ""
    if cell["qps"] is None:
        return f"{DASH} ({cell['max_recall']:.2f}{', ' + PROBE if cell['probe_only'] else ''})"
    text = f"{cell['qps']:,.0f}"
    if reps > 1 and cell["qps_std"] is not None:
        text += f" ± {cell['qps_std']:,.0f}"
    return text


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def _mib(b: Optional[int]) -> str:
    return "" if b is None else f"{b / 2**20:,.1f}"


def format_markdown(fr: FannsRun) -> str:
    """The ``report.md`` text."""
    ds, cfg = fr.dataset, fr.config
    k, reps = cfg["k"], cfg["reps"]
    meth = methods(fr)
    lines = [f"# FANNS benchmark: {ds['name']}", ""]
    if ds.get("synthetic"):
        lines += ["**Synthetic data** (generated arXiv-like stand-in): not comparable with the "
                  "FANNS paper's figures.", ""]  # fmt: skip
    if fr.interrupted:
        lines += ["**Interrupted**: partial results.", ""]
    mach = fr.machine
    lines += [
        f"- data: n={ds['n']}, dim={ds['dim']}, {ds['nq']} queries; filters: "
        + "; ".join(f"{w}: {d}" for w, d in ds.get("workloads", {}).items() if w != "unfiltered"),
        f"- index: HNSW M={cfg['M']}, ef_construction={cfg['ef_construction']}, squared L2; "
        f"k={k}; knobs start at {', '.join(map(str, cfg['efs']))} and double until the stop "
        f"recall {cfg['stop_recall']:g}, the QPS floor {cfg['min_qps']:g} or a recall plateau",
        f"- build on {cfg['threads']} threads, search on 1 thread; {reps} timed pass(es) per point"
        + (" (QPS mean ± std)" if reps > 1 else ""),
        f"- machine: {mach.get('cpu')}, {mach.get('cores')} cores, load average before "
        f"{mach.get('load_average_1min')}; run took {fr.seconds:.0f} s",
        f"- recall@{k}: tie-aware (an item at the true k-th distance counts), denominator "
        f"min(k, matches); queries with no match are left out",
    ]
    lines += [f"- skipped {m}: {why}" for m, why in fr.skipped.items()]
    lines += [f"- note: {n}" for n in fr.notes]
    rows_by_target: dict[float, list[dict[str, Any]]] = {}
    for r in headline(fr):
        rows_by_target.setdefault(r["target_recall"], []).append(r)
    sel = {(c["workload"], c["bucket"]): c for c in fr.cases}
    for target, rows in rows_by_target.items():
        lines += ["", f"## Best QPS at recall@{k} ≥ {target:g}", ""]
        header = ["workload", "bucket", "queries", "sel.", *meth, "ours / best peer",
                  "ours / exact"]
        body = []
        for r in rows:
            c = sel[r["workload"], r["bucket"]]
            ratio = r["ours_vs_best_peer"]
            bf = r["ours_vs_exact"]
            body.append([
                r["workload"], r["bucket"], str(c["queries"]), f"{c['selectivity_mean']:.2%}",
                *(_fmt_qps(r["methods"].get(m), reps) for m in meth),
                f"{ratio:.2f}x ({r['best_peer']})" if ratio else DASH,
                f"{bf:.2f}x ({r['best_exact']})" if bf else DASH,
            ])  # fmt: skip
        lines += _md_table(header, body)
    failed = [p for p in fr.points if p.failures]
    if failed:
        worst = max(failed, key=lambda p: p.failures)
        lines += ["", f"Library failures: {len(failed)} points had queries the library raised "
                  f"on (scored 0), up to {worst.failures} ({worst.method}, {worst.workload} "
                  f"{worst.bucket})."]  # fmt: skip
    lines += ["", f"{DASH} (r): never reached, r = best recall measured, over a sweep that kept "
              "doubling its knob until the stop recall, the QPS floor, a recall plateau or the "
              f"knob's limit; {PROBE}: slower than the QPS floor, measured on the probe queries "
              "only, never used in a ratio. ours = vecsearch-auto (its default call; on the "
              "unfiltered case no filter); best peer = the fastest of every other method, "
              "baselines included; exact = the faster exact pre-filter baseline (numpy "
              "bruteforce, one matrix product per shared filter; faiss-flat, IndexFlatL2 + "
              "selector). vecsearch-auto-loop: the auto plan called once per query (the loop the "
              "peers without a batch call use). LanceDB runs its own thread pool.", "",
              "## Build and memory", ""]  # fmt: skip
    body = [[b.method, b.version, "" if b.seconds is None else f"{b.seconds:.2f}", str(b.threads),
             _mib(b.rss_before), _mib(b.peak_build_rss), _mib(b.peak_query_rss),
             _mib(b.index_bytes)] for b in fr.builds]  # fmt: skip
    lines += _md_table(["method", "version", "build s", "threads", "RSS before MiB",
                        "peak build RSS MiB", "peak query RSS MiB", "index MiB"], body)  # fmt: skip
    lines += ["", "RSS is the whole benchmark process (data and ground truth included); "
              "index MiB is the index saved in the library's own format.", "",
              "Plots: `recall_qps.png` (one panel per workload and selectivity bucket)."]  # fmt: skip
    return "\n".join(lines) + "\n"


def write_all(fr: FannsRun, out: Path) -> dict[str, Any]:
    """Write every output; returns their paths and the report text (key ``report_text``)."""
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Any] = {}
    doc = asdict(fr)
    doc["headline"] = headline(fr)
    paths["json"] = out / "results.json"
    paths["json"].write_text(json.dumps(doc, indent=2, default=str) + "\n")
    paths["csv"] = out / "results.csv"
    builds = {b.method: b for b in fr.builds}
    mach = fr.machine
    with paths["csv"].open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["dataset", "workload", "bucket", "selectivity", "method", "ef", "recall",
                    "recall_ids", "qps", "qps_std", "qps_best", "queries", "failures", "plan", "k",
                    "M", "ef_construction", "build_seconds", "build_threads", "search_threads",
                    "cpu", "cores"])  # fmt: skip
        for p in fr.points:
            b = next((builds[m] for m in builds if p.method == m or p.method.startswith(m + "-")),
                     None)  # fmt: skip
            w.writerow([fr.dataset["name"], p.workload, p.bucket, f"{p.selectivity:.6f}", p.method,
                        "" if p.ef is None else p.ef, f"{p.recall:.4f}", f"{p.recall_ids:.4f}",
                        f"{p.qps:.1f}", f"{p.qps_std:.1f}", f"{p.qps_best:.1f}", p.queries,
                        p.failures, p.plan, fr.config["k"], fr.config["M"],
                        fr.config["ef_construction"],
                        "" if b is None or b.seconds is None else f"{b.seconds:.3f}",
                        "" if b is None else b.threads, 1, mach.get("cpu"), mach.get("cores")])  # fmt: skip
    text = format_markdown(fr)
    paths["report"] = out / "report.md"
    paths["report"].write_text(text)
    try:
        from .plots import plot_recall_qps

        if fr.points:
            paths["plot"] = plot_recall_qps(fr, out / "recall_qps.png")
    except ImportError as e:
        print(f"note: no plots ({e}); pip install matplotlib", flush=True)
    paths["report_text"] = text
    return paths
