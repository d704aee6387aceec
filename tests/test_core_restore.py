"""HnswIndex.restore takes what params() and export_state() give: the two round-trip, and a state
missing a field or holding a value of the wrong type is a FormatError naming the field."""
from __future__ import annotations

import numpy as np
import pytest

from vecsearch import _core
from vecsearch.errors import FormatError


def _core_index(n: int = 300, dim: int = 16) -> tuple:
    rng = np.random.default_rng(3)
    data = rng.standard_normal((n, dim)).astype(np.float32)
    core = _core.HnswIndex(dim, "l2", 8, 64, 5)
    core.add(data, None, 1)
    return core, data


def test_restore_of_export_state_answers_alike():
    core, data = _core_index()
    state = core.export_state()
    restored = _core.HnswIndex.restore(core.params(), state, False)
    queries = data[:20] + 0.01
    ids, _ = restored.search(queries, 5, 32, 0, 1)
    # Checked against brute force, not against `core`: the entry table is restored separately
    # (set_entry_table), so the two may start their walks apart.
    exact = np.argsort(((queries[:, None, :] - data[None]) ** 2).sum(-1), axis=1)[:, :5]
    assert np.mean([len(set(a) & set(b)) / 5 for a, b in zip(ids.astype(np.int64), exact)]) >= 0.9
    assert restored.size() == core.size() == len(data)
    np.testing.assert_array_equal(restored.get_vectors(np.arange(len(data), dtype=np.uint64)), data)


@pytest.mark.parametrize("key", ["count", "entry_point", "links0", "upper", "vectors"])
def test_a_missing_state_field_is_named(key):
    core, _ = _core_index()
    state = core.export_state()
    del state[key]
    with pytest.raises(FormatError, match=f"'{key}'"):
        _core.HnswIndex.restore(core.params(), state, False)


@pytest.mark.parametrize("key, bad", [("count", -1), ("next_auto_id", "x"), ("max_level", 10**30)])
def test_a_state_field_of_the_wrong_type_is_named(key, bad):
    core, _ = _core_index()
    state = core.export_state()
    state[key] = bad
    with pytest.raises(FormatError, match=f"'{key}'"):
        _core.HnswIndex.restore(core.params(), state, False)


def test_a_missing_parameter_is_named():
    core, _ = _core_index()
    params = core.params()
    del params["metric"]
    with pytest.raises(FormatError, match="'metric'"):
        _core.HnswIndex.restore(params, core.export_state(), False)
