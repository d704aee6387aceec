"""Quantizers used from several Python threads at once (the GIL is released in the core):
results equal the single-threaded ones, and retraining concurrently with searches is safe."""
from __future__ import annotations

import threading

import numpy as np

from vecsearch import PQ, SQ8, BinaryQuantizer


def test_concurrent_searches_match_serial():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3000, 32)).astype(np.float32)
    queries = rng.standard_normal((40, 32)).astype(np.float32)
    for q in (SQ8(), PQ(8, nbits=6), BinaryQuantizer("mean")):
        q.train(x)
        codes = q.encode(x)
        ref = q.search(codes, queries, 5, threads=1)
        results, errors = [None] * 6, []

        def work(i: int) -> None:
            try:
                results[i] = q.search(codes, queries, 5, threads=2)
            except Exception as e:  # pragma: no cover - reported below
                errors.append(e)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        for idx, dist in results:
            np.testing.assert_array_equal(idx, ref[0])
            np.testing.assert_array_equal(dist, ref[1])


def test_retrain_while_searching_is_safe():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2000, 16)).astype(np.float32)
    q = SQ8().train(x)
    codes = q.encode(x)
    stop = threading.Event()
    errors = []

    def search() -> None:
        while not stop.is_set():
            try:
                idx, _ = q.search(codes, x[:5], 3)
                assert idx.shape == (5, 3)
            except Exception as e:  # pragma: no cover - reported below
                errors.append(e)
                return

    t = threading.Thread(target=search)
    t.start()
    for _ in range(20):
        q.train(x * rng.uniform(0.5, 2.0))
    stop.set()
    t.join()
    assert not errors
