"""Recall-QPS plots of the FANNS suite: one panel per workload and selectivity bucket."""

from __future__ import annotations

import math
from pathlib import Path

from .report import case_keys, methods, points_of
from .records import FannsRun

_STYLE = {  # method -> (colour, marker); peers in muted tones, vecsearch in strong ones
    "vecsearch": ("#d62728", "o"), "vecsearch-auto": ("#d62728", "o"),
    "vecsearch-acorn": ("#ff7f0e", "^"), "vecsearch-post": ("#9467bd", "v"),
    "vecsearch-scan": ("#8c564b", "D"), "hnswlib": ("#1f77b4", "s"), "faiss": ("#2ca02c", "P"),
    "usearch": ("#17becf", "X"), "bruteforce": ("#7f7f7f", "*"),
}  # fmt: skip


def plot_recall_qps(fr: FannsRun, path: Path) -> Path:
    """Write the figure to ``path`` (PNG); recall@k on x, QPS on a log y axis.

    Raises:
        ImportError: matplotlib is not installed.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = [c for c in case_keys(fr) if any(p.workload == c[0] and p.bucket == c[1]
                                             for p in fr.points)]  # fmt: skip
    info = {(c["workload"], c["bucket"]): c for c in fr.cases}
    ncols = min(4, len(keys))
    nrows = math.ceil(len(keys) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.4 * nrows + 0.9),
                             squeeze=False)  # fmt: skip
    k = fr.config["k"]
    handles = {}
    for ax, (workload, bucket) in zip(axes.flat, keys):
        for m in methods(fr):
            pts = sorted(points_of(fr, workload, bucket, m), key=lambda p: (p.ef or 0))
            if not pts:
                continue
            colour, marker = _STYLE.get(m, (None, "o"))
            xs, ys = [p.recall for p in pts], [p.qps for p in pts]
            (line,) = ax.plot(xs, ys, marker=marker, color=colour, lw=1.6, ms=5,
                              ls="none" if len(pts) == 1 else "-", label=m)  # fmt: skip
            handles.setdefault(m, line)
        c = info[workload, bucket]
        ax.set_title(f"{workload}  {bucket}\n{c['queries']} queries, mean selectivity "
                     f"{c['selectivity_mean']:.2%}", fontsize=10)  # fmt: skip
        ax.set_yscale("log")
        ax.set_xlim(max(0.0, min(0.5, ax.get_xlim()[0])), 1.01)
        ax.axvline(0.9, color="#bbbbbb", lw=0.8, ls=":")
        ax.axvline(0.95, color="#bbbbbb", lw=0.8, ls="--")
        ax.grid(True, which="both", alpha=0.25)
        ax.set_xlabel(f"recall@{k}", fontsize=9)
        ax.set_ylabel("QPS (1 thread, log)", fontsize=9)
        ax.tick_params(labelsize=8)
    for ax in list(axes.flat)[len(keys):]:
        ax.set_visible(False)
    ds = fr.dataset
    title = f"FANNS recall-QPS: {ds['name']} (n={ds['n']:,}, d={ds['dim']}, k={k})"
    if ds.get("synthetic"):
        title += "  [SYNTHETIC generated arXiv-like data]"
    fig.suptitle(title, fontsize=13)
    order = sorted(handles, key=lambda m: list(_STYLE).index(m) if m in _STYLE else len(_STYLE))
    from matplotlib.lines import Line2D

    proxies = [Line2D([], [], color=handles[m].get_color(), marker=handles[m].get_marker(),
                      lw=1.6, ms=6) for m in order]  # a line even when a panel had one point
    fig.legend(proxies, order, loc="lower center", ncol=min(9, len(handles)),
               fontsize=9, frameon=False)  # fmt: skip
    fig.tight_layout(rect=(0, 0.5 / (3.4 * nrows + 0.9) + 0.02, 1, 0.97))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
