"""Filters written as text: every operator selects what the same filter written with F selects
(match counts and exact-scan answers on one index), bad strings raise FilterSyntaxError naming
the position and what was expected, and bad columns or values raise FilterError as F does."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

import vecsearch
from vecsearch import F, FilterError, FilterSyntaxError
from vecsearch.filters.text import MAX_DEPTH, parse_filter

N, DIM = 3000, 8


@pytest.fixture(scope="module")
def index():
    rng = np.random.default_rng(11)
    idx = vecsearch.Index(DIM, M=8, ef_construction=40)
    year = rng.integers(2000, 2030, N).astype(float)
    year[rng.random(N) < 0.1] = np.nan  # nulls
    section = [None if rng.random() < 0.1 else ["libs", "doc", "it's", "AND"][int(i)] for i in rng.integers(0, 4, N)]
    tags = [None if rng.random() < 0.1 else sorted(set(rng.choice(["x", "y", "z"], 2))) for _ in range(N)]
    day = (np.datetime64("2010-01-01") + rng.integers(0, 4000, N).astype("timedelta64[D]")).astype("datetime64[ns]")
    idx.add(rng.normal(size=(N, DIM)).astype(np.float32), attributes={
        "year": year, "section": section, "tags": tags, "flag": rng.random(N) < 0.3, "day": day,
        "and": rng.integers(0, 3, N)})
    return idx


PAIRS = [
    ("year = 2018", F("year") == 2018),
    ("year == 2018", F("year") == 2018),
    ("year != 2018", F("year") != 2018),
    ("year <> 2018", F("year") != 2018),
    ("year < 2010", F("year") < 2010),
    ("year <= 2010", F("year") <= 2010),
    ("year > 2020.5", F("year") > 2020.5),
    ("year >= 2020", F("year") >= 2020),
    ("year BETWEEN 2005 AND 2009", F("year").between(2005, 2009)),
    ("year NOT BETWEEN 2005 AND 2009", ~F("year").between(2005, 2009) & ~F("year").is_null()),
    ("section IN ('libs', 'doc')", F("section").isin(["libs", "doc"])),
    ("section NOT IN ('libs')", ~F("section").isin(["libs"]) & ~F("section").is_null()),
    ("section = 'it''s'", F("section") == "it's"),
    ('section = "AND"', F("section") == "AND"),
    ("year IS NULL", F("year").is_null()),
    ("section IS NOT NULL", ~F("section").is_null()),
    ("tags CONTAINS ANY ('x', 'z')", F("tags").contains_any(["x", "z"])),
    ("tags CONTAINS ALL ('x', 'y')", F("tags").contains_all(["x", "y"])),
    ("tags NOT CONTAINS ANY ('x')", ~F("tags").contains_any(["x"])),
    ("flag = TRUE", F("flag") == True),  # noqa: E712 - F builds an expression
    ("flag != false", F("flag") != False),  # noqa: E712
    ("day >= DATE '2015-06-01'", F("day") >= dt.date(2015, 6, 1)),
    ("day < TIMESTAMP '2012-01-01T12:00:00'", F("day") < np.datetime64("2012-01-01T12:00:00")),
    ("day BETWEEN '2011-01-01' AND '2012-01-01'", F("day").between("2011-01-01", "2012-01-01")),
    ("`and` = 1", F("and") == 1),
    ("NOT year = 2018", ~(F("year") == 2018)),
    ("year >= 2018 AND section IN ('libs', 'doc') AND NOT tags CONTAINS ANY ('x', 'y')",
     (F("year") >= 2018) & F("section").isin(["libs", "doc"]) & ~F("tags").contains_any(["x", "y"])),
    ("year < 2005 or year > 2025 and flag = true",
     (F("year") < 2005) | ((F("year") > 2025) & (F("flag") == True))),  # noqa: E712
    ("(year < 2005 OR year > 2025) AND flag = TRUE",
     ((F("year") < 2005) | (F("year") > 2025)) & (F("flag") == True)),  # noqa: E712
    ("NOT (section = 'libs' OR section IS NULL)", ~((F("section") == "libs") | F("section").is_null())),
]


@pytest.mark.parametrize("text,expr", PAIRS, ids=[p[0] for p in PAIRS])
def test_text_selects_what_the_F_filter_selects(index, text, expr):
    q = np.random.default_rng(3).normal(size=(4, DIM)).astype(np.float32)
    want = index.explain(q[0], expr).matches
    assert index.explain(q[0], text).matches == want
    assert 0 < want < N or text in ("year = 2018", "year == 2018")  # the cases select something real
    got_ids, got_d = index.search(q, k=20, filter=text, plan="scan")
    want_ids, want_d = index.search(q, k=20, filter=expr, plan="scan")
    np.testing.assert_array_equal(got_ids, want_ids)
    np.testing.assert_array_equal(got_d, want_d)


def test_text_parses_to_the_F_tree():
    assert parse_filter("a >= 3 AND b IN ('x')").key() == ((F("a") >= 3) & F("b").isin(["x"])).key()


def test_per_query_strings(index):
    q = np.random.default_rng(4).normal(size=(3, DIM)).astype(np.float32)
    texts = ["year < 2010", "section = 'doc'", "year < 2010"]
    got, _ = index.search(q, k=5, filter=texts, plan="scan")
    want, _ = index.search(q, k=5, filter=[F("year") < 2010, F("section") == "doc", F("year") < 2010], plan="scan")
    np.testing.assert_array_equal(got, want)


BAD = [
    ("", 0, "expected a column name"),
    ("year >=", 7, "expected a value"),
    ("year >= 2018 AND", 16, "expected a column name"),
    ("year 2018", 5, "expected a comparison"),
    ("section IN ('a',", 16, "expected a value"),
    ("section IN 'a'", 11, "expected '('"),
    ("section IN ()", 12, "expected a value"),
    ("and = 3", 0, "`and`"),
    ("((year = 1)", 11, "expected ')'"),
    ("year = 1)", 8, "expected AND, OR or the end"),
    ("year = 1 year = 2", 9, "expected AND, OR or the end"),
    ("day = DATE '2020-13-01'", 11, "not a valid DATE"),
    ("day = DATE 2020", 11, "expected a quoted date"),
    ("year = @", 7, "unexpected character '@'"),
    ("section = 'abc", 10, "unterminated string"),
    ("`year = 1", 0, "unterminated name"),
    ("tags CONTAINS ('x')", 14, "expected ANY or ALL"),
    ("tags CONTAINS ANY (1)", 19, "expected a quoted string"),
    ("year NOT = 3", 9, "expected BETWEEN, IN or CONTAINS after NOT"),
    ("year IS 3", 8, "expected NULL after IS"),
    ("year BETWEEN 1 OR 2", 15, "expected AND between"),
    ("(" * (MAX_DEPTH + 1) + "a = 1" + ")" * (MAX_DEPTH + 1), MAX_DEPTH, "nested more than"),
]


@pytest.mark.parametrize("text,position,problem", BAD, ids=[b[0][:30] for b in BAD])
def test_bad_strings_name_the_position_and_what_was_expected(text, position, problem):
    with pytest.raises(FilterSyntaxError) as raised:
        parse_filter(text)
    assert isinstance(raised.value, ValueError)
    assert raised.value.position == position, str(raised.value)
    assert problem in str(raised.value)
    assert f"position {position}" in str(raised.value)


def test_unknown_column_and_wrong_type_name_the_column(index):
    q = np.zeros(DIM, np.float32)
    with pytest.raises(FilterError, match="'nope'"):
        index.search(q, filter="nope = 1")
    with pytest.raises(FilterError, match="'year'"):
        index.search(q, filter="year = 'abc'")
    with pytest.raises(FilterError, match="'section'"):
        index.search(q, filter="section < 'b'")


def test_long_chains_stay_shallow(index):
    text = " AND ".join(f"year != {100_000 + i}" for i in range(5000))  # no year is one of them
    q = np.zeros(DIM, np.float32)
    assert index.explain(q, text).matches == index.explain(q, ~F("year").is_null()).matches


def test_syntax_errors_pickle():
    import pickle

    with pytest.raises(FilterSyntaxError) as raised:
        parse_filter("year >")
    again = pickle.loads(pickle.dumps(raised.value))
    assert str(again) == str(raised.value) and again.position == raised.value.position
