"""Tables and the growth summary of ``python -m bench disk``.

Growth is fitted over the measured scales and extrapolated to a larger n; every extrapolated figure
is labelled an estimate. Sizes and RSS: linear in n (a + b n); build time: c n log2 n (HNSW insertion
cost); QPS: a + b log n (each query's walk grows about logarithmically with n).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

MiB = 2**20
_PARTS = ("graph", "codes", "ids", "vectors", "attributes", "total")


def result_points(scales: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every measured point, flat, with its scale and configuration."""
    return [dict(n=s["n"], mode=r["mode"], disk_io=r["disk_io"], filter=r.get("filter"), **{k: v for k, v in p.items() if k != "times"})
            for s in scales for r in s["searches"] for p in r["points"]]


def best(points: list[dict[str, Any]], cache: str, target: float) -> dict[str, Any] | None:
    """The fastest point at recall >= target with this cache state, or None."""
    ok = [p for p in points if p["cache"] == cache and p["recall"] >= target]
    return max(ok, key=lambda p: p["qps"]) if ok else None


def _label(search: dict[str, Any]) -> str:
    label = f"disk/{search['disk_io']}" if search["mode"] == "disk" else "ram"
    return label + (f" {search['filter']:.0%}" if search.get("filter") else "")


def print_scale(scale: dict[str, Any], k: int, target: float) -> None:
    """One scale: per configuration and cache, the best QPS at the target recall and what it cost."""
    b = scale["build"]
    split = f" (sampled peaks: anon {b['peak_anon_mb']:.0f}, file {b['peak_file_mb']:.0f})" if "peak_anon_mb" in b else ""
    print(f"\n{scale['name']}: build {b['seconds']:.1f} s ({b['method']}), build peak RSS {b['peak_rss_mb']:.0f} MiB"
          f"{split}, file {b['file_bytes'] / MiB:.0f} MiB")
    print(f"  {'config':10s} {'cache':5s} {'load RSS':>9s} {'peak RSS':>9s} {'index RAM':>9s} {'best QPS':>9s} {'ef':>4s} {'rerank':>6s} "
          f"{'recall':>6s} {'KiB/q':>7s} {'majflt/q':>8s} {'anon/file MiB':>13s}   (best = fastest at recall@{k} >= {target})")
    for r in scale["searches"]:
        ram = _index_ram(r) / MiB
        mem = r["search"]
        split = f"{mem.get('peak_anon_mb', mem['rss_anon_mb']):6.0f}/{mem.get('peak_file_mb', mem['rss_file_mb']):<6.0f}"
        for cache in ("cold", "warm"):
            if not any(p["cache"] == cache for p in r["points"]):
                continue
            p = best(r["points"], cache, target)
            top = max((q["recall"] for q in r["points"] if q["cache"] == cache), default=0.0)
            head = (f"  {_label(r):10s} {cache:5s} {r['after_load']['peak_rss_mb']:9.0f} "
                    f"{r['search']['peak_rss_mb']:9.0f} {ram:9.0f}")
            if p is None:
                print(f"{head} {'—':>9s}  (best recall {top:.4f}){'':40s} {split}")
            else:
                print(f"{head} {p['qps']:9.0f} {p['ef']:4d} {p['rerank']:6d} {p['recall']:6.4f} "
                      f"{p['read_kb_per_query']:7.1f} {p['majflt_per_query']:8.1f} {split:>13s}")
    print("  (MiB. load RSS: the search process's peak while loading; peak RSS: its peak during the searches; index RAM:\n"
          "   memory_usage() without the vectors for disk; anon/file: the highest anonymous and file-backed RSS\n"
          "   sampled during the searches: mapped vector pages touched by the passes count as file pages)")


def print_peers(scale: dict[str, Any], k: int, target: float) -> None:
    """Per peer and cache: its best QPS at the target recall against vecsearch's best disk path
    (ours / theirs), with what each read per query and its peak RSS."""
    ours = [r for r in scale["searches"] if r["mode"] == "disk" and not r.get("filter")]
    for peer in scale.get("peers", []):
        print(f"\n  {peer['name']} (its own files; {peer['build']['method']}, built in {peer['build']['seconds']:.0f} s, "
              f"{peer['build']['file_bytes'] / MiB:.0f} MiB on disk; its own thread pool)")
        print(f"  {'cache':5s} {'vecsearch QPS':>13s} {'KiB/q':>7s} {'peak RSS':>8s} {peer['name'] + ' QPS':>13s} "
              f"{'KiB/q':>7s} {'peak RSS':>8s} {'ours/theirs':>11s}   (recall@{k} >= {target})")
        for cache in ("cold", "warm"):
            mine = [(p, r) for r in ours if (p := best(r["points"], cache, target))]
            p_ours, r_ours = max(mine, key=lambda pr: pr[0]["qps"]) if mine else (None, None)
            p_peer = best(peer["points"], cache, target)
            left = (f"{p_ours['qps']:13.0f} {p_ours['read_kb_per_query']:7.1f} {r_ours['search']['peak_rss_mb']:8.0f}"
                    if p_ours else f"{'—':>13s} {'':7s} {'':8s}")
            if p_peer:
                right = (f"{p_peer['qps']:13.0f} {p_peer['read_kb_per_query']:7.1f} {peer['search']['peak_rss_mb']:8.0f}"
                         f" (nprobes {p_peer['nprobes']}, refine {p_peer['refine_factor']})")
            else:
                top = max((q["recall"] for q in peer["points"] if q["cache"] == cache), default=0.0)
                right = f"{'never':>13s} (best recall {top:.4f})"
            ratio = f"{p_ours['qps'] / p_peer['qps']:11.2f}x" if p_ours and p_peer else f"{'—':>12s}"
            print(f"  {cache:5s} {left} {right} {ratio}")


def print_rerank_curve(scale: dict[str, Any], k: int) -> None:
    """Recall@k, QPS and KiB read per query against the re-rank depth, at the widest beam measured."""
    points = [p for r in scale["searches"] for p in r["points"]]
    if not points:
        return
    columns = [(r, cache) for r in scale["searches"] for cache in ("cold", "warm")
               if any(p["cache"] == cache for p in r["points"])]
    widest = {d: max(p["ef"] for p in points if p["rerank"] == d) for d in {p["rerank"] for p in points}}
    print(f"\n  recall@{k} / QPS / KiB read per query vs re-rank depth, at the widest beam measured for the depth")
    print(f"  {'rerank':>6s} {'beam':>5s}" + "".join(f" {_label(r) + ' ' + cache:>24s}" for r, cache in columns))
    for depth, beam in sorted(widest.items()):
        line = f"  {depth:6d} {beam:5d}"
        for r, cache in columns:
            found = [p for p in r["points"] if p["cache"] == cache and p["rerank"] == depth and p["ef"] == beam]
            p = found[0] if found else None
            line += f" {p['recall']:.3f} {p['qps']:7.0f} {p['read_kb_per_query']:6.0f}".rjust(25) if p else f" {'—':>24s}"
        print(line)


def _index_ram(search: dict[str, Any]) -> int:
    """Bytes the index holds in RAM: for the disk tier, everything but the float vectors."""
    parts = search["memory_usage"]
    return parts["total"] - (parts.get("vectors", 0) if search["mode"] == "disk" else 0)


def growth(scales: list[dict[str, Any]], target: float, to: int) -> dict[str, Any]:
    """Per scale the headline figures, and their extrapolation to n = ``to`` (estimates)."""
    rows = []
    for s in scales:
        disk = [r for r in s["searches"] if r["mode"] == "disk"]
        ram = [r for r in s["searches"] if r["mode"] == "ram"]
        first = disk[0] if disk else ram[0]
        row: dict[str, Any] = dict(
            n=s["n"], build_seconds=s["build"]["seconds"], build_peak_rss_mb=s["build"]["peak_rss_mb"],
            build_baseline_rss_mb=s["build"]["start_rss_mb"],
            search_baseline_rss_mb=max(r["baseline"]["rss_mb"] for r in s["searches"]),
            load_peak_rss_mb={_label(r): r["after_load"]["peak_rss_mb"] for r in s["searches"]},
            build_method=s["build"]["method"], file_mb=s["build"]["file_bytes"] / MiB,
            base_mb=s.get("base_bytes", 0) / MiB, dim=s.get("dim"),
            search_peak_rss_mb={_label(r): r["search"]["peak_rss_mb"] for r in s["searches"]},
            # Sampled (results of older runs lack them): what the kernel cannot drop, and the build's.
            build_peak_anon_mb=s["build"].get("peak_anon_mb", np.nan),
            search_peak_anon_mb={_label(r): r["search"].get("peak_anon_mb", np.nan) for r in s["searches"]},
            index_ram_mb={part: first["memory_usage"].get(part, 0) / MiB for part in _PARTS},
            best={f"{_label(r)}/{cache}": best(r["points"], cache, target)
                  for r in s["searches"] for cache in ("cold", "warm")
                  if any(p["cache"] == cache for p in r["points"])},
        )
        if disk:
            row["index_ram_mb"]["total_without_vectors"] = _index_ram(disk[0]) / MiB
        rows.append(row)
    return dict(target_recall=target, rows=rows, estimate=_estimate(rows, to) if rows else None)


def _estimate(rows: list[dict[str, Any]], to: int) -> dict[str, Any]:
    n = np.array([r["n"] for r in rows], dtype=np.float64)
    nlogn = n * np.log2(n)

    def linear(ys: list[float]) -> float:
        return _fit(n, np.asarray(ys, dtype=np.float64), to)

    est: dict[str, Any] = dict(
        n=to, measured_n=[r["n"] for r in rows], note="extrapolated from the measured scales, not measured",
        build_seconds=_through_origin(nlogn, [r["build_seconds"] for r in rows], to * math.log2(to)),
        build_peak_rss_mb=_above_baseline(n, [r["build_peak_rss_mb"] for r in rows],
                                          [r["build_baseline_rss_mb"] for r in rows], to),
        build_peak_anon_mb=_above_baseline(n, [r.get("build_peak_anon_mb", np.nan) for r in rows],
                                           [r["build_baseline_rss_mb"] for r in rows], to),
        search_peak_anon_mb={label: _above_baseline(n, [r.get("search_peak_anon_mb", {}).get(label, np.nan)
                                                        for r in rows],
                                                    [r["search_baseline_rss_mb"] for r in rows], to)
                             for label in rows[0]["search_peak_rss_mb"] if label != "ram"},
        file_mb=linear([r["file_mb"] for r in rows]),
        base_mb=linear([r["base_mb"] for r in rows]),
        build_method=rows[-1]["build_method"],
        index_ram_mb={part: linear([r["index_ram_mb"].get(part, 0.0) for r in rows])
                      for part in rows[0]["index_ram_mb"]},
        search_peak_rss_mb={label: _above_baseline(n, [r["search_peak_rss_mb"].get(label, np.nan) for r in rows],
                                                   [r["search_baseline_rss_mb"] for r in rows], to)
                            for label in rows[0]["search_peak_rss_mb"] if label != "ram"},
        load_peak_rss_mb={label: _above_baseline(n, [r["load_peak_rss_mb"].get(label, np.nan) for r in rows],
                                                 [r["search_baseline_rss_mb"] for r in rows], to)
                          for label in rows[0]["load_peak_rss_mb"] if label != "ram"},
        qps={},
    )
    for label in rows[0]["best"]:
        if label.startswith("ram"):
            continue
        found = [(r["n"], r["best"].get(label)) for r in rows]
        found = [(x, p["qps"]) for x, p in found if p]
        if found:
            xs = np.log(np.array([x for x, _ in found], dtype=np.float64))
            qps = np.array([q for _, q in found])
            # One scale says nothing about how QPS falls with n: carried over unchanged.
            # A fit that falls to zero or below (noisy timings on a shared machine) predicts nothing: None.
            value = float(qps[0]) if len(found) == 1 else _fit(xs, qps, math.log(to))
            est["qps"][label] = value if value > 0 else None
    return est


def _fit(x: np.ndarray, y: np.ndarray, at: float) -> float:
    """a + b x fitted by least squares (through the origin with one point), evaluated at ``at``."""
    keep = ~np.isnan(y)
    x, y = x[keep], y[keep]
    if len(x) == 0:
        return float("nan")
    if len(x) == 1 or np.ptp(x) == 0:
        return float(y.mean() / x.mean() * at) if x.mean() else float(y.mean())
    b, a = np.polyfit(x, y, 1)
    return float(a + b * at)


def _above_baseline(n: np.ndarray, peaks: list[float], baselines: list[float], at: float) -> float:
    """A process's peak RSS at n = ``at``: its fixed baseline (interpreter, libraries) plus the part
    that grows with n, fitted linearly (through the origin from a single scale)."""
    base = float(np.mean(baselines))
    return base + _fit(n, np.asarray(peaks, dtype=np.float64) - np.asarray(baselines, dtype=np.float64), at)


def _through_origin(x: np.ndarray, ys: list[float], at: float) -> float:
    """c x fitted by least squares, evaluated at ``at``."""
    y = np.asarray(ys, dtype=np.float64)
    return float((x @ y) / (x @ x) * at)


def _pair(total: float, anon: float) -> str:
    return f"{total:.0f}/{'?' if math.isnan(anon) else f'{anon:.0f}'}"


def _cells(r: dict[str, Any], paths: list[str]) -> str:
    """The growth table's columns up to the QPS ones, for a measured row or the estimate."""
    ram = r["index_ram_mb"]
    build = _pair(r["build_peak_rss_mb"], r.get("build_peak_anon_mb", np.nan))
    search = "".join(f" {_pair(r['search_peak_rss_mb'].get(p, np.nan), r.get('search_peak_anon_mb', {}).get(p, np.nan)):>11s}"
                     for p in paths)
    return (f"  {r['n']:10,d} {r['build_seconds']:8.1f} {build:>11s} {r['file_mb']:8.0f}{search} "
            f"{ram['graph']:6.0f} {ram['codes']:6.0f} {ram['ids']:5.0f} {ram.get('attributes', 0):5.0f} "
            f"{ram.get('total_without_vectors', ram['total']):7.0f}")


def print_growth(summary: dict[str, Any], target: float) -> None:
    rows, est = summary["rows"], summary["estimate"]
    labels = [label for label in rows[0]["best"] if label.startswith("disk")]
    paths = [p for p in rows[0]["search_peak_rss_mb"] if p != "ram"]
    print(f"\ngrowth (best single-thread QPS at recall@10 >= {target}, with (ef, rerank))")
    head = (f"  {'n':>10s} {'build s':>8s} {'build RSS':>11s} {'file MiB':>8s}"
            + "".join(f" {'RSS ' + p.removeprefix('disk/'):>11s}" for p in paths)
            + f" {'graph':>6s} {'codes':>6s} {'ids':>5s} {'attrs':>5s} {'RAM idx':>7s}")
    print(head + "".join(f" {label:>22s}" for label in labels))
    for r in rows:
        line = _cells(r, paths)
        for label in labels:
            p = r["best"][label]
            line += f" {p['qps']:9.0f} ({p['ef']:3d},{p['rerank']:4d})  " if p else f" {'—':>22s}"
        print(line)
    if est is not None and est["n"] not in est["measured_n"]:
        _print_estimate(est, labels, paths)
    elif est is not None:
        print(f"  (n = {est['n']:,} was measured: no extrapolation)")
    print("  MiB; build RSS and RSS <path> (the search process's, during the searches): peak / sampled peak of\n"
          "  anonymous memory (the rest is file pages: the build's spill mapping and source, mapped vector rows);\n"
          "  graph..attrs: memory_usage() parts (attrs: the id -> row map, even without attribute columns);\n"
          "  RAM idx: all but the float vectors")


def _print_estimate(est: dict[str, Any], labels: list[str], paths: list[str]) -> None:
    line = _cells(est, paths)
    line += "".join(f" {est['qps'][label]:9.0f} {'':12s}" if est["qps"].get(label) else f" {'— (fit <= 0)':>22s}"
                    for label in labels)
    print(line + "   <- ESTIMATE (extrapolated, not measured)")
    print(f"  estimate basis: {len(est['measured_n'])} measured scale(s); sizes and RSS linear in n, build time ~ n log n, "
          "QPS linear in log n (noisy on a shared machine; one scale: carried over)")
    GiB = 1024
    ram = est["index_ram_mb"]
    search = ", ".join(f"{p.removeprefix('disk/')} {est['search_peak_rss_mb'][p] / GiB:.1f} (anon "
                       f"{est['search_peak_anon_mb'].get(p, np.nan) / GiB:.1f})" for p in paths)
    spill = est["base_mb"] if est["build_method"] == "build_on_disk" else 0.0  # <index>.building while building
    print(f"  the n = {est['n']:,} run needs (ESTIMATE): disk {(est['base_mb'] + est['file_mb'] + spill) / GiB:.1f} GiB "
          f"at the build's peak (base {est['base_mb'] / GiB:.1f} + index {est['file_mb'] / GiB:.1f} + spill "
          f"{spill / GiB:.1f}); build "
          f"{est['build_seconds'] / 3600:.1f} h at up to {est['build_peak_rss_mb'] / GiB:.1f} GiB RSS (anon "
          f"{est['build_peak_anon_mb'] / GiB:.1f}; {est['build_method']}); search peak RSS, GiB: {search}; "
          f"index RAM without vectors {ram.get('total_without_vectors', ram['total']) / GiB:.2f} GiB")
