"""What a search tells about each of its answers (``search(..., return_info=True)``): how many
live vectors match the query's filter, what answered it, and whether the answer is exact, so a
row shorter than k can be told apart: only that many matched, or the search missed some."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from vecsearch._validate import MISSING_ID

# The native Answered codes (csrc/filter/bitmap.h), in order, then the range index's.
ANSWERED = ("scan", "acorn", "post", "acorn_rerouted", "acorn_fallback", "post_fallback", "codes", "range")
# Answers computed exactly over every matching vector.
EXACT_PLANS = ("scan", "acorn_rerouted", "acorn_fallback", "post_fallback")


@dataclass(frozen=True)
class SearchInfo:
    """Per query (arrays of length nq):

    - ``found``: results in the row (k less the ``MISSING_ID`` padding);
    - ``matches``: live vectors that match the query's filter (all live vectors without one);
    - ``plan``: what answered: ``"walk"`` (unfiltered graph walk), ``"scan"`` (exact scan of the
      matching vectors), ``"acorn"`` or ``"post"`` (filtered walks), or the exact scan that replaced
      a walk: ``"acorn_rerouted"`` (the filter fails around the query), ``"acorn_fallback"`` /
      ``"post_fallback"`` (the walk met fewer matches than exist, or provably missed closer ones),
      ``"codes"`` (every match's 8-bit code scored, the best re-scored exactly) or ``"range"`` (the
      same over a range index's stretch of codes);
    - ``exact``: the row is the exact answer: an exact scan answered, or the walk returned every
      matching vector there is (never for a walk that may have missed some). With the vectors on
      disk (read per query) a scan scores the codes and reads only the best rows: not exact;
    - ``complete``: exact, and the row holds ``min(k, matches)`` results: a short complete row is
      short because only that many vectors match.
    """

    found: np.ndarray
    matches: np.ndarray
    plan: np.ndarray
    exact: np.ndarray
    complete: np.ndarray


def search_info(ids: np.ndarray, matches: np.ndarray, answered: Optional[np.ndarray], *,
                scans_exact: bool = True) -> SearchInfo:
    """The info of a filtered search's rows (answered: native codes) or, with `answered` None,
    of an unfiltered one (`matches`: the live count per query). `scans_exact` False: the scans
    scored codes and re-ranked the best (vectors on disk), so they are approximate too."""
    if answered is None:
        plan = np.full(ids.shape[0], "walk", dtype=object)
    else:
        plan = np.asarray(ANSWERED, dtype=object)[np.asarray(answered, dtype=np.intp)]
    return rows_info(ids, matches, plan, np.isin(plan, EXACT_PLANS) & scans_exact)


def rows_info(ids: np.ndarray, matches: Any, plan: np.ndarray, exact_by_plan: np.ndarray) -> SearchInfo:
    """The SearchInfo of result rows `ids` given each row's match count, plan and whether that
    plan computed it exactly; a row that holds every match there is is exact too."""
    found = (ids != MISSING_ID).sum(axis=1).astype(np.int64)
    matches = np.asarray(matches, dtype=np.int64)
    exact = exact_by_plan | (found == matches)
    complete = exact & (found == np.minimum(ids.shape[1], matches))
    return SearchInfo(found, matches, plan, exact, complete)
