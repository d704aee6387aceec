"""Quantized storage of an :class:`~vecsearch.Index`: which quantizer a ``storage=`` argument
names, and when it is trained (on the first add, from a sample of it, unless given trained)."""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

STORAGES = ("auto", "float32", "sq8", "pq", "binary")
# "auto" decides once the index holds this many vectors (fewer say little about the data).
AUTO_MIN_ROWS = 1_000
# The check of "auto": true neighbours among the code's nearest, on a sample of the data.
AUTO_QUERIES, AUTO_BASE, AUTO_K, AUTO_DEPTH, AUTO_RECALL = 100, 10_000, 10, 40, 0.99
# Vectors of the first add that train an untrained quantizer (a seeded sample when larger).
TRAIN_SAMPLE = 65_536
# SQ8 codes the index trained itself ("auto", "sq8") are trained again, on a sample of all it
# holds, each time it has grown this many times over since, until they were trained on a full
# TRAIN_SAMPLE: a range learnt on the first rows clips later ones, and the clipped codes widen
# the error that bounds how deep a walk re-ranks. Geometric, so re-encoding costs O(n) in all.
RETRAIN_GROWTH = 2


def resolve_storage(storage: Any, dim: int, metric: str) -> Optional[Any]:
    """The quantizer for ``storage`` (None for float32 storage).

    ``storage`` is ``"float32"``, ``"sq8"``, ``"pq"`` (``dim / 4`` sub-quantizers of 8 bits,
    or the largest divisor of ``dim`` below that), ``"binary"``, or a
    :class:`vecsearch.quant.Quantizer` (trained or not) of the index's dim.
    """
    from vecsearch import quant

    if isinstance(storage, str):
        if storage in ("float32", "auto"):  # auto starts as float32 until it has decided
            return None
        if storage == "sq8":
            return quant.SQ8(metric=metric)
        if storage == "pq":
            return quant.PQ(default_pq_m(dim), nbits=8, metric=metric)
        if storage == "binary":
            return quant.BinaryQuantizer(metric=metric)
        raise ValueError(f"unknown storage {storage!r}; expected one of {', '.join(STORAGES)} or a Quantizer")
    if isinstance(storage, quant.Quantizer):
        if storage.is_trained and storage.dim != dim:
            from vecsearch.errors import DimensionError

            raise DimensionError(f"the quantizer was trained on dim {storage.dim}, the index has dim {dim}")
        return storage
    raise TypeError(f"storage must be a string or a vecsearch.quant.Quantizer, got {type(storage).__name__}")


def auto_codes(sample: np.ndarray, metric: str, seed: int) -> Optional[Any]:
    """What ``storage="auto"`` walks with, from a sample of the data: SQ8 (trained on it) when
    its code distances keep the true neighbours near the top, else None (float32).

    The check: AUTO_QUERIES rows of the sample are queries against up to AUTO_BASE others; the
    exact AUTO_K nearest of each must be, at a rate of AUTO_RECALL, among the AUTO_DEPTH
    nearest by code distance. A walk re-ranks its whole beam (at least AUTO_DEPTH wide at the
    default ef), so codes that pass lose nothing a re-rank cannot restore; data whose values
    span ranges that 256 levels per dimension cannot resolve (a few huge outliers) fail it.
    """
    from vecsearch import quant
    from vecsearch.datasets.ground_truth import exact_knn

    rng = np.random.default_rng(seed)
    rows = rng.permutation(sample.shape[0])
    queries = np.ascontiguousarray(sample[rows[:AUTO_QUERIES]])
    base = np.ascontiguousarray(sample[rows[AUTO_QUERIES:AUTO_QUERIES + AUTO_BASE]])
    codec = quant.SQ8(metric=metric).train(sample)
    truth, _ = exact_knn(base, queries, AUTO_K, metric, progress=False)
    near, _ = codec.search(codec.encode(base), queries, AUTO_DEPTH)
    hits = sum(np.isin(t, n).sum() for t, n in zip(truth, near))
    return codec if hits >= AUTO_RECALL * truth.size else None


def retrain_due(trained_on: int, count: int) -> bool:
    """Whether codes trained on ``trained_on`` rows (0: not the index's to retrain) are due to be
    trained again now that the index holds ``count``."""
    return 0 < trained_on < TRAIN_SAMPLE and count >= RETRAIN_GROWTH * trained_on


def default_pq_m(dim: int) -> int:
    """Sub-quantizers of the default PQ: one byte per 4 dimensions (96 bytes for 384-d vectors),
    fine enough that a graph walk steered by its distances still finds the true neighbours."""
    target = max(1, dim // 4)
    return max(m for m in range(1, target + 1) if dim % m == 0)


def training_sample(data: np.ndarray, seed: int) -> np.ndarray:
    """Up to TRAIN_SAMPLE rows of ``data``, drawn without replacement."""
    if data.shape[0] <= TRAIN_SAMPLE:
        return data
    rows = np.sort(np.random.default_rng(seed).choice(data.shape[0], TRAIN_SAMPLE, replace=False))
    return np.ascontiguousarray(data[rows])
