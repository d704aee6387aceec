"""Benchmark inputs: the base and query vectors, and their cached ground truth.

Data is either the seeded synthetic mixture of :mod:`vecsearch.datasets` or a
pair of local files (``.fvecs``, ``.fbin``, ``.npy``, ...); nothing is ever
downloaded. Exact neighbours are computed once per dataset and cached as
``<out>/gt/gt-<key>.npz``, where the key hashes everything the answer depends
on (generator version, shapes, seed, or file paths, sizes and mtimes, k).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vecsearch.datasets import GENERATOR_VERSION, clustered_dataset, exact_knn, load_vectors

METRIC = "l2"  # every engine is benchmarked with squared L2


@dataclass
class Dataset:
    """Base and query vectors plus what identifies them.

    Attributes:
        name: short label for reports.
        base: float32 [n, dim], C-contiguous, in RAM (the disk suite's is a read-only memmap).
        queries: float32 [nq, dim], C-contiguous.
        identity: JSON-able description; its hash keys the ground-truth cache.
    """

    name: str
    base: np.ndarray
    queries: np.ndarray
    identity: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(self.base.shape[0])

    @property
    def nq(self) -> int:
        return int(self.queries.shape[0])

    @property
    def dim(self) -> int:
        return int(self.base.shape[1])

    def key(self, k: int) -> str:
        """Stable hash of the data identity and k, naming the ground-truth cache file."""
        blob = json.dumps({**self.identity, "k": k, "metric": METRIC}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def synthetic(n: int, nq: int, dim: int, seed: int) -> Dataset:
    """The clustered synthetic set of :func:`vecsearch.datasets.clustered_dataset`."""
    base, queries = clustered_dataset(n, nq, dim, seed=seed)
    identity = {
        "kind": "synthetic",
        "generator": GENERATOR_VERSION,
        "n": n,
        "nq": nq,
        "dim": dim,
        "seed": seed,
    }
    return Dataset(f"synthetic-{n}x{dim}", base, queries, identity)


def from_files(base_path: str, queries_path: str, n: int | None, nq: int | None) -> Dataset:
    """Vectors from local files, optionally cut to the first ``n`` / ``nq`` rows.

    Raises:
        ValueError: unreadable files or mismatched dimensions.
    """
    base_all = load_vectors(base_path)
    queries_all = load_vectors(queries_path)
    if base_all.shape[1] != queries_all.shape[1]:
        raise ValueError(
            f"{queries_path} has dim {queries_all.shape[1]}, "
            f"{base_path} has dim {base_all.shape[1]}"
        )
    # Engines need the vectors in RAM as float32 anyway; convert once here.
    base = np.ascontiguousarray(base_all[:n], dtype=np.float32)
    queries = np.ascontiguousarray(queries_all[:nq], dtype=np.float32)
    identity = {
        "kind": "files",
        "base": file_identity(base_path),
        "queries": file_identity(queries_path),
        "n": int(base.shape[0]),
        "nq": int(queries.shape[0]),
    }
    return Dataset(
        f"{Path(base_path).stem}-{base.shape[0]}x{base.shape[1]}", base, queries, identity
    )


def ground_truth(data: Dataset, k: int, cache_dir: Path, *, progress: bool = True) -> np.ndarray:
    """Exact k-NN ids int64 [nq, k], from the cache or computed (then cached).

    A cache file that is unreadable or has the wrong shape is recomputed.
    """
    return ground_truth_with_distances(data, k, cache_dir, progress=progress)[0]


def ground_truth_with_distances(
    data: Dataset, k: int, cache_dir: Path, *, progress: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Exact k-NN ids int64 [nq, k] and their squared distances, cached like :func:`ground_truth`."""
    path = cache_dir / f"gt-{data.key(k)}.npz"
    if path.exists():
        try:
            with np.load(path, allow_pickle=False) as z:
                ids, dists = z["ids"], z["dists"]
            if ids.shape == (data.nq, k) and dists.shape == ids.shape:
                return ids, dists
        except (OSError, ValueError, KeyError):
            pass
    ids, dists = exact_knn(data.base, data.queries, k, METRIC, progress=progress)
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, ids=ids, dists=dists, identity=json.dumps(data.identity))
    os.replace(tmp, path)  # atomic: an interrupted run never leaves a half-written cache
    return ids, dists


def file_identity(path: str | Path) -> dict[str, Any]:
    st = os.stat(path)
    return {"path": str(Path(path).resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def add_vector_data_options(p: argparse.ArgumentParser, *, n: int, nq: int) -> None:
    """--n/--nq/--dim/--seed for the synthetic set, or --base/--queries files (see :func:`from_args`)."""
    p.add_argument("--n", type=int, default=n, help=f"base rows (default {n})")
    p.add_argument("--nq", type=int, default=nq, help=f"queries (default {nq})")
    p.add_argument("--dim", type=int, default=384, help="synthetic dimension (default 384)")
    p.add_argument("--seed", type=int, default=0, help="data seed (default 0)")
    p.add_argument("--base", metavar="PATH", help="base vectors file (.npy/.fvecs/.fbin/...)")
    p.add_argument("--queries", metavar="PATH", help="query vectors file, same formats")


def from_args(args: argparse.Namespace) -> Dataset:
    """The files given by --base/--queries (first --n/--nq rows), else the synthetic set."""
    if args.base:
        return from_files(args.base, args.queries, args.n, args.nq)
    return synthetic(args.n, args.nq, args.dim, args.seed)
