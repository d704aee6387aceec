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
from .run import FannsRun

DASH = "\u2014"
OURS = ("vecsearch-auto",)  # the default call: plan="auto" (no filter on the unfiltered case)
PEERS = ("hnswlib", "faiss", "usearch")
BRUTE = "bruteforce"


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
    """One row per case and target recall: every method's best QPS and our ratios."""
    rows = []
    for workload, bucket in case_keys(fr):
        for target in fr.config["targets"]:
            cells: dict[str, Any] = {}
            for m in methods(fr):
                pts = points_of(fr, workload, bucket, m)
                if not pts:
                    continue
                best, top = best_at(pts, target)
                cells[m] = {"qps": best.qps if best else None,
                            "qps_std": best.qps_std if best else None,
                            "ef": best.ef if best else None, "max_recall": top}  # fmt: skip
            ours = next((m for m in OURS if m in cells), None)
            peer_q = {m: cells[m]["qps"] for m in PEERS if m in cells and cells[m]["qps"]}
            best_peer = max(peer_q, key=peer_q.__getitem__) if peer_q else None
            our_q = cells[ours]["qps"] if ours else None
            brute_q = cells.get(BRUTE, {}).get("qps")
            rows.append({
                "workload": workload, "bucket": bucket, "target_recall": target,
                "methods": cells, "ours": ours, "best_peer": best_peer,
                "ours_vs_best_peer": our_q / peer_q[best_peer] if our_q and best_peer else None,
                "ours_vs_bruteforce": our_q / brute_q if our_q and brute_q else None,
            })  # fmt: skip
    return rows


def _fmt_qps(cell: Optional[dict[str, Any]], reps: int) -> str:
    if cell is None:
        return ""
    if cell["qps"] is None:
        return f"{DASH} ({cell['max_recall']:.2f})"
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
        f"k={k}; ef swept over {', '.join(map(str, cfg['efs']))}",
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
        header = ["workload", "bucket", "queries", "sel.", *meth, "ours / best peer", "ours / bf"]
        body = []
        for r in rows:
            c = sel[r["workload"], r["bucket"]]
            ratio = r["ours_vs_best_peer"]
            bf = r["ours_vs_bruteforce"]
            body.append([
                r["workload"], r["bucket"], str(c["queries"]), f"{c['selectivity_mean']:.2%}",
                *(_fmt_qps(r["methods"].get(m), reps) for m in meth),
                f"{ratio:.2f}x ({r['best_peer']})" if ratio else DASH,
                f"{bf:.2f}x" if bf else DASH,
            ])  # fmt: skip
        lines += _md_table(header, body)
    failed = [p for p in fr.points if p.failures]
    if failed:
        worst = max(failed, key=lambda p: p.failures)
        lines += ["", f"Library failures: {len(failed)} points had queries the library raised "
                  f"on (scored 0), up to {worst.failures} ({worst.method}, {worst.workload} "
                  f"{worst.bucket})."]  # fmt: skip
    lines += ["", f"{DASH} (r): never reached, r = best recall measured. ours = vecsearch-auto "
              "(its default call; on the unfiltered case no filter); peers = hnswlib, faiss, usearch; bf = numpy "
              "brute force (exact).", "", "## Build and memory", ""]  # fmt: skip
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
            b = builds.get(p.method.split("-")[0])
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
