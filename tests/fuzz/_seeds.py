"""Small valid index files the fuzzers mutate, and helpers to rewrite a file's checksums so that
mutations reach the structural checks behind them."""
from __future__ import annotations

import os
import struct
import tempfile
import zlib
from typing import Dict, List

import numpy as np

import vecsearch
from vecsearch import _format


def seed_files() -> List[bytes]:
    """A few saved indexes: empty, l2 with deletions, cosine with explicit large ids."""
    rng = np.random.default_rng(7)
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "seed.vs")
        empty = vecsearch.Index(4, "l2", M=4)
        empty.save(path)
        out.append(open(path, "rb").read())
        l2 = vecsearch.Index(8, "l2", M=4, ef_construction=16)
        l2.add(rng.normal(size=(60, 8)).astype(np.float32))
        l2.delete(np.arange(0, 60, 7))
        l2.save(path)
        out.append(open(path, "rb").read())
        cos = vecsearch.Index(5, "cosine", M=3, ef_construction=8)
        cos.add(rng.normal(size=(30, 5)), ids=np.arange(30, dtype=np.uint64) + np.uint64(2**62))
        cos.save(path)
        out.append(open(path, "rb").read())
        attrs = vecsearch.Index(4, "l2", M=4, ef_construction=8)
        attrs.add(rng.normal(size=(40, 4)).astype(np.float32), attributes={
            "n": np.arange(40), "x": np.where(np.arange(40) % 7 == 0, np.nan, np.arange(40) * 0.5),
            "c": [None if i % 9 == 0 else "abc"[i % 3] for i in range(40)],
            "t": [None if i % 11 == 0 else ["p", "q", "r"][: i % 4] for i in range(40)],
            "d": (np.datetime64("2020-01-01") + np.arange(40).astype("timedelta64[D]")).astype("datetime64[ns]"),
            "b": np.arange(40) % 2 == 0,
        })
        attrs.delete([3, 4])
        attrs.save(path)
        out.append(open(path, "rb").read())
    return out


def sections(data: bytes) -> Dict[str, tuple]:
    """name -> (table entry offset, section offset, length), from a well-formed header."""
    if len(data) < _format.HEADER.size:
        return {}
    n = struct.unpack_from("<I", data, 12)[0]
    out = {}
    for i in range(min(n, _format.MAX_SECTIONS)):
        pos = _format.HEADER.size + i * _format.ENTRY.size
        if pos + _format.ENTRY.size > len(data):
            break
        name, off, length, _, _ = _format.ENTRY.unpack_from(data, pos)
        out[name.rstrip(b"\0").decode("ascii", "replace")] = (pos, off, length)
    return out


def fix_checksums(data: bytearray) -> None:
    """Recomputes every section CRC, the file size and the header CRC in place."""
    if len(data) < _format.HEADER.size:
        return
    n = struct.unpack_from("<I", data, 12)[0]
    if n > _format.MAX_SECTIONS or _format.HEADER.size + n * _format.ENTRY.size > len(data):
        return
    for _, (pos, off, length) in sections(bytes(data)).items():
        if off + length <= len(data):
            struct.pack_into("<I", data, pos + 32, zlib.crc32(data[off:off + length]) & 0xFFFFFFFF)
    struct.pack_into("<Q", data, 16, len(data))
    table = bytes(data[_format.HEADER.size:_format.HEADER.size + n * _format.ENTRY.size])
    struct.pack_into("<I", data, 52, zlib.crc32(bytes(data[:52]) + table) & 0xFFFFFFFF)
