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
    # converged: three steps without a 0.001 gain (a code's recall ceiling)
    assert curve_done([0.9, 0.9912, 0.9913, 0.9915, 0.9915], [9] * 5, stop_recall=0.995, min_qps=1)
    assert not curve_done([0.9, 0.95, 0.97, 0.98], [9] * 4, stop_recall=0.995, min_qps=1)


class _RisingEngine:
    """A fake engine whose recall grows with the knob: full only from knob 640 on."""

    name = "rising"
    knob = "ef"
    knob_limit = 4096

    def __init__(self, truth):
        self.truth = truth
        self.calls: list[int] = []

    def knob_start(self, efs):
        return tuple(efs)

    def search(self, queries, k, ef, threads):
        import numpy as np

        self.calls.append(ef)
        right = min(k, ef * k // 640)
        ids = np.full((queries.shape[0], k), -1, dtype=np.int64)
        ids[:, :right] = self.truth[:, :right]
        return ids


def test_unfiltered_sweep_extends_past_the_list_until_the_stop_recall():
    import numpy as np

    from bench.measure import sweep

    truth = np.arange(50).reshape(5, 10)
    engine = _RisingEngine(truth)
    points = list(sweep(engine, np.zeros((5, 4), np.float32), truth, k=10, efs=(10, 40), threads=1,
                        reps=1, stop_recall=0.99, progress=False))
    assert [p.ef for p in points] == [10, 40, 80, 160, 320, 640]
    assert points[-1].recall == 1.0
