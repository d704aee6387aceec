"""Exact k-nearest neighbours by brute force in numpy, for recall measurement.

Distances follow the vecsearch metric definitions: ``"l2"`` squared euclidean,
``"ip"`` ``1 - dot``, ``"cosine"`` ``1 - cos``. The scan streams the base in
blocks (so a memory-mapped base set is read once, in order), scores each block
against the queries with one float32 BLAS matmul, and keeps a few more than
``k`` candidates per query. The survivors are re-scored exactly in float64 and
sorted by (distance, id), so rounding in the matmul shortcut cannot reorder
the final top k and ties break the same way on every run.
"""

from __future__ import annotations

import numpy as np

from vecsearch._progress import progress as progress_bar

__all__ = ["METRICS", "exact_knn"]

METRICS = ("l2", "ip", "cosine")

_BUDGET = 1 << 25  # float32 cells in one [queries x base] score tile (128 MiB)
_QUERY_TILE = 2048
_RERANK_TILE = 1024


def exact_knn(
    base: np.ndarray,
    queries: np.ndarray,
    k: int,
    metric: str = "l2",
    *,
    chunk: int | None = None,
    progress: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact k-NN of every query over ``base``.

    Args:
        base: [n, dim] array (any real dtype; memmaps welcome).
        queries: [nq, dim] array, or [dim] for one query.
        k: neighbours per query. When ``k > n`` rows are padded with id -1, distance inf.
        metric: ``"l2"`` (squared), ``"ip"`` (1 - dot) or ``"cosine"`` (1 - cos).
        chunk: base rows scored per block; default keeps a tile near 128 MiB.
        progress: show a tqdm bar when tqdm is installed.

    Returns:
        ``(ids int64 [nq, k], dists float32 [nq, k])``, ascending distance per row.

    Raises:
        ValueError: unknown metric, k < 1, chunk < 1, or shapes that do not match.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> base = rng.standard_normal((1000, 8), dtype=np.float32)
        >>> ids, dists = exact_knn(base, base[:3], k=1, progress=False)
        >>> ids.ravel().tolist()
        [0, 1, 2]
    """
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; expected one of {METRICS}")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if chunk is not None and chunk < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk}")
    queries = np.asarray(queries)
    if queries.ndim == 1:
        queries = queries.reshape(1, -1)
    if base.ndim != 2 or queries.ndim != 2:
        raise ValueError(
            f"base and queries must be 2-D, got shapes {base.shape} and {queries.shape}"
        )
    if base.shape[1] != queries.shape[1]:
        raise ValueError(f"queries have dim {queries.shape[1]}, base has dim {base.shape[1]}")

    n, nq = base.shape[0], queries.shape[0]
    q = np.ascontiguousarray(queries, dtype=np.float32)
    if metric == "cosine":
        q = _unit_rows(q)
    keep = min(n, k + max(10, k // 4))  # candidates that survive to the exact re-rank
    q_tile = max(1, min(nq, _QUERY_TILE))
    block = chunk or max(256, _BUDGET // q_tile)

    cand_d = np.full((nq, 0), np.inf, dtype=np.float32)
    cand_i = np.full((nq, 0), -1, dtype=np.int64)
    q_sq = np.einsum("ij,ij->i", q, q) if metric == "l2" else None
    with progress_bar(n, "exact k-NN", enabled=progress and nq > 0) as bar:
        for b0 in range(0, n, block):
            rows = np.asarray(base[b0 : b0 + block], dtype=np.float32)
            if metric == "cosine":
                rows = _unit_rows(rows)
            r_sq = np.einsum("ij,ij->i", rows, rows) if metric == "l2" else None
            parts_d, parts_i = [], []
            for q0 in range(0, nq, q_tile):
                d = _score_tile(q[q0 : q0 + q_tile], rows, q_sq, r_sq, q0)
                top = _smallest(d, keep)
                parts_d.append(np.take_along_axis(d, top, axis=1))
                parts_i.append(top + b0)
            if parts_d:
                cand_d, cand_i = _merge(
                    cand_d, cand_i, np.vstack(parts_d), np.vstack(parts_i), keep
                )
            bar.update(rows.shape[0])

    return _rerank(base, q, cand_i, k, metric)


def _score_tile(
    q: np.ndarray, rows: np.ndarray, q_sq: np.ndarray | None, r_sq: np.ndarray | None, q0: int
) -> np.ndarray:
    """Approximate distances [len(q), len(rows)] by one matmul, updated in place."""
    d = q @ rows.T
    if q_sq is None or r_sq is None:  # ip / cosine: 1 - dot
        np.subtract(np.float32(1), d, out=d)
    else:  # l2: |q|^2 + |r|^2 - 2 q.r
        d *= np.float32(-2)
        d += r_sq[None, :]
        d += q_sq[q0 : q0 + len(q), None]
    return d


def _smallest(d: np.ndarray, keep: int) -> np.ndarray:
    """Column indices of the ``keep`` smallest entries per row (unordered)."""
    if d.shape[1] <= keep:
        return np.broadcast_to(np.arange(d.shape[1]), d.shape).copy()
    return np.argpartition(d, keep - 1, axis=1)[:, :keep]


def _merge(
    d1: np.ndarray, i1: np.ndarray, d2: np.ndarray, i2: np.ndarray, keep: int
) -> tuple[np.ndarray, np.ndarray]:
    d = np.hstack([d1, d2])
    i = np.hstack([i1, i2])
    top = _smallest(d, keep)
    return np.take_along_axis(d, top, axis=1), np.take_along_axis(i, top, axis=1)


def _rerank(
    base: np.ndarray, q: np.ndarray, cand_i: np.ndarray, k: int, metric: str
) -> tuple[np.ndarray, np.ndarray]:
    """Exact float64 distances for the candidates, sorted by (distance, id), cut to k."""
    nq, keep = cand_i.shape
    ids = np.full((nq, k), -1, dtype=np.int64)
    dists = np.full((nq, k), np.inf, dtype=np.float32)
    width = min(k, keep)
    if width == 0:
        return ids, dists
    for q0 in range(0, nq, _RERANK_TILE):
        ci = cand_i[q0 : q0 + _RERANK_TILE]
        # Gather from the base in sorted order: sequential reads on a memmap.
        flat = ci.ravel()
        uniq, inverse = np.unique(flat, return_inverse=True)
        vecs = np.asarray(base[uniq], dtype=np.float64)[inverse].reshape(ci.shape[0], keep, -1)
        qq = q[q0 : q0 + _RERANK_TILE].astype(np.float64)
        if metric == "l2":
            diff = vecs - qq[:, None, :]
            d = np.einsum("ijk,ijk->ij", diff, diff)
        else:
            if metric == "cosine":
                vecs /= np.maximum(np.linalg.norm(vecs, axis=2, keepdims=True), 1e-300)
            d = 1.0 - np.einsum("ijk,ik->ij", vecs, qq)
        order = np.lexsort((ci, d), axis=-1)[:, :width]
        ids[q0 : q0 + len(ci), :width] = np.take_along_axis(ci, order, axis=1)
        dists[q0 : q0 + len(ci), :width] = np.take_along_axis(d, order, axis=1)
    return ids, dists


def _unit_rows(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, np.float32(1e-30))
