"""A batch's filters are compiled together: their range leaves are looked up in one search per
column, bound side and constant type. Each filter must still select exactly numpy's rows, for
narrow ranges (row lists) and wide ones (rank stretches) mixed in one batch, open and closed
bounds, int, float and huge-int constants on an int column, floats and dates."""
from __future__ import annotations

import numpy as np
import pytest

import vecsearch
from vecsearch import F, _core
from vecsearch.filters.batch import filter_batch
from vecsearch.filters.bitmaps import filter_bitmaps
from vecsearch.filters.program import RANKS, ROWS, compile_filters


def test_ranges_compiled_together_match_numpy(make_data_queries):
    n = 3000
    x, _ = make_data_queries(n, 1, 8, seed=9)
    rng = np.random.default_rng(9)
    size = rng.integers(0, 1000, n)
    score = rng.normal(size=n)
    score[::11] = np.nan
    day = np.datetime64("2021-01-01") + rng.integers(0, 300, n).astype("timedelta64[D]")
    index = vecsearch.Index(8, M=8, ef_construction=32)
    index.add(x, ids=np.arange(n), attributes={"size": size, "score": score, "day": day})
    index.delete(np.arange(0, n, 7))
    live = np.ones(n, dtype=bool)
    live[::7] = False
    d0 = np.datetime64("2021-03-01")
    cases = [
        (F("size") < 5, size < 5), (F("size") <= 5.5, size <= 5.5), (F("size") > 990, size > 990),
        (F("size") >= 2**70, np.zeros(n, dtype=bool)), (F("size") > -2**70, np.ones(n, dtype=bool)),
        (F("size").between(100, 110), (size >= 100) & (size <= 110)),
        (F("size").between(100.5, 899.5), (size >= 100.5) & (size <= 899.5)),  # wide
        (F("size") == 500, size == 500), (F("size") != 500, size != 500),
        ((F("size") > 10) & (F("size") < 12.5), (size > 10) & (size < 12.5)),
        (F("score") > 2.0, score > 2.0), (F("score") <= 0, score <= 0),
        (F("day").between(d0, d0 + 3), (day >= d0) & (day <= d0 + 3)), (F("day") < d0, day < d0),
        ((F("size") < 900) & (F("score") > -1.5) & (F("day") >= d0), (size < 900) & (score > -1.5) & (day >= d0)),
    ]
    programs = compile_filters([c[0] for c in cases], index._attributes)
    ops = np.concatenate([p.ops for p in programs])
    assert (ops == RANKS).any() and (ops == ROWS).any()  # both leaf forms in one batch
    batch = filter_batch([c[0] for c in cases], len(cases))
    words, matches, _ = filter_bitmaps(index._core, index._attributes, batch)
    for i, (expr, want) in enumerate(cases):
        mask = want & live
        slots = index._core.slots_of(np.flatnonzero(mask).astype(np.uint64), False)
        expected = np.zeros(words.shape[1] * 64, dtype=bool)
        expected[slots] = True
        got = np.unpackbits(words[batch.filter_of[i]].view(np.uint8), bitorder="little").astype(bool)
        np.testing.assert_array_equal(got, expected, err_msg=str(expr))
        assert matches[batch.filter_of[i]] == mask.sum(), expr


def test_expression_keys_are_kept_and_tell_filters_apart():
    """A key is computed once per expression and kept; a child's kept key must not change its
    parent's, and expressions differing in an operator or a constant's type differ in key."""
    a = (F("x") >= 3) & F("s").isin(["u"])
    first = a.key()
    assert a.key() is first
    b = (F("x") >= 3) & F("s").isin(["u"])
    b.left.key()
    assert b.key() == first and hash(b.key()) == hash(first)
    assert ((F("x") >= 3.0) & F("s").isin(["u"])).key() != first
    assert (F("x") > 3).key() != (F("x") >= 3).key()
    odd = F("x") == [1]  # an unhashable constant: the key is the expression itself
    assert odd.key() is odd
    batch = filter_batch([a, b, F("x") > 3, odd], 4)
    assert batch.filter_of.tolist() == [0, 0, 1, 2]


def test_compiled_programs_are_kept_until_the_store_changes(make_data_queries):
    """A repeated filter is compiled once; an add, a delete, a change of a column's values or a
    new column makes every kept program stale, and the next search sees the change."""
    n = 2000
    x, q = make_data_queries(n + 200, 3, 8, seed=4)
    rng = np.random.default_rng(4)
    size = rng.integers(0, 1000, n + 200)
    tag = rng.choice(["a", "b"], n + 200).tolist()
    index = vecsearch.Index(8, M=8, ef_construction=32)
    index.add(x[:n], ids=np.arange(n), attributes={"size": size[:n], "tag": tag[:n]})
    store = index._attributes
    exprs = [F("size") < 100, (F("tag") == "a") & (F("size").between(200, 800))]
    first = compile_filters(exprs, store)
    assert all(a is b for a, b in zip(first, compile_filters(exprs, store)))  # kept
    live = np.zeros(n + 200, dtype=bool)
    live[:n] = True
    tags = np.array(tag)

    def check() -> None:
        batch = filter_batch(exprs, len(exprs))
        _, matches, _ = filter_bitmaps(index._core, store, batch)
        want = [(size < 100) & live, (tags == "a") & (size >= 200) & (size <= 800) & live]
        assert matches.tolist() == [int(w.sum()) for w in want]
        ids, _ = index.search(q[:2], 5, filter=exprs, plan="scan")
        for row, w in zip(ids, want):
            assert np.isin(row[row != vecsearch.MISSING_ID].astype(np.int64), np.flatnonzero(w)).all()

    check()
    index.add(x[n:], ids=np.arange(n, n + 200), attributes={"size": size[n:], "tag": tag[n:]})
    live[n:] = True
    assert compile_filters(exprs, store)[0] is not first[0]
    check()
    index.delete(np.arange(0, n, 3))
    live[: n : 3] = False
    check()
    changed = np.arange(1, n, 3)  # live ids
    size[changed] = 50
    index.set_attributes(changed, {"size": size[changed]})
    check()
    before = compile_filters(exprs, store)[0]
    index.set_attributes(np.array([1, 2, 4]), {"other": [1.0, 2.0, 3.0]})  # a new column
    assert compile_filters(exprs, store)[0] is not before
    check()


def test_program_cache_drops_the_least_recent_past_its_bytes():
    from vecsearch.filters.program import ProgramCache
    cache = ProgramCache(max_bytes=3 * 800)
    rows = np.zeros(100, dtype=np.int64)  # 800 bytes of payload
    program = _core.FilterProgram(np.zeros(0, dtype=np.uint8), [rows])
    for key in "abc":
        cache.put(key, program)
    assert cache.get("a", None) is program  # a is now the most recent
    cache.put("d", program)
    assert cache.get("b", None) is None and cache.get("a", None) is program and len(cache) == 3
    assert cache.get("a", "another state") is None and len(cache) == 0


@pytest.mark.parametrize("seed", range(6))
def test_stretches_match_a_mask_oracle(seed):
    """The stretch of the sorted keys each range selects, for batches of one form (one search)
    and mixed ones (ints and floats, open and closed sides, unbounded sides), equals the rows a
    numpy mask of the same comparisons keeps."""
    from vecsearch.attributes.columns import stretches
    rng = np.random.default_rng(seed)
    keys = np.sort(rng.integers(-20, 20, 300)).astype(np.int64)
    n = int(rng.integers(1, 12))
    uniform = seed % 2 == 0  # every bound an int, every side of one openness

    def bound() -> object:
        if uniform:
            return int(rng.integers(-25, 25))
        return rng.choice([None, int(rng.integers(-25, 25)), float(rng.uniform(-25, 25))])

    lo, hi = [bound() for _ in range(n)], [bound() for _ in range(n)]
    lo_open = [bool(seed % 4 == 0)] * n if uniform else rng.integers(0, 2, n).astype(bool).tolist()
    hi_open = [bool(seed % 4 == 2)] * n if uniform else rng.integers(0, 2, n).astype(bool).tolist()
    starts, stops = stretches(keys, lo, hi, lo_open, hi_open)
    for i in range(n):
        keep = np.ones(keys.shape[0], dtype=bool)
        if lo[i] is not None:
            keep &= keys > lo[i] if lo_open[i] else keys >= lo[i]
        if hi[i] is not None:
            keep &= keys < hi[i] if hi_open[i] else keys <= hi[i]
        where = np.flatnonzero(keep)
        want = (where[0], where[-1] + 1) if where.size else (starts[i], starts[i])
        assert (starts[i], stops[i]) == want, (lo[i], hi[i], lo_open[i], hi_open[i])
