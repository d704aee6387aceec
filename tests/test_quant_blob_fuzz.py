"""Codec blobs edited behind a valid checksum (the native parser's own checks, not the checksum,
must catch them): every edit either restores a codec that works or raises FormatError."""
from __future__ import annotations

import numpy as np
import pytest

from vecsearch import PQ, SQ8, BinaryQuantizer, Quantizer
from vecsearch.errors import FormatError
from vecsearch.quant._blob import reseal

X = np.random.default_rng(0).standard_normal((300, 16)).astype(np.float32)
MAKERS = {
    "sq8": lambda: SQ8().train(X),
    "binary": lambda: BinaryQuantizer("mean").train(X),
    "pq": lambda: PQ(4, nbits=4).train(X),
    "opq": lambda: PQ(2, nbits=3, opq=True, opq_iterations=1).train(X),
}


def _mutations(body: bytes, rng: np.random.Generator, count: int):
    for _ in range(count):
        b = bytearray(body)
        op = rng.integers(0, 4)
        pos = int(rng.integers(0, len(b)))
        if op == 0:
            b[pos] = int(rng.integers(0, 256))
        elif op == 1:
            b[pos:pos + 8] = rng.integers(0, 256, 8, dtype=np.uint8).tobytes()
        elif op == 2:
            del b[pos:pos + int(rng.integers(1, 16))]
        else:
            b[pos:pos] = rng.integers(0, 256, int(rng.integers(1, 16)), dtype=np.uint8).tobytes()
        yield bytes(b)


@pytest.mark.parametrize("kind", list(MAKERS))
def test_edited_blobs_restore_or_raise_format_error(kind):
    body = MAKERS[kind]().to_bytes()[:-8]
    rng = np.random.default_rng(len(kind))
    restored = 0
    for blob in _mutations(body, rng, 300):
        try:
            q = Quantizer.from_bytes(reseal(blob))
        except FormatError:
            continue
        restored += 1
        if not q.is_trained or q.dim != 16:
            continue
        codes = q.encode(X[:20])
        q.decode(codes)
        q.search(codes, X[:3], 4)
    # Edits inside float payloads leave a valid codec: some must have restored and worked.
    assert restored > 0
