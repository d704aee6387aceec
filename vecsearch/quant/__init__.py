"""Vector quantizers: compact uint8 codes with distances computed on the codes.

* :class:`SQ8` - 1 byte per dimension, per-dimension scalar quantization.
* :class:`PQ` - product quantization (``m`` bytes per vector at 8 bits), optional OPQ rotation.
* :class:`BinaryQuantizer` - 1 bit per dimension, Hamming distance.
"""
from __future__ import annotations

from vecsearch.quant.base import NotTrainedError, Quantizer
from vecsearch.quant.binary import BinaryQuantizer
from vecsearch.quant.pq import PQ
from vecsearch.quant.sq8 import SQ8

__all__ = ["Quantizer", "NotTrainedError", "PQ", "SQ8", "BinaryQuantizer"]
