"""Quantized storage: the graph walks with codes (SQ8, PQ, binary) and re-ranks with the float
vectors. Checked against exact brute force, the quantizer's own decoding, and save/load."""
from __future__ import annotations

import numpy as np
import pytest

import vecsearch
from vecsearch import F, Index

N, NQ, DIM, K = 20_000, 200, 64, 10
STORAGES = ("sq8", "pq", "binary")


@pytest.fixture(scope="module")
def data(make_data_queries):
    return make_data_queries(N, NQ, DIM, seed=77, n_clusters=40)


@pytest.fixture(scope="module")
def truth(data, oracle):
    x, q = data
    return oracle(x, q, K, "l2")


@pytest.fixture(scope="module")
def built(data):
    """One index per storage kind, built once for the module."""
    x, _ = data
    out = {}
    for storage in STORAGES:
        idx = Index(DIM, "l2", M=16, ef_construction=100, seed=3, storage=storage)
        idx.add(x, num_threads=2)
        out[storage] = idx
    return out


@pytest.mark.parametrize("storage", STORAGES)
def test_reranked_recall_floor(built, data, truth, recall, check_rows, storage):
    _, q = data
    idx = built[storage]
    assert idx.storage == storage and idx.quantizer.is_trained
    # Coarser codes get a deeper re-rank (the beam widens to it), as a user would give them.
    rerank = {"sq8": 100, "pq": 200, "binary": 400}[storage]
    ids, d = idx.search(q, k=K, ef=100, rerank=rerank, num_threads=2)
    check_rows(ids, d)
    r = recall(ids, truth[0])
    assert r >= 0.95, f"{storage}: re-ranked recall@{K} {r:.4f} < 0.95"


@pytest.mark.parametrize("storage", STORAGES)
def test_reranked_distances_are_exact(built, data, exact_dists, storage):
    x, q = data
    ids, d = built[storage].search(q[:20], k=K, ef=64, num_threads=1)
    ref = exact_dists("l2", q[:20], x)
    expect = np.take_along_axis(ref, ids.astype(np.int64), axis=1)
    np.testing.assert_allclose(d, expect, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("storage", ["sq8", "pq"])
def test_without_rerank_distances_are_code_distances(built, data, storage):
    """rerank=0 returns the codec's distances: squared distances to the decoded vectors."""
    x, q = data
    idx = built[storage]
    ids, d = idx.search(q[:20], k=K, ef=64, rerank=0, num_threads=1)
    decoded = idx.quantizer.decode(idx.quantizer.encode(x[ids.astype(np.int64).ravel()]))
    diff = decoded.reshape(20, K, DIM).astype(np.float64) - q[:20, None, :]
    np.testing.assert_allclose(d, (diff**2).sum(-1), rtol=1e-3, atol=1e-2)
    assert (np.diff(d, axis=1) >= 0).all()


def test_rerank_helps_and_zero_is_worse(built, data, truth, recall):
    _, q = data
    idx = built["pq"]
    plain, _ = idx.search(q, k=K, ef=64, rerank=0)
    refined, _ = idx.search(q, k=K, ef=64, rerank=64)
    assert recall(refined, truth[0]) > recall(plain, truth[0])


def test_trained_quantizer_and_cosine(data, oracle, recall):
    x, q = data
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    pq = vecsearch.PQ(16, metric="cosine")
    pq.train(xn[:5000])
    idx = Index(DIM, "cosine", storage=pq)
    assert idx.quantizer is pq
    idx.add(x[:5000])
    ref, _ = oracle(x[:5000], q[:50], K, "cosine")
    ids, _ = idx.search(q[:50], k=K, ef=100, rerank=200)
    assert recall(ids, ref) >= 0.95


def test_memory_usage_by_component(built):
    plain = Index(DIM, "l2")
    parts = built["pq"].memory_usage()
    assert set(parts) == {"graph", "codes", "vectors", "ids", "attributes", "range_indexes", "total"}
    assert parts["total"] == sum(v for key, v in parts.items() if key != "total")
    assert parts["codes"] >= N * built["pq"].quantizer.code_size
    assert plain.memory_usage()["codes"] == 0


@pytest.mark.parametrize("storage", STORAGES)
def test_filtered_search_with_codes(data, oracle, recall, walk_recall, storage):
    x, q = data
    n = 5000
    rng = np.random.default_rng(5)
    color = rng.choice(["red", "green", "blue", "grey"], n, p=[0.05, 0.15, 0.3, 0.5])
    idx = Index(DIM, "l2", M=16, ef_construction=100, storage=storage)
    idx.add(x[:n], attributes={"color": color.tolist()}, num_threads=2)
    for value in ("red", "blue"):
        allowed = np.flatnonzero(color == value)
        ref, _ = oracle(x[allowed], q[:50], K, "l2", ids=allowed)
        # The scan plan is exact with any storage (it reads the float vectors).
        got, _ = idx.search(q[:50], k=K, filter=F("color") == value, plan="scan")
        assert recall(got, ref) == 1.0
        for plan in ("auto", "acorn", "post"):
            def search():
                got, _ = idx.search(q[:50], k=K, ef=128, rerank=300, filter=F("color") == value,
                                    plan=plan)
                assert np.isin(got, allowed.astype(np.uint64)).all()
                return got

            # the walk's own recall: queries the scan answered after it count as misses
            r, _ = walk_recall(idx, search, ref)
            assert r >= 0.9, (storage, value, plan, r)


def test_codes_hold_recall_where_matches_crowd_one_distance(make_data_queries, oracle, recall):
    """Only the half of the data farthest from each query matches, so its nearest matches sit at
    the filter's edge, all at nearly one distance (gaps of ~1e-5 relative). SQ8's error is larger
    than those gaps, so the post-filter walk's code ranking cannot tell them apart (0.52 of the
    neighbours from its pool alone): its re-rank sees every pooled candidate within the codes'
    error of the k-th and hands the query to the exact scan, counted as a post fallback."""
    x, q = make_data_queries(50_000, 40, 24, seed=31)
    d = ((q[:, None, :].astype(np.float64) - x[None]) ** 2).sum(-1)
    allowed = [np.sort(row) for row in np.argsort(-d, axis=1)[:, :25_000]]
    idx = Index(24, "l2", M=16, ef_construction=100, seed=1, storage="sq8")
    idx.add(x, num_threads=2)
    got, _ = idx.search(q, k=K, ef=64, filter=allowed, plan="post")
    hits = [recall(got[i:i + 1], oracle(x[a], q[i], K, "l2", ids=a)[0]) for i, a in enumerate(allowed)]
    assert np.mean(hits) >= 0.95
    assert idx.stats()["plans"]["post_fallback"] >= 0.8 * len(q)


def _bounded_and_full(idx, search):
    """search() with the bounded re-rank and with the full depth: (answer, rows per query) each."""
    out = []
    try:
        for bounded in (True, False):
            idx._core.set_bounded_rerank(bounded)
            idx.reset_stats()
            ids, _ = search()
            out.append((ids, idx.stats()["io"]["rows_per_query"]))
    finally:
        idx._core.set_bounded_rerank(True)
    return out


def _overlap(a, b):
    return float(np.mean([len(set(x) & set(y)) / K for x, y in zip(a, b)]))


def test_bounded_rerank_answers_as_the_full_depth(built, data, truth, recall):
    """An SQ8 walk re-scores its beam in estimate order only while an estimate, less the codes'
    bias and measured error, can still beat the k-th exact distance: the full depth's answer from
    a fraction of its rows."""
    _, q = data
    idx = built["sq8"]
    (ids, rows), (full_ids, full_rows) = _bounded_and_full(idx, lambda: idx.search(q, k=K, ef=96, num_threads=1))
    assert full_rows == 96 and rows < 48, (rows, full_rows)
    assert _overlap(ids, full_ids) >= 0.998
    assert recall(ids, truth[0]) >= recall(full_ids, truth[0]) - 0.002


def test_bounded_rerank_reads_deep_where_estimates_crowd(make_data_queries, oracle, recall):
    """Where the matches crowd within code error of one distance (the farthest half allowed), the
    measured error keeps the re-rank going to the end of the walk's pool, which hands the query
    to the exact scan: the answer is at least the full depth's, and right. A bound from the
    spread of the first few re-scored alone stops early, settles for the codes' order and
    fails this."""
    x, q = make_data_queries(20_000, 20, 24, seed=31)
    d = ((q[:, None, :].astype(np.float64) - x[None]) ** 2).sum(-1)
    allowed = [np.sort(row) for row in np.argsort(-d, axis=1)[:, :10_000]]
    idx = Index(24, "l2", M=16, ef_construction=100, seed=1, storage="sq8")
    idx.add(x, num_threads=2)
    (ids, rows), (full_ids, full_rows) = _bounded_and_full(
        idx, lambda: idx.search(q, k=K, ef=64, filter=allowed, plan="post", num_threads=1))

    def hits(found):
        return np.mean([recall(found[i:i + 1], oracle(x[a], q[i], K, "l2", ids=a)[0]) for i, a in enumerate(allowed)])

    assert hits(ids) >= 0.95 and hits(ids) >= hits(full_ids), (hits(ids), hits(full_ids), rows, full_rows)


@pytest.mark.parametrize("storage", STORAGES)
def test_save_load_round_trip(built, data, index_path, storage):
    _, q = data
    idx = built[storage]
    idx.save(index_path)
    for mmap in (False, True):
        loaded = Index.load(index_path, mmap=mmap)
        assert loaded.storage == storage and loaded.rerank == idx.rerank
        assert loaded.quantizer.to_bytes() == idx.quantizer.to_bytes()
        a = idx.search(q[:30], k=K, ef=48, rerank=0)
        b = loaded.search(q[:30], k=K, ef=48, rerank=0)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])


def test_codes_file_is_version_4_and_refused_when_damaged(built, index_path):
    from vecsearch._format import IndexFile

    built["sq8"].save(index_path)
    f = IndexFile(str(index_path))
    assert f.version == 4 and f.has("codec") and f.has("codes")
    offset, _ = f.sections["codes"]
    raw = bytearray(index_path.read_bytes())
    raw[offset + 3] ^= 0xFF
    index_path.write_bytes(bytes(raw))
    with pytest.raises(vecsearch.FormatError, match="codes"):
        Index.load(index_path)


def _rewrite(src, dst, **changes):
    """A copy of index file `src` at `dst` with sections replaced (valid checksums)."""
    from vecsearch._format import IndexFile, write_atomic

    f = IndexFile(str(src))
    arrays = {name: np.array(f.raw(name)) for name in f.sections if name != "meta"}
    arrays.update(changes)
    write_atomic(str(dst), f.meta, arrays, version=f.version)


@pytest.mark.parametrize("storage", STORAGES)
def test_inconsistent_codes_or_codec_refused(built, tmp_path, storage):
    src = tmp_path / "ok.vsi"
    built[storage].save(src)
    from vecsearch._format import IndexFile

    f = IndexFile(str(src))
    codec = np.array(f.raw("codec"))
    codes = np.array(f.raw("codes"))
    size = built[storage].quantizer.code_size
    bad = {
        "truncated codec": {"codec": codec[: len(codec) // 2]},
        "empty codec": {"codec": codec[:0]},
        "codes of one slot short": {"codes": codes[:-size]},
        "codes not whole": {"codes": codes[:-1]},
    }
    for what, change in bad.items():
        dst = tmp_path / "bad.vsi"
        _rewrite(src, dst, **change)
        with pytest.raises(vecsearch.FormatError):
            Index.load(dst)


def test_adds_after_training_are_encoded_and_deletes_hide(data, oracle, recall):
    x, q = data
    idx = Index(DIM, "l2", storage="sq8")
    idx.add(x[:3000])
    idx.add(x[3000:6000])  # encoded with the codec trained on the first add
    idx.delete(np.arange(0, 6000, 2))
    ids, _ = idx.search(q[:50], k=K, ef=100)
    assert not np.isin(ids, np.arange(0, 6000, 2, dtype=np.uint64)).any()
    keep = np.arange(1, 6000, 2)
    ref, _ = oracle(x[keep], q[:50], K, "l2", ids=keep)
    assert recall(ids, ref) >= 0.95


def test_storage_errors(data):
    x, _ = data
    with pytest.raises(ValueError, match="unknown storage"):
        Index(DIM, storage="int4")
    with pytest.raises(TypeError, match="storage"):
        Index(DIM, storage=3)
    trained = vecsearch.SQ8()
    trained.train(x[:500, :32])
    with pytest.raises(vecsearch.DimensionError):
        Index(DIM, storage=trained)
    idx = Index(DIM, storage="sq8")
    with pytest.raises(ValueError, match="rerank"):
        idx.rerank = -1
    idx.add(x[:100])
    with pytest.raises(ValueError, match="rerank"):
        idx.search(x[:1], k=5, rerank=-2)


def test_set_storage_round_trip(data, truth, recall):
    x, q = data
    idx = Index(DIM, "l2", M=16, ef_construction=100, seed=3)
    idx.add(x[:8000])
    before = idx.search(q, k=K, ef=64)
    idx.set_storage("sq8")
    assert idx.storage == "sq8" and idx.quantizer.is_trained
    assert idx.memory_usage()["codes"] >= 8000 * DIM
    ids, _ = idx.search(q, k=K, ef=64, rerank=64)
    assert recall(ids, before[0]) >= 0.95
    idx.set_storage("float32")
    assert idx.storage == "float32" and idx.memory_usage()["codes"] == 0
    after = idx.search(q, k=K, ef=64)
    np.testing.assert_array_equal(after[0], before[0])
    empty = Index(DIM, "l2")
    empty.set_storage("pq")  # trained later, by the first add
    empty.add(x[:3000])
    assert empty.storage == "pq" and empty.quantizer.is_trained


@pytest.mark.parametrize("storage", ["float32", "pq"])
def test_vectors_on_disk_equal_in_memory(data, index_path, storage):
    """Loaded with the vectors left on disk (released pages, read on demand), an index answers
    exactly as in memory, filtered too, and still takes adds."""
    x, q = data
    n = 4000
    color = np.where(np.arange(n) % 5 == 0, "red", "blue")
    idx = Index(DIM, "l2", storage=storage)
    idx.add(x[:n], attributes={"color": color.tolist()})
    idx.save(index_path)
    tier = Index.load(index_path, vectors_on_disk=True)
    for flt in (None, F("color") == "red"):
        a = idx.search(q[:40], k=K, ef=64, filter=flt)
        b = tier.search(q[:40], k=K, ef=64, filter=flt)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
    tier.add(x[n:n + 100])
    assert len(tier) == n + 100
    np.testing.assert_array_equal(tier.get_vectors(np.arange(n, n + 100)), x[n:n + 100])


def test_auto_decides_once_there_is_enough_data(make_data):
    x = make_data(3000, DIM, seed=5)
    idx = Index(DIM, "l2", M=8, ef_construction=40)  # storage="auto" is the default
    idx.add(x[:500])
    assert idx.storage == "float32" and idx.quantizer is None  # too few vectors to judge yet
    idx.add(x[500:])
    assert idx.storage == "sq8" and idx.quantizer.is_trained
    idx.set_storage("float32")
    assert idx.storage == "float32"
    idx.set_storage("auto")
    assert idx.storage == "sq8"


def test_auto_keeps_float32_where_codes_lose_the_neighbours(make_data):
    x = make_data(3000, DIM, seed=6)
    x[:5] *= 1e5  # a few huge rows stretch every dimension's range: 256 levels resolve nothing else
    idx = Index(DIM, "l2", M=8, ef_construction=40)
    idx.add(x)
    assert idx.storage == "float32"


def test_auto_filtered_walks_score_the_codes_and_hand_crowded_matches_to_the_scan(make_data_queries, oracle,
                                                                                   recall):
    """auto walks the codes, filtered or not, and re-ranks from the float vectors; where the
    matches crowd within code error of one distance (the farthest half allowed) its post-filter
    walks cannot tell them apart and the exact scan answers (post_fallback), holding recall."""
    x, q = make_data_queries(50_000, 40, 24, seed=31)
    d = ((q[:, None, :].astype(np.float64) - x[None]) ** 2).sum(-1)
    allowed = [np.sort(row) for row in np.argsort(-d, axis=1)[:, :25_000]]
    idx = Index(24, "l2", M=16, ef_construction=100, seed=1)
    idx.add(x, num_threads=2)
    assert idx.storage == "sq8"
    idx.reset_stats()
    got, _ = idx.search(q, k=K, ef=64, filter=allowed, plan="post")
    hits = [recall(got[i:i + 1], oracle(x[a], q[i], K, "l2", ids=a)[0]) for i, a in enumerate(allowed)]
    assert np.mean(hits) >= 0.95
    assert idx.stats()["plans"]["post_fallback"] >= 0.8 * len(q)
    near = [np.sort(row) for row in np.argsort(d, axis=1)[:, :25_000]]  # the nearest half: no crowding
    idx.reset_stats()
    got, _ = idx.search(q, k=K, ef=64, filter=near, plan="post")
    stats = idx.stats()
    # code walks (a walk that failed is retried deeper before the scan: re-ranked again)
    assert stats["io"]["queries"] >= len(q) and stats["plans"]["post_fallback"] <= 0.1 * len(q)
    hits = [recall(got[i:i + 1], oracle(x[a], q[i], K, "l2", ids=a)[0]) for i, a in enumerate(near)]
    assert np.mean(hits) >= 0.95
    truth, _ = oracle(x, q, K, "l2")
    assert recall(idx.search(q, k=K, ef=64)[0], truth) >= 0.95


@pytest.mark.parametrize("added", [500, 2000])
def test_auto_survives_save_and_load(make_data, index_path, added):
    x = make_data(3000, DIM, seed=7)
    idx = Index(DIM, "l2", M=8, ef_construction=40)
    idx.add(x[:added])
    idx.save(index_path)
    loaded = Index.load(index_path)
    assert (loaded._storage.auto, loaded._storage.auto_pending, loaded.storage) == (True, added < 1000, idx.storage)
    loaded.add(x[added:added + 1000])
    assert loaded.storage == "sq8"  # a pending decision is taken after the load too
