"""ShardedIndex on a local Ray: recall against one index and numpy brute force, the exact merge
of the shards' own answers, two-phase mutations, saves and loads."""
from __future__ import annotations

import os

import numpy as np
import pytest

import vecsearch
from vecsearch import F
from vecsearch.distributed import ShardedIndex
from vecsearch.errors import DimensionError, DuplicateIdError, EmptyIndexError, FormatError, UnknownIdError

N, NQ, DIM, K = 6000, 100, 24, 10
BUILD = dict(M=12, ef_construction=80)


def _data(seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=2.0, size=(16, DIM))
    x = (centers[rng.integers(0, 16, N + NQ)] + rng.normal(size=(N + NQ, DIM))).astype(np.float32)
    attrs = {"year": rng.integers(2000, 2025, N), "kind": rng.choice(["a", "b", "c", "d"], N)}
    return x[:N], x[N:], attrs


@pytest.fixture(scope="module")
def corpus():
    return _data()


@pytest.fixture(scope="module")
def single(corpus):
    data, _, attrs = corpus
    index = vecsearch.Index(DIM, **BUILD)
    index.add(data, attributes=attrs)
    return index


@pytest.fixture(scope="module", params=[2, 4])
def sharded(request, ray_local, corpus):
    data, _, attrs = corpus
    index = ShardedIndex(DIM, shards=request.param, **BUILD)
    index.add(data, attributes=attrs)
    yield index
    index.close()


FILTERS = [None, F("year") >= 2020, F("kind") == "b", (F("kind") == "a") & (F("year") < 2003)]


@pytest.mark.parametrize("which", range(len(FILTERS)))
def test_recall_is_that_of_one_index(sharded, single, corpus, oracle, recall, which):
    data, queries, attrs = corpus
    flt = FILTERS[which]
    allowed = np.arange(N) if flt is None else np.flatnonzero(_mask(flt, attrs))
    truth, _ = oracle(data[allowed], queries, K, "l2", ids=allowed)
    for ef in (16, 32, 64):
        many, _ = sharded.search(queries, K, ef=ef, filter=flt, plan="acorn" if flt is not None else "auto")
        one, _ = single.search(queries, K, ef=ef, filter=flt, plan="acorn" if flt is not None else "auto")
        # Each shard walks its slice with the same beam, so the union holds at least as much.
        assert recall(many, truth) >= recall(one, truth) - 0.01, ef
    many, _ = sharded.search(queries, K, ef=64, filter=flt)
    assert recall(many, truth) >= 0.9


def _mask(flt, attrs):
    year, kind = attrs["year"], attrs["kind"]
    return {1: year >= 2020, 2: kind == "b", 3: (kind == "a") & (year < 2003)}[FILTERS.index(flt)]


def test_answer_is_the_exact_merge_of_the_shards_answers(sharded, corpus):
    _, queries, _ = corpus
    ids, dists = sharded.search(queries, K, ef=24)
    options = {"ef": 24, "filter": None, "plan": "auto", "rerank": None, "num_threads": 1}
    shard_answers = [(i, d) for i, d, _ in sharded._group.call_each("search", queries, K, options)]
    # Oracle: the union of the shards' rows, sorted by distance then id, in plain Python.
    for q in range(NQ):
        pairs = sorted((float(d), int(i)) for a in shard_answers for i, d in zip(a[0][q], a[1][q]))[:K]
        assert ids[q].tolist() == [i for _, i in pairs]
        np.testing.assert_array_equal(dists[q], np.float32([d for d, _ in pairs]))
    # And every id answered lives on the shard its hash names.
    for s, (found, _) in enumerate(shard_answers):
        from vecsearch.distributed.routing import shard_of
        assert (shard_of(found.ravel(), sharded.shards) == s).all()


def test_explain_and_stats_sum_the_shards(sharded, corpus):
    _, queries, attrs = corpus
    plan = sharded.explain(queries[0], F("kind") == "b")
    assert plan.matches == int((attrs["kind"] == "b").sum()) and plan.live == N
    assert len(plan.plans) == sharded.shards
    sharded.reset_stats()
    sharded.search(queries, K)
    stats = sharded.stats()
    assert len(stats["shards"]) == sharded.shards
    assert stats["latency"]["gather"]["batches"] == 1
    assert all(s["batches"] == 1 for s in stats["latency"]["shard"])


def test_mutations_route_and_are_all_or_nothing(ray_local, corpus):
    data, queries, _ = corpus
    index = ShardedIndex(DIM, shards=3, **BUILD)
    try:
        ids = index.add(data[:3000], attributes={"year": np.arange(3000)})
        assert len(index) == 3000 and ids.tolist() == list(range(3000))
        with pytest.raises(DuplicateIdError, match="2999"):  # one duplicate: no shard adds anything
            index.add(data[3000:3010], ids=np.r_[np.arange(10_000, 10_009), 2999])
        assert len(index) == 3000
        with pytest.raises(UnknownIdError, match="777777"):
            index.delete([5, 777777])
        assert 5 in index and len(index) == 3000
        index.delete(ids[:1000])
        assert len(index) == 2000 and 5 not in index
        found, _ = index.search(data[:1000], 1, ef=64)
        assert not np.isin(found, ids[:1000]).any()
        more = index.add(data[3000:3100])  # ids continue after the largest used
        assert more[0] == 3000
        np.testing.assert_array_equal(index.get_vectors(more[[5, 0]]), data[[3005, 3000]])
        index.set_attributes([1500, 1200], {"year": [1, 2]})
        assert index.get_attributes([1200, 1500])["year"] == [2, 1]
        with pytest.raises(DimensionError):
            index.add(np.zeros((2, DIM + 1), np.float32))
    finally:
        index.close()


def test_empty_index_raises(ray_local):
    index = ShardedIndex(DIM, shards=2)
    try:
        with pytest.raises(EmptyIndexError):
            index.search(np.zeros(DIM, np.float32))
    finally:
        index.close()


def test_save_load_round_trip_and_checksums(ray_local, corpus, tmp_path):
    data, queries, attrs = corpus
    index = ShardedIndex(DIM, shards=2, **BUILD)
    index.add(data, attributes=attrs)
    before = index.search(queries, K, ef=32, filter=F("year") >= 2010)
    index.save(tmp_path)
    index.delete(np.arange(100))
    index.save(tmp_path)  # a second generation replaces the first's files
    names = sorted(os.listdir(tmp_path))
    assert names == ["manifest.json", "shard-00000.g2.vs", "shard-00001.g2.vs"]
    index.close()
    loaded = ShardedIndex.load(tmp_path)
    try:
        assert len(loaded) == N - 100
        got = loaded.search(queries, K, ef=32, filter=F("year") >= 2010)
        keep = ~np.isin(before[0], np.arange(100))
        assert np.isin(got[0], before[0][keep] if keep.all() else got[0]).all()
        assert loaded.add(data[:1])[0] == N  # next id survives the save
    finally:
        loaded.close()
    with open(tmp_path / "shard-00001.g2.vs", "r+b") as f:  # a flipped byte
        f.seek(4000)
        byte = f.read(1)
        f.seek(4000)
        f.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(vecsearch.ShardError, match="shard 1.*checksum"):
        ShardedIndex.load(tmp_path)
    with pytest.raises(FormatError, match="manifest.json is missing"):
        ShardedIndex.load(tmp_path / "nothing")


def test_build_from_files(ray_local, corpus, oracle, recall, tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    data, queries, attrs = corpus
    src = tmp_path / "src"
    src.mkdir()
    for i, (lo, hi) in enumerate([(0, 2500), (2500, 4000), (4000, N)]):
        pq.write_table(pa.table({"vec": list(data[lo:hi]), "year": attrs["year"][lo:hi]}), src / f"part{i}.parquet")
    index = ShardedIndex.build(tmp_path / "idx", src, shards=2, column="vec", attribute_columns=["year"],
                               storage="sq8", M=12, ef_construction=80)
    try:
        assert len(index) == N
        flt = F("year") >= 2020
        recent = np.flatnonzero(attrs["year"] >= 2020)
        truth, _ = oracle(data[recent], queries, K, "l2", ids=recent)
        found, _ = index.search(queries, K, ef=64, filter=flt)
        assert recall(found, truth) >= 0.9
        found, _ = index.search(queries, K, ef=64)
        assert recall(found, oracle(data, queries, K, "l2")[0]) >= 0.9
        assert index.stats()["shards"][0]["io"]["mode"] == "pread"  # vectors stayed on disk
    finally:
        index.close()
    with pytest.raises(FileExistsError):
        ShardedIndex.build(tmp_path / "idx", src, shards=2, column="vec")
    again = ShardedIndex.load(tmp_path / "idx", vectors_on_disk=True)
    try:
        assert len(again) == N
    finally:
        again.close()


def test_build_refuses_bad_sources(ray_local, tmp_path):
    with pytest.raises(ValueError, match="holds no vector files"):
        ShardedIndex.build(tmp_path / "idx", tmp_path, shards=2)
    np.save(tmp_path / "a.npy", np.zeros((10, 4), np.float32))
    np.save(tmp_path / "b.npy", np.zeros((10, 5), np.float32))
    with pytest.raises(ValueError, match="different lengths"):
        ShardedIndex.build(tmp_path / "idx2", tmp_path, shards=2)
    with pytest.raises(TypeError, match="source must be"):
        ShardedIndex.build(tmp_path / "idx3", 5, shards=2)


def test_build_from_npy_files_ids_are_row_positions(ray_local, corpus, oracle, recall, tmp_path):
    data, queries, _ = corpus
    src = tmp_path / "src"
    src.mkdir()
    for i, (lo, hi) in enumerate([(0, 1000), (1000, 4500), (4500, N)]):
        np.save(src / f"part{i}.npy", data[lo:hi])
    index = ShardedIndex.build(tmp_path / "idx", src, shards=3, storage="sq8", M=12, ef_construction=80)
    try:
        assert len(index) == N
        rows = np.array([0, 999, 1000, 4499, 4500, N - 1])
        np.testing.assert_array_equal(index.get_vectors(rows), data[rows])
        found, _ = index.search(queries, K, ef=64)
        assert recall(found, oracle(data, queries, K, "l2")[0]) >= 0.9
    finally:
        index.close()


def test_return_info_merges_the_shards(sharded, corpus):
    data, queries, attrs = corpus
    year = attrs["year"]
    rare = F("kind") == "a"
    few = rare & (F("year") == 2000) & (F("year") < 2001)
    expected = int(((attrs["kind"] == "a") & (year == 2000)).sum())
    ids, _, info = sharded.search(queries[:5], K, filter=few, return_info=True)
    assert (info.matches == expected).all() and (info.found == min(K, expected)).all()
    assert info.exact.all() and info.complete.all()
    _, _, info = sharded.search(queries[:5], K, filter="year >= 2001", plan="acorn", return_info=True)
    assert (info.matches == int((year >= 2001).sum())).all()
    assert not info.complete.any()
    _, _, info = sharded.search(queries[:5], K, return_info=True)
    assert (info.matches == N).all() and (info.plan == "walk").all()
