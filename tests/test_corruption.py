"""Randomly corrupted copies of a saved index never crash the loader and never load while
answering differently from the original: checksums catch the damage."""
from __future__ import annotations

import os

import numpy as np
import pytest

import vecsearch

COPIES = int(os.environ.get("VECSEARCH_CORRUPT_COPIES", "300"))


def _answers(index: vecsearch.Index, queries: np.ndarray):
    return index.search(queries, k=5, ef=40)


def test_random_corruptions_are_detected(tmp_path):
    rng = np.random.default_rng(3)
    index = vecsearch.Index(16, "l2", M=6, ef_construction=32)
    index.add(rng.normal(size=(500, 16)).astype(np.float32))
    index.delete(np.arange(0, 500, 11))
    path = tmp_path / "index.vs"
    index.save(path)
    original = path.read_bytes()
    queries = rng.normal(size=(20, 16)).astype(np.float32)
    want_ids, want_dists = _answers(index, queries)

    damaged = tmp_path / "damaged.vs"
    loaded_same = detected = 0
    for i in range(COPIES):
        data = bytearray(original)
        kind = i % 3
        if kind == 0:  # bit flips anywhere
            for pos in rng.integers(0, len(data), size=int(rng.integers(1, 6))):
                data[pos] ^= 1 << int(rng.integers(0, 8))
        elif kind == 1:  # random bytes over a random span
            start = int(rng.integers(0, len(data)))
            span = rng.integers(0, 256, size=int(rng.integers(1, 32)), dtype=np.uint8).tobytes()
            data[start:start + len(span)] = span[: len(data) - start]
        else:  # truncation or append
            cut = int(rng.integers(0, len(data)))
            data = data[:cut] if rng.random() < 0.5 else data + bytes(rng.integers(0, 256, size=cut % 64 + 1, dtype=np.uint8))
        if bytes(data) == original:
            continue
        damaged.write_bytes(bytes(data))
        try:
            loaded = vecsearch.Index.load(damaged, mmap=bool(i % 2))
        except vecsearch.FormatError:
            detected += 1
            continue
        # Only harmless damage (padding between sections) may load, and then it must answer the same.
        ids, dists = _answers(loaded, queries)
        assert np.array_equal(ids, want_ids) and np.array_equal(dists, want_dists), f"copy {i} loaded but answers differ"
        loaded_same += 1
    print(f"{COPIES} corrupted copies: {detected} refused with FormatError, {loaded_same} loaded with identical answers")
    assert detected > COPIES * 0.9
