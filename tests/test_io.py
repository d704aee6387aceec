"""Persistence: round trips (copy and mmap), corrupt/truncated/foreign files, atomic replace.

The header layout is read from vecsearch/_format.py (HEADER / ENTRY structs): version uint32 at
offset 8, header CRC-32 at offset 52 over bytes [0, 52) + the section table; each section has its
own CRC in the table; sections are 64-byte aligned with zero padding between them.
"""
from __future__ import annotations

import os
import pathlib
import subprocess
import textwrap
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import vecsearch
from vecsearch import FormatError, FormatVersionError, Index
from vecsearch import _format

METRICS = ["l2", "ip", "cosine"]
DIM = 12


def make_index(make_data, metric="l2", n=300, seed=0, deletes=40):
    x = make_data(n, DIM, seed=seed + 100)
    idx = Index(DIM, metric=metric, M=8, ef_construction=60, seed=seed)
    idx.add(x, num_threads=1)
    rng = np.random.default_rng(seed)
    dead = rng.choice(n, size=deletes, replace=False) if deletes else np.array([], dtype=np.int64)
    if deletes:
        idx.delete(dead)
    return idx, x, dead


def assert_same_index(a, b, queries, dead):
    assert len(a) == len(b)
    assert (a.dim, a.metric, a.M, a.ef_construction) == (b.dim, b.metric, b.M, b.ef_construction)
    assert a.ef_search == b.ef_search
    for k, ef in ((1, 10), (10, 40), (25, 400)):
        ia, da = a.search(queries, k=k, ef=ef, num_threads=1)
        ib, db = b.search(queries, k=k, ef=ef, num_threads=1)
        np.testing.assert_array_equal(ia, ib)
        np.testing.assert_array_equal(da, db)
        assert not np.isin(ib, np.asarray(dead, dtype=np.uint64)).any()
    live_ids, _ = a.search(queries, k=len(a), ef=len(a) + 10, num_threads=1)
    live = np.unique(live_ids[live_ids != vecsearch.MISSING_ID])
    np.testing.assert_array_equal(a.get_vectors(live), b.get_vectors(live))
    for i in dead:
        assert int(i) not in b


def file_regions(data: bytes):
    """(covered, uncovered) byte-position lists of a valid file, from its own header and table."""
    magic, version, n_sections, file_size, _, crc, _ = _format.HEADER.unpack_from(data, 0)
    table_end = _format.HEADER.size + _format.ENTRY.size * n_sections
    covered = np.zeros(len(data), dtype=bool)
    covered[:56] = True  # magic .. header_crc
    covered[_format.HEADER.size : table_end] = True
    sections = []
    for i in range(n_sections):
        entry_at = _format.HEADER.size + i * _format.ENTRY.size
        name, off, length, _, _ = _format.ENTRY.unpack_from(data, entry_at)
        covered[off : off + length] = True
        sections.append((name.rstrip(b"\0").decode(), off, length))
    return covered, sections


@pytest.fixture
def saved(make_data, index_path):
    idx, x, dead = make_index(make_data, "l2", n=200, deletes=30)
    idx.save(index_path)
    return idx, x, dead, index_path, index_path.read_bytes()


# ---------------------------------------------------------------------- round trips


@pytest.mark.parametrize("mmap", [False, True])
@pytest.mark.parametrize("metric", METRICS)
def test_round_trip(metric, mmap, make_data, index_path, check_exact):
    idx, x, dead = make_index(make_data, metric)
    idx.ef_search = 33
    q = make_data(40, DIM, seed=7)
    idx.save(index_path)
    loaded = Index.load(index_path, mmap=mmap)
    assert_same_index(idx, loaded, np.vstack([q, x[dead[:10]]]), dead)
    # the loaded index keeps working: further adds, deletes, auto ids continue after the max
    new = loaded.add(x[:5] + 25.0)
    np.testing.assert_array_equal(new, np.arange(300, 305))
    live = np.concatenate([np.setdiff1d(np.arange(300), dead), new.astype(np.int64)])
    live = live.astype(np.uint64)
    probe = np.vstack([x[:5] + 25.0, q[:5]])
    got, d = loaded.search(probe, k=3, ef=len(live))
    check_exact(got, d, loaded.get_vectors(live), probe, metric, 3, id_map=live)
    loaded.delete(new[:2])
    assert len(loaded) == len(idx) + 3
    # re-adding a deleted id is allowed after load too
    loaded.add(x[dead[:1]] + 50.0, ids=dead[:1])
    assert int(dead[0]) in loaded
    # the original is untouched by what happened to the copy
    assert len(idx) == 300 - 40
    assert int(dead[0]) not in idx


@pytest.mark.parametrize("mmap", [False, True])
def test_round_trip_large_ids_and_str_path(mmap, make_data, tmp_path):
    x = make_data(20, DIM, seed=3)
    ids = (np.arange(20, dtype=np.uint64) * np.uint64(3)) + np.uint64(2**63)
    idx = Index(DIM, metric="cosine")
    idx.add(x, ids=ids)
    path = str(tmp_path / "big_ids.vsi")
    idx.save(path)
    loaded = Index.load(path, mmap=mmap)
    got, _ = loaded.search(x, k=1, ef=40)
    np.testing.assert_array_equal(got[:, 0], ids)
    np.testing.assert_array_equal(loaded.get_vectors(ids), idx.get_vectors(ids))
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    np.testing.assert_allclose(loaded.get_vectors(ids), unit, rtol=1e-6, atol=1e-6)


def test_save_load_save_is_byte_identical(make_data, tmp_path):
    idx, _, _ = make_index(make_data, "cosine")
    a, b = tmp_path / "a.vsi", tmp_path / "b.vsi"
    idx.save(a)
    Index.load(a).save(b)
    assert a.read_bytes() == b.read_bytes()
    Index.load(a, mmap=True).save(b)
    assert a.read_bytes() == b.read_bytes()


def test_round_trip_empty_index(tmp_path):
    idx = Index(5, metric="cosine", M=6, ef_construction=30)
    idx.save(tmp_path / "e.vsi")
    loaded = Index.load(tmp_path / "e.vsi")
    assert len(loaded) == 0 and loaded.dim == 5 and loaded.metric == "cosine" and loaded.M == 6
    with pytest.raises(vecsearch.EmptyIndexError):
        loaded.search(np.ones(5, dtype=np.float32))
    loaded.add(np.eye(5, dtype=np.float32))
    got, _ = loaded.search(np.eye(5, dtype=np.float32), k=1)
    np.testing.assert_array_equal(got[:, 0], np.arange(5))


def test_mmap_loaded_vectors_survive_adds_beyond_capacity(make_data, index_path):
    """mmap maps vectors read-only; adds must copy them out, and old vectors stay correct."""
    idx, x, dead = make_index(make_data, "l2", n=300, deletes=0)
    idx.save(index_path)
    loaded = Index.load(index_path, mmap=True)
    more = make_data(2000, DIM, seed=55)
    loaded.add(more, num_threads=1)
    np.testing.assert_array_equal(loaded.get_vectors(np.arange(300)), x)
    np.testing.assert_array_equal(loaded.get_vectors(np.arange(300, 2300)), more)
    # and the file on disk was not written through the map
    assert Index.load(index_path).get_vectors(np.arange(300)).tobytes() == x.tobytes()
    assert len(Index.load(index_path)) == 300


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(
    n=st.integers(min_value=1, max_value=80),
    n_del=st.integers(min_value=0, max_value=80),
    metric=st.sampled_from(METRICS),
    mmap=st.booleans(),
    seed=st.integers(min_value=0, max_value=1000),
)
def test_property_save_load_identity(tmp_path, n, n_del, metric, mmap, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype(np.float32)
    idx = Index(6, metric=metric, M=4, ef_construction=20, seed=seed)
    idx.add(x, num_threads=1)
    dead = rng.choice(n, size=min(n_del, n), replace=False)
    idx.delete(dead)
    path = tmp_path / f"p{seed}_{n}_{n_del}.vsi"
    idx.save(path)
    loaded = Index.load(path, mmap=mmap)
    assert len(loaded) == n - len(dead)
    q = rng.normal(size=(5, 6)).astype(np.float32)
    if len(idx):
        a = idx.search(q, k=n, ef=2 * n, num_threads=1)
        b = loaded.search(q, k=n, ef=2 * n, num_threads=1)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
    for i in range(n):
        assert (i in loaded) == (i not in set(dead.tolist()))


# ------------------------------------------------------------------ corrupt files


def test_missing_file_is_oserror(tmp_path):
    with pytest.raises(FileNotFoundError):
        Index.load(tmp_path / "nope.vsi")


def test_truncated_files(saved, tmp_path):
    *_, data = saved
    _, sections = file_regions(data)
    n_sections = len(sections)
    table_end = _format.HEADER.size + _format.ENTRY.size * n_sections
    cuts = {0, 1, 7, 8, 12, 52, 63, _format.HEADER.size, _format.HEADER.size + 1, table_end - 1,
            table_end, len(data) // 3, len(data) // 2, len(data) - 64, len(data) - 1}
    for _, off, length in sections:
        cuts.update({off, off + length // 2, off + length - 1})
    p = tmp_path / "cut.vsi"
    for cut in sorted(c for c in cuts if 0 <= c < len(data)):
        p.write_bytes(data[:cut])
        with pytest.raises(FormatError):
            Index.load(p)
        with pytest.raises(FormatError):
            Index.load(p, mmap=True)


def test_appended_bytes(saved, tmp_path):
    *_, data = saved
    p = tmp_path / "long.vsi"
    p.write_bytes(data + b"\0" * 64)
    with pytest.raises(FormatError):
        Index.load(p)


def test_wrong_magic(saved, tmp_path):
    *_, data = saved
    p = tmp_path / "magic.vsi"
    for bad in (b"VECSRCH\x01", b"\0" * 8, b"NUMPY\x00\x00\x00"):
        p.write_bytes(bad + data[8:])
        with pytest.raises(FormatError, match="magic") as info:
            Index.load(p)
        assert not isinstance(info.value, FormatVersionError)
    p.write_bytes(b"hello, this is a text file and not an index at all\n" * 10)
    with pytest.raises(FormatError):
        Index.load(p)


def test_not_a_file_of_ours_npy(tmp_path, make_data):
    p = tmp_path / "x.npy"
    np.save(p, make_data(10, DIM))
    with pytest.raises(FormatError):
        Index.load(p)


def _with_version(data: bytes, version: int) -> bytes:
    """Sets the version field and recomputes the header CRC, so only the version is 'wrong'."""
    buf = bytearray(data)
    magic, _, n_sections, file_size, r1, _, r2 = _format.HEADER.unpack_from(buf, 0)
    table_end = _format.HEADER.size + _format.ENTRY.size * n_sections
    head = _format.HEADER.pack(magic, version, n_sections, file_size, r1, 0, r2)
    crc = zlib.crc32(head[:52] + bytes(buf[_format.HEADER.size : table_end])) & 0xFFFFFFFF
    head = _format.HEADER.pack(magic, version, n_sections, file_size, r1, crc, r2)
    buf[: _format.HEADER.size] = head
    return bytes(buf)


def test_recomputed_crc_helper_is_faithful(saved, tmp_path):
    """Guard for the version test: patching the file's own version back in loads fine."""
    *_, data = saved
    own = _format.HEADER.unpack_from(data, 0)[1]
    assert _with_version(data, own) == data
    p = tmp_path / "same.vsi"
    p.write_bytes(_with_version(data, own))
    Index.load(p)


@pytest.mark.parametrize("version", [0, 5, 7, 2**32 - 1])
def test_unknown_version(saved, tmp_path, version):
    *_, data = saved
    assert version not in _format.READABLE_VERSIONS
    p = tmp_path / "ver.vsi"
    p.write_bytes(_with_version(data, version))
    with pytest.raises(FormatVersionError, match=str(version)):
        Index.load(p)
    with pytest.raises(FormatVersionError):
        Index.load(p, mmap=True)


def _flip_positions(data, covered, sections):
    n = len(data)
    pos = set(range(min(n, _format.HEADER.size + _format.ENTRY.size * len(sections))))
    pos.update(np.linspace(0, n - 1, 150).astype(int).tolist())
    for _, off, length in sections:  # first, middle, last byte of each section
        pos.update({off, off + length // 2, off + length - 1})
    return sorted(p for p in pos if 0 <= p < n)


@pytest.mark.parametrize("mmap", [False, True])
def test_bit_flips_in_checked_bytes_raise(saved, tmp_path, mmap):
    *_, data = saved
    covered, sections = file_regions(data)
    p = tmp_path / "flip.vsi"
    undetected = []
    for pos in _flip_positions(data, covered, sections):
        if not covered[pos]:
            continue
        for mask in (0x01, 0x80):
            buf = bytearray(data)
            buf[pos] ^= mask
            p.write_bytes(bytes(buf))
            try:
                Index.load(p, mmap=mmap)
            except FormatError:
                continue
            undetected.append((pos, mask))
    assert undetected == [], f"bit flips not detected at (offset, mask): {undetected[:20]}"


def test_bit_flips_in_padding_are_harmless_or_detected(saved, tmp_path):
    """Bytes no checksum covers (reserved header bytes, alignment padding): flipping them must
    either be rejected or leave an index identical to the original."""
    idx, x, dead, _, data = saved
    covered, sections = file_regions(data)
    uncovered = np.flatnonzero(~covered)
    q = x[:20] + 0.1
    p = tmp_path / "pad.vsi"
    for pos in uncovered[:: max(1, len(uncovered) // 40)]:
        buf = bytearray(data)
        buf[pos] ^= 0xFF
        p.write_bytes(bytes(buf))
        try:
            loaded = Index.load(p)
        except FormatError:
            continue
        assert_same_index(idx, loaded, q, dead)


def test_inconsistent_content_with_valid_checksums(saved, tmp_path):
    """Semantic corruption behind correct CRCs (a crafted file) is caught by validation."""
    import json

    idx, x, dead, _, data = saved
    _, sections = file_regions(data)
    arrays = {}
    meta = None
    for name, off, length in sections:
        raw = data[off : off + length]
        if name == "meta":
            meta = json.loads(raw.decode())
        else:
            arrays[name] = raw
    dtypes = {"vectors": np.float32, "ids": np.uint64, "levels": np.int32, "deleted": np.uint8,
              "links0": np.uint32, "upper": np.uint32, "entry_slots": np.uint32, "entry_vectors": np.float32}

    def write(meta_, arrays_, name):
        out = tmp_path / name
        as_arrays = {
            k: np.frombuffer(v, dtype=dtypes[k]) if isinstance(v, bytes) else v
            for k, v in arrays_.items()
        }
        prefix, chunks = _format.encode(meta_, as_arrays)
        out.write_bytes(prefix + b"".join(bytes(c) for c in chunks))
        return out

    # sanity: re-encoding the same content gives a loadable file
    Index.load(write(meta, arrays, "ok.vsi"))

    def arr(name):
        return np.frombuffer(arrays[name], dtype=dtypes[name]).copy()

    count = meta["count"]
    links0 = arr("links0").reshape(count, -1)
    row = int(np.flatnonzero(links0[:, 0] > 0)[-1])
    bad_link = links0.copy()
    bad_link[row, 1] = 10**9  # a used neighbour entry pointing far out of range
    too_many = links0.copy()
    too_many[0, 0] = links0.shape[1] + 5  # link count larger than the row
    levels = arr("levels")
    neg_level = levels.copy()
    neg_level[1] = -1
    huge_level = levels.copy()
    huge_level[1] = 500
    deleted = arr("deleted")
    live_slot = int(np.flatnonzero(deleted == 0)[0])
    ids = arr("ids")
    missing_id = ids.copy()
    missing_id[live_slot] = np.uint64(2**64 - 1)
    cases = {
        "count_too_big": (dict(meta, count=count + 1000), arrays),
        "dim_mismatch": (dict(meta, dim=meta["dim"] + 1), arrays),
        "entry_point_out_of_range": (dict(meta, entry_point=10**8), arrays),
        "max_level_wrong": (dict(meta, max_level=meta["max_level"] + 3), arrays),
        "next_auto_id_not_above_ids": (dict(meta, next_auto_id=1), arrays),
        "metric_unknown": (dict(meta, metric="manhattan"), arrays),
        "dim_not_int": (dict(meta, dim="12"), arrays),
        "bad_link": (meta, dict(arrays, links0=bad_link.ravel())),
        "link_count_too_big": (meta, dict(arrays, links0=too_many.ravel())),
        "vectors_short": (meta, dict(arrays, vectors=arrays["vectors"][: -4 * DIM])),
        "ids_dup": (meta, dict(arrays, ids=np.zeros(count, dtype=np.uint64))),
        "missing_id_value": (meta, dict(arrays, ids=missing_id)),
        "negative_level": (meta, dict(arrays, levels=neg_level)),
        "huge_level": (meta, dict(arrays, levels=huge_level)),
        "deleted_flag_not_bool": (meta, dict(arrays, deleted=np.full(count, 2, dtype=np.uint8))),
        "missing_section": (meta, {k: v for k, v in arrays.items() if k != "levels"}),
        "upper_short": (meta, dict(arrays, upper=arrays["upper"][:8])),
        "entry_slot_out_of_range": (meta, dict(arrays, entry_slots=np.full(len(arr("entry_slots")), 10**8, np.uint32))),
        "entry_vectors_short": (meta, dict(arrays, entry_vectors=arrays["entry_vectors"][:-4])),
        "entry_vector_nan": (meta, dict(arrays, entry_vectors=np.full(len(arr("entry_vectors")), np.nan, np.float32))),
        "entry_table_without_count": ({k: v for k, v in meta.items() if k != "entries_built_at"}, arrays),
        "entry_table_count_too_big": (dict(meta, entries_built_at=10**30), arrays),
    }
    for name, (m, a) in cases.items():
        path = write(m, a, f"{name}.vsi")
        with pytest.raises(FormatError):
            Index.load(path)


# ---------------------------------------------------------------------- atomic save


def test_save_replaces_atomically_and_leaves_no_temporaries(make_data, tmp_path):
    path = tmp_path / "idx.vsi"
    first, x1, _ = make_index(make_data, "l2", n=100, seed=1, deletes=0)
    second, x2, _ = make_index(make_data, "l2", n=250, seed=2, deletes=10)
    first.save(path)
    old_bytes = path.read_bytes()
    assert sorted(os.listdir(tmp_path)) == ["idx.vsi"]
    with open(path, "rb") as old_handle:
        second.save(path)
        # the old handle still sees the complete old file: the new one was renamed over it,
        # not written in place
        assert old_handle.read() == old_bytes
    assert sorted(os.listdir(tmp_path)) == ["idx.vsi"]
    loaded = Index.load(path)
    assert len(loaded) == 240
    np.testing.assert_array_equal(loaded.get_vectors([0, 249]), x2[[0, 249]])


def test_save_over_own_mmap_source(make_data, tmp_path, python_exe, subprocess_env):
    """Saving an mmap-loaded index over the file it maps (and searching the old map after another
    save replaced the file) must work; run in a child so a SIGBUS cannot kill the test session."""
    idx, x, _ = make_index(make_data, "l2", n=200, deletes=20)
    path = tmp_path / "self.vsi"
    idx.save(path)
    np.save(tmp_path / "q.npy", x[:10])
    child = textwrap.dedent(
        """
        import os, sys
        import numpy as np
        import vecsearch
        d = sys.argv[1]
        path = os.path.join(d, "self.vsi")
        q = np.load(os.path.join(d, "q.npy"))
        a = vecsearch.Index.load(path, mmap=True)
        ref_ids, ref_d = a.search(q, k=5, ef=50, num_threads=1)
        a.save(path)                       # over its own source
        other = vecsearch.Index(a.dim)
        other.add(np.ones((3, a.dim), dtype=np.float32))
        b = vecsearch.Index.load(path, mmap=True)
        other.save(path)                   # replace the file b maps
        for idx in (a, b):
            ids, dist = idx.search(q, k=5, ef=50, num_threads=1)
            assert np.array_equal(ids, ref_ids), (ids, ref_ids)
            assert np.array_equal(dist, ref_d), (dist, ref_d)
        assert len(vecsearch.Index.load(path)) == 3
        assert sorted(os.listdir(d)) == ["q.npy", "self.vsi"], os.listdir(d)
        print("ok")
        """
    )
    proc = subprocess.run([python_exe, "-c", child, str(tmp_path)], env=subprocess_env(),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-3000:])
    assert proc.stdout.strip().endswith("ok")


def test_failed_save_keeps_old_file_and_no_temporaries(make_data, tmp_path):
    path = tmp_path / "idx.vsi"
    idx, _, _ = make_index(make_data, "l2", n=50, deletes=0)
    idx.save(path)
    old = path.read_bytes()
    missing_dir = tmp_path / "no_such_dir" / "idx.vsi"
    with pytest.raises(OSError):
        idx.save(missing_dir)
    assert path.read_bytes() == old
    assert sorted(os.listdir(tmp_path)) == ["idx.vsi"]


def test_stale_temporary_of_dead_writer_is_cleaned(make_data, tmp_path):
    path = tmp_path / "idx.vsi"
    # a pid that cannot exist (above pid_max), as left behind by a killed writer
    stale = tmp_path / ".idx.vsi.tmp-4999999-deadbeef"
    stale.write_bytes(b"partial")
    unrelated = tmp_path / "keep.me"
    unrelated.write_bytes(b"x")
    idx, _, _ = make_index(make_data, "l2", n=30, deletes=0)
    idx.save(pathlib.Path(path))
    assert sorted(os.listdir(tmp_path)) == ["idx.vsi", "keep.me"]


@pytest.mark.parametrize("mmap", [False, True])
def test_round_trip_single_vector(tmp_path, mmap):
    idx = Index(4, metric="l2")
    idx.add(np.ones((1, 4), dtype=np.float32), ids=[9])
    idx.save(tmp_path / "one.vsi")
    loaded = Index.load(tmp_path / "one.vsi", mmap=mmap)
    got, d = loaded.search(np.zeros(4, dtype=np.float32), k=2)
    np.testing.assert_array_equal(got[0], [9, vecsearch.MISSING_ID])
    assert d[0, 0] == pytest.approx(4.0) and np.isposinf(d[0, 1])


@pytest.mark.parametrize("mmap", [False, True])
def test_delete_on_loaded_index_does_not_touch_file(make_data, index_path, mmap):
    idx, x, _ = make_index(make_data, "l2", n=200, deletes=0)
    idx.save(index_path)
    before = index_path.read_bytes()
    loaded = Index.load(index_path, mmap=mmap)
    loaded.delete([1, 2, 3])
    got, _ = loaded.search(x[1:4], k=5, ef=100)
    assert not np.isin(got, [1, 2, 3]).any()
    assert index_path.read_bytes() == before
    again = Index.load(index_path)
    assert len(again) == 200 and 1 in again
