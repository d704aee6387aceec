"""Fuzz the filter string parser: arbitrary text, and strings assembled from the grammar's own
tokens (names, keywords, literals, operators, parentheses) so most inputs get deep into it.

A string either raises FilterSyntaxError (a ValueError naming a position inside the string),
or parses to an expression that the index then evaluates or refuses with FilterError. A crash,
a hang, a RecursionError, a sanitizer report or any other exception is a bug.

Run: python tests/fuzz/fuzz_filter_text.py [libFuzzer flags, e.g. -max_total_time=60]
"""
from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    import numpy as np

    import vecsearch
    from vecsearch import FilterError, FilterSyntaxError
    from vecsearch.filters.text import parse_filter

N = 200
RNG = np.random.default_rng(7)
INDEX = vecsearch.Index(4, M=4, ef_construction=16)
INDEX.add(RNG.normal(size=(N, 4)).astype(np.float32), attributes={
    "year": RNG.integers(1990, 2030, N),
    "price": RNG.random(N) * 100,
    "section": [["a", "b", "c"][int(i)] for i in RNG.integers(0, 3, N)],
    "tags": [["x"] if i % 3 else ["x", "y"] for i in range(N)],
    "flag": RNG.random(N) < 0.5,
    "day": (np.datetime64("2000-01-01") + RNG.integers(0, 9000, N).astype("timedelta64[D]")).astype("datetime64[ns]"),
})
QUERY = np.zeros(4, dtype=np.float32)
TOKENS = ["year", "price", "section", "tags", "flag", "day", "nope", "`and`", "AND", "OR", "NOT", "IN", "BETWEEN",
          "IS", "NULL", "CONTAINS", "ANY", "ALL", "TRUE", "FALSE", "DATE", "TIMESTAMP", "(", ")", ",", "=", "==",
          "!=", "<>", "<", "<=", ">", ">=", "2018", "-3", "2.5", "1e3", ".5", "'a'", "'x'", "'it''s'", '"y"',
          "'2005-06-07'", "'2005-13-40'", "'2010-01-01T12:00:00'", "'", "`", "@", "\n"]


def one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    if fdp.ConsumeBool():
        text = fdp.ConsumeUnicodeNoSurrogates(400)
    else:
        text = " ".join(TOKENS[fdp.ConsumeIntInRange(0, len(TOKENS) - 1)] for _ in range(fdp.ConsumeIntInRange(0, 60)))
    try:
        expr = parse_filter(text)
    except FilterSyntaxError as e:
        assert isinstance(e, ValueError) and 0 <= e.position <= len(text), (text, e.position)
        return
    try:
        plan = INDEX.explain(QUERY, expr)
    except FilterError:
        return
    assert 0 <= plan.matches <= N


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
