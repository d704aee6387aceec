"""SQ8: 8-bit scalar quantization per dimension."""
from __future__ import annotations

from typing import Any

from vecsearch import _core
from vecsearch.quant.base import Quantizer


class SQ8(Quantizer):
    """Per-dimension 8-bit scalar quantizer: one byte per dimension.

    Training learns each dimension's [min, max]; a value inside that range is reconstructed
    within half a quantization step, ``(max - min) / 510``. Distances are computed on the
    codes with SIMD, without decoding.

    Args:
        metric: ``"l2"``, ``"ip"`` or ``"cosine"``.
    """

    _kind = "sq8"

    def __init__(self, metric: str = "l2") -> None:
        super().__init__(metric)

    def _make_codec(self, dim: int) -> Any:
        return _core.Codec("sq8", dim, self._metric)
