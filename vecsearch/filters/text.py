"""Filters written as text, parsed to the same expression tree as ``F(...)``.

    year >= 2018 AND section IN ('libs', 'doc') AND NOT tags CONTAINS ANY ('x', 'y')

Grammar (keywords in any case; ``NOT`` binds tighter than ``AND``, ``AND`` than ``OR``)::

    filter    := or
    or        := and ( OR and )*
    and       := not ( AND not )*
    not       := NOT not | '(' filter ')' | predicate
    predicate := column op value                      op: = == != <> < <= > >=
               | column [NOT] BETWEEN value AND value
               | column [NOT] IN '(' value (',' value)* ')'
               | column IS [NOT] NULL
               | column [NOT] CONTAINS (ANY | ALL) '(' string (',' string)* ')'
    column    := name | `any text`                   (backticks for names that are keywords)
    value     := number | 'string' | "string" | TRUE | FALSE | DATE 'YYYY-MM-DD'
               | TIMESTAMP 'YYYY-MM-DDTHH:MM:SS'      (quotes inside a string are doubled)

Null semantics are those of ``F``: a comparison is false on a null value, so ``x != 1``,
``x NOT IN (...)`` and ``x NOT BETWEEN a AND b`` exclude nulls, while a leading ``NOT`` is the
plain complement (``NOT x = 1`` includes them). A malformed string raises FilterSyntaxError (a
ValueError) naming the position and what was expected; an unknown column or a value of the
wrong type raises FilterError when the filter is used, as with ``F``.
"""
from __future__ import annotations

import datetime as _dt
import functools
import re
from typing import Any, Callable, List, NamedTuple, NoReturn

import numpy as np

from vecsearch.errors import FilterSyntaxError
from vecsearch.filters.expr import And, Between, Compare, Contains, Expr, IsIn, IsNull, Not, Or

# Parentheses and NOTs nested deeper than this are refused (not a RecursionError).
MAX_DEPTH = 100
# Filter strings longer than this are refused: a filter is a predicate, not a data file.
MAX_LENGTH = 100_000

KEYWORDS = {"AND", "OR", "NOT", "IN", "BETWEEN", "IS", "NULL", "CONTAINS", "ANY", "ALL", "TRUE", "FALSE",
            "DATE", "TIMESTAMP"}
COMPARISONS = {"=": "==", "==": "==", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![A-Za-z_]))
  | (?P<string>'(?:[^']|'')*'|"(?:[^"]|"")*")
  | (?P<quoted>`[^`]+`)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op><=|>=|!=|<>|==|=|<|>)
  | (?P<punct>[(),])
""", re.VERBOSE)


class Token(NamedTuple):
    kind: str  # number, string, quoted, word, op, punct, end
    text: str
    pos: int

    def describe(self) -> str:
        return "the end of the filter" if self.kind == "end" else repr(self.text)


def tokenize(text: str) -> List[Token]:
    tokens, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            if text[pos] in "'\"`":
                raise FilterSyntaxError(text, pos, f"unterminated {'name' if text[pos] == '`' else 'string'}")
            raise FilterSyntaxError(text, pos, f"unexpected character {text[pos]!r}")
        if m.lastgroup != "space":
            tokens.append(Token(str(m.lastgroup), m.group(), pos))
        pos = m.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


def parse_filter(text: str) -> Expr:
    """The expression a filter string denotes."""
    if not isinstance(text, str):
        raise TypeError(f"a filter string must be str, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise FilterSyntaxError(text[:40] + "...", 40, f"the filter is longer than {MAX_LENGTH} characters")
    return _parse_cached(text)


@functools.lru_cache(maxsize=4096)  # per-query filter lists repeat their strings
def _parse_cached(text: str) -> Expr:
    return _Parser(text).parse()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0

    # -- tokens -----------------------------------------------------------------------------

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def is_keyword(self, *words: str) -> bool:
        return self.tok.kind == "word" and self.tok.text.upper() in words

    def take_keyword(self, word: str) -> bool:
        if self.is_keyword(word):
            self.i += 1
            return True
        return False

    def expect_keyword(self, word: str, context: str) -> None:
        if not self.take_keyword(word):
            self.fail(f"expected {word} {context}")

    def expect_punct(self, char: str, context: str) -> None:
        if self.tok.kind != "punct" or self.tok.text != char:
            self.fail(f"expected {char!r} {context}")
        self.i += 1

    def fail(self, expected: str) -> NoReturn:
        raise FilterSyntaxError(self.text, self.tok.pos, f"{expected}, found {self.tok.describe()}")

    # -- grammar ----------------------------------------------------------------------------

    def parse(self) -> Expr:
        expr = self.disjunction()
        if self.tok.kind != "end":
            self.fail("expected AND, OR or the end of the filter")
        return expr

    def disjunction(self) -> Expr:
        return self.chain("OR", self.conjunction, Or)

    def conjunction(self) -> Expr:
        return self.chain("AND", self.negation, And)

    def chain(self, word: str, operand: Callable[[], Expr], node: Any) -> Expr:
        terms = [operand()]
        while self.take_keyword(word):
            terms.append(operand())
        return _balanced(terms, node)  # a long chain stays shallow, so evaluating it cannot recurse deeply

    def negation(self) -> Expr:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FilterSyntaxError(self.text, self.tok.pos, f"nested more than {MAX_DEPTH} deep (parentheses and NOTs)")
        try:
            if self.take_keyword("NOT"):
                return Not(self.negation())
            if self.tok.kind == "punct" and self.tok.text == "(":
                self.i += 1
                inner = self.disjunction()
                self.expect_punct(")", "to close the parenthesis")
                return inner
            return self.predicate()
        finally:
            self.depth -= 1

    def predicate(self) -> Expr:
        field = self.column()
        if self.tok.kind == "op":
            op = COMPARISONS[self.tok.text]
            self.i += 1
            return Compare(field, op, self.value(f"after {op}"))
        if self.take_keyword("IS"):
            negated = self.take_keyword("NOT")
            self.expect_keyword("NULL", "after IS" + (" NOT" if negated else ""))
            return Not(IsNull(field)) if negated else IsNull(field)
        negated = self.take_keyword("NOT")
        if self.take_keyword("BETWEEN"):
            lo = self.value("after BETWEEN")
            self.expect_keyword("AND", "between the two bounds of BETWEEN")
            expr: Expr = Between(field, lo, self.value("after BETWEEN ... AND"))
        elif self.take_keyword("IN"):
            expr = IsIn(field, tuple(self.values("IN", string_only=False)))
        elif self.take_keyword("CONTAINS"):
            if not self.is_keyword("ANY", "ALL"):
                self.fail("expected ANY or ALL after CONTAINS")
            every = self.tok.text.upper() == "ALL"
            self.i += 1
            tags = self.values("CONTAINS " + ("ALL" if every else "ANY"), string_only=True)
            return Not(Contains(field, tuple(tags), all=every)) if negated else Contains(field, tuple(tags), all=every)
        else:
            return self.fail("expected BETWEEN, IN or CONTAINS after NOT" if negated else
                             "expected a comparison (=, !=, <, <=, >, >=), BETWEEN, IN, IS or CONTAINS")
        # Like !=, the negated forms are false on nulls.
        return And(Not(expr), Not(IsNull(field))) if negated else expr

    def column(self) -> str:
        tok = self.tok
        if tok.kind == "quoted":
            self.i += 1
            return tok.text[1:-1]
        if tok.kind == "word" and tok.text.upper() not in KEYWORDS:
            self.i += 1
            return tok.text
        if tok.kind == "word":
            self.fail(f"expected a column name (write `{tok.text}` for a column named like the keyword)")
        return self.fail("expected a column name")

    def values(self, context: str, string_only: bool) -> list:
        self.expect_punct("(", f"after {context}")
        out = [self.value(f"in the list of {context}", string_only)]
        while self.tok.kind == "punct" and self.tok.text == ",":
            self.i += 1
            out.append(self.value(f"in the list of {context}", string_only))
        self.expect_punct(")", f"to close the list of {context}")
        return out

    def value(self, context: str, string_only: bool = False) -> Any:
        tok = self.tok
        if tok.kind == "string":
            self.i += 1
            return tok.text[1:-1].replace(tok.text[0] * 2, tok.text[0])
        if string_only:
            return self.fail(f"expected a quoted string {context}")
        if tok.kind == "number":
            self.i += 1
            if re.fullmatch(r"[-+]?\d+", tok.text):
                return int(tok.text)
            return float(tok.text)
        if self.is_keyword("TRUE", "FALSE"):
            self.i += 1
            return tok.text.upper() == "TRUE"
        if self.is_keyword("DATE", "TIMESTAMP"):
            self.i += 1
            literal = self.tok
            if literal.kind != "string":
                self.fail(f"expected a quoted date after {tok.text.upper()}")
            self.i += 1
            return _date(self.text, literal, tok.text.upper())
        return self.fail(f"expected a value (number, 'string', TRUE, FALSE, DATE '...') {context}")


def _date(text: str, tok: Token, kind: str) -> Any:
    raw = tok.text[1:-1]
    try:
        if kind == "DATE":
            return _dt.date.fromisoformat(raw)
        return np.datetime64(raw, "ns")
    except ValueError:
        expected = "YYYY-MM-DD" if kind == "DATE" else "YYYY-MM-DDTHH:MM:SS"
        raise FilterSyntaxError(text, tok.pos, f"{raw!r} is not a valid {kind} ({expected})") from None


def _balanced(terms: List[Expr], node: Any) -> Expr:
    while len(terms) > 1:
        terms = [node(terms[j], terms[j + 1]) if j + 1 < len(terms) else terms[j] for j in range(0, len(terms), 2)]
    return terms[0]
