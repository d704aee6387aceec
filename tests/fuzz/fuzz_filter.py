"""Fuzz the filter expression compiler: random expression trees over a fixed schema, with wrong
types, unknown fields, empty and huge value lists, combined with &, | and ~.

Every expression either raises FilterError (or TypeError for a malformed expression) or selects
exactly the rows a numpy reference selects; a crash, a hang, a sanitizer report, another
exception or a wrong answer is a bug.

Run: python tests/fuzz/fuzz_filter.py [libFuzzer flags, e.g. -max_total_time=60]
"""
from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    import numpy as np

    import vecsearch
    from vecsearch import F, FilterError

N = 300
RNG = np.random.default_rng(5)
YEAR = RNG.integers(1990, 2030, N)
PRICE = np.where(RNG.random(N) < 0.1, np.nan, RNG.random(N) * 100)
CATS = ["a", "b", "c", "d"]
SECTION = [None if RNG.random() < 0.1 else CATS[int(i)] for i in RNG.integers(0, 4, N)]
TAGS = [None if RNG.random() < 0.1 else sorted({"x", "y", "z", "w"} & set(RNG.choice(["x", "y", "z", "w"], 2)))
        for _ in range(N)]
FLAG = RNG.random(N) < 0.5
DAY = (np.datetime64("2000-01-01") + RNG.integers(0, 9000, N).astype("timedelta64[D]")).astype("datetime64[ns]")
INDEX = vecsearch.Index(4, M=4, ef_construction=16)
INDEX.add(RNG.normal(size=(N, 4)).astype(np.float32),
          attributes={"year": YEAR, "price": PRICE, "section": SECTION, "tags": TAGS, "flag": FLAG, "day": DAY})
QUERY = np.zeros(4, dtype=np.float32)
SEC = np.array([s if s is not None else "" for s in SECTION])
SEC_NULL = np.array([s is None for s in SECTION])
TAG_NULL = np.array([t is None for t in TAGS])
FIELDS = ["year", "price", "section", "tags", "flag", "day", "nope", ""]
OPS = ["==", "!=", "<", "<=", ">", ">="]


class Refused(Exception):
    """The reference's own verdict: this expression must raise FilterError/TypeError."""


def value(fdp):
    choice = fdp.ConsumeIntInRange(0, 9)
    return [fdp.ConsumeIntInRange(1980, 2040), fdp.ConsumeFloatInRange(-10, 110), CATS[fdp.ConsumeIntInRange(0, 3)],
            "zzz", None, True, float("nan"), "2005-06-07", np.datetime64("2010-01-01"), [1, 2]][choice]


def ref_compare(field, op, v):
    """numpy reference mask for F(field) <op> v, or Refused."""
    if field in ("year", "price"):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or (isinstance(v, float) and v != v):
            raise Refused
        arr = YEAR if field == "year" else PRICE
        valid = ~np.isnan(arr) if field == "price" else np.ones(N, bool)
        with np.errstate(invalid="ignore"):
            m = {"==": arr == v, "!=": arr != v, "<": arr < v, "<=": arr <= v, ">": arr > v, ">=": arr >= v}[op]
        return m & valid
    if field == "section":
        if op not in ("==", "!=") or not isinstance(v, str):
            raise Refused
        return (SEC == v) if op == "==" else ((SEC != v) & ~SEC_NULL)
    if field == "flag":
        if op not in ("==", "!=") or not isinstance(v, bool):
            raise Refused
        return (FLAG == v) if op == "==" else (FLAG != v)
    if field == "day":
        if isinstance(v, (bool, int, float)) or v is None or isinstance(v, list):
            raise Refused
        if isinstance(v, str) and v in CATS + ["zzz"]:
            raise Refused
        d = np.datetime64(v, "ns")
        return {"==": DAY == d, "!=": DAY != d, "<": DAY < d, "<=": DAY <= d, ">": DAY > d, ">=": DAY >= d}[op]
    raise Refused  # tags, unknown fields


def build(fdp, depth):
    """(expression, reference mask or Refused marker)."""
    kind = fdp.ConsumeIntInRange(0, 7 if depth > 0 else 4)
    field = FIELDS[fdp.ConsumeIntInRange(0, len(FIELDS) - 1)]
    if kind == 0:
        op, v = OPS[fdp.ConsumeIntInRange(0, 5)], value(fdp)
        expr = {"==": lambda: F(field) == v, "!=": lambda: F(field) != v, "<": lambda: F(field) < v,
                "<=": lambda: F(field) <= v, ">": lambda: F(field) > v, ">=": lambda: F(field) >= v}[op]()
        try:
            return expr, ref_compare(field, op, v)
        except Refused:
            return expr, Refused
    if kind == 1:
        tags = [["x", "y", "z", "w", "nope", 3][fdp.ConsumeIntInRange(0, 5)] for _ in range(
            fdp.ConsumeIntInRange(0, 4) if fdp.ConsumeIntInRange(0, 9) else 5000)]
        all_ = fdp.ConsumeBool()
        expr = F(field).contains_all(tags) if all_ else F(field).contains_any(tags)
        if field != "tags" or any(not isinstance(t, str) for t in tags):
            return expr, Refused
        sets = [set(t) if t is not None else None for t in TAGS]
        if all_:
            mask = np.array([s is not None and set(tags) <= s for s in sets])
        else:
            mask = np.array([s is not None and bool(set(tags) & s) for s in sets])
        return expr, mask
    if kind == 2:
        vals = [value(fdp) for _ in range(fdp.ConsumeIntInRange(0, 5) if fdp.ConsumeIntInRange(0, 9) else 3000)]
        expr = F(field).isin(vals)
        if field == "section" and all(isinstance(v, str) for v in vals):
            return expr, np.isin(SEC, vals) & ~SEC_NULL
        if field == "year" and all(isinstance(v, (int, float)) and not isinstance(v, bool) and v == v for v in vals):
            return expr, np.isin(YEAR, [v for v in vals if float(v).is_integer()])
        if field in ("section", "year", "price", "flag", "day", "tags", "nope", ""):
            try:
                masks = [ref_compare(field, "==", v) for v in vals]
            except Refused:
                return expr, Refused
            if field in ("price", "flag", "day"):
                return expr, np.logical_or.reduce(masks) if masks else np.zeros(N, bool)
        return expr, Refused
    if kind == 3:
        lo, hi = value(fdp), value(fdp)
        expr = F(field).between(lo, hi)
        if field in ("year", "price", "day"):
            try:
                return expr, ref_compare(field, ">=", lo) & ref_compare(field, "<=", hi)
            except Refused:
                return expr, Refused
        return expr, Refused
    if kind == 4:
        expr = F(field).is_null()
        nulls = {"year": np.zeros(N, bool), "price": np.isnan(PRICE), "section": SEC_NULL, "tags": TAG_NULL,
                 "flag": np.zeros(N, bool), "day": np.zeros(N, bool)}
        return expr, nulls.get(field, Refused)
    (le, lm), = [build(fdp, depth - 1)]
    if kind == 5:
        return ~le, (Refused if lm is Refused else ~lm)
    re_, rm = build(fdp, depth - 1)
    refused = lm is Refused or rm is Refused
    if kind == 6:
        return le & re_, (Refused if refused else lm & rm)
    return le | re_, (Refused if refused else lm | rm)


def TestOneInput(raw: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(raw)
    expr, mask = build(fdp, fdp.ConsumeIntInRange(0, 4))
    try:
        ids, _ = INDEX.search(QUERY, k=N, filter=expr, plan="scan")
    except (FilterError, TypeError):
        assert mask is Refused, "a valid filter was refused"
        return
    assert mask is not Refused, f"an invalid filter was accepted: {expr!r}"
    found = np.sort(ids[0][ids[0] != vecsearch.MISSING_ID].astype(np.int64))
    assert np.array_equal(found, np.flatnonzero(mask)), f"wrong rows for {expr!r}"


def main() -> None:
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
