"""IdRowMap (the attribute store's id -> row map) against a dict, under random adds, deletes
and re-adds of deleted ids."""
import numpy as np
import pytest

from vecsearch.attributes.idmap import IdRowMap
from vecsearch.errors import UnknownIdError


@pytest.mark.parametrize("seed", range(5))
def test_matches_a_dict(seed):
    rng = np.random.default_rng(seed)
    m, ref, next_row = IdRowMap(), {}, 0
    universe = np.unique(rng.integers(0, 2**64 - 1, 3200, dtype=np.uint64))[:3000]
    for _ in range(60):
        if rng.random() < 0.6 or not ref:
            absent = np.array([i for i in universe[rng.integers(0, 3000, 80)] if int(i) not in ref], dtype=np.uint64)
            absent = np.unique(absent)
            rows = np.arange(next_row, next_row + absent.size)
            next_row += absent.size
            m.add(absent, rows)
            ref.update(zip(absent.tolist(), rows.tolist()))
        else:
            victims = rng.choice(np.array(list(ref), dtype=np.uint64), min(len(ref), 50), replace=False)
            unknown = universe[rng.integers(0, 3000, 5)]
            removed = m.remove(np.concatenate([victims, unknown, victims[:3]]))
            want = sorted({ref.pop(int(i)) for i in victims} | {ref.pop(int(u)) for u in unknown if int(u) in ref})
            assert sorted(removed.tolist()) == want
        assert len(m) == len(ref)
        if ref:
            keys = np.array(list(ref), dtype=np.uint64)
            np.testing.assert_array_equal(m.rows(keys), [ref[int(k)] for k in keys])
        missing = [int(u) for u in universe[:200] if int(u) not in ref]
        if missing:
            with pytest.raises(UnknownIdError, match=str(missing[0])):
                m.rows(np.array([missing[0]], dtype=np.uint64))


def test_empty_and_round_trip():
    m = IdRowMap()
    assert len(m) == 0 and m.remove(np.array([5], dtype=np.uint64)).size == 0
    with pytest.raises(UnknownIdError):
        m.rows(np.array([1], dtype=np.uint64))
    ids = np.array([9, 3, 2**64 - 2], dtype=np.uint64)
    m2 = IdRowMap.from_arrays(ids, np.array([0, 1, 2]))
    np.testing.assert_array_equal(m2.rows(ids), [0, 1, 2])
    assert m2.nbytes == 48


@pytest.mark.parametrize("seed", range(3))
def test_native_id_map_membership_under_churn(seed):
    """The core's open-addressing id -> slot table (csrc/graph/id_map.h) against a set, through
    adds, deletes (backward-shift erase) and re-adds, with ids spread over the whole range and
    packed into runs."""
    import vecsearch

    rng = np.random.default_rng(seed)
    index = vecsearch.Index(2, M=4, ef_construction=8)
    spread = np.unique(rng.integers(0, 2**64 - 1, 1500, dtype=np.uint64))
    packed = np.arange(10**12, 10**12 + 1500, dtype=np.uint64)
    pool = np.concatenate([spread, packed])
    live: set = set()
    for _ in range(12):
        fresh = np.array([i for i in rng.choice(pool, 600, replace=False).tolist() if i not in live], dtype=np.uint64)
        index.add(np.tile(fresh[:, None].astype(np.float64) % 97, (1, 2)).astype(np.float32), fresh)
        live.update(fresh.tolist())
        gone = rng.choice(np.array(sorted(live), dtype=np.uint64), len(live) // 3, replace=False)
        index.delete(gone)
        live.difference_update(gone.tolist())
        probe = rng.choice(pool, 800, replace=False)
        assert [int(i) in index for i in probe] == [int(i) in live for i in probe]
        assert len(index) == len(live)
    kept = np.array(sorted(live), dtype=np.uint64)
    np.testing.assert_array_equal(index.get_vectors(kept)[:, 0], (kept.astype(np.float64) % 97).astype(np.float32))
