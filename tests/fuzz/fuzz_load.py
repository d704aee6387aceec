"""Fuzz the index file loader.

Every mutated file must either load into an index that then searches, reads, adds and saves
normally, or raise vecsearch.FormatError; anything else (another exception, a crash, a hang, a
sanitizer report) is a bug. Half the mutations have their checksums recomputed so they get past
the CRCs to the structural validation in the native core.

Run: python tests/fuzz/fuzz_load.py [libFuzzer flags, e.g. -max_total_time=60]
"""
from __future__ import annotations

import json
import os
import struct
import sys
import tempfile

import atheris

with atheris.instrument_imports():
    import numpy as np

    import vecsearch
    from vecsearch import _format

sys.path.insert(0, os.path.dirname(__file__))
from _seeds import fix_checksums, sections, seed_files  # noqa: E402

SEEDS = seed_files()
TMP = tempfile.mkdtemp(prefix="fuzz_load_")
PATH = os.path.join(TMP, "index.vs")
META_KEYS = ["dim", "M", "count", "entry_point", "max_level", "next_auto_id", "ef_construction", "ef_search",
             "seed", "metric", "kind"]


def mutate(fdp: atheris.FuzzedDataProvider, data: bytearray) -> bytearray:
    op = fdp.ConsumeIntInRange(0, 6)
    if op == 0:  # bit flips
        for _ in range(fdp.ConsumeIntInRange(1, 8)):
            if data:
                i = fdp.ConsumeIntInRange(0, len(data) - 1)
                data[i] ^= 1 << fdp.ConsumeIntInRange(0, 7)
    elif op == 1:  # truncation
        data = data[: fdp.ConsumeIntInRange(0, len(data))]
    elif op == 2:  # appended bytes
        data += fdp.ConsumeBytes(fdp.ConsumeIntInRange(1, 256))
    elif op == 3:  # altered section offset / length
        secs = list(sections(bytes(data)).values())
        if secs:
            pos, _, _ = secs[fdp.ConsumeIntInRange(0, len(secs) - 1)]
            field = fdp.ConsumeIntInRange(0, 1)
            struct.pack_into("<Q", data, pos + 16 + 8 * field, fdp.ConsumeIntInRange(0, 2**64 - 1))
    elif op == 4:  # altered counts and parameters in meta
        secs = sections(bytes(data))
        if "meta" in secs and secs["meta"][1] + secs["meta"][2] <= len(data):
            pos, off, length = secs["meta"]
            try:
                meta = json.loads(bytes(data[off:off + length]))
            except ValueError:
                meta = {}
            key = META_KEYS[fdp.ConsumeIntInRange(0, len(META_KEYS) - 1)]
            choice = fdp.ConsumeIntInRange(0, 3)
            meta[key] = [fdp.ConsumeIntInRange(-2**63, 2**64), fdp.ConsumeUnicode(8), None, 1.5][choice]
            blob = json.dumps(meta).encode()
            if len(blob) <= length:
                blob += b" " * (length - len(blob))
                data[off:off + length] = blob
    elif op == 5:  # overwrite bytes inside one section (links, levels, ids...)
        secs = [s for s in sections(bytes(data)).values() if s[2] > 0 and s[1] + s[2] <= len(data)]
        if secs:
            _, off, length = secs[fdp.ConsumeIntInRange(0, len(secs) - 1)]
            i = off + fdp.ConsumeIntInRange(0, length - 1)
            chunk = fdp.ConsumeBytes(fdp.ConsumeIntInRange(1, 8))
            data[i:i + len(chunk)] = chunk[: max(0, off + length - i)]
    else:  # version field
        if len(data) >= 12:
            struct.pack_into("<I", data, 8, fdp.ConsumeIntInRange(0, 2**32 - 1))
    return data


def exercise(index: vecsearch.Index) -> None:
    q = np.zeros((2, index.dim), dtype=np.float32)
    q[:, 0] = 1.0
    if len(index):
        ids, dists = index.search(q, k=3)
        live = ids[ids != vecsearch.MISSING_ID]
        index.get_vectors(np.unique(live))
    index.add(q + 0.5)
    index.save(PATH + ".out")
    vecsearch.Index.load(PATH + ".out")


def TestOneInput(raw: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(raw)
    data = bytearray(SEEDS[fdp.ConsumeIntInRange(0, len(SEEDS) - 1)])
    for _ in range(fdp.ConsumeIntInRange(1, 3)):
        data = mutate(fdp, data)
    if fdp.ConsumeBool():
        fix_checksums(data)
    with open(PATH, "wb") as f:
        f.write(data)
    try:
        index = vecsearch.Index.load(PATH, mmap=fdp.ConsumeBool())
    except vecsearch.FormatError:
        return
    exercise(index)


def main() -> None:
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
