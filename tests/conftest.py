"""Shared fixtures: seeded clustered data, an exact brute-force oracle, temp paths.

Everything here is deterministic (seeded numpy) and independent of the network and of
/work/shared. Helpers are exposed as fixtures so test modules never import conftest.
"""
from __future__ import annotations

import os
import sys

import numpy as np
import pytest

METRICS = ("l2", "ip", "cosine")


def pytest_configure(config):
    # pyproject.toml registers it as well; repeating the line is harmless and keeps
    # `pytest tests/...` warning-free when run from another rootdir.
    config.addinivalue_line("markers", "slow: takes more than a few seconds")


# --------------------------------------------------------------------------- data


def clustered(n, dim, *, seed=0, n_clusters=32, center_scale=2.0, dtype=np.float32):
    """Gaussian mixture: `n_clusters` centres ~ N(0, center_scale^2), unit-variance blobs."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=center_scale, size=(n_clusters, dim))
    assign = rng.integers(0, n_clusters, size=n)
    x = centers[assign] + rng.normal(size=(n, dim))
    return np.ascontiguousarray(x, dtype=dtype)


def clustered_with_queries(n, nq, dim, *, seed=0, n_clusters=32, center_scale=2.0):
    """Data and queries drawn from the same mixture (queries are not data points)."""
    x = clustered(n + nq, dim, seed=seed, n_clusters=n_clusters, center_scale=center_scale)
    return np.ascontiguousarray(x[:n]), np.ascontiguousarray(x[n:])


# ------------------------------------------------------------------------- oracle


def low_rank(rng, n, dim, rank=12, basis_seed=99):
    """Rows near a rank-`rank` subspace (the same for every call with one basis_seed): most
    variance on a few axes, as in text embeddings, and some off them, more for some rows than
    for others."""
    basis = np.linalg.qr(np.random.default_rng(basis_seed).standard_normal((dim, rank)))[0].T
    off = rng.uniform(0.05, 0.6, (n, 1)) * rng.standard_normal((n, dim))
    return (rng.standard_normal((n, rank)) * np.linspace(4, 1, rank) @ basis + off + 0.5).astype(np.float32)


def _normalise(x):
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms == 0, 1.0, norms)


def pairwise_distances(metric, queries, data):
    """Exact float64 distances with the library's conventions, shape [nq, n].

    l2: squared euclidean; ip: 1 - dot; cosine: 1 - cos.
    """
    q = np.atleast_2d(np.asarray(queries, dtype=np.float64))
    x = np.atleast_2d(np.asarray(data, dtype=np.float64))
    if metric == "l2":
        # Expanded form in float64 is accurate enough here and keeps memory at nq*n.
        d = (q * q).sum(1)[:, None] - 2.0 * (q @ x.T) + (x * x).sum(1)[None, :]
        return np.maximum(d, 0.0)
    if metric == "ip":
        return 1.0 - q @ x.T
    if metric == "cosine":
        return 1.0 - _normalise(q) @ _normalise(x).T
    raise ValueError(metric)


def brute_force_knn(data, queries, k, metric, ids=None, chunk=256):
    """Exact top-k by argpartition. Returns (ids [nq, min(k, n)], dists float64, same shape).

    Rows are sorted by distance, ties broken by position in `data`.
    """
    data = np.asarray(data)
    queries = np.atleast_2d(np.asarray(queries))
    n = data.shape[0]
    kk = min(k, n)
    ids = np.arange(n, dtype=np.uint64) if ids is None else np.asarray(ids, dtype=np.uint64)
    out_i = np.empty((queries.shape[0], kk), dtype=np.uint64)
    out_d = np.empty((queries.shape[0], kk), dtype=np.float64)
    for s in range(0, queries.shape[0], chunk):
        d = pairwise_distances(metric, queries[s : s + chunk], data)
        if kk < n:
            part = np.argpartition(d, kk - 1, axis=1)[:, :kk]
        else:
            part = np.tile(np.arange(n), (d.shape[0], 1))
        pd = np.take_along_axis(d, part, axis=1)
        order = np.lexsort((part, pd), axis=1)  # by distance, then by position
        sel = np.take_along_axis(part, order, axis=1)
        out_i[s : s + chunk] = ids[sel]
        out_d[s : s + chunk] = np.take_along_axis(d, sel, axis=1)
    return out_i, out_d


def filtered_knn(data, queries, rows, k, metric):
    """The exact top k among data[rows], as row numbers of data (int64), and their distances."""
    ids, dists = brute_force_knn(data[rows], queries, k, metric, ids=rows)
    return ids.astype(np.int64), dists


def recall_at_k(found_ids, true_ids):
    """Mean fraction of the true top-k present in the found top-k (per row, then averaged).
    uint64 ids (the library's) are read as int64: MISSING_ID becomes -1, never a true id."""
    found_ids = np.asarray(found_ids)
    if found_ids.dtype == np.uint64:
        found_ids = found_ids.astype(np.int64)
    true_ids = np.asarray(true_ids)
    assert found_ids.shape[0] == true_ids.shape[0]
    hits = [len(np.intersect1d(f, t)) for f, t in zip(found_ids, true_ids)]
    return float(np.sum(hits)) / true_ids.size


def dist_tol(ref):
    """Absolute tolerance for comparing float32 library distances with the float64 oracle."""
    ref = np.asarray(ref, dtype=np.float64)
    finite = ref[np.isfinite(ref)]
    scale = max(1.0, float(np.abs(finite).max())) if finite.size else 1.0
    return 1e-5 * scale


def assert_exact_knn(ids, dists, data, queries, metric, k, id_map=None):
    """Library answer equals the exact answer.

    - distances equal the brute-force top-k distances position by position;
    - each returned id is reported at its own true distance, and ids in a row are unique;
    - wherever the exact ranking has no near-tie (gap > tolerance on both sides), the id is
      exactly the brute-force id. Within a near-tie group either order/member is exact.
    """
    ids = np.asarray(ids)
    dists = np.asarray(dists)
    data = np.asarray(data)
    queries = np.atleast_2d(np.asarray(queries))
    n = data.shape[0]
    kk = min(k, n)
    if id_map is None:
        id_map = np.arange(n, dtype=np.uint64)
    id_map = np.asarray(id_map, dtype=np.uint64)
    assert ids.shape == (queries.shape[0], k), (ids.shape, k)
    ref_i, ref_d = brute_force_knn(data, queries, kk + 1, metric, ids=id_map)
    tol = dist_tol(ref_d)
    np.testing.assert_allclose(dists[:, :kk], ref_d[:, :kk], rtol=1e-5, atol=tol)
    # true distance of every returned id
    pos_of = {int(v): i for i, v in enumerate(id_map)}
    assert all(int(v) in pos_of for v in ids[:, :kk].ravel()), "returned an id that was never added"
    slots = np.vectorize(lambda v: pos_of[int(v)], otypes=[np.int64])(ids[:, :kk])
    true = np.take_along_axis(pairwise_distances(metric, queries, data), slots, axis=1)
    np.testing.assert_allclose(dists[:, :kk], true, rtol=1e-5, atol=tol)
    for r in range(ids.shape[0]):
        assert len(np.unique(ids[r, :kk])) == kk, f"row {r}: duplicate ids"
    # unambiguous positions must match exactly
    d = ref_d
    left = np.full(d[:, :kk].shape, np.inf)
    left[:, 1:] = d[:, 1:kk] - d[:, : kk - 1]
    right = np.full(d[:, :kk].shape, np.inf)
    if d.shape[1] > kk:
        right = d[:, 1 : kk + 1] - d[:, :kk]
    else:
        right[:, :-1] = d[:, 1:kk] - d[:, : kk - 1]
    clear = (left > tol) & (right > tol)
    mismatch = np.argwhere(clear & (ids[:, :kk] != ref_i[:, :kk]))
    assert mismatch.size == 0, (
        f"{len(mismatch)} id mismatches, first at {tuple(mismatch[0])}: "
        f"got {ids[tuple(mismatch[0])]}, expected {ref_i[tuple(mismatch[0])]}"
    )
    assert clear.mean() > 0.5, "test data is mostly near-ties: the check would be vacuous"


def assert_rows_valid(ids, dists, missing_id):
    """Per row: ascending distances, unique non-missing ids, padding only at the end (id/inf)."""
    ids = np.asarray(ids)
    dists = np.asarray(dists)
    assert ids.shape == dists.shape
    for r in range(ids.shape[0]):
        row_i, row_d = ids[r], dists[r]
        pad = row_i == missing_id
        assert np.all(np.isinf(row_d[pad])) and np.all(row_d[pad] > 0), f"row {r}: bad padding"
        real = ~pad
        assert np.all(np.isfinite(row_d[real])), f"row {r}: non-finite distance for a real id"
        if pad.any():
            first_pad = int(np.argmax(pad))
            assert np.all(pad[first_pad:]), f"row {r}: padding is not only at the end"
        assert np.all(np.diff(row_d[real]) >= 0), f"row {r}: distances not ascending: {row_d}"
        assert len(np.unique(row_i[real])) == int(real.sum()), f"row {r}: duplicate ids {row_i}"


# ----------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def vs():
    """The package under test (import errors surface once, clearly)."""
    import vecsearch

    return vecsearch


@pytest.fixture(scope="session")
def metrics():
    return METRICS


@pytest.fixture(scope="session")
def make_data():
    return clustered


@pytest.fixture(scope="session")
def make_data_queries():
    return clustered_with_queries


@pytest.fixture(scope="session")
def oracle():
    """Exact k-NN: oracle(data, queries, k, metric, ids=None) -> (ids, dists)."""
    return brute_force_knn


@pytest.fixture(scope="session")
def exact_dists():
    """exact_dists(metric, queries, data) -> float64 [nq, n] with the library's conventions."""
    return pairwise_distances


@pytest.fixture(scope="session")
def recall():
    return recall_at_k


def walk_alone_recall(index, search, truth):
    """(recall, replaced) of a filtered walk with every query the exact scan answered after it
    (a fallback, or an ACORN query re-routed as anti-correlated) scored as a total miss: the
    core's scan fallback cannot hide a walk that returns nothing.

    ``search()`` runs the walk and returns its ids; ``truth`` holds the exact ids per query
    (rows may be shorter than k when fewer match)."""
    index.reset_stats()
    ids = np.asarray(search())
    plans = index.stats()["plans"]
    replaced = plans["acorn_fallback"] + plans["post_fallback"] + plans["acorn_rerouted"]
    truth = np.asarray(truth)
    per_query = [len(np.intersect1d(f, t)) / max(t.size, 1) for f, t in zip(ids, truth)]
    return (sum(per_query) - replaced) / len(per_query), replaced


@pytest.fixture(scope="session")
def walk_recall():
    return walk_alone_recall


@pytest.fixture(scope="session")
def check_exact():
    return assert_exact_knn


@pytest.fixture(scope="session")
def check_rows(vs):
    def _check(ids, dists):
        assert_rows_valid(ids, dists, vs.MISSING_ID)

    return _check


@pytest.fixture(scope="session")
def tol():
    return dist_tol


@pytest.fixture(scope="session")
def small_clustered():
    """2000 x 32 clustered data + 100 queries, shared read-only across tests."""
    x, q = clustered_with_queries(2000, 100, 32, seed=1234)
    x.setflags(write=False)
    q.setflags(write=False)
    return x, q


@pytest.fixture
def index_path(tmp_path):
    return tmp_path / "index.vsi"


@pytest.fixture(scope="session")
def subprocess_env():
    """Environment for child interpreters: the package importable, SIMD override cleared."""

    def _env(**overrides):
        import vecsearch

        env = dict(os.environ)
        env.pop("VECSEARCH_SIMD", None)
        pkg_root = os.path.dirname(os.path.dirname(os.path.abspath(vecsearch.__file__)))
        env["PYTHONPATH"] = os.pathsep.join(
            [pkg_root] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
        )
        env.update({k: str(v) for k, v in overrides.items()})
        return env

    return _env


@pytest.fixture(scope="session")
def python_exe():
    return sys.executable
