"""Vectors on disk (issue #7): build_on_disk streams a source into an index file with bounded
memory, and Index.load(..., vectors_on_disk=True) re-ranks from the file. Answers must equal the
same file loaded into RAM (same graph, codes and re-rank depth), filters included."""
from __future__ import annotations

import os
import subprocess
import textwrap
import warnings

import numpy as np
import pytest

import vecsearch
from vecsearch import F
from vecsearch.disk import build as disk_build
from vecsearch.disk.budget import estimate_bytes
from vecsearch.disk.spill import building_path

DIM = 32


@pytest.fixture(scope="module")
def data():
    from conftest import clustered_with_queries

    x, q = clustered_with_queries(6000, 40, DIM, seed=7)
    return x, q


@pytest.fixture(scope="module")
def attrs(data):
    n = data[0].shape[0]
    rng = np.random.default_rng(3)
    return {"year": rng.integers(2000, 2024, n), "kind": rng.choice(["a", "b", "c", "d"], n).tolist()}


@pytest.fixture(scope="module")
def built(tmp_path_factory, data, attrs):
    path = tmp_path_factory.mktemp("disk") / "idx.vs"
    index = vecsearch.build_on_disk(path, data[0], storage="pq", attributes=attrs, progress=False)
    return path, index


needs_uring = pytest.mark.skipif(not vecsearch._core.io_uring_available(), reason="io_uring not allowed here")
DISK_IOS = [pytest.param("io_uring", marks=needs_uring), "pread", "mmap", "auto"]


@pytest.mark.parametrize("disk_io", DISK_IOS)
@pytest.mark.parametrize("rerank", [0, 16, 64])
def test_tiered_equals_in_memory(built, data, disk_io, rerank):
    path, _ = built
    disk = vecsearch.Index.load(path, vectors_on_disk=True, disk_io=disk_io)
    ram = vecsearch.Index.load(path)
    got = disk.search(data[1], k=10, ef=32, rerank=rerank)
    want = ram.search(data[1], k=10, ef=32, rerank=rerank)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])


def test_tiered_recall_after_rerank(built, data, oracle, recall):
    path, index = built
    true_ids, _ = oracle(data[0], data[1], 10, "l2")
    ids, _ = index.search(data[1], k=10, ef=64, rerank=128)
    assert recall(ids, true_ids) >= 0.95


@pytest.mark.parametrize("plan", ["auto", "scan", "acorn", "post"])
def test_filtered_search_tiered(built, data, attrs, plan, oracle):
    path, index = built
    ram = vecsearch.Index.load(path)
    expr = (F("year") >= 2015) & (F("kind") == "b")
    got = index.search(data[1], k=10, ef=64, filter=expr, plan=plan)
    want = ram.search(data[1], k=10, ef=64, filter=expr, plan=plan)
    np.testing.assert_array_equal(got[0], want[0])
    match = np.flatnonzero((attrs["year"] >= 2015) & (np.array(attrs["kind"]) == "b"))
    assert np.isin(got[0], match).all()
    if plan == "scan":
        true_ids, _ = oracle(data[0][match], data[1], 10, "l2", ids=match)
        np.testing.assert_array_equal(np.sort(got[0], axis=1), np.sort(true_ids.astype(np.uint64), axis=1))


@pytest.mark.parametrize("disk_io", [pytest.param("io_uring", marks=needs_uring), "pread"])
def test_stats_count_rows_read(built, data, disk_io):
    path, _ = built
    index = vecsearch.Index.load(path, vectors_on_disk=True, disk_io=disk_io)
    index.search(data[1], k=10, ef=32, rerank=48)
    io = index.stats()["io"]
    assert io["mode"] == disk_io and io["queries"] == len(data[1])
    # The refine code (on by default) reads only candidates that can still enter the top 10: at
    # least 10 rows per query, at most the 48 asked.
    rows = io["rows_per_query"]
    assert io["rows_read"] == io["rows_reranked"] and 10 <= rows <= 48
    assert io["bytes_read"] == io["rows_read"] * DIM * 4
    if disk_io == "pread":
        assert rows <= io["reads_per_query"] <= 2 * rows  # a non-blocking try per row, a pread per miss
        assert 0 <= io["rows_missed_cache"] <= io["rows_read"]
    else:
        # one batch per query, and one more per few rows the bound still admits
        assert 1 <= io["reads_per_query"] <= 1 + (rows - 10) / 4
    index.reset_stats()
    assert index.stats()["io"]["rows_read"] == 0
    memory = index.stats()["memory"]
    assert memory["vectors"] == 0 and memory["disk"] == len(data[0]) * DIM * 4
    assert memory["total"] == sum(v for name, v in memory.items() if name not in ("total", "disk"))


def test_add_to_tiered_index_moves_vectors_to_ram(built, data):
    path, _ = built
    index = vecsearch.Index.load(path, vectors_on_disk=True)
    new_ids = index.add(data[1][:5] + 0.5)
    assert index.stats()["io"]["mode"] is None and "disk" not in index.memory_usage()
    found, _ = index.search(data[1][:5] + 0.5, k=1, ef=64, rerank=64)
    np.testing.assert_array_equal(found[:, 0], new_ids)


@pytest.mark.parametrize("kind", ["npy", "fbin", "iterable", "parquet"])
def test_sources(tmp_path, data, kind, monkeypatch):
    x = data[0][:3000]
    if kind == "npy":
        source = tmp_path / "x.npy"
        np.save(source, x)
    elif kind == "fbin":
        from vecsearch.datasets.vectorio import write_bin

        source = tmp_path / "x.fbin"
        write_bin(source, x)
    elif kind == "iterable":
        # Blocks of unknown total: the spill file must grow past its first capacity.
        monkeypatch.setattr(disk_build, "BLOCK_ROWS", 700)
        source = (x[i:i + 500] for i in range(0, len(x), 500))
    else:
        pa = pytest.importorskip("pyarrow")
        pq = pytest.importorskip("pyarrow.parquet")
        source = tmp_path / "x.parquet"
        pq.write_table(pa.table({"emb": [list(map(float, row)) for row in x], "n": np.arange(len(x))}), source,
                       row_group_size=1000)
    index = vecsearch.build_on_disk(tmp_path / "idx.vs", source, storage="sq8", progress=False)
    assert len(index) == len(x)
    np.testing.assert_allclose(index.get_vectors(np.arange(0, 3000, 7)), x[::7], rtol=1e-6)
    assert not os.path.exists(building_path(tmp_path / "idx.vs"))


def test_cosine_build_normalises(tmp_path, data):
    index = vecsearch.build_on_disk(tmp_path / "c.vs", data[0][:2000] * 3.0, metric="cosine", storage="sq8",
                                    progress=False)
    rows = index.get_vectors(np.arange(10))
    np.testing.assert_allclose(np.linalg.norm(rows, axis=1), 1.0, rtol=1e-5)


def test_interrupted_build_is_detected(tmp_path, python_exe, subprocess_env):
    path = tmp_path / "killed.vs"
    script = textwrap.dedent(f"""
        import os, signal, numpy as np, vecsearch
        def blocks():
            rng = np.random.default_rng(0)
            for i in range(4):
                if i == 2:
                    os.kill(os.getpid(), signal.SIGKILL)  # dies mid-build, as a crash would
                yield rng.standard_normal((500, 8)).astype(np.float32)
        vecsearch.build_on_disk({str(path)!r}, blocks(), storage="sq8", progress=False)
    """)
    proc = subprocess.run([python_exe, "-c", script], env=subprocess_env(), capture_output=True)
    assert proc.returncode == -9, proc.stderr.decode()
    assert not path.exists() and os.path.exists(building_path(path))
    with pytest.raises(vecsearch.IncompleteIndexError, match="interrupted"):
        vecsearch.Index.load(path)
    with pytest.raises(vecsearch.FormatError):  # IncompleteIndexError is a FormatError
        vecsearch.Index.load(path, vectors_on_disk=True)
    # A new build replaces the leftovers and completes.
    x = np.random.default_rng(1).standard_normal((800, 8)).astype(np.float32)
    with pytest.warns(RuntimeWarning, match="interrupted build"):
        index = vecsearch.build_on_disk(path, x, storage="sq8", progress=False)
    assert len(index) == 800 and not os.path.exists(building_path(path))


def test_failed_build_leaves_nothing(tmp_path, data):
    path = tmp_path / "bad.vs"

    def blocks():
        yield data[0][:1000]
        bad = data[0][1000:2000].copy()
        bad[3, 4] = np.nan
        yield bad

    with pytest.raises(vecsearch.NonFiniteError):
        vecsearch.build_on_disk(path, blocks(), storage="sq8", progress=False)
    assert not path.exists() and not os.path.exists(building_path(path))

    def interrupted():
        yield data[0][:1000]
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        vecsearch.build_on_disk(path, interrupted(), storage="sq8", progress=False)
    assert not path.exists() and not os.path.exists(building_path(path))


def test_failed_rebuild_keeps_the_old_index(built, tmp_path, data):
    path = tmp_path / "keep.vs"
    vecsearch.build_on_disk(path, data[0][:1500], storage="sq8", progress=False, load=False)

    def blocks():
        yield data[0][:1000]
        yield np.zeros((5, DIM + 1), dtype=np.float32)

    with pytest.raises(vecsearch.DimensionError):
        vecsearch.build_on_disk(path, blocks(), storage="sq8", progress=False)
    assert len(vecsearch.Index.load(path)) == 1500


def test_memory_budget_respected(tmp_path, data):
    x = data[0]
    n = len(x)
    roomy = vecsearch.plan_memory(n, DIM, 10 * 2**20)
    tight_budget = estimate_bytes(n, DIM, 8) + 1000  # room for 8-byte codes, not 16
    tight = vecsearch.plan_memory(n, DIM, tight_budget)
    assert roomy["storage"] == "sq8" and tight["code_size"] <= 8 < roomy["code_size"]
    index = vecsearch.build_on_disk(tmp_path / "b.vs", x, storage="auto", memory_budget=tight_budget, progress=False)
    assert index.quantizer.code_size == tight["code_size"]
    assert index.memory_usage()["total"] <= tight_budget
    # The budget is what the loaded index holds too.
    vecsearch.Index.load(tmp_path / "b.vs", vectors_on_disk=True, memory_budget=tight_budget)
    with pytest.raises(vecsearch.MemoryBudgetError, match="memory_budget"):
        vecsearch.Index.load(tmp_path / "b.vs", memory_budget=tight_budget)  # vectors in RAM too
    with pytest.raises(vecsearch.MemoryBudgetError, match="memory_budget"):
        vecsearch.build_on_disk(tmp_path / "c.vs", x, storage="sq8", memory_budget=tight_budget, progress=False)
    with pytest.raises(vecsearch.MemoryBudgetError, match="smallest"):
        vecsearch.plan_memory(n, DIM, 100_000)
    with pytest.raises(ValueError, match="known length"):
        vecsearch.build_on_disk(tmp_path / "d.vs", iter([x]), storage="auto", memory_budget=tight_budget)
    assert not (tmp_path / "c.vs").exists()


def test_bad_arguments(tmp_path, data):
    with pytest.raises(ValueError, match="compact codes"):
        vecsearch.build_on_disk(tmp_path / "e.vs", data[0], storage="float32")
    with pytest.raises(ValueError, match="memory_budget"):
        vecsearch.build_on_disk(tmp_path / "e.vs", data[0], storage="auto")
    with pytest.raises(ValueError, match="4 ids"):
        vecsearch.build_on_disk(tmp_path / "e.vs", data[0][:100], ids=np.arange(4), progress=False)
    with pytest.raises(TypeError, match="iterable"):
        vecsearch.build_on_disk(tmp_path / "e.vs", 42)
    with pytest.raises(ValueError, match="disk_io"):
        vecsearch.Index.load(tmp_path / "e.vs", vectors_on_disk=True, disk_io="aio")
    assert not (tmp_path / "e.vs").exists() and not os.path.exists(building_path(tmp_path / "e.vs"))


def test_ids_and_attributes_slice_per_block(tmp_path, data, monkeypatch):
    pd = pytest.importorskip("pandas")
    monkeypatch.setattr(disk_build, "BLOCK_ROWS", 1000)
    x = data[0][:2500]
    ids = np.arange(2500, dtype=np.uint64) * 3 + 11
    frame = pd.DataFrame({"g": np.arange(2500) % 5})
    index = vecsearch.build_on_disk(tmp_path / "s.vs", x, ids=ids, attributes=frame, storage="sq8", progress=False)
    assert index.get_attributes(ids[[0, 1234, 2499]]) == {"g": [0, 1234 % 5, 2499 % 5]}
    np.testing.assert_allclose(index.get_vectors(ids[[1234]]), x[[1234]], rtol=1e-6)
    found, _ = index.search(x[:20], k=1, ef=64, filter=F("g") == 2)
    assert set((found[:, 0] - 11) // 3 % 5) == {2}


def test_vector_file_shorter_than_header_is_refused(built, tmp_path, data):
    # A file cut inside the vectors section fails verification before any read is attempted.
    path, _ = built
    cut = tmp_path / "cut.vs"
    raw = open(path, "rb").read()
    cut.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(vecsearch.FormatError):
        vecsearch.Index.load(cut, vectors_on_disk=True)


def test_load_without_verifying_vectors(built, data, tmp_path):
    path, _ = built
    raw = bytearray(open(path, "rb").read())
    from vecsearch._format import IndexFile

    offset = IndexFile(str(path)).section_offset("vectors")
    raw[offset + 4 * DIM * 10] ^= 0x40  # flip a bit inside row 10
    bad = tmp_path / "flipped.vs"
    bad.write_bytes(bytes(raw))
    with pytest.raises(vecsearch.FormatError, match="checksum"):
        vecsearch.Index.load(bad, vectors_on_disk=True)
    # Unverified, the load succeeds (the risk the caller took) and reads the flipped row as stored.
    index = vecsearch.Index.load(bad, vectors_on_disk=True, verify_vectors=False)
    ram = vecsearch.Index.load(path)
    got = index.search(data[1], k=10, ef=32, rerank=32)[0]
    want = ram.search(data[1], k=10, ef=32, rerank=32)[0]
    assert (got == want).mean() > 0.95
    with pytest.raises(ValueError, match="verify_vectors"):
        vecsearch.Index.load(path, verify_vectors=False)
