"""Shared fixtures of the harness's tests."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from vecsearch.datasets import clustered_dataset


@pytest.fixture
def debian_layout(tmp_path: Path) -> Callable[..., Path]:
    """make(n, nq, dim, seed) -> a folder laid out as debian-minilm's vectors (base.npy and
    queries.npy), filled with the seeded clustered set, for `--data debian:<folder>`."""
    def make(n: int, nq: int, dim: int, seed: int) -> Path:
        base, queries = clustered_dataset(n, nq, dim, seed=seed)
        root = tmp_path / "debian-minilm"
        root.mkdir()
        np.save(root / "base.npy", base)
        np.save(root / "queries.npy", queries)
        return root

    return make
