"""Quantized storage of an :class:`~vecsearch.Index`: which quantizer a ``storage=`` argument
names, and when it is trained (on the first add, from a sample of it, unless given trained)."""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

STORAGES = ("float32", "sq8", "pq", "binary")
# Vectors of the first add that train an untrained quantizer (a seeded sample when larger).
TRAIN_SAMPLE = 65_536


def resolve_storage(storage: Any, dim: int, metric: str) -> Optional[Any]:
    """The quantizer for ``storage`` (None for float32 storage).

    ``storage`` is ``"float32"``, ``"sq8"``, ``"pq"`` (``dim / 4`` sub-quantizers of 8 bits,
    or the largest divisor of ``dim`` below that), ``"binary"``, or a
    :class:`vecsearch.quant.Quantizer` (trained or not) of the index's dim.
    """
    from vecsearch import quant

    if isinstance(storage, str):
        if storage == "float32":
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
