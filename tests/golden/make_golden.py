"""Writes the golden files of the current format version: small saved indexes and the answers
they gave when saved. Run once per new format version and commit the result:

    python tests/golden/make_golden.py

Existing versions are never rewritten: their files are what older releases wrote. A version's
folder holds the cases that are saved in that version (a file is written with the lowest
version that can hold it).
"""
from __future__ import annotations

import os
import sys

import numpy as np

import vecsearch
from vecsearch._format import FORMAT_VERSION, IndexFile

CASES = {
    "l2_deleted": dict(metric="l2", dim=16, n=300, delete_every=7),
    "cosine_ids": dict(metric="cosine", dim=12, n=200, delete_every=0),
    "ip_small": dict(metric="ip", dim=8, n=40, delete_every=5),
    "l2_attributes": dict(metric="l2", dim=8, n=250, delete_every=11, attributes=True),
    "l2_acorn_gamma": dict(metric="l2", dim=8, n=300, delete_every=13, attributes=True, acorn_gamma=4),
    # Format version 4: quantized storage (codec and codes sections).
    "l2_sq8": dict(metric="l2", dim=16, n=300, delete_every=9, attributes=True, storage="sq8"),
    "ip_binary": dict(metric="ip", dim=70, n=250, delete_every=0, storage="binary"),
    "cosine_pq": dict(metric="cosine", dim=16, n=400, delete_every=0, storage="pq"),
}
# The filter recorded with files that have attributes (format version 2 on).
GOLDEN_FILTER = (vecsearch.F("year") >= 2010) & vecsearch.F("section").isin(["libs", "doc"]) | vecsearch.F(
    "tags").contains_all(["a", "b"])


def attributes_for(rng: np.random.Generator, n: int) -> dict:
    return {
        "year": rng.integers(2000, 2025, n),
        "price": np.where(rng.random(n) < 0.1, np.nan, rng.random(n) * 100),
        "section": [None if rng.random() < 0.05 else s for s in rng.choice(["libs", "doc", "net"], n).tolist()],
        "tags": [sorted(set(rng.choice(["a", "b", "c"], int(rng.integers(0, 3))).tolist())) for _ in range(n)],
        "day": (np.datetime64("2001-01-01") + rng.integers(0, 5000, n).astype("timedelta64[D]")).astype(
            "datetime64[ns]"),
        "flag": rng.random(n) < 0.5,
    }


def build(name: str, metric: str, dim: int, n: int, delete_every: int, attributes: bool = False,
          acorn_gamma: int = 1, storage: str = "float32"):
    rng = np.random.default_rng(sum(map(ord, name)))
    index = vecsearch.Index(dim, metric, M=6, ef_construction=40, seed=1, acorn_gamma=acorn_gamma,
                            storage=storage)
    ids = None if metric != "cosine" else np.arange(n, dtype=np.uint64) * np.uint64(1_000_003) + np.uint64(2**63)
    attrs = attributes_for(rng, n) if attributes else None
    index.add(rng.normal(size=(n, dim)).astype(np.float32), ids, attributes=attrs, num_threads=1)
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
        answers = dict(queries=queries, ids=ids, dists=dists)
        if index.attribute_schema:
            answers["filtered_ids"], answers["filtered_dists"] = index.search(
                queries, k=5, filter=GOLDEN_FILTER, plan="scan", num_threads=1)
        path = os.path.join(folder, f"{name}.vs")
        index.save(path)
        if IndexFile(path).version != FORMAT_VERSION:  # written in an older version's folder already
            os.unlink(path)
            continue
        np.savez(os.path.join(folder, f"{name}.answers.npz"), **answers)
        print("wrote", name)


if __name__ == "__main__":
    main()
