"""Binary quantization: one bit per dimension, Hamming distance."""
from __future__ import annotations

from typing import Any

from vecsearch import _core
from vecsearch.quant.base import Quantizer

_THRESHOLDS = {"sign": 0, "mean": 1}


class BinaryQuantizer(Quantizer):
    """One bit per dimension: set when the value is above a per-dimension threshold.

    Codes take ``ceil(dim / 64) * 8`` bytes. :meth:`search` ranks by Hamming distance between
    the query's code and the stored codes (popcount, AVX-512 VPOPCNTDQ where available);
    re-rank the candidates with full vectors for accurate distances.

    Args:
        threshold: ``"sign"`` (0) or ``"mean"`` (the training mean of each dimension, better
            for data that is not centred).
        metric: the metric of the data, ``"l2"``, ``"ip"`` or ``"cosine"`` (cosine inputs are
            normalised before binarisation; Hamming ranks for every metric).
    """

    _kind = "binary"

    def __init__(self, threshold: str = "sign", metric: str = "l2") -> None:
        if threshold not in _THRESHOLDS:
            raise ValueError(f"threshold must be 'sign' or 'mean', got {threshold!r}")
        super().__init__(metric)
        self._threshold = threshold

    @property
    def threshold(self) -> str:
        """``"sign"`` or ``"mean"``."""
        return self._threshold

    def _make_codec(self, dim: int) -> Any:
        return _core.Codec("binary", dim, self._metric, threshold=_THRESHOLDS[self._threshold])

    def _options_from_codec(self) -> None:
        assert self._codec is not None  # called once a codec exists
        self._threshold = "mean" if int(self._codec.options()["threshold"]) == 1 else "sign"
