"""One local Ray for the distributed tests (2 CPUs, no dashboard), started once per session.

Ray is imported unguarded: the README's test command installs the ``[ray]`` extra, so a missing
Ray fails these tests instead of skipping them. The sanitizer pass leaves this folder out (Ray's
own native processes are not built with the sanitizers).
"""
from __future__ import annotations

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

