"""Sweeps that extend themselves until they reach the target recall, or cannot.

Every suite sweeps a search knob (HNSW ``ef``, SVS ``search_window_size``, IVF
``nprobe``, ScaNN ``leaves_to_search``) over a starting list. A fixed list would
let a method "never reach" the target only because it was not tried far enough,
so after the list the knob keeps doubling until the caller says the curve is
done (recall reached the stop target, or QPS fell under the floor) or the knob
hits the method's own limit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

#: Where doubling stops when a method names no limit of its own.
DEFAULT_KNOB_LIMIT = 16384


def knob_values(
    start: Sequence[int], done: Callable[[], bool], *, limit: int = DEFAULT_KNOB_LIMIT
) -> Iterator[int]:
    """Yield ``start`` in ascending order, then keep doubling the largest, until ``done()``.

    ``done`` is asked before each value after the first: the caller measures the
    value it was given, records the point, and ``done`` reads that record.
    Values above ``limit`` are never yielded (``limit`` itself is, once).

    Args:
        start: the initial values (deduplicated and sorted here); must be positive.
        done: True once the curve needs no larger value.
        limit: the largest knob value the method accepts.
    """
    values = sorted({int(v) for v in start})
    if not values or values[0] < 1:
        raise ValueError(f"sweep values must be positive, got {list(start)}")
    last = 0
    for i, value in enumerate(v for v in values if v <= limit):
        if i and done():
            return
        last = value
        yield value
    while last < limit and not done():
        last = min(2 * last, limit)
        yield last


#: A curve whose recall rose less than this over its last PLATEAU_POINTS steps has converged.
PLATEAU_GAIN = 0.001
PLATEAU_POINTS = 3


def curve_done(
    recalls: Sequence[float], qpss: Sequence[float], *, stop_recall: float, min_qps: float
) -> bool:
    """The stop rule: the last point reached ``stop_recall``, ran under ``min_qps``, or the
    recall has stopped rising (a code's ceiling: more knob only costs time)."""
    if not recalls:
        return False
    if recalls[-1] >= stop_recall or qpss[-1] < min_qps:
        return True
    return (
        len(recalls) > PLATEAU_POINTS
        and recalls[-1] - recalls[-1 - PLATEAU_POINTS] < PLATEAU_GAIN
    )
