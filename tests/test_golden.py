"""Every committed golden file (one folder per format version) still loads with the current code
and gives the answers recorded when it was written; a future version is refused by name."""
from __future__ import annotations

import glob
import os
import struct

import numpy as np
import pytest

import vecsearch
from vecsearch._format import FORMAT_VERSION, IndexFile

GOLDEN = os.path.join(os.path.dirname(__file__), "golden")
FILES = sorted(glob.glob(os.path.join(GOLDEN, "v*", "*.vs")))


def test_current_version_has_golden_files():
    assert glob.glob(os.path.join(GOLDEN, f"v{FORMAT_VERSION}", "*.vs")), (
        f"format version {FORMAT_VERSION} has no golden files: run tests/golden/make_golden.py"
    )


@pytest.mark.parametrize("path", FILES, ids=[os.path.relpath(p, GOLDEN) for p in FILES])
@pytest.mark.parametrize("mmap", [False, True])
def test_golden_file_answers(path, mmap):
    recorded = np.load(path.replace(".vs", ".answers.npz"))
    index = vecsearch.Index.load(path, mmap=mmap)
    assert IndexFile(path).version == int(os.path.basename(os.path.dirname(path))[1:])
    ids, dists = index.search(recorded["queries"], k=recorded["ids"].shape[1], ef=60, num_threads=1)
    np.testing.assert_array_equal(ids, recorded["ids"])
    np.testing.assert_allclose(dists, recorded["dists"], rtol=1e-5, atol=1e-6)
    if "filtered_ids" in recorded:
        import sys

        sys.path.insert(0, GOLDEN)
        from make_golden import GOLDEN_FILTER

        ids, dists = index.search(recorded["queries"], k=5, filter=GOLDEN_FILTER, plan="scan", num_threads=1)
        np.testing.assert_array_equal(ids, recorded["filtered_ids"])
        np.testing.assert_allclose(dists, recorded["filtered_dists"], rtol=1e-5, atol=1e-6)


def test_future_version_is_refused_naming_both(tmp_path):
    data = bytearray(open(FILES[0], "rb").read())
    struct.pack_into("<I", data, 8, FORMAT_VERSION + 1)
    path = tmp_path / "future.vs"
    path.write_bytes(bytes(data))
    with pytest.raises(vecsearch.FormatVersionError, match=f"version {FORMAT_VERSION + 1}.*versions 1, 2, 3, {FORMAT_VERSION}"):
        vecsearch.Index.load(path)
