"""Exceptions raised by vecsearch.

Every class derives from :class:`VecsearchError` and from the builtin a caller would expect
(``ValueError``, ``TypeError``, ``KeyError``), so ``except ValueError`` keeps working.
The native core raises the same classes by name (``csrc/bindings/module.cpp``).
"""
from __future__ import annotations


class VecsearchError(Exception):
    """Base class of every vecsearch error."""


class DimensionError(VecsearchError, ValueError):
    """An array has the wrong number of dimensions or the wrong vector length."""


class DTypeError(VecsearchError, TypeError):
    """An array has a dtype that cannot be used (e.g. integer vectors, float ids)."""


class NonFiniteError(VecsearchError, ValueError):
    """Vectors or queries contain NaN or infinity."""


class DuplicateIdError(VecsearchError, ValueError):
    """An id is repeated within one call, or is already in the index."""


class UnknownIdError(VecsearchError, KeyError):
    """An id is not in the index."""

    def __str__(self) -> str:  # KeyError would print the message with quotes
        return str(self.args[0]) if self.args else ""


class EmptyIndexError(VecsearchError, ValueError):
    """A search was made on an index that holds no vectors."""


class FormatError(VecsearchError, ValueError):
    """A saved index file is not a vecsearch file, is truncated, or is corrupt."""


class FormatVersionError(FormatError):
    """A saved index file has a format version this vecsearch cannot read."""


class IncompleteIndexError(FormatError):
    """The index file was never completed: its build was interrupted (what it left behind, the
    ``<path>.building`` file, does not load) or is still running."""


class MemoryBudgetError(VecsearchError, ValueError):
    """An index cannot be held within the ``memory_budget`` it was given."""





class ShardError(VecsearchError, RuntimeError):
    """A shard of a :class:`vecsearch.distributed.ShardedIndex` cannot answer: its actor died
    (and no replica is left), or it restarted without the changes made since its last save.
    ``shard`` is its number."""

    def __init__(self, shard: int, why: str) -> None:
        super().__init__(f"shard {shard}: {why}")
        self.shard = shard

    def __reduce__(self):  # Ray and pickle rebuild it from (shard, why)
        return (type(self), (self.shard, str(self).split(": ", 1)[1]))


class FilterSyntaxError(VecsearchError, ValueError):
    """A filter string does not parse: ``position`` is the character where it went wrong, and
    the message says what was expected there."""

    def __init__(self, text: str, position: int, problem: str) -> None:
        excerpt = text if len(text) <= 120 else text[:120] + "..."
        caret = " " * min(position, len(excerpt)) + "^"
        super().__init__(f"filter syntax error at position {position}: {problem}\n  {excerpt}\n  {caret}")
        self.text, self.position, self.problem = text, position, problem

    def __reduce__(self):  # pickle (and Ray) rebuild it from its three parts
        return (type(self), (self.text, self.position, self.problem))


class _StaleFilterError(VecsearchError):
    """Internal: the index changed between building a filter bitmap and searching with it;
    the search rebuilds the bitmap and tries again."""


class InvalidArgumentError(VecsearchError, ValueError):
    """The native core refused an argument (a wrong dtype, shape or range). The Python API checks
    its input first, so this reaches callers of ``vecsearch._core`` itself, or marks a bug."""


class FilterError(VecsearchError, ValueError):
    """A filter or attribute value does not fit the schema: unknown field, a value of the wrong
    type for its column, an operator the column kind does not support."""


__all__ = [
    "VecsearchError",
    "DimensionError",
    "DTypeError",
    "NonFiniteError",
    "DuplicateIdError",
    "UnknownIdError",
    "EmptyIndexError",
    "FormatError",
    "FormatVersionError",
    "FilterError",
    "FilterSyntaxError",
    "IncompleteIndexError",
    "InvalidArgumentError",
    "MemoryBudgetError",
    "ShardError",
]
