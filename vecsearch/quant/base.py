"""The shared shape of every quantizer: train on float vectors, encode to uint8 codes, decode,
brute-force search over codes, and serialisation to bytes.

The native codec (``vecsearch._core.Codec``) does the work; this layer converts and checks user
input, normalises vectors for the cosine metric, and maps a saved blob back to its class.
"""
from __future__ import annotations

from typing import Any, ClassVar, Dict, Optional, Tuple, Type

import numpy as np

from vecsearch import _core
from vecsearch._validate import MAX_DIM, METRICS, as_vectors, normalized, positive_int
from vecsearch.errors import DimensionError, DTypeError, VecsearchError


class NotTrainedError(VecsearchError, ValueError):
    """A quantizer was used (encode, decode, search, serialise) before :meth:`Quantizer.train`."""


class Quantizer:
    """Base class of :class:`~vecsearch.PQ`, :class:`~vecsearch.SQ8` and
    :class:`~vecsearch.BinaryQuantizer`.

    Distances returned by :meth:`search` follow the index convention: ``l2`` is the squared
    Euclidean distance to the decoded vector, ``ip`` and ``cosine`` are ``1 - dot`` (cosine
    inputs are normalised first). Binary codes rank by Hamming distance instead.
    """

    _kind: ClassVar[str] = ""
    _registry: ClassVar[Dict[str, Type["Quantizer"]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls._kind:
            Quantizer._registry[cls._kind] = cls

    def __init__(self, metric: str = "l2") -> None:
        if metric not in METRICS:
            raise ValueError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")
        self._metric = metric
        self._codec: Optional[Any] = None

    # -- subclass hooks -------------------------------------------------------------------
    def _make_codec(self, dim: int) -> Any:
        raise NotImplementedError

    def _train_codec(self, codec: Any, x: np.ndarray, threads: int) -> None:
        codec.train(x, threads)

    def _options_from_codec(self) -> None:
        """Sets constructor options from a restored codec (from_bytes)."""

    # -- properties -----------------------------------------------------------------------
    @property
    def kind(self) -> str:
        """``"sq8"``, ``"pq"`` or ``"binary"``: the codec this quantizer makes."""
        return self._kind

    @property
    def metric(self) -> str:
        """``"l2"``, ``"ip"`` or ``"cosine"``."""
        return self._metric

    @property
    def is_trained(self) -> bool:
        """Whether :meth:`train` (or :meth:`from_bytes`) has set the parameters."""
        return self._codec is not None and bool(self._codec.trained)

    @property
    def dim(self) -> int:
        """Vector dimension, known once trained."""
        return int(self._trained_codec().dim)

    @property
    def code_size(self) -> int:
        """Bytes per encoded vector."""
        return int(self._trained_codec().code_size)

    # -- operations -----------------------------------------------------------------------
    def train(self, x: Any, *, threads: int = 0) -> "Quantizer":
        """Learns the parameters from training vectors ``x`` [n, dim] (any float dtype).

        ``threads=0`` uses every hardware thread. Retraining replaces the previous state
        (codes made before are then meaningless). Returns ``self``.
        """
        arr = np.asarray(x)
        if arr.ndim != 2:
            raise DimensionError(f"training vectors must be a 2-d array [n, dim], got {arr.ndim}-d")
        dim = int(arr.shape[1])
        if not 1 <= dim <= MAX_DIM:
            raise DimensionError(f"dim must be between 1 and {MAX_DIM}, got {dim}")
        if arr.shape[0] == 0:
            raise ValueError("training needs at least one vector")
        arr = self._prepare_vectors(arr, dim, "training vectors")
        codec = self._make_codec(dim)
        self._train_codec(codec, arr, _threads(threads))
        self._codec = codec
        return self

    def encode(self, x: Any, *, threads: int = 0) -> np.ndarray:
        """Codes of vectors ``x`` [n, dim] as uint8 [n, code_size]."""
        codec = self._trained_codec()
        arr = self._prepare_vectors(x, int(codec.dim), "vectors")
        return codec.encode(arr, _threads(threads))

    def decode(self, codes: Any) -> np.ndarray:
        """Reconstructions float32 [n, dim] of uint8 ``codes`` [n, code_size]."""
        codec = self._trained_codec()
        return codec.decode(self._check_codes(codes))

    def search(self, codes: Any, queries: Any, k: int, *, threads: int = 0) -> Tuple[np.ndarray, np.ndarray]:
        """Exact k-nearest search over ``codes`` with the codec's distances.

        Returns ``(indices, distances)``, both [nq, k]: row positions in ``codes`` (int64, -1
        past the number of codes) and float32 distances (+inf past it), nearest first.
        """
        codec = self._trained_codec()
        k = positive_int(k, "k")
        c = self._check_codes(codes)
        q = self._prepare_vectors(queries, int(codec.dim), "queries")
        return codec.search(c, q, k, _threads(threads))

    def distances(self, codes: Any, queries: Any) -> np.ndarray:
        """All distances float32 [nq, n] from ``queries`` to ``codes`` (for re-ranking and tests)."""
        codec = self._trained_codec()
        c = self._check_codes(codes)
        q = self._prepare_vectors(queries, int(codec.dim), "queries")
        return codec.distances(c, q, False)

    def to_bytes(self) -> bytes:
        """The trained parameters as bytes; :meth:`Quantizer.from_bytes` restores them."""
        return bytes(self._trained_codec().serialize())

    @classmethod
    def from_bytes(cls, blob: bytes) -> "Quantizer":
        """A quantizer restored from :meth:`to_bytes` output, of the class that saved it.

        Raises:
            FormatError: the blob is truncated, corrupt or not a quantizer.
        """
        if not isinstance(blob, (bytes, bytearray, memoryview)):
            raise TypeError(f"blob must be bytes, got {type(blob).__name__}")
        codec = _core.Codec.restore(bytes(blob))
        target = Quantizer._registry[codec.kind]
        if cls is not Quantizer and not issubclass(target, cls):
            raise TypeError(f"blob holds a {target.__name__}, not a {cls.__name__}")
        q = target.__new__(target)
        Quantizer.__init__(q, codec.metric)
        q._codec = codec
        q._options_from_codec()
        return q

    def __repr__(self) -> str:
        state = f"dim={self.dim}, code_size={self.code_size}" if self.is_trained else "untrained"
        return f"{type(self).__name__}(metric={self._metric!r}, {state})"

    # -- helpers --------------------------------------------------------------------------
    def _trained_codec(self) -> Any:
        if self._codec is None or not self._codec.trained:
            raise NotTrainedError(f"{type(self).__name__} is not trained: call train(x) first")
        return self._codec

    def _prepare_vectors(self, x: Any, dim: int, what: str) -> np.ndarray:
        arr = as_vectors(x, dim, what)
        if self._metric == "cosine":
            arr = normalized(arr, what)
        return arr

    def _check_codes(self, codes: Any) -> np.ndarray:
        arr = np.asarray(codes)
        if arr.dtype != np.uint8:
            raise DTypeError(f"codes must have dtype uint8, got {arr.dtype}")
        if arr.ndim == 1:
            arr = arr[np.newaxis, :]
        size = int(self._trained_codec().code_size)
        if arr.ndim != 2 or arr.shape[1] != size:
            raise DimensionError(f"codes must be [n, {size}], got shape {arr.shape}")
        return np.ascontiguousarray(arr)


def _threads(threads: int) -> int:
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 0:
        raise ValueError(f"threads must be a non-negative integer (0 = all), got {threads!r}")
    return int(threads)
