"""Checksum of codec blobs (FNV-1a 64 over everything before the last 8 bytes), mirrored from
csrc/quant/serial.h for tests and tools that need to edit a blob."""
from __future__ import annotations

import struct


def fnv1a64(data: bytes) -> int:
    h = 1469598103934665603
    for byte in data:
        h = ((h ^ byte) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h


def reseal(body: bytes) -> bytes:
    """`body` followed by its checksum: a blob the native reader will parse field by field."""
    return body + struct.pack("<Q", fnv1a64(body))
