"""The pieces of the sharded index that need no Ray: the exact top-k merge and the id routing."""
from __future__ import annotations

import numpy as np
import pytest

from vecsearch import MISSING_ID
from vecsearch.distributed.merge import merge_topk
from vecsearch.distributed.routing import shard_of, split_rows, take_rows


def _python_merge(answers, k):
    """The oracle: every (distance, id) pair of every shard, sorted, k first, padded."""
    nq = answers[0][0].shape[0]
    ids = np.full((nq, k), MISSING_ID, dtype=np.uint64)
    dists = np.full((nq, k), np.inf, dtype=np.float32)
    for q in range(nq):
        pairs = sorted((float(d), int(i)) for a in answers for i, d in zip(a[0][q], a[1][q]))[:k]
        for j, (d, i) in enumerate(pairs):
            ids[q, j], dists[q, j] = i, d
    return ids, dists


@pytest.mark.parametrize("shards,k", [(2, 10), (4, 10), (3, 1), (4, 25)])
def test_merge_is_the_exact_top_k_of_the_union(shards, k):
    rng = np.random.default_rng(shards * 100 + k)
    answers = []
    for s in range(shards):
        found = rng.integers(1, 8) if s == 0 else k  # one short shard: padding must sort last
        d = np.sort(rng.integers(0, 20, size=(30, k)).astype(np.float32), axis=1)  # many ties
        ids = rng.choice(10**6, size=(30, k), replace=False).astype(np.uint64)
        d[:, found:], ids[:, found:] = np.inf, MISSING_ID
        answers.append((ids, d))
    got_ids, got_d = merge_topk(answers, k)
    want_ids, want_d = _python_merge(answers, k)
    np.testing.assert_array_equal(got_d, want_d)
    np.testing.assert_array_equal(got_ids, want_ids)


def test_merge_pads_when_the_shards_found_fewer_than_k():
    a = (np.array([[5]], np.uint64), np.array([[0.5]], np.float32))
    b = (np.empty((1, 0), np.uint64), np.empty((1, 0), np.float32))
    ids, d = merge_topk([a, b], 3)
    assert ids.tolist() == [[5, int(MISSING_ID), int(MISSING_ID)]]
    assert d[0, 0] == 0.5 and np.isinf(d[0, 1:]).all()


def _splitmix64(x: int) -> int:
    """The reference finaliser in Python integers (the oracle of the vectorised one)."""
    mask = (1 << 64) - 1
    z = (x + 0x9E3779B97F4A7C15) & mask
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    return z ^ (z >> 31)


def test_routing_is_pinned_and_balanced():
    # The rule is part of the saved format: these values must never change.
    assert shard_of(np.arange(8, dtype=np.uint64), 4).tolist() == [3, 1, 2, 1, 2, 2, 0, 3]
    some = [0, 1, 2**63, 2**64 - 2, 123456789012345]
    assert shard_of(np.array(some, dtype=np.uint64), 7).tolist() == [_splitmix64(x) % 7 for x in some]
    counts = np.bincount(shard_of(np.arange(100_000, dtype=np.uint64), 4), minlength=4)
    assert counts.min() > 24_000 and counts.max() < 26_000


def test_split_rows_partitions_the_batch():
    ids = np.random.default_rng(0).choice(10**9, size=1000, replace=False).astype(np.uint64)
    parts = split_rows(ids, 3)
    assert sorted(np.concatenate(parts).tolist()) == list(range(1000))
    for s, rows in enumerate(parts):
        assert (shard_of(ids[rows], 3) == s).all()
        assert (np.diff(rows) > 0).all()  # source order kept


def test_take_rows_for_every_attribute_form():
    pd = pytest.importorskip("pandas")
    pa = pytest.importorskip("pyarrow")
    rows = np.array([2, 0])
    cols = {"n": np.array([1, 2, 3]), "tags": [["a"], [], ["b", "c"]]}
    assert {k: list(v) for k, v in take_rows(cols, rows).items()} == {"n": [3, 1], "tags": [["b", "c"], ["a"]]}
    assert take_rows(pd.DataFrame({"n": [1, 2, 3]}), rows)["n"].tolist() == [3, 1]
    assert take_rows(pa.table({"n": [1, 2, 3]}), rows).column("n").to_pylist() == [3, 1]
    assert take_rows(None, rows) is None
    with pytest.raises(TypeError, match="attributes must be"):
        take_rows(5, rows)


def test_cpu_share_is_a_precision_ray_accepts():
    from vecsearch.distributed.cluster import cpu_share

    assert cpu_share(2.0, 3) == 0.6666  # Ray refuses fractions finer than 0.0001
    assert cpu_share(2.0, 4) == 0.5 and cpu_share(0.0, 4) == 0.0 and cpu_share(1.3, 1) == 1.3
