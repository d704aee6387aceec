"""Product quantization with an optional OPQ rotation."""
from __future__ import annotations

from typing import Any

import numpy as np

from vecsearch import _core
from vecsearch._validate import positive_int
from vecsearch.quant.base import Quantizer


class PQ(Quantizer):
    """Product quantizer: ``m`` sub-quantizers of ``2**nbits`` centroids each.

    Each vector is cut into ``m`` sub-vectors of ``dim / m`` values, each stored as the byte
    index of its nearest centroid (``code_size == m``; ``nbits < 8`` means fewer centroids per
    byte, not packing). Centroids come from a native, seeded, multithreaded k-means on at most
    256 points per centroid. Search uses asymmetric distances through per-query lookup tables.

    Args:
        m: number of sub-quantizers; must divide the dimension.
        nbits: bits per sub-quantizer, 1..8.
        opq: learn an orthogonal rotation first (OPQ: alternating PQ training and a Procrustes
            fit), which spreads variance evenly over the sub-vectors and lowers the error.
        metric: ``"l2"``, ``"ip"`` or ``"cosine"``.
        seed: seed of the training sample, the k-means initialisation and the OPQ start.
        opq_iterations: alternations of the OPQ fit.
    """

    _kind = "pq"
    _OPQ_SAMPLE = 32768

    def __init__(self, m: int, nbits: int = 8, opq: bool = False, metric: str = "l2", seed: int = 0,
                 opq_iterations: int = 4) -> None:
        super().__init__(metric)
        self._m = positive_int(m, "m")
        self._nbits = positive_int(nbits, "nbits", maximum=8)
        self._opq = bool(opq)
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**63:
            raise ValueError(f"seed must be an integer in [0, 2**63), got {seed!r}")
        self._seed = int(seed)
        self._opq_iterations = positive_int(opq_iterations, "opq_iterations", maximum=100)

    @property
    def m(self) -> int:
        """Number of sub-quantizers (bytes per code)."""
        return self._m

    @property
    def nbits(self) -> int:
        """Bits per sub-quantizer."""
        return self._nbits

    @property
    def opq(self) -> bool:
        """Whether an OPQ rotation is applied."""
        return self._opq

    @property
    def rotation(self) -> "np.ndarray | None":
        """The OPQ rotation [dim, dim] (vectors are quantized as ``x @ rotation``), or None."""
        return self._trained_codec().rotation()

    def _make_codec(self, dim: int) -> Any:
        if dim % self._m != 0:
            raise ValueError(f"m={self._m} must divide the dimension {dim}")
        return _core.Codec("pq", dim, self._metric, m=self._m, nbits=self._nbits, opq=self._opq, seed=self._seed)

    def _train_codec(self, codec: Any, x: np.ndarray, threads: int) -> None:
        if len(x) < 2**self._nbits:
            raise ValueError(f"PQ with nbits={self._nbits} needs at least {2**self._nbits} training vectors, "
                             f"got {len(x)}")
        if self._opq:
            codec.set_rotation(self._learn_rotation(x, threads))
        codec.train(x, threads)

    def _learn_rotation(self, x: np.ndarray, threads: int) -> np.ndarray:
        """OPQ (non-parametric): alternately train PQ on x R and refit R to the reconstructions
        by orthogonal Procrustes, R = U V^T from the SVD of x^T y."""
        rng = np.random.default_rng(self._seed)
        n, dim = x.shape
        sample = x if n <= self._OPQ_SAMPLE else x[np.sort(rng.choice(n, self._OPQ_SAMPLE, replace=False))]
        sample64 = sample.astype(np.float64)
        rot, _ = np.linalg.qr(rng.standard_normal((dim, dim)))  # random orthogonal start
        for it in range(self._opq_iterations):
            xr = np.ascontiguousarray(sample64 @ rot, dtype=np.float32)
            pq = _core.Codec("pq", dim, "l2", m=self._m, nbits=self._nbits, seed=self._seed + it + 1)
            pq.train(xr, threads)
            y = pq.decode(pq.encode(xr, threads)).astype(np.float64)
            u, _, vt = np.linalg.svd(sample64.T @ y)
            rot = u @ vt
        return np.ascontiguousarray(rot, dtype=np.float32)

    def _options_from_codec(self) -> None:
        assert self._codec is not None  # called once a codec exists
        opts = self._codec.options()
        self._m, self._nbits, self._opq = int(opts["m"]), int(opts["nbits"]), bool(opts["opq"])
        self._seed = int(opts["seed"])
        self._opq_iterations = 4

    def __repr__(self) -> str:
        base = super().__repr__()[len("PQ("):]
        return f"PQ(m={self._m}, nbits={self._nbits}, opq={self._opq}, {base}"
