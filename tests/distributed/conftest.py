"""One local Ray for the distributed tests (2 CPUs, no dashboard), started once per session.

Ray is imported unguarded: the README's test command installs the ``[ray]`` extra, so a missing
Ray fails these tests instead of skipping them. The sanitizer pass leaves this folder out (Ray's
own native processes are not built with the sanitizers).
"""
from __future__ import annotations

import numpy as np
import pytest
import ray


@pytest.fixture(scope="session")
def ray_local():
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=256 << 20)
    yield ray
    if started:
        ray.shutdown()


def exact_knn(data: np.ndarray, queries: np.ndarray, k: int, allowed: np.ndarray = None) -> np.ndarray:
    """Brute-force l2 neighbours (row numbers) of each query, among `allowed` rows if given."""
    d = (queries ** 2).sum(1)[:, None] - 2 * queries @ data.T + (data ** 2).sum(1)[None, :]
    if allowed is not None:
        d[:, ~allowed] = np.inf
    return np.argsort(d, axis=1, kind="stable")[:, :k]


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    hits = [len(set(f.tolist()) & set(t.tolist())) for f, t in zip(found, truth)]
    return float(np.sum(hits)) / truth.size


@pytest.fixture
def oracle():
    return exact_knn, recall
