"""ScaNN adapter: a k-means tree, anisotropic (AH) 4-bit codes, exact re-ordering.

The tree has about ``2 * sqrt(n)`` leaves (ScaNN's guidance is on the order of
sqrt(n)); codes are AH with 2 dimensions per 4-bit block and threshold 0.2, as in its
README; re-ordering re-scores candidates with float32. The knob is
``leaves_to_search``, and the candidates re-ordered grow with it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

import numpy as np
import scann

from ._version import dist_version
from .base import WholeBatchEngine
from .files import saved_bytes


class ScannEngine(WholeBatchEngine):
    name = "scann"
    codes = "ah4"
    knob = "leaves_to_search"

    @property
    def version(self) -> str:
        return dist_version("scann", scann)

    def knob_start(self, efs: Sequence[int]) -> tuple[int, ...]:
        # Leaves searched scale like ef / 4 on clustered data: start low enough to see the curve.
        return (1, 2, 4, 8, 16, 32)

    def build_all(self, data: np.ndarray, threads: int) -> None:
        n = data.shape[0]
        self.leaves = max(1, min(n, int(2 * math.sqrt(n))))
        self.knob_limit = self.leaves
        builder = (
            scann.scann_ops_pybind.builder(data, 10, "squared_l2")
            .tree(num_leaves=self.leaves, num_leaves_to_search=min(self.leaves, 16),
                  training_sample_size=min(n, 250_000))
            .score_ah(2, anisotropic_quantization_threshold=0.2)
            .reorder(100)
        )  # fmt: skip
        self.index = builder.build()
        self.index.set_num_threads(threads)

    def search(self, queries: np.ndarray, k: int, ef: int, threads: int) -> np.ndarray:
        self.index.set_num_threads(threads)
        leaves = max(1, min(ef, self.leaves))
        # search_batched runs on the calling thread; the parallel call spreads the batch
        call = self.index.search_batched if threads == 1 else self.index.search_batched_parallel
        ids, _ = call(
            queries, final_num_neighbors=k, leaves_to_search=leaves,
            pre_reorder_num_neighbors=max(100, 4 * leaves, k),
        )  # fmt: skip
        return np.asarray(ids, dtype=np.int64)

    def index_bytes(self) -> int | None:
        return saved_bytes(self._save)

    def _save(self, path: str) -> None:
        os.makedirs(path)
        self.index.serialize(path)
