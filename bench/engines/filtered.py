"""The filtered interface every filtered-search adapter implements.

A filtered method builds its index over the base (ids 0..n-1) with the attribute
columns, turns each case's filter into its library's form outside the timed region
(``prepare``), and answers a batch with that filter on one thread (``search``), one
curve per variant (vecsearch: one per plan). The suites sweep the knob with
:func:`bench.sweep.knob_values`, so every curve is tried until it reaches the stop
recall, runs under the QPS floor or converges.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..filtered_data import FilterCase
from ..records import BuildResult
from ..sweep import DEFAULT_KNOB_LIMIT
from .base import HNSWParams

__all__ = ["FilteredMethod", "per_query", "query_rows"]


def per_query(prepared: Any) -> bool:
    """Whether a prepared filter is one per query (a list) rather than shared by the batch."""
    return isinstance(prepared, list)


def query_rows(case: FilterCase) -> list[np.ndarray] | None:
    """Each query's allowed rows when the case's filter differs per query (the filtered
    suite's ``allowed`` arrays, the FANNS suite's masks); None for a shared filter."""
    if case.mask is not None:
        return None
    if case.allowed is not None:
        return [np.asarray(a, dtype=np.int64) for a in case.allowed]
    masks = getattr(case, "masks", None)
    assert masks is not None, "a case has a shared mask, allowed ids or per-query masks"
    return [np.flatnonzero(m) for m in masks]


class FilteredMethod(ABC):
    """One library's filtered k-NN search; ``curves`` are its variants (vecsearch: plans)."""

    name: str = ""
    #: variants measured as separate curves; "" for a method with one.
    curves: tuple[str, ...] = ("",)
    #: curves whose answer is exact whatever ef is: measured at one point.
    exact_curves: frozenset[str] = frozenset()
    #: the search knob the sweep turns (passed as ``ef``), and its largest value.
    knob: str = "ef"
    knob_limit: int = DEFAULT_KNOB_LIMIT

    def __init__(self, params: HNSWParams) -> None:
        self.params = params

    @property
    @abstractmethod
    def version(self) -> str:
        """Version string of the underlying library."""

    def label(self, curve: str) -> str:
        """Method name in tables and files: ``vecsearch-auto``, ``hnswlib``."""
        return f"{self.name}-{curve}" if curve else self.name

    @abstractmethod
    def build(
        self, data: np.ndarray, attributes: dict[str, Any], threads: int, progress: bool
    ) -> BuildResult | None:
        """Index ``data`` (ids 0..n-1) and time it; None when there is no index to build."""

    @abstractmethod
    def prepare(self, case: FilterCase) -> Any:
        """The case's filter in this library's form (untimed): a list with one item per
        query for per-query filters (so ``prepared[:count]`` serves the first queries),
        anything else for a filter shared by every query."""

    @abstractmethod
    def search(
        self, queries: np.ndarray, k: int, ef: int, prepared: Any, curve: str
    ) -> tuple[np.ndarray, int]:
        """Filtered search of every query on one thread.

        Returns:
            (ids int64 [nq, k] with -1 where nothing was returned,
            number of queries the library raised on; they return nothing).
        """

    def case_curves(self, case: FilterCase) -> tuple[str, ...]:
        """The curves measured on ``case`` (all of ``curves`` unless a method says otherwise)."""
        return self.curves

    def knob_start(self, efs: Sequence[int]) -> tuple[int, ...]:
        """Where this method's sweep starts, given the suite's ``--efs``."""
        return tuple(efs)

    def plan(self, case: FilterCase, queries: np.ndarray, k: int, ef: int, curve: str) -> str:
        """The plan the curve uses for the batch ``queries`` ("" when the method has no plans)."""
        return ""

    def close(self) -> None:
        """Release the index before the next method runs."""
