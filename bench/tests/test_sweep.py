"""The self-extending sweep: starts from the list, doubles past it, stops when told."""

import pytest

from bench.sweep import curve_done, knob_values


def test_list_then_doubling_until_done():
    measured: list[int] = []
    for v in knob_values([10, 20], lambda: bool(measured) and measured[-1] >= 160):
        measured.append(v)
    assert measured == [10, 20, 40, 80, 160]


def test_stops_inside_the_list():
    measured: list[int] = []
    for v in knob_values([10, 20, 40, 80], lambda: bool(measured) and measured[-1] >= 20):
        measured.append(v)
    assert measured == [10, 20]


def test_limit_is_reached_once_and_never_passed():
    assert list(knob_values([100, 300], lambda: False, limit=1000)) == [100, 300, 600, 1000]
    assert list(knob_values([5, 2000], lambda: False, limit=1000)) == [5, 10, 20, 40, 80, 160, 320, 640, 1000]


def test_bad_start():
    with pytest.raises(ValueError):
        list(knob_values([], lambda: False))
    with pytest.raises(ValueError):
        list(knob_values([0, 4], lambda: False))


def test_curve_done():
    assert not curve_done([], [], stop_recall=0.99, min_qps=10)
    assert curve_done([0.5, 0.991], [100, 50], stop_recall=0.99, min_qps=10)
    assert curve_done([0.5, 0.6], [100, 5], stop_recall=0.99, min_qps=10)
    assert not curve_done([0.5, 0.6], [100, 50], stop_recall=0.99, min_qps=10)
