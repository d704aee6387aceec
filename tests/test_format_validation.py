"""Files with valid checksums but impossible content are refused before anything reads them.
(The fuzzer found the first case: an upper-level link to a node that has no row on that level,
which a search used to follow into a null row.)"""
from __future__ import annotations

import json
import os
import sys

import numpy as np
import pytest

import vecsearch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "fuzz"))
from _seeds import fix_checksums, sections  # noqa: E402


def _saved(tmp_path):
    rng = np.random.default_rng(4)
    index = vecsearch.Index(8, "l2", M=4, ef_construction=32, seed=3)
    index.add(rng.normal(size=(400, 8)).astype(np.float32), num_threads=1)
    path = tmp_path / "index.vs"
    index.save(path)
    return bytearray(path.read_bytes())


def _section(data, name, dtype):
    _, off, length = sections(bytes(data))[name]
    return np.frombuffer(data, dtype=dtype, count=length // np.dtype(dtype).itemsize, offset=off)


def _rewrite(tmp_path, data):
    fix_checksums(data)
    path = tmp_path / "crafted.vs"
    path.write_bytes(bytes(data))
    return path


def test_upper_link_to_a_node_below_that_level(tmp_path):
    data = _saved(tmp_path)
    levels = _section(data, "levels", np.int32).copy()
    upper = _section(data, "upper", np.uint32)
    # The first slot with an upper level: point its first level-1 link at a level-0 slot.
    slot = int(np.flatnonzero(levels >= 1)[0])
    offset = int(levels[:slot].sum()) * (4 + 1)
    _, up_off, _ = sections(bytes(data))["upper"]
    target = int(np.flatnonzero(levels == 0)[0])
    row = up_off + offset * 4
    assert upper[offset] >= 1
    data[row + 4:row + 8] = np.uint32(target).tobytes()
    with pytest.raises(vecsearch.FormatError, match="below that level"):
        vecsearch.Index.load(_rewrite(tmp_path, data))


def test_link_out_of_range(tmp_path):
    data = _saved(tmp_path)
    _, off, _ = sections(bytes(data))["links0"]
    data[off + 4:off + 8] = np.uint32(10**6).tobytes()
    with pytest.raises(vecsearch.FormatError, match="out of range"):
        vecsearch.Index.load(_rewrite(tmp_path, data))


def test_count_disagreeing_with_sections(tmp_path):
    data = _saved(tmp_path)
    _, off, length = sections(bytes(data))["meta"]
    meta = json.loads(bytes(data[off:off + length]))
    meta["count"] += 1
    blob = json.dumps(meta).encode()
    assert len(blob) <= length
    data[off:off + length] = blob + b" " * (length - len(blob))
    with pytest.raises(vecsearch.FormatError, match="holds"):
        vecsearch.Index.load(_rewrite(tmp_path, data))
