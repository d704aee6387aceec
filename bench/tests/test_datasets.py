"""vecsearch.datasets: exact k-NN vs a float64 oracle, synthetic data, vector files.

These test the package code under vecsearch/datasets/; they live here with the
benchmark that is its main user (move to tests/ if preferred).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vecsearch.datasets import (
    METRICS,
    clustered_dataset,
    clustered_queries,
    clustered_vectors,
    exact_knn,
    load_vectors,
    save_vectors,
    write_bin,
    write_vecs,
)


def _oracle(base: np.ndarray, q: np.ndarray, k: int, metric: str) -> tuple[np.ndarray, np.ndarray]:
    b, qq = base.astype(np.float64), q.astype(np.float64)
    if metric == "l2":
        d = ((qq[:, None, :] - b[None]) ** 2).sum(-1)
    else:
        if metric == "cosine":
            b = b / np.linalg.norm(b, axis=1, keepdims=True)
            qq = qq / np.linalg.norm(qq, axis=1, keepdims=True)
        d = 1 - qq @ b.T
    ids = np.lexsort((np.broadcast_to(np.arange(len(b)), d.shape), d), axis=-1)[:, :k]
    return ids, np.take_along_axis(d, ids, 1)


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("chunk", [None, 7, 100])
def test_exact_knn_matches_oracle(metric: str, chunk: int | None) -> None:
    rng = np.random.default_rng(1)
    base = rng.standard_normal((537, 13)).astype(np.float32) * 3
    q = rng.standard_normal((41, 13)).astype(np.float32)
    ids, d = exact_knn(base, q, 10, metric, chunk=chunk, progress=False)
    want_ids, want_d = _oracle(base, q, 10, metric)
    assert ids.dtype == np.int64 and d.dtype == np.float32
    np.testing.assert_array_equal(ids, want_ids)
    np.testing.assert_allclose(d, want_d, rtol=1e-5, atol=1e-5)


def test_exact_knn_ties_padding_and_1d_query() -> None:
    base = np.ones((5, 4), np.float32)
    ids, d = exact_knn(base, np.zeros((2, 4)), 7, progress=False)
    assert ids.tolist() == [[0, 1, 2, 3, 4, -1, -1]] * 2 and np.isinf(d[:, 5:]).all()
    ids, _ = exact_knn(base, np.zeros(4), 3, progress=False)
    assert ids.shape == (1, 3)


def test_exact_knn_errors() -> None:
    b = np.zeros((5, 4), np.float32)
    with pytest.raises(ValueError, match="metric"):
        exact_knn(b, b, 1, "hamming")
    with pytest.raises(ValueError, match="dim 3"):
        exact_knn(b, np.zeros((2, 3)), 1)
    with pytest.raises(ValueError, match="k must"):
        exact_knn(b, b, 0)


def test_synthetic_is_deterministic_and_prefix_stable() -> None:
    b, q = clustered_dataset(9000, 50, 64, seed=3)
    assert b.dtype == np.float32 and b.shape == (9000, 64) and q.shape == (50, 64)
    np.testing.assert_allclose(np.linalg.norm(b, axis=1), 1, atol=1e-5)
    assert np.array_equal(b, clustered_vectors(9000, 64, seed=3))
    assert np.array_equal(b[:100], clustered_vectors(100, 64, seed=3))
    assert np.array_equal(q, clustered_queries(50, 64, seed=3))
    assert not np.array_equal(b, clustered_vectors(9000, 64, seed=4))
    _, d = exact_knn(b, q, 1, progress=False)
    assert (d > 1e-6).all()  # queries are not base rows
    raw = clustered_vectors(100, 8, normalize=False)
    assert not np.allclose(np.linalg.norm(raw, axis=1), 1)


SUFFIXES = [".fvecs", ".ivecs", ".bvecs", ".fbin", ".ibin", ".u8bin", ".i8bin", ".npy"]


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_round_trip(tmp_path: Path, suffix: str) -> None:
    x = (np.random.default_rng(0).random((17, 5)) * 100).astype(np.float32)
    path = tmp_path / f"a{suffix}"
    save_vectors(path, x)
    y = load_vectors(path)
    assert y.shape == (17, 5) and not y.flags.writeable
    np.testing.assert_array_equal(y, x.astype(y.dtype))


def test_vecs_errors_name_the_file(tmp_path: Path) -> None:
    p = tmp_path / "a.fvecs"
    write_vecs(p, np.ones((3, 4), np.float32))
    raw = p.read_bytes()
    cases = [
        (raw[:-3], r"a\.fvecs: truncated: record 2"),
        (raw + b"\x01\x00", "stray bytes"),
        (np.array([4, 1, 1, 1, 1, 3, 1, 1, 1], "<i4").tobytes(), "different dimensions"),
        (np.array([2, 1, 1, 1, 1, 1, 2, 1, 1], "<i4").tobytes(), "record 1 has dimension 1"),
        (b"", "too short"),
        (np.array([0], "<i4").tobytes(), "dimension 0"),
    ]
    for content, message in cases:
        p.write_bytes(content)
        with pytest.raises(ValueError, match=message):
            load_vectors(p)


def test_bin_and_suffix_errors(tmp_path: Path) -> None:
    p = tmp_path / "a.fbin"
    write_bin(p, np.ones((3, 4), np.float32))
    raw = p.read_bytes()
    for content, message in [
        (raw[:-1], r"a\.fbin: truncated"),
        (raw + b"x", "trailing"),
        (raw[:5], "too short"),
    ]:
        p.write_bytes(content)
        with pytest.raises(ValueError, match=message):
            load_vectors(p)
    with pytest.raises(ValueError, match="unknown vector file suffix"):
        load_vectors(tmp_path / "x.txt")
    (tmp_path / "bad.npy").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="bad.npy"):
        load_vectors(tmp_path / "bad.npy")


def test_memmapped_files_feed_exact_knn(tmp_path: Path) -> None:
    x = np.arange(40, dtype=np.float32).reshape(8, 5)
    for suffix in (".fvecs", ".bvecs", ".fbin", ".npy"):
        save_vectors(tmp_path / f"m{suffix}", x)
        ids, _ = exact_knn(load_vectors(tmp_path / f"m{suffix}"), x[:2], 1, progress=False)
        assert ids.ravel().tolist() == [0, 1]
