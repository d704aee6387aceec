"""Where the neighbour-code walk starts (csrc/graph/entry_table.h): the nearest of a table of
k-means entries, not the end of a descent of the upper levels. On data whose clusters share almost no
level-0 links, a narrow beam finds the true neighbours only when it starts in their cluster,
so these tests fail for a table that is wrong, stale or not used (about 1/12 recall)."""
from __future__ import annotations

import numpy as np
import vecsearch


def _far_clusters(n_clusters, per, nq, dim, seed):
    # Tight clusters far apart, each spread over 8 directions of its own (a search inside one
    # is easy; a walk from the wrong one finds nothing of the right one).
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((n_clusters, dim)) * 20.0
    bases = rng.standard_normal((n_clusters, 8, dim))

    def draw(which):
        return centres[which] + np.einsum("nr,nrd->nd", rng.standard_normal((len(which), 8)), bases[which]) + \
            0.05 * rng.standard_normal((len(which), dim))

    data = draw(np.repeat(np.arange(n_clusters), per)).astype(np.float32)
    queries = draw(rng.integers(0, n_clusters, nq)).astype(np.float32)
    return data, queries


def _walk_index(data):
    index = vecsearch.Index(data.shape[1], metric="l2", storage="float32", seed=3)
    index.add(data, progress=False)
    index._core.enable_neighbour_codes(True, 2)
    return index


def test_walk_starts_in_the_querys_cluster(oracle, recall):
    data, queries = _far_clusters(12, 600, 60, 128, seed=4)
    index = _walk_index(data)
    ids, _ = index.search(queries, k=10, ef=16, num_threads=1)
    true_ids, _ = oracle(data, queries, 10, "l2")
    assert recall(ids, true_ids) >= 0.9


def test_entry_table_follows_growth(oracle, recall):
    # Built over the first two clusters, the table covers only those; adding the other ten
    # (the live count more than doubles) chooses it again over all of them.
    data, queries = _far_clusters(12, 600, 60, 128, seed=6)
    index = _walk_index(data[:1200])
    index.add(data[1200:], ids=np.arange(1200, 7200, dtype=np.uint64), progress=False)
    ids, _ = index.search(queries, k=10, ef=16, num_threads=1)
    true_ids, _ = oracle(data, queries, 10, "l2")
    assert recall(ids, true_ids) >= 0.9


def test_loaded_index_chooses_its_table(tmp_path, oracle, recall):
    # Neither the blocks nor the table are saved: enabling the walk on a loaded index builds both.
    data, queries = _far_clusters(12, 600, 60, 128, seed=8)
    index = vecsearch.Index(128, metric="l2", storage="float32", seed=3)
    index.add(data, progress=False)
    index.save(tmp_path / "i.vs")
    loaded = vecsearch.Index.load(tmp_path / "i.vs")
    loaded._core.enable_neighbour_codes(True, 2)
    ids, _ = loaded.search(queries, k=10, ef=16, num_threads=1)
    true_ids, _ = oracle(data, queries, 10, "l2")
    assert recall(ids, true_ids) >= 0.9



def test_entry_table_is_saved_and_counted(tmp_path):
    data, _ = _far_clusters(12, 600, 10, 64, seed=9)
    index = vecsearch.Index(64, metric="l2", seed=3)
    index.add(data, progress=False)
    state = index._core.export_state(with_vectors=False)
    slots, vectors, built_at = state["entry_slots"], state["entry_vectors"], state["entries_built_at"]
    assert 32 <= len(slots) <= 64 and built_at == len(data)
    # each entry is a stored vector (ids are the row numbers here, slots too: no deletions)
    np.testing.assert_array_equal(vectors, data[slots.astype(np.int64)])
    assert index._core.memory_parts()["graph"] >= vectors.nbytes
    index.save(tmp_path / "t.vs")
    loaded = vecsearch.Index.load(tmp_path / "t.vs")
    got = loaded._core.export_state(with_vectors=False)
    np.testing.assert_array_equal(got["entry_slots"], slots)
    np.testing.assert_array_equal(got["entry_vectors"], vectors)
    assert got["entries_built_at"] == built_at
