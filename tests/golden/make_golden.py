"""Writes the golden files of the current format version: small saved indexes and the answers
they gave when saved. Run once per new format version and commit the result:

    python tests/golden/make_golden.py

Existing versions are never rewritten: their files are what older releases wrote.
"""
from __future__ import annotations

import os
import sys

import numpy as np

import vecsearch
from vecsearch._format import FORMAT_VERSION

CASES = {
    "l2_deleted": dict(metric="l2", dim=16, n=300, delete_every=7),
    "cosine_ids": dict(metric="cosine", dim=12, n=200, delete_every=0),
    "ip_small": dict(metric="ip", dim=8, n=40, delete_every=5),
}


def build(name: str, metric: str, dim: int, n: int, delete_every: int):
    rng = np.random.default_rng(sum(map(ord, name)))
    index = vecsearch.Index(dim, metric, M=6, ef_construction=40, seed=1)
    ids = None if metric != "cosine" else np.arange(n, dtype=np.uint64) * np.uint64(1_000_003) + np.uint64(2**63)
    index.add(rng.normal(size=(n, dim)).astype(np.float32), ids, num_threads=1)
    if delete_every:
        index.delete(np.arange(0, n, delete_every))
    queries = rng.normal(size=(10, dim)).astype(np.float32)
    return index, queries


def main() -> None:
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"v{FORMAT_VERSION}")
    if os.path.exists(folder) and "--force" not in sys.argv:
        sys.exit(f"{folder} exists: golden files of a released version are never rewritten")
    os.makedirs(folder, exist_ok=True)
    for name, params in CASES.items():
        index, queries = build(name, **params)
        ids, dists = index.search(queries, k=5, ef=60, num_threads=1)
        index.save(os.path.join(folder, f"{name}.vs"))
        np.savez(os.path.join(folder, f"{name}.answers.npz"), queries=queries, ids=ids, dists=dists)
        print("wrote", name)


if __name__ == "__main__":
    main()
