"""Quantized storage of an :class:`~vecsearch.Index`: which quantizer a ``storage=`` argument
names, when it is trained (on the first add, from a sample of it, unless given trained), and
the index's storage state (:class:`StorageState`: "auto" deciding, SQ8 codes trained again)."""
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


class StorageState:
    """How an :class:`~vecsearch.Index` keeps the codes its walks score with: the quantizer
    attached (None: float32), whether ``storage="auto"`` is still to decide, and whether the index
    trains its own SQ8 codes again as it grows. The index delegates each storage decision here and
    holds the write gate around the native attach; a save records :meth:`meta`, a load restores
    it with :meth:`restore`."""

    def __init__(self, index: Any) -> None:
        self._index = index
        self.quantizer: Any = None  # None: float32 storage; an untrained one waits for the first add
        self.auto = False  # storage="auto": SQ8 codes if a check on the data passes
        self.auto_pending = False  # ... and it has not decided yet
        self.retrains = False  # storage="sq8": the index trains its SQ8 codes again as it grows
        self.trained_on = 0  # rows the codes it retrains were last trained on (0: none)

    @property
    def kind(self) -> str:
        return "float32" if self.quantizer is None else self.quantizer.kind

    def configure(self, storage: Any, quantizer: Any) -> None:
        """The constructor's ``storage=`` on an empty index (a trained quantizer is attached now)."""
        self._take_mode(storage)
        self.quantizer = quantizer
        if quantizer is not None and quantizer.is_trained:
            self.attach(quantizer, 0)

    def switch(self, storage: Any, quantizer: Any, threads: int) -> None:
        """Index.set_storage on an index that may hold vectors."""
        ix = self._index
        self._take_mode(storage)
        self.trained_on = 0
        if self.auto_pending and len(ix) >= AUTO_MIN_ROWS:
            with ix._write_gate:
                ix._core.detach_codec()
                self.quantizer = None
            self._decide(threads)
            return
        with ix._write_gate:
            if quantizer is not None and not quantizer.is_trained and len(ix):
                quantizer.train(self._training_vectors())
                self.trained_on = len(ix) if self.retrains else 0
            if quantizer is not None and quantizer.is_trained:
                self.attach(quantizer, threads)
                return
            # float32 storage, or an untrained quantizer that the first add will train
            ix._core.detach_codec()
            self.quantizer = quantizer
            ix._filtered.storage_changed()

    def _take_mode(self, storage: Any) -> None:
        """"auto" decides later; "sq8" codes are the index's own, trained again as it grows."""
        self.auto = self.auto_pending = isinstance(storage, str) and storage == "auto"
        self.retrains = isinstance(storage, str) and storage == "sq8"

    def attach(self, quantizer: Any, threads: int, codes: Optional[np.ndarray] = None) -> None:
        """Makes a trained quantizer the one walks score with: it encodes every stored vector, or
        takes their `codes` [slots, code_size] when the caller encoded them (a disk build)."""
        self._index._core.attach_codec(quantizer.to_bytes(), codes, threads)
        self.quantizer = quantizer
        self._index._filtered.storage_changed()  # plan costs change with the storage

    def fix(self, quantizer: Any, threads: int, codes: np.ndarray) -> None:
        """A disk build's codes, encoded by the caller: they stay, never decided or trained again."""
        self.attach(quantizer, threads, codes)
        self.auto = self.auto_pending = False
        self.trained_on = 0

    def before_add(self, data: np.ndarray) -> None:
        """The first add trains an untrained quantizer; the codec then encodes every add natively.
        "auto" decides on a first add of AUTO_MIN_ROWS or more before its vectors are linked, so
        the build's beams score SQ8 codes too (Hnsw::insert), as later adds' do."""
        if self.auto_pending and len(self._index) == 0 and data.shape[0] >= AUTO_MIN_ROWS:
            self._decide(0, first_add=data)
            return
        q = self.quantizer
        if q is None or q.is_trained:
            return
        q.train(training_sample(data, self._index.seed))
        self.attach(q, 0)
        self.trained_on = data.shape[0] if self.retrains else 0

    def after_add(self, threads: int) -> None:
        """"auto" decides once the index holds AUTO_MIN_ROWS; codes the index trained itself are
        trained again when it has grown RETRAIN_GROWTH times over."""
        if self.auto_pending and len(self._index) >= AUTO_MIN_ROWS:
            self._decide(threads)
        elif retrain_due(self.trained_on, len(self._index)):
            self._retrain(threads)

    def meta(self) -> dict:
        """The fields a save records beside the quantizer itself."""
        meta: dict = {}
        if self.auto:  # "pending" until it has decided, then "decided"
            meta["storage_auto"] = "pending" if self.auto_pending else "decided"
        if self.trained_on:  # codes the index trains again as it grows
            meta["codes_trained_on"] = self.trained_on
        return meta

    def restore(self, quantizer: Any, auto: Any, trained_on: int, path: Any) -> None:
        """A loaded index's state: its quantizer (already attached natively), meta "storage_auto"
        and "codes_trained_on"."""
        from vecsearch.errors import FormatError

        if auto not in (None, "pending", "decided"):
            raise FormatError(f"{path}: meta field 'storage_auto' is {auto!r}, not 'pending' or 'decided'")
        self.quantizer = quantizer
        self.auto, self.auto_pending = auto is not None, auto == "pending"
        self.trained_on = trained_on
        self.retrains = trained_on > 0

    def _decide(self, threads: int, first_add: Optional[np.ndarray] = None) -> None:
        """storage="auto": SQ8 codes if they hold the neighbours on a sample of the index, or of
        the vectors of a first add (`first_add`) on an empty one."""
        ix = self._index
        if first_add is None:
            sample, rows = self._training_vectors(), len(ix)
        else:
            sample, rows = training_sample(first_add, ix.seed), first_add.shape[0]
        codec = auto_codes(sample, ix.metric, ix.seed)
        with ix._write_gate:
            if codec is not None:
                self.attach(codec, threads)
                self.trained_on = rows
            self.auto_pending = False

    def _retrain(self, threads: int) -> None:
        """Trains the SQ8 codes the index owns again, on a sample of all it now holds (see
        RETRAIN_GROWTH), and encodes every vector with them."""
        from vecsearch import quant

        ix = self._index
        codec = quant.SQ8(metric=ix.metric).train(self._training_vectors())
        with ix._write_gate:
            self.attach(codec, threads)
            self.trained_on = len(ix)

    def _training_vectors(self) -> np.ndarray:
        """The stored vectors of a seeded sample of up to TRAIN_SAMPLE live ids."""
        seed = self._index.seed
        return self._index._sample_vectors(lambda live: training_sample(live, seed))
