"""build_on_disk: an index from a source larger than RAM, streamed into its file.

The vectors go, block by block, into a writable mapping of ``<path>.building`` that the graph
is built over, so RAM holds the graph, the ids and one block while the page cache holds what
the kernel can of the vectors. Then the quantizer is trained on a random sample of the rows,
every row is encoded in a sequential pass that reads the file through a buffer, and the index
file is written (vectors copied from the spill file, checksummed) and renamed into place.

While rows are added, the graph is checkpointed (vecsearch/disk/checkpoint.py) every
``checkpoint_seconds``: a build that is killed or interrupted is continued by the same call,
from its last checkpoint, and the file it finishes is the one an uninterrupted build writes.
"""
from __future__ import annotations

import os
import time
import warnings
from typing import Any, Dict, Optional, Tuple

import numpy as np

from vecsearch._persist import save_index
from vecsearch._progress import progress as progress_bar
from vecsearch._storage import TRAIN_SAMPLE, resolve_storage
from vecsearch._validate import positive_int
from vecsearch.disk.budget import estimate_bytes, plan_memory, quantizer_for
from vecsearch.disk.checkpoint import (checkpoint_path, read_checkpoint, remove_checkpoint, restore_checkpoint,
                                       write_checkpoint)
from vecsearch.disk.sources import open_source
from vecsearch.disk.spill import SpillFile
from vecsearch.errors import MemoryBudgetError
from vecsearch.quant.refine import REFINE_FLOATS_BYTES, encode_refine, refine_m, train_refine

# Rows per add call and per encode pass: big enough to keep the native threads busy, small
# enough that Ctrl-C and the progress bar are served every second or so.
BLOCK_ROWS = 32_768


def build_on_disk(
    path: Any,
    source: Any,
    *,
    metric: str = "l2",
    storage: Any = "pq",
    M: int = 16,
    ef_construction: int = 200,
    seed: int = 0,
    ef_search: int = 64,
    rerank: Optional[int] = None,
    ids: Any = None,
    attributes: Any = None,
    memory_budget: Optional[int] = None,
    sample_size: int = TRAIN_SAMPLE,
    column: Optional[str] = None,
    num_threads: Optional[int] = None,
    progress: Optional[bool] = None,
    load: bool = True,
    disk_io: str = "pread",
    checkpoint_seconds: float = 300.0,
    refine: Any = "auto",
) -> Any:
    """Builds an index of `source` into the file `path` without holding the vectors in RAM,
    and returns it loaded with ``vectors_on_disk=True`` (or None with ``load=False``).

    Args:
        path: the index file; it appears (atomically) only when complete. Meanwhile the vectors
            live in ``<path>.building``, which ``Index.load(path)`` reports as an interrupted
            build if the process dies.
        source: a float array [n, dim] (a ``np.memmap`` is read block by block), a vector file
            (``.npy``, ``.fbin``, ``.fvecs``, ``.bvecs``, ...; memory-mapped), a ``.parquet`` file
            with one list<float> column (``column=``), or an iterable of [rows, dim] arrays.
        storage: the codes kept in RAM: ``"sq8"``, ``"pq"``, ``"binary"``, a
            :class:`vecsearch.quant.Quantizer`, or ``"auto"``: the most faithful codes that fit
            ``memory_budget`` (see :func:`plan_memory`).
        memory_budget: bytes of RAM the finished index may hold, vectors on disk not counted;
            checked before the build starts (MemoryBudgetError when it cannot be met). Needs a
            source of known length.
        sample_size: rows drawn at random from the whole source to train the quantizer.
        ids, attributes: as for :meth:`Index.add`, for the whole source in order (arrays,
            a dict of arrays, a DataFrame or a pyarrow Table, sliced block by block).
        metric, M, ef_construction, seed, ef_search, rerank: as for :class:`Index`.
        num_threads, progress: build threads; a tqdm bar (default: for large sources).
        disk_io: how the returned index reads re-ranked rows (see :meth:`Index.load`).
        refine: a second, finer code in RAM of what PQ codes miss (vecsearch.quant.refine), so
            that a search reads from disk only the candidates that can still enter its top k:
            ``"auto"`` (default: one of the walk code's size when storage is PQ and it fits
            ``memory_budget``), a number of sub-quantizers, or None.
        checkpoint_seconds: how often the graph of the rows added so far is saved beside the
            build (``<path>.checkpoint``). A call whose build of `path` was killed or interrupted
            (Ctrl-C) resumes from the last checkpoint when the source and parameters are the
            same (a RuntimeWarning names the row it continues from); otherwise it starts over.

    Raises:
        MemoryBudgetError: the budget cannot hold the index. ValueError, DimensionError,
        NonFiniteError, ...: bad input, as for :meth:`Index.add` (the partial build is removed).
    """
    from vecsearch.index import Index

    src = open_source(source, BLOCK_ROWS, column=column)
    sample_size = positive_int(sample_size, "sample_size")
    quantizer, refine_subspaces = _codes_for(storage, refine, src.dim, src.count, metric, M, memory_budget)
    params = {"dim": src.dim, "metric": metric, "M": M, "ef_construction": ef_construction, "seed": seed}
    fingerprint = {**params, "rows": src.count, "ids": ids is not None,
                   "attributes": sorted(attributes) if isinstance(attributes, dict) else attributes is not None}
    if not checkpoint_seconds >= 0:
        raise ValueError(f"checkpoint_seconds must be a non-negative number of seconds, got {checkpoint_seconds!r}")
    index, spill, done = _start(path, src, params, fingerprint, ef_search)
    index.ef_search = ef_search
    finished = False
    try:
        index._core.use_external_vectors(spill.array, copy=False)
        count = _stream(index, src, spill, ids, attributes, num_threads, progress,
                        done, _Checkpoints(index, path, spill, fingerprint, checkpoint_seconds))
        _encode(index, quantizer, refine_subspaces, spill, count, sample_size, seed, num_threads, progress)
        index.rerank = rerank
        save_index(index, path, vectors=spill.region(count))
        finished = True
    except Exception:
        remove_checkpoint(path)  # bad input or a failed write: nothing to resume
        raise
    finally:
        del index
        # Killed or interrupted (Ctrl-C): keep the vectors the checkpoint names.
        spill.close(keep=not finished and os.path.exists(checkpoint_path(path)))
    remove_checkpoint(path)
    return Index.load(path, vectors_on_disk=True, disk_io=disk_io) if load else None


def _start(path: Any, src: Any, params: Dict[str, Any], fingerprint: Dict[str, Any], ef_search: int) -> Any:
    """(index, spill file, rows already added): resumed from this build's checkpoint, or new."""
    from vecsearch.index import Index

    ckpt = read_checkpoint(path, fingerprint)
    if ckpt is not None:
        rows = ckpt.meta.get("rows")
        spill = SpillFile(path, src.dim, src.count or BLOCK_ROWS, keep_rows=rows if isinstance(rows, int) else 0)
        try:
            index, done = restore_checkpoint(ckpt, spill.array, params)
        except BaseException:
            spill.close(keep=True)  # a later call may still resume (or start over) from it
            raise
        warnings.warn(f"resuming the build of {os.fspath(path)} from row {done} (its last checkpoint)",
                      RuntimeWarning, stacklevel=3)
        return index, spill, done
    remove_checkpoint(path)  # another build's, or none
    index = Index(params["dim"], params["metric"], M=params["M"], ef_construction=params["ef_construction"],
                  seed=params["seed"], ef_search=ef_search, storage="float32")  # its codes come at the end
    return index, SpillFile(path, src.dim, src.count or BLOCK_ROWS), 0


class _Checkpoints:
    """Writes a checkpoint after an add when `seconds` have passed since the last one."""

    def __init__(self, index: Any, path: Any, spill: SpillFile, fingerprint: Dict[str, Any], seconds: float):
        self.index, self.path, self.spill, self.fingerprint = index, path, spill, fingerprint
        self.seconds = float(seconds)
        self.last = time.monotonic()

    def after(self, rows: int) -> None:
        if time.monotonic() - self.last >= self.seconds:
            write_checkpoint(self.index, self.path, rows, self.spill.array, self.fingerprint)
            self.last = time.monotonic()


def _codes_for(storage: Any, refine: Any, dim: int, count: Optional[int], metric: str, M: int,
               budget: Optional[int]) -> Tuple[Any, int]:
    """The (untrained or trained) quantizer of the build and its refine code's sub-quantizer
    count (0: none), checked against the budget."""
    if budget is not None:
        budget = positive_int(budget, "memory_budget")
        if count is None:
            raise ValueError("memory_budget needs a source of known length (an array or a file), "
                             "not an iterable")
    if storage == "auto":
        if budget is None or count is None:
            raise ValueError("storage='auto' chooses codes for a memory_budget: pass memory_budget=")
        quantizer = quantizer_for(plan_memory(count, dim, budget, M=M)["storage"], metric)
    else:
        quantizer = resolve_storage(storage, dim, metric)
        if quantizer is None:
            raise ValueError("build_on_disk keeps compact codes in RAM: storage must be 'sq8', 'pq', 'binary', "
                             "'auto' or a Quantizer (float32 walks would read the disk at every step)")
    subspaces = refine_m(refine, quantizer, dim)
    if budget is None or count is None:
        return quantizer, subspaces
    code_size = _code_size(quantizer, dim)
    need = estimate_bytes(count, dim, code_size + (subspaces + REFINE_FLOATS_BYTES if subspaces else 0), M=M)
    if need > budget and subspaces and refine == "auto":  # the refine code is what gives way
        subspaces = 0
        need = estimate_bytes(count, dim, code_size, M=M)
    if need > budget:
        refined = f" and {subspaces}-byte refine codes" if subspaces else ""
        raise MemoryBudgetError(
            f"{count} vectors with {quantizer.kind} codes{refined} need about {need / 2**20:.1f} MiB of RAM, over "
            f"the memory_budget of {budget / 2**20:.1f} MiB; storage='auto' picks codes that fit")
    return quantizer, subspaces


def _code_size(quantizer: Any, dim: int) -> int:
    if quantizer.is_trained:
        return quantizer.code_size
    return {"sq8": dim, "binary": (dim + 7) // 8}.get(quantizer.kind) or quantizer.m


def _stream(index: Any, src: Any, spill: SpillFile, ids: Any, attributes: Any, num_threads: Optional[int],
            progress: Optional[bool], done: int, checkpoints: _Checkpoints) -> int:
    """Adds the blocks of `src` after its first `done` rows to `index`, whose vectors live in
    `spill`; returns the count."""
    skip = done
    with progress_bar(src.count or 0, "vecsearch build", progress if src.count else bool(progress),
                      initial=done) as bar:
        for block in src.blocks:
            if skip:  # rows a resumed build already holds
                taken = min(skip, len(block))
                skip -= taken
                block = block[taken:]
                if not len(block):
                    continue
            n = len(block)
            if spill.ensure(done + n):
                index._core.use_external_vectors(spill.array, copy=False)
            index.add(block, None if ids is None else np.asarray(ids)[done:done + n],
                      attributes=_slice(attributes, done, done + n), num_threads=num_threads, progress=False)
            done += n
            bar.update(n)
            checkpoints.after(done)
    if done == 0:
        raise ValueError("the vector source is empty")
    if skip:
        raise ValueError(f"the source has fewer rows than the {done} its checkpoint holds")
    if ids is not None and len(ids) != done:
        raise ValueError(f"got {len(ids)} ids for {done} vectors")
    return done


def _slice(attributes: Any, start: int, stop: int) -> Any:
    if attributes is None:
        return None
    if isinstance(attributes, dict):
        return {name: values[start:stop] for name, values in attributes.items()}
    if hasattr(attributes, "iloc"):  # pandas
        return attributes.iloc[start:stop]
    if hasattr(attributes, "slice"):  # pyarrow
        return attributes.slice(start, stop - start)
    raise TypeError(f"attributes must be a dict, a DataFrame or a pyarrow Table, got {type(attributes).__name__}")


def _encode(index: Any, quantizer: Any, refine_subspaces: int, spill: SpillFile, count: int, sample_size: int,
            seed: int, num_threads: Optional[int], progress: Optional[bool]) -> None:
    """Trains `quantizer` (and a refine code of `refine_subspaces`, when not 0) on a random
    sample of the rows, encodes every row, attaches the codes."""
    threads = 0 if num_threads is None else positive_int(num_threads, "num_threads")
    rows = np.sort(np.random.default_rng(seed).choice(count, min(sample_size, count), replace=False))
    sample = np.ascontiguousarray(spill.array[rows]) if not quantizer.is_trained or refine_subspaces else None
    if sample is not None and not quantizer.is_trained:
        quantizer.train(sample, threads=threads)
    refine = None
    if sample is not None and refine_subspaces:
        refine = train_refine(quantizer, sample, refine_subspaces, seed=seed, threads=threads)
    del sample
    codes = np.empty((count, quantizer.code_size), dtype=np.uint8)
    if refine is not None:
        fine = np.empty((count, refine.code_size), dtype=np.uint8)
        terms = np.empty(count, dtype=np.float32)
        errors = np.empty(count, dtype=np.float32)
    # Through a file buffer, not the mapping: a sequential pass must not pin every page.
    with open(spill.path, "rb") as f, progress_bar(count, "vecsearch encode", progress) as bar:
        for start in range(0, count, BLOCK_ROWS):
            n = min(BLOCK_ROWS, count - start)
            block = np.fromfile(f, dtype=np.float32, count=n * spill.dim).reshape(n, spill.dim)
            codes[start:start + n] = quantizer.encode(block, threads=threads)
            if refine is not None:
                fine[start:start + n], terms[start:start + n], errors[start:start + n] = encode_refine(
                    quantizer, refine, block, codes[start:start + n], index.metric, threads=threads)
            bar.update(n)
    index._storage.fix(quantizer, threads, codes)  # the codes chosen here stay
    if refine is not None:
        index._core.attach_refine(refine.to_bytes(), fine, terms, errors)
