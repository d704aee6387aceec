"""Attribute columns and filter expressions against a numpy reference on random data with nulls,
schema errors, updates and deletes. The exact scan plan with k = n returns every matching id,
so each expression's id set is compared whole."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

import vecsearch
from vecsearch import F, FilterError, _core

N = 1500
SECTIONS = ["libs", "devel", "python", "doc", "net"]
TAGS = ["role::program", "devel::library", "interface::x11", "implemented-in::c", "scope::utility"]


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(42)
    year = rng.integers(1995, 2026, N)
    price = rng.gamma(2.0, 10.0, N)
    price[rng.random(N) < 0.1] = np.nan  # nulls
    section = [SECTIONS[i] if rng.random() > 0.05 else None for i in rng.integers(0, len(SECTIONS), N)]
    tags = [None if rng.random() < 0.05 else [TAGS[j] for j in np.flatnonzero(rng.random(len(TAGS)) < 0.3)]
            for _ in range(N)]
    day = np.datetime64("2000-01-01") + rng.integers(0, 9000, N).astype("timedelta64[D]")
    flag = rng.random(N) < 0.3
    vectors = rng.normal(size=(N, 8)).astype(np.float32)
    attrs = {"year": year, "price": price, "section": section, "tags": tags, "day": day.astype("datetime64[ns]"),
             "flag": flag}
    index = vecsearch.Index(8, M=8, ef_construction=32)
    index.add(vectors, attributes=attrs)
    return index, attrs, vectors


def _matching(index, vectors, expr):
    ids, _ = index.search(vectors[0], k=N, filter=expr, plan="scan")
    found = ids[0][ids[0] != vecsearch.MISSING_ID]
    assert len(np.unique(found)) == len(found)
    return np.sort(found).astype(np.int64)


def _masks(attrs):
    section = np.array([s if s is not None else "" for s in attrs["section"]])
    sec_null = np.array([s is None for s in attrs["section"]])
    tags_null = np.array([t is None for t in attrs["tags"]])
    has = {t: np.array([(t in row) if row is not None else False for row in attrs["tags"]]) for t in TAGS}
    price = attrs["price"]
    return {
        "year>=2018": (F("year") >= 2018, attrs["year"] >= 2018),
        "year<2000": (F("year") < 2000, attrs["year"] < 2000),
        "year==2010": (F("year") == 2010, attrs["year"] == 2010),
        "year!=2010": (F("year") != 2010, attrs["year"] != 2010),
        "year between": (F("year").between(2001, 2005), (attrs["year"] >= 2001) & (attrs["year"] <= 2005)),
        "year isin": (F("year").isin([1999, 2003, 2.5, 2020]), np.isin(attrs["year"], [1999, 2003, 2020])),
        "price>50": (F("price") > 50.0, np.nan_to_num(price, nan=-1) > 50),
        "price<=10": (F("price") <= 10, np.nan_to_num(price, nan=1e9) <= 10),
        "price!=0": (F("price") != 0, ~np.isnan(price)),
        "price null": (F("price").is_null(), np.isnan(price)),
        "section==python": (F("section") == "python", section == "python"),
        "section!=python": (F("section") != "python", (section != "python") & ~sec_null),
        "section isin": (F("section").isin(["libs", "doc", "nope"]), np.isin(section, ["libs", "doc"])),
        "section unknown": (F("section") == "no-such-section", np.zeros(N, bool)),
        "section null": (F("section").is_null(), sec_null),
        "tags any": (F("tags").contains_any(["role::program", "interface::x11"]),
                     has["role::program"] | has["interface::x11"]),
        "tags all": (F("tags").contains_all(["devel::library", "implemented-in::c"]),
                     has["devel::library"] & has["implemented-in::c"]),
        "tags any unknown": (F("tags").contains_any(["nope"]), np.zeros(N, bool)),
        "tags all empty": (F("tags").contains_all([]), ~tags_null),
        "tags null": (F("tags").is_null(), tags_null),
        "day range": (F("day").between("2005-01-01", dt.date(2010, 6, 30)),
                      (attrs["day"] >= np.datetime64("2005-01-01")) & (attrs["day"] <= np.datetime64("2010-06-30"))),
        "day after": (F("day") > dt.datetime(2020, 1, 1), attrs["day"] > np.datetime64("2020-01-01")),
        "flag": (F("flag") == True, attrs["flag"]),  # noqa: E712 (builds an expression)
        "and": ((F("year") >= 2010) & (F("section") == "libs"), (attrs["year"] >= 2010) & (section == "libs")),
        "or": ((F("year") < 1998) | F("tags").contains_any(["scope::utility"]),
               (attrs["year"] < 1998) | has["scope::utility"]),
        "not": (~(F("section") == "doc"), ~(section == "doc")),
        "nested": (~((F("price") > 20) | F("flag").is_null()) & F("year").between(2000, 2020),
                   ~(np.nan_to_num(price, nan=-1) > 20) & (attrs["year"] >= 2000) & (attrs["year"] <= 2020)),
    }


CASES = ["year>=2018", "year<2000", "year==2010", "year!=2010", "year between", "year isin", "price>50",
         "price<=10", "price!=0", "price null", "section==python", "section!=python", "section isin",
         "section unknown", "section null", "tags any", "tags all", "tags any unknown", "tags all empty",
         "tags null", "day range", "day after", "flag", "and", "or", "not", "nested"]


def test_cases_cover_every_reference(data):
    assert sorted(CASES) == sorted(_masks(data[1]))


@pytest.mark.parametrize("name", CASES)
def test_operator_matches_numpy_reference(data, name):
    index, attrs, vectors = data
    expr, mask = _masks(attrs)[name]
    np.testing.assert_array_equal(_matching(index, vectors, expr), np.flatnonzero(mask))


def test_random_expression_trees_match_reference(data):
    index, attrs, vectors = data
    leaves = list(_masks(attrs).values())
    rng = np.random.default_rng(7)
    for _ in range(40):
        def build(depth):
            if depth == 0 or rng.random() < 0.3:
                return leaves[int(rng.integers(0, len(leaves)))]
            op = int(rng.integers(0, 3))
            (le, lm), (re, rm) = build(depth - 1), build(depth - 1)
            if op == 0:
                return le & re, lm & rm
            if op == 1:
                return le | re, lm | rm
            return ~le, ~lm
        expr, mask = build(3)
        np.testing.assert_array_equal(_matching(index, vectors, expr), np.flatnonzero(mask))


def test_schema_is_inferred_then_enforced(data):
    index, attrs, vectors = data
    assert index.attribute_schema == {"year": "int", "price": "float", "section": "category", "tags": "tags",
                                      "day": "date", "flag": "bool"}
    before = len(index)
    with pytest.raises(FilterError, match="'year' is int"):
        index.add(vectors[:2], attributes={"year": ["x", "y"]})
    with pytest.raises(FilterError, match="unknown column 'colour'"):
        index.add(vectors[:2], attributes={"colour": ["red", "blue"]})
    with pytest.raises(ValueError, match="3 values for 2 vectors"):
        index.add(vectors[:2], attributes={"year": [1, 2, 3]})
    assert len(index) == before


@pytest.mark.parametrize("expr, message", [
    (F("colour") == "red", "unknown field 'colour'"),
    (F("section") == 3, "category .*cannot compare it with int"),
    (F("section") > "a", "only ==, != and isin"),
    (F("year") == "2010", "'year' is int; cannot compare it with str"),
    (F("year") == True, "'year' is int; cannot compare it with bool"),  # noqa: E712
    (F("tags") == "x", "holds tags"),
    (F("year").contains_any(["x"]), "needs a tags column"),
    (F("day") > 5, "is a date; cannot compare it with int"),
    (F("day") > "not a date", "is not a date"),
    (F("flag") > True, "only == and !="),
    (F("price") == float("nan"), "use is_null"),
    (F("section").between(1, 2), "between needs"),
])
def test_filter_errors(data, expr, message):
    index, _, vectors = data
    with pytest.raises(FilterError, match=message):
        index.search(vectors[0], k=5, filter=expr)


def test_expressions_have_no_truth_value():
    with pytest.raises(TypeError, match="no truth value"):
        bool(F("year") > 3)
    with pytest.raises(TypeError, match="cannot combine"):
        (F("year") > 3) & True


def test_set_attributes_and_deletes_change_what_matches():
    rng = np.random.default_rng(3)
    index = vecsearch.Index(4, M=8, ef_construction=32)
    vectors = rng.normal(size=(50, 4)).astype(np.float32)
    index.add(vectors, attributes={"colour": ["red"] * 25 + ["blue"] * 25, "n": np.arange(50)})
    red = lambda: np.sort(_matching(index, vectors, F("colour") == "red"))  # noqa: E731
    np.testing.assert_array_equal(red(), np.arange(25))
    index.set_attributes([30, 31], {"colour": ["red", "red"]})
    np.testing.assert_array_equal(red(), np.r_[np.arange(25), 30, 31])
    assert index.get_attributes([30, 0]) == {"colour": ["red", "red"], "n": [30, 0]}
    index.delete([0, 1, 30])
    np.testing.assert_array_equal(red(), np.r_[np.arange(2, 25), 31])
    # A re-added id takes its new attributes only: its old row must not admit it.
    index.add(vectors[:1], ids=[0], attributes={"colour": ["blue"], "n": [999]})
    assert 0 not in red()
    assert 0 in _matching(index, vectors, F("n") == 999)
    with pytest.raises(vecsearch.UnknownIdError):
        index.set_attributes([12345], {"colour": ["red"]})
    # A column set_attributes names and the index lacks is added, null for every other id.
    index.set_attributes([2], {"shape": ["round"]})
    np.testing.assert_array_equal(_matching(index, vectors, F("shape") == "round"), [2])
    assert index.get_attributes([3])["shape"] == [None]


def test_adds_without_attributes_are_null():
    index = vecsearch.Index(2)
    index.add(np.eye(2, dtype=np.float32), attributes={"k": [1, 2]})
    index.add(np.ones((1, 2), dtype=np.float32))
    ids, _ = index.search(np.ones(2, dtype=np.float32), k=5, filter=F("k").is_null(), plan="scan")
    assert ids[0, 0] == 2 and (ids[0, 1:] == vecsearch.MISSING_ID).all()


def test_pandas_and_arrow_inputs_equal_dict_input(data):
    pd = pytest.importorskip("pandas")
    pa = pytest.importorskip("pyarrow")
    _, attrs, vectors = data
    frame = pd.DataFrame({k: (list(v) if isinstance(v, list) else v) for k, v in attrs.items()})
    frame["section"] = frame["section"].astype("category")
    table = pa.Table.from_pandas(frame, preserve_index=False)
    by_dict = vecsearch.Index(8, M=8, ef_construction=32)
    by_dict.add(vectors, attributes=attrs)
    for source in (frame, table):
        other = vecsearch.Index(8, M=8, ef_construction=32)
        other.add(vectors, attributes=source)
        assert other.attribute_schema == by_dict.attribute_schema
        for name, (expr, _) in _masks(attrs).items():
            np.testing.assert_array_equal(_matching(other, vectors, expr), _matching(by_dict, vectors, expr), name)


@pytest.mark.parametrize("mmap", [False, True])
def test_attributes_survive_save_load_and_deletes(data, tmp_path, mmap):
    index, attrs, vectors = data
    copy = vecsearch.Index(8, M=8, ef_construction=32)
    copy.add(vectors, attributes=attrs)
    copy.delete(np.arange(0, N, 9))
    copy.set_attributes([1, 2], {"section": ["net", None], "tags": [["scope::utility"], None]})
    path = tmp_path / "attrs.vs"
    copy.save(path)
    loaded = vecsearch.Index.load(path, mmap=mmap)
    assert loaded.attribute_schema == copy.attribute_schema
    for name, (expr, _) in _masks(attrs).items():
        np.testing.assert_array_equal(_matching(loaded, vectors, expr), _matching(copy, vectors, expr), name)
    assert loaded.get_attributes([1, 2, 5]) == copy.get_attributes([1, 2, 5])
    loaded.add(vectors[:2], attributes={"year": [1, 2]})  # the loaded store keeps working
    assert len(_matching(loaded, vectors, F("year") == 1)) == 1


def test_loaded_index_without_attributes_gives_old_ids_null_rows(tmp_path):
    """Ids loaded from a file without attribute columns still have rows, so columns added later
    hold nulls for them and is_null() matches them."""
    x = np.random.default_rng(3).normal(size=(50, 4)).astype(np.float32)
    index = vecsearch.Index(4, M=4, ef_construction=16)
    index.add(x[:30])
    index.save(tmp_path / "plain.vs")
    loaded = vecsearch.Index.load(tmp_path / "plain.vs")
    loaded.add(x[30:], attributes={"n": np.arange(30, 50)})
    assert np.array_equal(_matching(loaded, x, F("n").is_null()), np.arange(30))
    assert np.array_equal(_matching(loaded, x, F("n") >= 40), np.arange(40, 50))


@pytest.mark.parametrize("ops, rows, message", [
    ([2], [], "lacks operands"),
    ([0], [], "too few row lists"),
    ([0, 0], [[1], [2]], "exactly one result"),
    ([1], [[1]], "unused row lists"),
    ([0], [[10**9]], "names row"),
    ([0], [[-1]], "names row"),
    ([9], [], "unknown op"),
])
def test_native_filter_programs_are_checked(data, ops, rows, message):
    """The compiled evaluator is callable directly (fuzzers do): a malformed program is an
    exception naming the problem, never a bad read."""
    index = data[0]
    with pytest.raises(ValueError, match=message):
        program = _core.FilterProgram(np.array(ops, dtype=np.uint8), [np.array(r, dtype=np.int64) for r in rows])
        index._core.evaluate_filters([program], index._attributes.row_slots, 1)


@pytest.mark.parametrize("ops, ranges, message", [
    ([5], [], "too few rank ranges"),
    ([1], [(np.zeros(4, dtype=np.uint32), 0, 1)], "unused rank ranges"),
    ([5], [(np.zeros(4, dtype=np.uint32), 3, 1)], "start <= stop"),
    ([5], [(np.zeros(4, dtype=np.uint32), -1, 1)], "start <= stop"),
    ([5], [(np.zeros((2, 2), dtype=np.uint32), 0, 1)], "1-d"),
    ([5], [(np.zeros(4, dtype=np.uint32), 0)], "rank range is"),
])
def test_native_rank_ranges_are_checked(data, ops, ranges, message):
    """Rank ranges (the wide-range leaves) are checked as row lists are: a clear exception."""
    index = data[0]
    with pytest.raises(ValueError, match=message):
        program = _core.FilterProgram(np.array(ops, dtype=np.uint8), [], ranges)
        index._core.evaluate_filters([program], index._attributes.row_slots, 1)
