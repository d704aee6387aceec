"""Binary quantizer: codes are the packed threshold bits, distances equal a numpy popcount
reference, decode and the serialisation round trip."""
from __future__ import annotations

import numpy as np
import pytest

import vecsearch
from vecsearch import BinaryQuantizer


def _data(n=1000, dim=70, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, dim)) + rng.uniform(-1, 1, dim)).astype(np.float32)


def _packed(bits, dim):
    words = (dim + 63) // 64
    padded = np.zeros((bits.shape[0], words * 64), np.uint8)
    padded[:, :dim] = bits
    return np.packbits(padded, axis=1, bitorder="little")


@pytest.mark.parametrize("dim", [1, 8, 63, 64, 65, 130, 384])
@pytest.mark.parametrize("threshold", ["sign", "mean"])
def test_codes_are_packed_threshold_bits(dim, threshold):
    x = _data(300, dim, seed=dim)
    q = BinaryQuantizer(threshold).train(x)
    assert q.code_size == (dim + 63) // 64 * 8
    t = x.astype(np.float64).mean(0).astype(np.float32) if threshold == "mean" else np.zeros(dim, np.float32)
    expected = _packed(x > t, dim)
    np.testing.assert_array_equal(q.encode(x), expected)


@pytest.mark.parametrize("dim", [7, 64, 200, 384, 600])
def test_hamming_distances_equal_numpy_popcount(dim):
    x = _data(500, dim, seed=1)
    queries = _data(9, dim, seed=2)
    q = BinaryQuantizer("mean").train(x)
    codes, qc = q.encode(x), q.encode(queries)
    ref = np.unpackbits(qc[:, None, :] ^ codes[None, :, :], axis=2).sum(-1)
    np.testing.assert_array_equal(q.distances(codes, queries), ref.astype(np.float32))
    idx, dist = q.search(codes, queries, 15)
    np.testing.assert_array_equal(dist, np.sort(ref, axis=1)[:, :15].astype(np.float32))
    np.testing.assert_array_equal(np.take_along_axis(ref, idx, 1), dist)


def test_decode_lands_on_the_right_side_of_the_threshold():
    x = _data()
    q = BinaryQuantizer("mean").train(x)
    dec = q.decode(q.encode(x))
    t = x.mean(0)
    assert ((dec > t) == (x > t)).all()
    # The reconstruction beats the threshold alone (a one-bit code carries information).
    assert ((dec - x) ** 2).mean() < ((t - x) ** 2).mean()


def test_ranking_finds_neighbours():
    x = _data(3000, 256, seed=4)
    q = BinaryQuantizer("mean").train(x)
    codes = q.encode(x)
    idx, _ = q.search(codes, x[:20], 1)
    assert (idx[:, 0] == np.arange(20)).all()  # a vector's own code is at distance 0


@pytest.mark.parametrize("threshold", ["sign", "mean"])
def test_round_trip(threshold):
    x = _data()
    q = BinaryQuantizer(threshold, metric="cosine").train(x)
    r = vecsearch.Quantizer.from_bytes(q.to_bytes())
    assert isinstance(r, BinaryQuantizer) and r.threshold == threshold and r.metric == "cosine"
    np.testing.assert_array_equal(r.encode(x), q.encode(x))
    np.testing.assert_array_equal(r.decode(q.encode(x)), q.decode(q.encode(x)))


def test_bad_threshold():
    with pytest.raises(ValueError, match="threshold"):
        BinaryQuantizer("median")
