"""Quantizer input checking and corrupt blobs: every bad input is a clear exception."""
from __future__ import annotations

import numpy as np
import pytest

import vecsearch
from vecsearch import PQ, SQ8, BinaryQuantizer, NotTrainedError, Quantizer
from vecsearch.errors import DimensionError, DTypeError, FormatError, NonFiniteError

QUANTIZERS = [lambda: SQ8(), lambda: BinaryQuantizer("mean"), lambda: PQ(4, nbits=4), lambda: PQ(2, nbits=3, opq=True)]


def _x(n=300, dim=16, seed=0):
    return np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)


@pytest.mark.parametrize("make", QUANTIZERS)
def test_untrained_use(make):
    q = make()
    assert not q.is_trained
    for call in (lambda: q.encode(_x()), lambda: q.decode(np.zeros((1, 4), np.uint8)),
                 lambda: q.search(np.zeros((1, 4), np.uint8), _x(), 1), lambda: q.to_bytes(),
                 lambda: q.dim):
        with pytest.raises(NotTrainedError, match="train"):
            call()


@pytest.mark.parametrize("make", QUANTIZERS)
def test_bad_inputs(make):
    q = make().train(_x())
    codes = q.encode(_x())
    with pytest.raises(DimensionError):
        q.encode(_x(dim=17))
    with pytest.raises(DTypeError):
        q.encode(np.ones((3, 16), np.int32))
    bad = _x()
    bad[4, 2] = np.nan
    with pytest.raises(NonFiniteError):
        q.encode(bad)
    with pytest.raises(NonFiniteError):
        make().train(bad)
    with pytest.raises(DTypeError):
        q.decode(codes.astype(np.int16))
    with pytest.raises(DimensionError):
        q.decode(codes[:, :-1])
    with pytest.raises(ValueError):
        q.search(codes, _x(2), 0)
    with pytest.raises(DimensionError):
        q.search(codes, _x(2, dim=3), 1)
    with pytest.raises(ValueError):
        make().train(np.zeros((0, 16), np.float32))
    with pytest.raises(DimensionError):
        make().train(np.zeros(16, np.float32))


def test_bad_metric():
    with pytest.raises(ValueError, match="metric"):
        SQ8("hamming")


@pytest.mark.parametrize("make", QUANTIZERS)
def test_truncated_or_corrupted_blob_is_format_error(make):
    blob = make().train(_x()).to_bytes()
    for cut in (0, 1, 4, 8, len(blob) // 2, len(blob) - 1):
        with pytest.raises(FormatError):
            Quantizer.from_bytes(blob[:cut])
    rng = np.random.default_rng(0)
    for pos in rng.integers(0, len(blob), 40):
        b = bytearray(blob)
        b[pos] ^= 1 << int(rng.integers(0, 8))
        with pytest.raises(FormatError):
            Quantizer.from_bytes(bytes(b))
    with pytest.raises(FormatError):
        Quantizer.from_bytes(b"not a codec at all, just some bytes")
    with pytest.raises(TypeError):
        Quantizer.from_bytes("text")


def test_native_restore_checks_fields_behind_a_valid_checksum():
    """A blob whose checksum is right but whose fields are not (a buggy writer) still fails cleanly."""
    from vecsearch.quant._blob import reseal  # re-computes the checksum after an edit

    blob = bytearray(SQ8().train(_x()).to_bytes())
    for pos, value in ((4, 9), (9, 200), (8, 99)):  # version, kind length, kind length
        b = bytearray(blob)
        b[pos] = value
        with pytest.raises(FormatError):
            Quantizer.from_bytes(reseal(bytes(b[:-8])))
    with pytest.raises(FormatError):  # trailing bytes
        Quantizer.from_bytes(reseal(bytes(blob[:-8]) + b"\0"))
    with pytest.raises(FormatError):  # a dropped float
        Quantizer.from_bytes(reseal(bytes(blob[:-12])))
