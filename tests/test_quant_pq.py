"""PQ and OPQ: reconstruction error falls as m grows, ADC distances equal distances to decoded
vectors, determinism by seed, the serialisation round trip and parameter checks."""
from __future__ import annotations

import numpy as np
import pytest

import vecsearch
from vecsearch import PQ
from vecsearch.datasets import clustered_dataset


def _data(n=3000, dim=32, seed=0):
    x, _ = clustered_dataset(n, 1, dim, seed=seed)
    return x


def _mse(q, x):
    return float(((q.decode(q.encode(x)) - x) ** 2).sum(1).mean())


def test_reconstruction_error_falls_as_m_grows():
    x = _data(4000, 32)
    errors = [_mse(PQ(m, nbits=6).train(x, threads=2), x) for m in (1, 2, 4, 8, 16)]
    assert all(b < a for a, b in zip(errors, errors[1:])), errors
    assert errors[-1] < 0.5 * errors[0]


@pytest.mark.parametrize("metric", ["l2", "ip", "cosine"])
@pytest.mark.parametrize("opq", [False, True])
def test_adc_distances_equal_distances_to_decoded(metric, opq):
    x = _data(1200, 24, seed=1)
    queries = _data(6, 24, seed=2) * 1.5
    q = PQ(6, nbits=5, opq=opq, metric=metric, opq_iterations=2).train(x)
    codes = q.encode(x)
    dec = q.decode(codes).astype(np.float64)
    qs = queries / np.linalg.norm(queries, axis=1, keepdims=True) if metric == "cosine" else queries
    qs = qs.astype(np.float64)
    ref = ((qs[:, None] - dec[None]) ** 2).sum(-1) if metric == "l2" else 1.0 - qs @ dec.T
    got = q.distances(codes, queries)
    tol = 2e-5 * max(1.0, np.abs(ref).max())
    np.testing.assert_allclose(got, ref, atol=tol)
    single = q._codec.distances(codes, q._prepare_vectors(queries, 24, "q"), True)
    np.testing.assert_allclose(single, got, atol=tol)
    idx, dist = q.search(codes, queries, 7)
    np.testing.assert_allclose(dist, np.sort(got, axis=1)[:, :7], rtol=1e-6)


def test_opq_rotation_is_orthogonal_and_lowers_error_on_uneven_variance():
    rng = np.random.default_rng(3)
    # Variance concentrated in the first dimensions: plain PQ gives the first sub-vector all of it.
    x = (rng.standard_normal((3000, 32)) * np.geomspace(4.0, 0.05, 32)).astype(np.float32)
    plain = PQ(4, nbits=5).train(x)
    opq = PQ(4, nbits=5, opq=True, opq_iterations=3).train(x)
    r = opq.rotation.astype(np.float64)
    np.testing.assert_allclose(r @ r.T, np.eye(32), atol=1e-4)
    assert plain.rotation is None
    assert _mse(opq, x) < 0.9 * _mse(plain, x)


def test_deterministic_by_seed_and_independent_of_threads():
    x = _data(2000, 16, seed=4)
    a = PQ(4, nbits=6, seed=7).train(x, threads=1)
    b = PQ(4, nbits=6, seed=7).train(x, threads=2)
    c = PQ(4, nbits=6, seed=8).train(x, threads=2)
    assert a.to_bytes() == b.to_bytes()
    np.testing.assert_array_equal(a.encode(x, threads=1), b.encode(x, threads=2))
    assert c.to_bytes() != a.to_bytes()
    o1 = PQ(4, nbits=4, opq=True, seed=3, opq_iterations=2).train(x)
    o2 = PQ(4, nbits=4, opq=True, seed=3, opq_iterations=2).train(x)
    assert o1.to_bytes() == o2.to_bytes()


def test_large_training_set_is_sampled_and_trains():
    x = _data(20000, 8, seed=5)  # more than 256 points per centroid at nbits=6
    q = PQ(2, nbits=6).train(x)
    assert _mse(q, x) < float(((x - x.mean(0)) ** 2).sum(1).mean())


@pytest.mark.parametrize("opq", [False, True])
def test_round_trip(opq):
    x = _data(1000, 16, seed=6)
    q = PQ(4, nbits=4, opq=opq, metric="ip", seed=11, opq_iterations=2).train(x)
    r = vecsearch.Quantizer.from_bytes(q.to_bytes())
    assert isinstance(r, PQ) and (r.m, r.nbits, r.opq, r.metric) == (4, 4, opq, "ip")
    codes = q.encode(x)
    np.testing.assert_array_equal(r.encode(x), codes)
    np.testing.assert_array_equal(r.decode(codes), q.decode(codes))
    np.testing.assert_array_equal(r.distances(codes, x[:3]), q.distances(codes, x[:3]))
    assert r.to_bytes() == q.to_bytes()
    with pytest.raises(TypeError):
        vecsearch.SQ8.from_bytes(q.to_bytes())


def test_code_bytes_beyond_the_codebook_are_safe():
    x = _data(500, 8, seed=7)
    q = PQ(2, nbits=3).train(x)
    bad = np.full((3, 2), 255, np.uint8)  # only 8 centroids exist
    assert np.isfinite(q.decode(bad)).all()
    assert np.isfinite(q.distances(bad, x[:2])).all()


def test_parameter_errors():
    x = _data(600, 12)
    with pytest.raises(ValueError, match="divide"):
        PQ(5).train(x)
    with pytest.raises(ValueError, match="nbits"):
        PQ(4, nbits=9)
    with pytest.raises(ValueError):
        PQ(0)
    with pytest.raises(TypeError):
        PQ(2.5)
    with pytest.raises(ValueError, match="at least 256"):
        PQ(4).train(x[:100])
    with pytest.raises(ValueError, match="seed"):
        PQ(4, seed=-1)
    with pytest.raises(ValueError, match="m must divide"):
        vecsearch._core.Codec("pq", 12, "l2", m=5)
    with pytest.raises(ValueError, match="rotation"):  # native OPQ codec without its rotation
        vecsearch._core.Codec("pq", 12, "l2", m=4, opq=True).train(x)
    c = vecsearch._core.Codec("pq", 12, "l2", m=4)
    with pytest.raises(vecsearch.DimensionError):
        c.set_rotation(np.eye(5, dtype=np.float32))
    with pytest.raises(ValueError, match="only pq"):
        vecsearch._core.Codec("sq8", 12, "l2").set_rotation(np.eye(12, dtype=np.float32))
