"""Refine codes (issue #18): a residual PQ in RAM decides which candidates are re-scored from
the float vectors. Checked against numpy: the estimates equal the distance to the two codes'
reconstruction plus what both miss, the lower bounds hold, and a bounded re-rank scores far
fewer rows than the walk's depth with the same recall, alike from disk and from RAM."""
from __future__ import annotations

import numpy as np
import pytest

import vecsearch
from vecsearch.errors import FormatError, MemoryBudgetError
from vecsearch.quant import Quantizer

DIM = 64
K = 10


@pytest.fixture(scope="module")
def data():
    from conftest import clustered_with_queries

    return clustered_with_queries(8000, 60, DIM, seed=11)


def _build(tmp_path_factory, data, metric, refine="auto"):
    path = tmp_path_factory.mktemp(f"refine-{metric}") / "idx.vs"
    index = vecsearch.build_on_disk(path, data[0], metric=metric, storage="pq", refine=refine, progress=False)
    return path, index


@pytest.fixture(scope="module", params=["l2", "cosine", "ip"])
def built(request, tmp_path_factory, data):
    return request.param, *_build(tmp_path_factory, data, request.param)


def _stored(x, metric):
    if metric == "cosine":
        return x / np.linalg.norm(x, axis=1, keepdims=True)
    return x


def _exact(q, x, metric):
    if metric == "l2":
        return ((q[:, None, :] - x[None]) ** 2).sum(-1)
    return 1.0 - q @ x.T


def test_estimates_and_bounds_against_numpy(built, data):
    metric, _, index = built
    core = index._core
    walk_blob, walk_codes = core.export_codes()
    blob, codes, _, _ = core.export_refine()
    walk, refine = Quantizer.from_bytes(walk_blob), Quantizer.from_bytes(blob)
    x = _stored(data[0], metric).astype(np.float32)
    approx = walk.decode(walk_codes) + refine.decode(codes)  # ids are 0..n-1 in slot order
    missed = np.linalg.norm(x - approx, axis=1)
    queries = _stored(data[1], metric).astype(np.float32)
    ids = np.arange(len(x), dtype=np.uint64)
    covered = []
    for q in queries[:20]:
        est, lower = core.refine_bounds(q, ids)
        if metric == "l2":
            want = ((approx - q) ** 2).sum(1) + missed ** 2
        else:
            want = 1.0 - approx @ q
        np.testing.assert_allclose(est, want, rtol=2e-3, atol=2e-3)
        assert np.all(lower <= est + 1e-6)
        covered.append(lower <= _exact(q[None], x, metric)[0] + 1e-4)
    # A bound at three standard deviations of what both codes miss: below the exact distance for
    # nearly every pair (a bound of 0 or -inf would also pass this; the row counts below would not).
    assert np.mean(covered) >= 0.99


def test_bounded_rerank_reads_few_rows_with_the_same_recall(built, data):
    metric, path, index = built
    x, queries = _stored(data[0], metric), _stored(data[1], metric)
    truth = np.argsort(_exact(queries, x, metric), axis=1)[:, :K]
    plain = vecsearch.Index.load(path, vectors_on_disk=True)
    plain._core.attach_refine(None, None, None, None)
    recalls, rows = {}, {}
    for name, idx in (("refine", index), ("plain", plain)):
        idx.reset_stats()
        got, dist = idx.search(data[1], k=K, ef=128, rerank=128)
        recalls[name] = np.mean([len(set(a) & set(b)) / K for a, b in zip(got, truth)])
        rows[name] = idx.stats()["io"]["rows_per_query"]
        # Every returned distance is exact.
        np.testing.assert_allclose(dist, np.take_along_axis(_exact(queries, x, metric), got.astype(np.int64), 1),
                                   rtol=1e-4, atol=1e-4)
    assert rows["plain"] == 128
    assert rows["refine"] <= 48, rows
    assert recalls["refine"] >= 0.95 and recalls["refine"] >= recalls["plain"] - 0.02, recalls


@pytest.mark.parametrize("disk_io", ["pread", "mmap"])
def test_same_answers_from_disk_and_ram(built, data, disk_io):
    _, path, _ = built
    disk = vecsearch.Index.load(path, vectors_on_disk=True, disk_io=disk_io)
    ram = vecsearch.Index.load(path)
    assert disk._core.export_refine() is not None and ram._core.export_refine() is not None
    for rerank in (0, 10, 40):
        got, want = disk.search(data[1], k=K, ef=64, rerank=rerank), ram.search(data[1], k=K, ef=64, rerank=rerank)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])


def test_save_load_keeps_the_refine_code(built, tmp_path):
    _, path, index = built
    again = tmp_path / "again.vs"
    index.save(again)
    a, b = index._core.export_refine(), vecsearch.Index.load(again)._core.export_refine()
    assert a[0] == b[0]
    for left, right in zip(a[1:], b[1:]):
        np.testing.assert_array_equal(left, right)


def test_an_add_drops_the_refine_code(tmp_path_factory, data):
    _, index = _build(tmp_path_factory, data, "l2")
    extra = data[1][:5] + 0.01
    index.add(extra, ids=np.arange(10**6, 10**6 + 5, dtype=np.uint64))
    assert index._core.export_refine() is None
    got, _ = index.search(extra, k=1, ef=64)
    np.testing.assert_array_equal(got[:, 0], np.arange(10**6, 10**6 + 5))


def test_refine_none_and_bad_arguments(tmp_path, data):
    plain = vecsearch.build_on_disk(tmp_path / "plain.vs", data[0][:2000], storage="pq", refine=None, progress=False)
    assert plain._core.export_refine() is None
    refined = vecsearch.build_on_disk(tmp_path / "r.vs", data[0][:2000], storage="pq", refine=32, progress=False)
    assert refined._core.export_refine()[1].shape == (2000, 32)
    assert refined.memory_usage()["codes"] - plain.memory_usage()["codes"] >= 2000 * (32 + 8)
    with pytest.raises(ValueError, match="refine"):
        vecsearch.build_on_disk(tmp_path / "b.vs", data[0][:500], storage="sq8", refine=16, progress=False)
    with pytest.raises(ValueError, match="dividing dim"):
        vecsearch.build_on_disk(tmp_path / "c.vs", data[0][:500], storage="pq", refine=7, progress=False)
    # storage="sq8" with refine="auto": no refine code (it refines PQ codes only).
    sq8 = vecsearch.build_on_disk(tmp_path / "d.vs", data[0][:500], storage="sq8", progress=False)
    assert sq8._core.export_refine() is None


def test_the_budget_drops_an_auto_refine_code_first(tmp_path, data):
    from vecsearch.disk.budget import estimate_bytes

    n = 2000
    pq = DIM // 4  # the default PQ's code size
    just_codes = estimate_bytes(n, DIM, pq)
    index = vecsearch.build_on_disk(tmp_path / "a.vs", data[0][:n], storage="pq", memory_budget=just_codes,
                                    progress=False)
    assert index._core.export_refine() is None
    with pytest.raises(MemoryBudgetError, match="refine"):
        vecsearch.build_on_disk(tmp_path / "b.vs", data[0][:n], storage="pq", refine=16, memory_budget=just_codes,
                                progress=False)


def test_a_file_missing_part_of_the_refine_code_is_refused(built, tmp_path):
    from vecsearch._format import IndexFile, write_atomic

    _, path, _ = built
    f = IndexFile(str(path))
    arrays = {name: f.array(name, np.uint8) for name in f.sections if name not in ("meta", "refine_terms")}
    broken = tmp_path / "broken.vs"
    write_atomic(str(broken), f.meta, arrays, version=f.version)
    with pytest.raises(FormatError, match="refine"):
        vecsearch.Index.load(broken)


@pytest.mark.parametrize("damage", ["nan_error", "short_terms", "bad_codec"])
def test_a_damaged_refine_code_is_refused(built, tmp_path, damage):
    from vecsearch._format import IndexFile, write_atomic

    _, path, _ = built
    f = IndexFile(str(path))
    arrays = {name: np.array(f.array(name, np.uint8)) for name in f.sections if name != "meta"}
    if damage == "nan_error":
        errors = arrays["refine_errors"].view(np.float32)
        errors[5] = np.nan
    elif damage == "short_terms":
        arrays["refine_terms"] = arrays["refine_terms"][:-4]
    else:
        arrays["refine_codec"] = arrays["refine_codec"][:10]
    broken = tmp_path / "broken.vs"
    write_atomic(str(broken), f.meta, arrays, version=f.version)  # checksums of the damaged bytes: it gets past them
    with pytest.raises(FormatError):
        vecsearch.Index.load(broken)
