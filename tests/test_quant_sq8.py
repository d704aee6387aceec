"""SQ8: bounded reconstruction error, code distances equal distances to decoded vectors,
brute-force search, and the serialisation round trip."""
from __future__ import annotations

import numpy as np
import pytest

import vecsearch
from vecsearch import SQ8


def _data(n=1500, dim=45, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, dim)) * rng.uniform(0.1, 3.0, dim)).astype(np.float32)


def _unit(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_error_bounded_by_half_a_step():
    x = _data()
    q = SQ8().train(x)
    codes = q.encode(x)
    assert codes.dtype == np.uint8 and codes.shape == (len(x), x.shape[1]) and q.code_size == x.shape[1]
    err = np.abs(q.decode(codes) - x)
    step = (x.max(0) - x.min(0)) / 255.0
    assert (err <= step / 2 * (1 + 1e-3) + 1e-6).all()


def test_out_of_range_values_clamp_to_the_training_range():
    x = _data()
    q = SQ8().train(x)
    far = np.vstack([x.max(0) + 100.0, x.min(0) - 100.0]).astype(np.float32)
    dec = q.decode(q.encode(far))
    np.testing.assert_allclose(dec[0], x.max(0), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(dec[1], x.min(0), rtol=1e-5, atol=1e-5)


def test_constant_dimension_is_exact():
    x = _data(200, 9)
    x[:, 3] = 2.5
    q = SQ8().train(x)
    assert (q.decode(q.encode(x))[:, 3] == 2.5).all()


@pytest.mark.parametrize("metric", ["l2", "ip", "cosine"])
def test_code_distances_equal_distances_to_decoded(metric):
    x = _data(800, 67, seed=1)
    queries = _data(7, 67, seed=2)
    q = SQ8(metric).train(x)
    codes = q.encode(x)
    dec = q.decode(codes).astype(np.float64)
    qs = _unit(queries) if metric == "cosine" else queries
    qs = qs.astype(np.float64)
    ref = ((qs[:, None] - dec[None]) ** 2).sum(-1) if metric == "l2" else 1.0 - qs @ dec.T
    got = q.distances(codes, queries)
    scale = np.abs(ref).max()
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5 * scale)
    single = q._codec.distances(codes, q._prepare_vectors(queries, 67, "q"), True)
    np.testing.assert_allclose(single, got, rtol=1e-6, atol=1e-6 * scale)


def test_search_is_exact_over_codes():
    x = _data(3000, 32, seed=3)
    queries = _data(20, 32, seed=4)
    q = SQ8().train(x)
    codes = q.encode(x)
    idx, dist = q.search(codes, queries, 10, threads=2)
    full = q.distances(codes, queries)
    ref = np.sort(full, axis=1)[:, :10]
    np.testing.assert_allclose(dist, ref, rtol=1e-6)
    np.testing.assert_allclose(np.take_along_axis(full, idx, 1), dist, rtol=1e-6)
    # And SQ8 keeps nearly all true neighbours.
    exact = np.argsort(((queries[:, None] - x[None]) ** 2).sum(-1), axis=1)[:, :10]
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(idx, exact)])
    assert recall > 0.9


def test_k_larger_than_n_pads():
    x = _data(5, 8)
    q = SQ8().train(x)
    idx, dist = q.search(q.encode(x), x[:2], 8)
    assert (idx[:, 5:] == -1).all() and np.isinf(dist[:, 5:]).all()
    assert sorted(idx[0, :5]) == list(range(5))


@pytest.mark.parametrize("metric", ["l2", "ip", "cosine"])
def test_round_trip(metric):
    x = _data(300, 20)
    q = SQ8(metric).train(x)
    blob = q.to_bytes()
    r = vecsearch.Quantizer.from_bytes(blob)
    assert isinstance(r, SQ8) and r.metric == metric and r.dim == 20
    np.testing.assert_array_equal(r.encode(x), q.encode(x))
    np.testing.assert_array_equal(r.decode(q.encode(x)), q.decode(q.encode(x)))
    assert r.to_bytes() == blob
