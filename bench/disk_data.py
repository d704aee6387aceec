"""Data for the disk suite at any scale: base vectors that live in a file and are never whole in RAM.

The synthetic base set is the same seeded mixture as the rest of the suite
(:func:`vecsearch.datasets.clustered_dataset`, row for row), written to a ``.npy`` in chunks and
cached under ``<out>/data`` keyed by (generator version, n, dim, seed); queries are small and kept
beside it. Files given with ``--base/--queries`` are memory-mapped as they are. Ground truth is
:func:`bench.data.ground_truth` over the memmap (``exact_knn`` scans the base in blocks), so the
cache key, and the cache itself, are shared with the in-RAM suites for the same data.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vecsearch._progress import progress as progress_bar
from vecsearch.datasets import GENERATOR_VERSION, load_vectors, make_mixture

from .data import Dataset, file_identity
from .data import ground_truth as cached_ground_truth

# The generator's output definition: row i comes from block i // BLOCK_ROWS with its
# own seed, so any aligned chunk can be drawn alone. test_disk_suite pins the rows to
# clustered_dataset's, so a change in the generator fails there rather than drifting silently.
from vecsearch.datasets.synthetic import BLOCK_ROWS, STREAM_BASE, STREAM_QUERIES

WRITE_CHUNK = 8 * BLOCK_ROWS  # 65,536 rows per write: 96 MiB at dim 384


@dataclass(frozen=True)
class DiskData:
    """Base vectors in a file (``base_path``, first ``n`` rows) and queries in RAM.

    ``queries_path`` holds the same queries for the worker processes.
    """

    name: str
    base_path: Path
    n: int
    dim: int
    queries: np.ndarray
    queries_path: Path
    identity: dict[str, Any] = field(default_factory=dict)

    def base(self) -> np.ndarray:
        """The base rows as a read-only memmap (nothing is read until used)."""
        return open_base(self.base_path, self.n)

    def as_dataset(self) -> Dataset:
        return Dataset(self.name, self.base(), self.queries, self.identity)


def open_base(path: Path | str, n: int) -> np.ndarray:
    """First ``n`` rows of a vector file, memory-mapped (.npy/.fbin/.fvecs/...)."""
    base = load_vectors(path)
    if base.shape[0] < n:
        raise ValueError(f"{path} has {base.shape[0]} rows, {n} asked")
    return base[:n]


def synthetic_on_disk(n: int, nq: int, dim: int, seed: int, directory: Path, *, rows_in_file: int = 0,
                      progress: bool = True) -> DiskData:
    """The clustered synthetic set with its base in ``directory`` (written once, then reused).

    Row i does not depend on n, so the first n rows of any cached ``base-<m>.npy`` with m >= n are
    this set's base; when there is none, ``max(n, rows_in_file)`` rows are written, so that one file
    serves every scale of a growth run.
    """
    where = directory / f"synthetic-v{GENERATOR_VERSION}-{dim}d-seed{seed}"
    where.mkdir(parents=True, exist_ok=True)
    mixture = make_mixture(dim, seed=seed)
    cached = sorted((m, path) for path in where.glob("base-*.npy") if (m := _rows_of(path)) >= n
                    and _complete_npy(path, (m, dim)))
    if cached:
        base_path = cached[0][1]
    else:
        rows = max(n, rows_in_file)
        base_path = where / f"base-{rows}.npy"
        _write_base(base_path, mixture, rows, seed, progress)
    queries = mixture.sample(nq, seed, STREAM_QUERIES)
    queries_path = where / f"queries-{nq}.npy"
    if not _complete_npy(queries_path, (nq, dim)):
        _atomic_save(queries_path, queries)
    # The in-RAM synthetic set's identity: same rows, same ground-truth cache entry.
    identity = {"kind": "synthetic", "generator": GENERATOR_VERSION, "n": n, "nq": nq, "dim": dim, "seed": seed}
    return DiskData(f"synthetic-{n}x{dim}", base_path, n, dim, queries, queries_path, identity)


def files_on_disk(base_path: str, queries_path: str, n: int | None, nq: int | None, directory: Path) -> DiskData:
    """Vectors from local files: the first ``n`` base rows stay in the file, queries are read."""
    base = load_vectors(base_path)
    n = base.shape[0] if n is None else min(n, base.shape[0])
    queries = np.ascontiguousarray(load_vectors(queries_path)[:nq], dtype=np.float32)
    if queries.shape[1] != base.shape[1]:
        raise ValueError(f"{queries_path} has dim {queries.shape[1]}, {base_path} has dim {base.shape[1]}")
    directory.mkdir(parents=True, exist_ok=True)
    saved = directory / f"queries-{Path(queries_path).stem}-{len(queries)}.npy"
    _atomic_save(saved, queries)
    identity = {"kind": "files", "base": file_identity(base_path), "queries": file_identity(queries_path),
                "n": n, "nq": len(queries)}
    return DiskData(f"{Path(base_path).stem}-{n}x{base.shape[1]}", Path(base_path), n, int(base.shape[1]),
                    queries, saved, identity)


def ground_truth(data: DiskData, k: int, cache_dir: Path, *, progress: bool = True) -> np.ndarray:
    """Exact k-NN ids int64 [nq, k] over the memmapped base, cached; the base's pages are dropped after."""
    truth = cached_ground_truth(data.as_dataset(), k, cache_dir, progress=progress)
    drop_cache(data.base_path)  # the scan filled the page cache with the base: not the index's to use
    return truth


# Filtered runs tag row i with bucket i % FILTER_BUCKETS; a share s matches buckets < s * FILTER_BUCKETS.
FILTER_BUCKETS = 100


def filter_buckets(share: float) -> int:
    """How many of the FILTER_BUCKETS buckets a filter of this share of the rows matches."""
    buckets = int(round(share * FILTER_BUCKETS))
    if not 1 <= buckets <= FILTER_BUCKETS:
        raise ValueError(f"a filter share must be a multiple of 1/{FILTER_BUCKETS} in (0, 1], got {share}")
    return buckets


def filtered_ground_truth(data: DiskData, k: int, share: float, block: int = 65_536) -> np.ndarray:
    """Exact k-NN ids int64 [nq, k] among the rows of bucket < share * FILTER_BUCKETS, read in
    blocks from the memmapped base; its pages are dropped after."""
    base = open_base(data.base_path, data.n)
    match = np.flatnonzero(np.arange(data.n) % FILTER_BUCKETS < filter_buckets(share))
    q = data.queries.astype(np.float32)
    best_d = np.full((len(q), k), np.inf, dtype=np.float32)
    best_i = np.zeros((len(q), k), dtype=np.int64)
    for start in range(0, len(match), block):
        rows = match[start:start + block]
        x = np.asarray(base[rows], dtype=np.float32)
        d = (x * x).sum(1)[None, :] - 2.0 * q @ x.T + (q * q).sum(1)[:, None]
        d_all = np.concatenate([best_d, d], axis=1)
        i_all = np.concatenate([best_i, np.broadcast_to(rows, d.shape)], axis=1)
        keep = np.argpartition(d_all, k - 1, axis=1)[:, :k]
        best_d, best_i = np.take_along_axis(d_all, keep, 1), np.take_along_axis(i_all, keep, 1)
    order = np.argsort(best_d, axis=1)
    drop_cache(data.base_path)
    return np.take_along_axis(best_i, order, 1)


def drop_cache(path: Path | str) -> None:
    """Write back and drop ``path``'s pages from the page cache (Linux; a no-op elsewhere)."""
    if not hasattr(os, "posix_fadvise"):
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def _write_base(path: Path, mixture: Any, n: int, seed: int, progress: bool) -> None:
    """Stream the base rows to ``path`` chunk by chunk; RAM holds one chunk at a time.

    Written under a temporary name and renamed when complete, so an interrupted run leaves no file
    that looks finished. Plain sequential writes, not a writable memmap: its dirty pages would count
    in this process's RSS.
    """
    dim = mixture.dim
    tmp = path.with_name(path.name + ".partial")
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(np.float32)), "fortran_order": False, "shape": (n, dim)}
    try:
        with open(tmp, "wb") as f, progress_bar(n, f"write {path.name}", enabled=progress) as bar:
            np.lib.format.write_array_header_2_0(f, header)
            for start in range(0, n, WRITE_CHUNK):
                stop = min(n, start + WRITE_CHUNK)
                f.write(_rows(mixture, seed, start, stop).tobytes())
                bar.update(stop - start)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:  # Ctrl-C included: never leave a partial file behind
        tmp.unlink(missing_ok=True)
        raise
    drop_cache(path)


def _rows(mixture: Any, seed: int, start: int, stop: int) -> np.ndarray:
    """Base rows [start, stop) exactly as ``mixture.sample(stop, seed, base stream)[start:]``.

    ``start`` must be a multiple of the generator's block.
    """
    assert start % BLOCK_ROWS == 0
    out = np.empty((stop - start, mixture.dim), dtype=np.float32)
    for b0 in range(start, stop, BLOCK_ROWS):
        b1 = min(stop, b0 + BLOCK_ROWS)
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(STREAM_BASE, b0 // BLOCK_ROWS)))
        mixture._fill(out[b0 - start: b1 - start], rng, BLOCK_ROWS)
    norms = np.linalg.norm(out, axis=1, keepdims=True)  # as the generator: unit rows, a zero row stays zero
    np.maximum(norms, np.float32(1e-30), out=norms)
    out /= norms
    return out


def _rows_of(path: Path) -> int:
    """The row count in a ``base-<rows>.npy`` name (-1 for another name)."""
    count = path.stem.removeprefix("base-")
    return int(count) if count.isdigit() else -1


def _complete_npy(path: Path, shape: tuple[int, int]) -> bool:
    """A finished float32 .npy of this shape (a cached file from an earlier run)."""
    if not path.exists():
        return False
    try:
        x = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError):
        return False
    return x.shape == shape and x.dtype == np.float32


def _atomic_save(path: Path, x: np.ndarray) -> None:
    tmp = path.with_name(path.name + ".partial.npy")
    np.save(tmp, x)
    os.replace(tmp, path)
