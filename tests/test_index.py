"""Index API contract: shapes, ids, exactness on tiny data, deletes, reuse, input conversion."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import vecsearch
from vecsearch import Index

METRICS = ["l2", "ip", "cosine"]
MISSING = np.uint64(2**64 - 1)


def build(data, metric="l2", ids=None, **kw):
    idx = Index(data.shape[1], metric=metric, M=kw.pop("M", 16),
                ef_construction=kw.pop("ef_construction", 100), seed=kw.pop("seed", 0))
    idx.add(data, ids=ids, num_threads=kw.pop("num_threads", 1))
    assert not kw
    return idx


# ------------------------------------------------------------------ basic contract


def test_missing_id_constant():
    assert vecsearch.MISSING_ID == MISSING
    assert np.asarray(vecsearch.MISSING_ID).dtype == np.uint64
    assert np.array([vecsearch.MISSING_ID], dtype=np.uint64).view(np.int64)[0] == -1


def test_attributes_and_defaults():
    idx = Index(24, metric="cosine", M=12, ef_construction=77)
    assert idx.dim == 24
    assert idx.metric == "cosine"
    assert idx.M == 12
    assert idx.ef_construction == 77
    assert idx.ef_search == 64
    assert len(idx) == 0
    assert 0 not in idx
    default = Index(8)
    assert default.metric == "l2" and default.M == 16 and default.ef_construction == 200


@pytest.mark.parametrize("metric", METRICS)
def test_add_search_shapes_and_dtypes(metric, small_clustered, check_rows):
    x, q = small_clustered
    idx = Index(x.shape[1], metric=metric)
    ids = idx.add(x[:500])
    assert isinstance(ids, np.ndarray) and ids.dtype == np.uint64
    np.testing.assert_array_equal(ids, np.arange(500, dtype=np.uint64))
    assert len(idx) == 500
    out_ids, out_d = idx.search(q[:7], k=5)
    assert out_ids.shape == (7, 5) and out_d.shape == (7, 5)
    assert out_ids.dtype == np.uint64
    assert out_d.dtype == np.float32
    check_rows(out_ids, out_d)
    assert not np.any(out_ids == MISSING)


def test_one_dim_query_gives_one_row(small_clustered):
    x, q = small_clustered
    idx = build(x[:300])
    ids1, d1 = idx.search(q[3], k=4)
    assert ids1.shape == (1, 4) and d1.shape == (1, 4)
    ids2, d2 = idx.search(q[3:4], k=4)
    np.testing.assert_array_equal(ids1, ids2)
    np.testing.assert_array_equal(d1, d2)


def test_default_k_is_10(small_clustered):
    x, q = small_clustered
    idx = build(x[:100])
    ids, d = idx.search(q[:2])
    assert ids.shape == (2, 10)


def test_self_query_finds_itself(small_clustered):
    x, _ = small_clustered
    idx = build(x[:1000])
    ids, d = idx.search(x[:200], k=1, ef=64)
    # each stored vector is its own nearest neighbour at distance 0 (data has no duplicates)
    assert np.mean(ids[:, 0] == np.arange(200)) >= 0.99
    hit = ids[:, 0] == np.arange(200)
    np.testing.assert_allclose(d[hit, 0], 0.0, atol=1e-3)


# ------------------------------------------------------------- exact on tiny data


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("n", [1, 2, 17, 200])
def test_exact_on_tiny_data(metric, n, make_data_queries, check_exact):
    x, q = make_data_queries(n, 25, 16, seed=n + 11)
    idx = build(x, metric=metric)
    k = min(10, n)
    ids, d = idx.search(q, k=k, ef=max(n, k))
    check_exact(ids, d, x, q, metric, k)


@pytest.mark.parametrize("metric", METRICS)
def test_k_equal_n_returns_full_ranking(metric, make_data_queries, check_exact):
    x, q = make_data_queries(120, 10, 12, seed=3)
    idx = build(x, metric=metric)
    ids, d = idx.search(q, k=120, ef=120)
    check_exact(ids, d, x, q, metric, 120)
    for row in ids:
        np.testing.assert_array_equal(np.sort(row), np.arange(120, dtype=np.uint64))


@pytest.mark.parametrize("metric", METRICS)
def test_search_distances_are_true_distances(metric, small_clustered, exact_dists, tol, check_rows):
    x, q = small_clustered
    idx = build(x, metric=metric)
    ids, d = idx.search(q, k=20, ef=80)
    check_rows(ids, d)
    true = np.take_along_axis(exact_dists(metric, q, x), ids.astype(np.int64), axis=1)
    np.testing.assert_allclose(d, true, rtol=1e-5, atol=tol(true))


def test_ef_below_k_is_raised_to_k(small_clustered, check_rows):
    x, q = small_clustered
    idx = build(x[:500])
    ids, d = idx.search(q[:5], k=50, ef=3)
    assert ids.shape == (5, 50)
    assert not np.any(ids == MISSING)
    check_rows(ids, d)


def test_ef_search_attribute_is_used(small_clustered, oracle, recall):
    x, q = small_clustered
    idx = build(x, M=4, ef_construction=20)
    ref_i, _ = oracle(x, q, 5, "l2")
    results = {}
    for ef in (5, 400):
        idx.ef_search = ef
        assert idx.ef_search == ef
        ids_attr, d_attr = idx.search(q, k=5)
        ids_ef, d_ef = idx.search(q, k=5, ef=ef)
        np.testing.assert_array_equal(ids_attr, ids_ef)
        np.testing.assert_array_equal(d_attr, d_ef)
        results[ef] = recall(ids_attr, ref_i)
    # the attribute really reaches the search: a wide beam beats a narrow one on a weak graph
    assert results[400] > results[5]
    assert results[400] >= 0.99


def test_search_thread_count_does_not_change_results(small_clustered):
    x, q = small_clustered
    idx = build(x)
    a = idx.search(q, k=10, num_threads=1)
    b = idx.search(q, k=10, num_threads=2)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_same_seed_same_graph(small_clustered):
    x, q = small_clustered
    a = build(x[:800], seed=7).search(q, k=10, ef=20)
    b = build(x[:800], seed=7).search(q, k=10, ef=20)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


# ------------------------------------------------------------------------- ids


def test_auto_ids_continue_after_max():
    rng = np.random.default_rng(0)
    idx = Index(4)
    np.testing.assert_array_equal(idx.add(rng.normal(size=(10, 4))), np.arange(10))
    np.testing.assert_array_equal(idx.add(rng.normal(size=(5, 4))), np.arange(10, 15))
    idx.add(rng.normal(size=(2, 4)), ids=[100, 50])
    np.testing.assert_array_equal(idx.add(rng.normal(size=(3, 4))), [101, 102, 103])
    assert len(idx) == 20
    for i in list(range(15)) + [50, 100, 101, 102, 103]:
        assert i in idx
    assert 15 not in idx and 99 not in idx


def test_auto_ids_do_not_reuse_deleted_max():
    """Deleting the largest id must not make the next auto id collide with anything live."""
    rng = np.random.default_rng(1)
    idx = Index(4)
    idx.add(rng.normal(size=(10, 4)))
    idx.delete([9])
    new = idx.add(rng.normal(size=(1, 4)))
    assert int(new[0]) >= 9  # never one of the live ids 0..8
    assert len(idx) == 10
    assert all(i in idx for i in range(9)) and int(new[0]) in idx


def test_custom_and_large_uint64_ids_round_trip(make_data):
    x = make_data(6, 8, seed=9)
    ids = np.array([0, 7, 2**63 - 1, 2**63, 2**63 + 12345, 2**64 - 2], dtype=np.uint64)
    idx = Index(8)
    returned = idx.add(x, ids=ids)
    assert returned.dtype == np.uint64
    np.testing.assert_array_equal(returned, ids)
    got, d = idx.search(x, k=1, ef=16)
    np.testing.assert_array_equal(got[:, 0], ids)
    np.testing.assert_allclose(d[:, 0], 0.0, atol=1e-4)
    for i in ids:
        assert int(i) in idx
        assert np.uint64(i) in idx
    np.testing.assert_array_equal(idx.get_vectors(ids[::-1]), x[::-1])
    idx.delete(ids[2:])
    assert len(idx) == 2
    assert 2**63 not in idx and 0 in idx


def test_auto_id_never_becomes_missing_id(make_data):
    """With 2**64 - 2 present, max + 1 would be MISSING_ID: an error or a valid fresh id."""
    x = make_data(2, 4, seed=3)
    idx = Index(4)
    idx.add(x[:1], ids=[2**64 - 2])
    try:
        new = idx.add(x[1:])
    except (ValueError, OverflowError):
        assert len(idx) == 1
        return
    assert new[0] != MISSING and int(new[0]) != 2**64 - 2
    assert len(idx) == 2 and int(new[0]) in idx


def test_ids_accept_signed_integer_arrays_and_lists(make_data):
    x = make_data(4, 3, seed=2)
    idx = Index(3)
    idx.add(x[:2], ids=np.array([5, 6], dtype=np.int32))
    idx.add(x[2:], ids=[8, 9])
    assert sorted(int(i) for i in [5, 6, 8, 9] if i in idx) == [5, 6, 8, 9]
    got, _ = idx.search(x, k=1, ef=8)
    np.testing.assert_array_equal(got[:, 0], [5, 6, 8, 9])


# --------------------------------------------------------------------- padding


def test_padding_when_k_exceeds_len(make_data, check_exact):
    x = make_data(5, 6, seed=4)
    q = make_data(3, 6, seed=5)
    idx = build(x)
    ids, d = idx.search(q, k=8)
    assert ids.shape == (3, 8)
    assert np.all(ids[:, 5:] == MISSING)
    assert np.all(np.isposinf(d[:, 5:]))
    check_exact(ids, d, x, q, "l2", 8)


def test_padding_after_deletes(make_data, check_rows):
    x = make_data(10, 6, seed=4)
    idx = build(x)
    idx.delete(np.arange(7))
    ids, d = idx.search(x[:4], k=5, ef=50)
    check_rows(ids, d)
    assert np.all(np.sort(ids[:, :3], axis=1) == np.array([7, 8, 9], dtype=np.uint64))
    assert np.all(ids[:, 3:] == MISSING)
    assert np.all(np.isposinf(d[:, 3:]))


# --------------------------------------------------------------------- deletes


@pytest.mark.parametrize("metric", METRICS)
def test_deleted_ids_never_returned(metric, small_clustered, oracle, recall, check_rows):
    x, q = small_clustered
    n = len(x)
    idx = build(x, metric=metric)
    rng = np.random.default_rng(42)
    dead = rng.choice(n, size=n // 2, replace=False).astype(np.uint64)
    idx.delete(dead)
    assert len(idx) == n - len(dead)
    for i in dead[:50]:
        assert int(i) not in idx
    # queries near deleted points too: they attract the search toward deleted nodes
    queries = np.vstack([q, x[dead[:100].astype(np.int64)]])
    ids, d = idx.search(queries, k=50, ef=200)
    check_rows(ids, d)
    assert not np.isin(ids, dead).any()
    assert not np.any(ids == MISSING)
    alive = np.setdiff1d(np.arange(n, dtype=np.uint64), dead)
    ref_i, _ = oracle(x[alive.astype(np.int64)], queries, 50, metric, ids=alive)
    assert recall(ids, ref_i) >= 0.9


def test_delete_everything_then_search(make_data):
    """len == 0 after deleting all: EmptyIndexError, or rows of pure padding; never a stale id."""
    x = make_data(30, 5, seed=8)
    idx = build(x)
    idx.delete(np.arange(30))
    assert len(idx) == 0
    try:
        ids, d = idx.search(x[:2], k=3)
    except vecsearch.EmptyIndexError:
        pass
    else:
        assert np.all(ids == MISSING) and np.all(np.isposinf(d))
    # and the index is usable again
    new = idx.add(x[:3] + 100.0)
    got, _ = idx.search(x[:3] + 100.0, k=1)
    np.testing.assert_array_equal(got[:, 0], new)


def test_readd_after_delete_reuses_and_stays_correct(
    small_clustered, oracle, recall, check_rows, tmp_path
):
    x, q = small_clustered
    n = 1000
    idx = build(x[:n])
    idx.save(tmp_path / "before.vsi")
    rng = np.random.default_rng(3)
    dead = rng.choice(n, size=n // 2, replace=False)
    idx.delete(dead)
    assert len(idx) == n // 2
    new_ids = idx.add(x[n : n + n // 2], num_threads=1)
    np.testing.assert_array_equal(new_ids, np.arange(n, n + n // 2))
    assert len(idx) == n
    # space is reused: the saved index holds n slots, not 1.5 n (the file stores every slot)
    idx.save(tmp_path / "after.vsi")
    size_before = (tmp_path / "before.vsi").stat().st_size
    size_after = (tmp_path / "after.vsi").stat().st_size
    assert size_after <= size_before + 4096, (size_before, size_after)
    for i in dead[:20]:
        assert int(i) not in idx
    # new vectors are found
    got, d = idx.search(x[n : n + n // 2], k=1, ef=64)
    assert np.mean(got[:, 0] == new_ids) >= 0.98
    # and deleted ones stay gone, with results still correct for the live set
    ids, d = idx.search(np.vstack([q, x[dead[:50]]]), k=20, ef=150)
    check_rows(ids, d)
    assert not np.isin(ids, dead.astype(np.uint64)).any()
    live = np.concatenate([np.setdiff1d(np.arange(n), dead), np.arange(n, n + n // 2)])
    ref_i, _ = oracle(x[live], np.vstack([q, x[dead[:50]]]), 20, "l2", ids=live)
    assert recall(ids, ref_i) >= 0.9


def test_readd_same_id_after_delete(make_data):
    x = make_data(50, 8, seed=10)
    idx = build(x)
    idx.delete([5])
    assert 5 not in idx
    new_vec = x[5] + 40.0  # far from everything
    idx.add(new_vec[None, :], ids=[5])
    assert 5 in idx
    assert len(idx) == 50
    np.testing.assert_array_equal(idx.get_vectors([5])[0], new_vec.astype(np.float32))
    got, d = idx.search(new_vec, k=1)
    assert got[0, 0] == 5 and d[0, 0] == pytest.approx(0.0, abs=1e-3)
    # the old position of id 5 is no longer answered by 5
    got, _ = idx.search(x[5], k=1, ef=50)
    assert got[0, 0] != 5


# ----------------------------------------------------------------- get_vectors


@pytest.mark.parametrize("metric", ["l2", "ip"])
def test_get_vectors_returns_added(metric, make_data):
    x = make_data(40, 12, seed=6)
    idx = build(x, metric=metric)
    order = np.array([39, 0, 17, 3])
    got = idx.get_vectors(order)
    assert got.dtype == np.float32 and got.shape == (4, 12)
    np.testing.assert_array_equal(got, x[order])
    np.testing.assert_array_equal(idx.get_vectors(np.arange(40)), x)


def test_get_vectors_cosine_is_normalised(make_data):
    x = make_data(40, 12, seed=6) * 3.0
    idx = build(x, metric="cosine")
    got = idx.get_vectors(np.arange(40))
    expected = x / np.linalg.norm(x.astype(np.float64), axis=1, keepdims=True)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, rtol=1e-6)


def test_get_vectors_empty_request(make_data):
    idx = build(make_data(5, 3, seed=1))
    got = idx.get_vectors(np.array([], dtype=np.uint64))
    assert got.shape == (0, 3) and got.dtype == np.float32


def test_len_and_contains(make_data):
    x = make_data(20, 4, seed=12)
    idx = build(x, ids=np.arange(100, 120))
    assert len(idx) == 20
    assert 100 in idx and 119 in idx and np.uint64(110) in idx
    assert 0 not in idx and 120 not in idx
    idx.delete([100, 101])
    assert len(idx) == 18
    assert 100 not in idx and 102 in idx


# ----------------------------------------------------------- input conversion


def _exactly_float32_representable(x):
    return x.astype(np.float32).astype(np.float64)


@pytest.mark.parametrize("metric", METRICS)
def test_float64_and_noncontiguous_inputs_equal_float32(metric, make_data_queries):
    x32, q32 = make_data_queries(400, 20, 16, seed=21)
    ref = build(x32, metric=metric)
    ref_ids, ref_d = ref.search(q32, k=10, ef=50)

    x64 = _exactly_float32_representable(x32)
    q64 = _exactly_float32_representable(q32)
    wide = np.zeros((400, 32), dtype=np.float32)
    wide[:, ::2] = x32
    strided_cols = wide[:, ::2]  # column stride 8 bytes
    assert not strided_cols.flags.c_contiguous
    fortran = np.asfortranarray(x32)
    rows = np.zeros((800, 16), dtype=np.float32)
    rows[::2] = x32
    strided_rows = rows[::2]
    assert not strided_rows.flags.c_contiguous
    for variant in (x64, strided_cols, fortran, strided_rows):
        other = build(variant, metric=metric)
        all_ids = np.arange(400)
        np.testing.assert_array_equal(other.get_vectors(all_ids), ref.get_vectors(all_ids))
        ids, d = other.search(q32, k=10, ef=50)
        np.testing.assert_array_equal(ids, ref_ids)
        np.testing.assert_array_equal(d, ref_d)

    for qv in (q64, np.asfortranarray(q32), np.repeat(q32, 2, axis=1)[:, ::2]):
        ids, d = ref.search(qv, k=10, ef=50)
        np.testing.assert_array_equal(ids, ref_ids)
        np.testing.assert_array_equal(d, ref_d)
    # one-dimensional non-contiguous query
    ids, d = ref.search(np.repeat(q32[0], 2)[::2], k=10, ef=50)
    np.testing.assert_array_equal(ids[0], ref_ids[0])


def test_float16_accepted(make_data):
    x16 = make_data(50, 8, seed=30).astype(np.float16)
    idx = build(x16)
    np.testing.assert_array_equal(idx.get_vectors(np.arange(50)), x16.astype(np.float32))
    got, _ = idx.search(x16, k=1, ef=50)
    np.testing.assert_array_equal(got[:, 0], np.arange(50))


def test_input_arrays_not_modified(make_data):
    x = make_data(30, 8, seed=31) * 5
    keep = x.copy()
    q = x[:3].copy()
    idx = build(x, metric="cosine")
    idx.search(q, k=3)
    np.testing.assert_array_equal(x, keep)
    np.testing.assert_array_equal(q, keep[:3])


def test_readonly_input_accepted(make_data):
    x = make_data(30, 8, seed=32)
    x.setflags(write=False)
    idx = build(x)
    got, _ = idx.search(x[:3], k=1)
    np.testing.assert_array_equal(got[:, 0], [0, 1, 2])


def test_empty_add_is_noop(make_data):
    idx = build(make_data(5, 3, seed=1))
    out = idx.add(np.empty((0, 3), dtype=np.float32))
    assert out.shape == (0,) and out.dtype == np.uint64
    assert len(idx) == 5
    np.testing.assert_array_equal(idx.add(make_data(1, 3, seed=2)), [5])


# --------------------------------------------------------- incremental build


def test_incremental_batches_match_single_batch_recall(make_data_queries, oracle, recall):
    x, q = make_data_queries(5000, 200, 32, seed=99)
    one = Index(32, M=16, ef_construction=100)
    one.add(x, num_threads=2)
    inc = Index(32, M=16, ef_construction=100)
    for part in np.array_split(np.arange(len(x)), 7):
        inc.add(x[part], num_threads=2)
    assert len(inc) == len(one) == 5000
    np.testing.assert_array_equal(inc.get_vectors(np.arange(5000)), x)
    ref_i, _ = oracle(x, q, 10, "l2")
    r_one = recall(one.search(q, k=10, ef=64)[0], ref_i)
    r_inc = recall(inc.search(q, k=10, ef=64)[0], ref_i)
    assert r_one >= 0.9
    assert r_inc >= 0.9
    assert r_inc >= r_one - 0.03


# ------------------------------------------------------------------ properties


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(min_value=1, max_value=60),
    # dim >= 2: in one dimension cosine maps every vector to +-1, i.e. mass duplicates, for
    # which HNSW's pruning can legitimately disconnect the graph.
    dim=st.integers(min_value=2, max_value=20),
    k=st.integers(min_value=1, max_value=70),
    metric=st.sampled_from(["l2", "cosine"]),
    seed=st.integers(min_value=0, max_value=10_000),
)
def test_property_small_exhaustive_search_is_exact(
    check_exact, check_rows, n, dim, k, metric, seed
):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, dim)).astype(np.float32)
    q = rng.normal(size=(4, dim)).astype(np.float32)
    idx = Index(dim, metric=metric, M=8, ef_construction=32, seed=seed)
    idx.add(x, num_threads=1)
    ids, d = idx.search(q, k=k, ef=max(n, k))
    check_rows(ids, d)
    kk = min(k, n)
    assert np.all(ids[:, kk:] == MISSING) and np.all(np.isposinf(d[:, kk:]))
    assert not np.any(ids[:, :kk] == MISSING)
    check_exact(ids, d, x, q, metric, k)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(min_value=1, max_value=60),
    dim=st.integers(min_value=1, max_value=20),
    k=st.integers(min_value=1, max_value=70),
    metric=st.sampled_from(METRICS),
    seed=st.integers(min_value=0, max_value=10_000),
)
def test_property_rows_valid_and_distances_true(
    exact_dists, tol, check_rows, n, dim, k, metric, seed
):
    """Any data (also ip, also 1-d): rows sorted, unique, padded at the end, and each id is
    reported at its true distance."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, dim)).astype(np.float32)
    q = rng.normal(size=(4, dim)).astype(np.float32)
    idx = Index(dim, metric=metric, M=4, ef_construction=16, seed=seed)
    idx.add(x, num_threads=1)
    ids, d = idx.search(q, k=k, ef=max(n, k))
    check_rows(ids, d)
    assert np.all(ids[:, min(k, n):] == MISSING)
    real = ids != MISSING
    assert np.all(ids[real] < n)
    true = exact_dists(metric, q, x)
    for r in range(4):
        t = true[r, ids[r][real[r]].astype(np.int64)]
        np.testing.assert_allclose(d[r][real[r]], t, rtol=1e-5, atol=tol(true))


# ------------------------------------------------------------- large batches


def test_add_larger_than_one_native_chunk_with_custom_ids(make_data):
    """Adds are processed in chunks internally; ids and atomicity hold across chunk borders."""
    n = 17_000
    x = make_data(n, 4, seed=70)
    ids = np.arange(n, dtype=np.uint64) * np.uint64(7) + np.uint64(1)
    idx = Index(4, M=4, ef_construction=16)
    # a duplicate far past the first chunk: nothing at all may be inserted
    bad = ids.copy()
    bad[-1] = bad[5]
    with pytest.raises(vecsearch.DuplicateIdError):
        idx.add(x, ids=bad, num_threads=2)
    assert len(idx) == 0
    bad_x = x.copy()
    bad_x[-1, 0] = np.nan
    with pytest.raises(vecsearch.NonFiniteError):
        idx.add(bad_x, ids=ids, num_threads=2)
    assert len(idx) == 0
    np.testing.assert_array_equal(idx.add(x, ids=ids, num_threads=2), ids)
    assert len(idx) == n
    probe = np.array([0, 16_383, 16_384, 16_385, n - 1])
    np.testing.assert_array_equal(idx.get_vectors(ids[probe]), x[probe])
    with pytest.raises(vecsearch.DuplicateIdError):
        idx.add(x[:3] + 100.0, ids=[10**12, 10**12 + 1, int(ids[-1])])
    assert len(idx) == n
    np.testing.assert_array_equal(idx.add(x[:2] + 100.0), [int(ids[-1]) + 1, int(ids[-1]) + 2])


def test_many_queries_more_than_one_native_chunk(make_data):
    x = make_data(50, 3, seed=71)
    idx = build(x)
    rng = np.random.default_rng(72)
    q = rng.normal(size=(70_000, 3)).astype(np.float32)
    ids, d = idx.search(q, k=2, ef=50, num_threads=2)
    assert ids.shape == (70_000, 2)
    for part in (slice(0, 5), slice(65_530, 65_540), slice(69_995, 70_000)):
        pi, pd = idx.search(q[part], k=2, ef=50, num_threads=1)
        np.testing.assert_array_equal(ids[part], pi)
        np.testing.assert_array_equal(d[part], pd)


def test_delete_empty_list_is_noop(make_data):
    idx = build(make_data(10, 3, seed=73))
    idx.delete([])
    idx.delete(np.array([], dtype=np.uint64))
    assert len(idx) == 10


@pytest.mark.parametrize("metric", METRICS)
def test_duplicate_vectors_all_found(metric, make_data):
    """Many exact copies of one vector (a common real-world case) are all retrievable."""
    base = make_data(100, 8, seed=74)
    base /= np.linalg.norm(base, axis=1, keepdims=True)  # unit norm: self is the top hit for ip too
    dup = np.repeat(base[:1], 20, axis=0)
    x = np.vstack([base, dup])
    idx = build(x, metric=metric, M=16)
    ids, d = idx.search(base[0], k=21, ef=200)
    assert set(ids[0].tolist()) == {0, *range(100, 120)}
    np.testing.assert_allclose(d[0], d[0, 0], atol=1e-5)
