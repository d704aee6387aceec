"""Each bad input raises its exact exception class, and a failed add leaves the index unchanged."""
from __future__ import annotations

import numpy as np
import pytest

import vecsearch
from vecsearch import (
    DimensionError,
    DTypeError,
    DuplicateIdError,
    EmptyIndexError,
    FormatError,
    FormatVersionError,
    Index,
    NonFiniteError,
    UnknownIdError,
    VecsearchError,
)

DIM = 16


@pytest.fixture
def filled(make_data):
    x = make_data(100, DIM, seed=5)
    idx = Index(DIM, M=8, ef_construction=50)
    idx.add(x, num_threads=1)
    return idx, x


def snapshot(idx, queries):
    ids, d = idx.search(queries, k=5, ef=100)
    return len(idx), ids.copy(), d.copy()


def assert_unchanged(idx, queries, before, *, next_auto_id):
    n, ids, d = before
    assert len(idx) == n
    got_ids, got_d = idx.search(queries, k=5, ef=100)
    np.testing.assert_array_equal(got_ids, ids)
    np.testing.assert_array_equal(got_d, d)
    # the auto-id counter did not advance either
    probe = np.full((1, idx.dim), 1e3, dtype=np.float32)
    new = idx.add(probe)
    assert int(new[0]) == next_auto_id
    idx.delete(new)


# ------------------------------------------------------------------- hierarchy


def test_hierarchy():
    assert issubclass(DimensionError, ValueError)
    assert issubclass(DTypeError, TypeError)
    assert issubclass(NonFiniteError, ValueError)
    assert issubclass(DuplicateIdError, ValueError)
    assert issubclass(UnknownIdError, KeyError)
    assert issubclass(EmptyIndexError, ValueError)
    assert issubclass(FormatError, ValueError)
    assert issubclass(FormatVersionError, FormatError)
    for cls in (DimensionError, DTypeError, NonFiniteError, DuplicateIdError, UnknownIdError,
                EmptyIndexError, FormatError, FormatVersionError):
        assert issubclass(cls, VecsearchError), cls
        assert getattr(vecsearch, cls.__name__) is cls


# ------------------------------------------------------------------ construction


@pytest.mark.parametrize("dim", [0, -1, -64])
def test_bad_dim(dim):
    with pytest.raises(ValueError, match="dim"):
        Index(dim)


@pytest.mark.parametrize("metric", ["L2x", "euclid", "", "dot", "hamming"])
def test_unknown_metric(metric):
    with pytest.raises(ValueError, match="metric"):
        Index(8, metric=metric)


@pytest.mark.parametrize("M", [0, 1, -3])
def test_bad_M(M):
    with pytest.raises(ValueError, match="M"):
        Index(8, M=M)


# ------------------------------------------------------------------ dimensions


def test_add_wrong_dim(filled):
    idx, x = filled
    before = snapshot(idx, x[:5])
    with pytest.raises(DimensionError, match=r"12.*16|16.*12"):
        idx.add(np.ones((3, 12), dtype=np.float32))
    assert_unchanged(idx, x[:5], before, next_auto_id=100)


def test_search_wrong_dim(filled):
    idx, _ = filled
    with pytest.raises(DimensionError, match=r"17.*16|16.*17"):
        idx.search(np.ones((2, 17), dtype=np.float32))
    with pytest.raises(DimensionError, match=r"15.*16|16.*15"):
        idx.search(np.ones(15, dtype=np.float32))


@pytest.mark.parametrize("shape", [(2, 3, DIM), (1, 1, 1, DIM)])
def test_high_rank_arrays(filled, shape):
    idx, x = filled
    before = snapshot(idx, x[:5])
    with pytest.raises(DimensionError, match=rf"{len(shape)}-d"):
        idx.add(np.ones(shape, dtype=np.float32))
    with pytest.raises(DimensionError, match=rf"{len(shape)}-d"):
        idx.search(np.ones(shape, dtype=np.float32))
    assert_unchanged(idx, x[:5], before, next_auto_id=100)


def test_scalar_input(filled):
    idx, _ = filled
    with pytest.raises(DimensionError, match="0-d"):
        idx.search(np.float32(1.0))


def test_get_vectors_wrong_ids_rank(filled):
    idx, _ = filled
    with pytest.raises(ValueError, match="1-d"):
        idx.get_vectors(np.zeros((2, 2), dtype=np.uint64))


# --------------------------------------------------------------------- dtypes


BAD_DTYPES = [np.int32, np.int64, np.uint8, np.bool_, np.complex64, object]


@pytest.mark.parametrize("dtype", BAD_DTYPES, ids=lambda d: np.dtype(d).name)
def test_add_bad_dtype(filled, dtype):
    idx, x = filled
    before = snapshot(idx, x[:5])
    with pytest.raises(DTypeError, match=np.dtype(dtype).name):
        idx.add(np.ones((4, DIM), dtype=dtype))
    assert_unchanged(idx, x[:5], before, next_auto_id=100)


@pytest.mark.parametrize("dtype", BAD_DTYPES, ids=lambda d: np.dtype(d).name)
def test_search_bad_dtype(filled, dtype):
    idx, _ = filled
    with pytest.raises(DTypeError, match="floating"):
        idx.search(np.ones((2, DIM), dtype=dtype))
    with pytest.raises(DTypeError, match="floating"):
        idx.search(np.ones(DIM, dtype=dtype))


def test_string_vectors(filled):
    idx, _ = filled
    with pytest.raises(DTypeError, match="floating"):
        idx.add(np.array([["a"] * DIM]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, bool, object])
def test_float_ids_rejected(filled, dtype):
    idx, x = filled
    before = snapshot(idx, x[:5])
    with pytest.raises(DTypeError, match="ids must be integers"):
        idx.add(x[:2] + 50.0, ids=np.array([200, 201], dtype=dtype))
    assert_unchanged(idx, x[:5], before, next_auto_id=100)


# ----------------------------------------------------------------- non-finite


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_add_non_finite(filled, bad, dtype):
    idx, x = filled
    before = snapshot(idx, x[:5])
    v = (x[:4] + 30.0).astype(dtype)
    v[3, DIM - 1] = bad  # only the last element of the last row: the whole add must fail
    with pytest.raises(NonFiniteError, match="row 3.*NaN or inf"):
        idx.add(v)
    assert_unchanged(idx, x[:5], before, next_auto_id=100)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_search_non_finite(filled, bad):
    idx, x = filled
    q = x[:3].copy()
    q[2, 7] = bad
    with pytest.raises(NonFiniteError, match="row 2.*NaN or inf"):
        idx.search(q)
    with pytest.raises(NonFiniteError, match="NaN or inf"):
        idx.search(q[2])


def test_float64_overflowing_float32_is_non_finite(filled):
    idx, x = filled
    v = x[:1].astype(np.float64)
    v[0, 0] = 1e300  # finite in float64, inf after conversion to float32
    with pytest.raises(NonFiniteError, match="NaN or inf"):
        idx.add(v)
    assert len(idx) == 100


def test_cosine_zero_vector(make_data):
    """A zero vector has no direction: refused (ValueError naming the row), index unchanged."""
    idx = Index(4, metric="cosine")
    idx.add(make_data(10, 4, seed=1))
    v = make_data(3, 4, seed=2)
    v[1] = 0.0
    with pytest.raises(ValueError, match="row 1 is a zero vector"):
        idx.add(v)
    assert len(idx) == 10
    with pytest.raises(ValueError, match="zero vector"):
        idx.search(np.zeros(4, dtype=np.float32), k=3)
    # other metrics have no such restriction
    l2 = Index(4)
    l2.add(np.zeros((1, 4), dtype=np.float32))
    ids, d = l2.search(np.zeros(4, dtype=np.float32), k=1)
    assert ids[0, 0] == 0 and d[0, 0] == 0.0


# --------------------------------------------------------------------- k, ef


@pytest.mark.parametrize("k", [0, -1, -10])
def test_bad_k(filled, k):
    idx, x = filled
    with pytest.raises(ValueError, match=r"\bk\b"):
        idx.search(x[:2], k=k)


@pytest.mark.parametrize("ef", [0, -5])
def test_bad_ef(filled, ef):
    idx, x = filled
    with pytest.raises(ValueError, match="ef"):
        idx.search(x[:2], k=3, ef=ef)


@pytest.mark.parametrize("nt", [0, -1])
def test_bad_num_threads(filled, nt):
    idx, x = filled
    with pytest.raises(ValueError, match="thread"):
        idx.search(x[:2], k=3, num_threads=nt)
    with pytest.raises(ValueError, match="thread"):
        idx.add(x[:2] + 40.0, num_threads=nt)
    assert len(idx) == 100


# -------------------------------------------------------------------------- ids


def test_duplicate_ids_within_one_add(filled):
    idx, x = filled
    before = snapshot(idx, x[:5])
    with pytest.raises(DuplicateIdError, match="id 500 .*more than once"):
        idx.add(x[:3] + 40.0, ids=[500, 501, 500])
    assert 501 not in idx and 500 not in idx
    assert_unchanged(idx, x[:5], before, next_auto_id=100)


def test_ids_already_present(filled):
    idx, x = filled
    before = snapshot(idx, x[:5])
    with pytest.raises(DuplicateIdError, match="id 42 .*already"):
        idx.add(x[:3] + 40.0, ids=[300, 42, 301])
    assert 300 not in idx and 301 not in idx
    np.testing.assert_array_equal(idx.get_vectors([42]), x[42:43])
    assert_unchanged(idx, x[:5], before, next_auto_id=100)


def test_duplicate_ids_within_one_delete(filled):
    idx, x = filled
    with pytest.raises(DuplicateIdError, match="id 3 .*more than once"):
        idx.delete([3, 4, 3])
    assert len(idx) == 100 and 3 in idx and 4 in idx


@pytest.mark.parametrize("op", ["delete", "get_vectors"])
def test_unknown_ids(filled, op):
    idx, x = filled
    with pytest.raises(UnknownIdError, match="12345"):
        getattr(idx, op)([1, 12345])
    with pytest.raises(KeyError):
        getattr(idx, op)([2**64 - 2])
    assert len(idx) == 100 and 1 in idx  # a failing delete deletes nothing


@pytest.mark.parametrize("op", ["delete", "get_vectors"])
def test_deleted_ids_are_unknown(filled, op):
    idx, _ = filled
    idx.delete([7])
    with pytest.raises(UnknownIdError, match="id 7 is not in the index"):
        getattr(idx, op)([7])


def test_ids_length_mismatch(filled):
    idx, x = filled
    before = snapshot(idx, x[:5])
    with pytest.raises(ValueError, match=r"3.*2|2.*3"):
        idx.add(x[:3] + 40.0, ids=[200, 201])
    with pytest.raises(ValueError, match=r"3.*2"):
        idx.add(x[:2] + 40.0, ids=[200, 201, 202])
    assert_unchanged(idx, x[:5], before, next_auto_id=100)


@pytest.mark.parametrize("bad_ids", [[-1, 200], np.array([200, -5], dtype=np.int64)])
def test_negative_ids(filled, bad_ids):
    idx, x = filled
    before = snapshot(idx, x[:5])
    with pytest.raises(ValueError, match="non-negative"):
        idx.add(x[:2] + 40.0, ids=bad_ids)
    assert 200 not in idx
    assert_unchanged(idx, x[:5], before, next_auto_id=100)


def test_missing_id_value_rejected(filled):
    idx, x = filled
    before = snapshot(idx, x[:5])
    with pytest.raises(ValueError, match="reserved"):
        idx.add(x[:1] + 40.0, ids=np.array([2**64 - 1], dtype=np.uint64))
    assert_unchanged(idx, x[:5], before, next_auto_id=100)


def test_ids_2d_rejected(filled):
    idx, x = filled
    with pytest.raises(ValueError, match="1-d"):
        idx.add(x[:2] + 40.0, ids=np.array([[200], [201]]))
    assert len(idx) == 100


# ------------------------------------------------------------------------ empty


def test_empty_index_search():
    idx = Index(DIM)
    with pytest.raises(EmptyIndexError, match="empty"):
        idx.search(np.zeros((1, DIM), dtype=np.float32))
    with pytest.raises(EmptyIndexError, match="empty"):
        idx.search(np.zeros(DIM, dtype=np.float32), k=1)


def test_empty_index_other_ops():
    idx = Index(DIM)
    assert len(idx) == 0 and 0 not in idx
    with pytest.raises(UnknownIdError, match="id 0 "):
        idx.delete([0])
    with pytest.raises(UnknownIdError, match="id 0 "):
        idx.get_vectors([0])


def test_every_error_class_is_listed_and_exported():
    import inspect

    from vecsearch import errors

    public = {name for name, cls in inspect.getmembers(errors, inspect.isclass)
              if issubclass(cls, errors.VecsearchError) and not name.startswith("_")}
    assert set(errors.__all__) == public
    assert all(getattr(vecsearch, name) is getattr(errors, name) for name in public)


def test_native_argument_errors_are_vecsearch_errors():
    from vecsearch import _core

    core = _core.HnswIndex(4, "l2", 4, 16, 0, 1, 4)
    with pytest.raises(vecsearch.InvalidArgumentError, match="dtype"):
        core.add(np.zeros((2, 4), np.float64), None, 1)
