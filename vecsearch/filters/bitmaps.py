"""Slot bitmaps of the filters of one search call, with their match counts and the mutation
epoch they are valid for.

Expressions are compiled (vecsearch/filters/program.py) and evaluated natively in one call, in
parallel, with the GIL released; numba cfuncs are called natively over live ids; Python
callables (the slow path) are called once per live id; arrays of ids are mapped to slots.
"""
from __future__ import annotations

from typing import Any, Tuple

import numpy as np

from vecsearch._validate import as_ids
from vecsearch.attributes.store import NO_SLOT
from vecsearch.errors import _StaleFilterError
from vecsearch.filters.cfunc import compiled_predicate_address
from vecsearch.filters.expr import Expr
from vecsearch.filters.program import compile_filters
from vecsearch.filters.batch import FilterBatch


def filter_bitmaps(core: Any, store: Any, batch: FilterBatch, threads: int = 0):
    """(bitmaps [filters, words], match counts, epoch) of a batch's distinct filters."""
    filters = batch.filters
    if batch.expressions_only:  # the common case: one native call for every distinct filter
        return evaluate_expressions(core, store, filters, threads)
    if len(filters) > 1 and all(_is_id_array(f) for f in filters):  # one id lookup for the batch
        bitmaps, epoch = id_array_bitmaps(core, filters)
        return bitmaps, _popcount_rows(bitmaps), epoch
    exprs = [i for i, f in enumerate(filters) if isinstance(f, Expr)]
    built = {i: _bitmap_of(core, store, f) for i, f in enumerate(filters) if i not in set(exprs)}
    if exprs:
        words, _, epoch = evaluate_expressions(core, store, [filters[i] for i in exprs], threads)
        built.update((i, (words[row], epoch)) for row, i in enumerate(exprs))
    epochs = {epoch for _, epoch in built.values()}
    if len(epochs) != 1:
        raise _StaleFilterError("the index changed while the filters were built")
    width = max(words.shape[0] for words, _ in built.values())
    bitmaps = np.zeros((len(built), width), dtype=np.uint64)
    for row, (words, _) in built.items():
        bitmaps[row, : words.shape[0]] = words
    return bitmaps, _popcount_rows(bitmaps), epochs.pop()


def evaluate_expressions(core: Any, store: Any, exprs: list, threads: int) -> Tuple[np.ndarray, np.ndarray, int]:
    """(bitmaps, match counts, epoch) of filter expressions, evaluated natively in parallel."""
    with store.lock:  # columns and row slots stay as compiled until the native call returns
        programs = compile_filters(exprs, store)
        return core.evaluate_filters(programs, store.row_slots, threads)


def _is_id_array(filter: Any) -> bool:
    return not isinstance(filter, Expr) and not callable(filter) and np.ndim(filter) >= 1


def id_array_bitmaps(core: Any, id_arrays: list) -> Tuple[np.ndarray, int]:
    """(bitmaps [len(id_arrays), words], epoch) of arrays of allowed ids, one per query: one
    native lookup of every id, then the bits set with numpy, instead of a call and a bitmap
    copy per query (which costs more than a scan of a few hundred matches)."""
    arrays = [as_ids(f, "filter ids") for f in id_arrays]
    epoch = core.epoch()
    width = (core.slot_count() + 63) // 64 + 1  # as the native bitmaps: a spare word
    ids = np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.uint64)
    slots = core.slots_of(ids, missing_ok=True)  # ids not in the index are ignored
    if core.epoch() != epoch:
        raise _StaleFilterError("the index changed while the filters were built")
    rows = np.repeat(np.arange(len(arrays), dtype=np.int64), [a.shape[0] for a in arrays])
    present = slots != NO_SLOT
    rows, slots = rows[present], slots[present].astype(np.int64)
    # OR each id's bit into its word: sort by word, then one reduceat over each word's bits.
    word = rows * width + (slots >> 6)
    order = np.argsort(word, kind="stable")
    word = word[order]
    bits = np.left_shift(np.uint64(1), (slots[order] & 63).astype(np.uint64))
    bitmaps = np.zeros((len(arrays), width), dtype=np.uint64)
    if word.size:
        starts = np.flatnonzero(np.r_[True, word[1:] != word[:-1]])
        bitmaps.reshape(-1)[word[starts]] = np.bitwise_or.reduceat(bits, starts)
    return bitmaps, epoch


def _bitmap_of(core: Any, store: Any, filter: Any) -> Tuple[np.ndarray, int]:
    """(slot bitmap words, epoch) of one filter that is not an expression: a numba cfunc or
    Python callable over ids, or an array of allowed ids."""
    address = compiled_predicate_address(filter)
    if address is not None:
        return core.predicate_to_bitmap(address)
    if callable(filter):  # the slow path: one Python call per live id
        with store.lock:
            live = store.ids[store.alive]
        keep = np.fromiter((bool(filter(i)) for i in live.tolist()), dtype=bool, count=live.shape[0])
        return core.ids_to_bitmap(np.ascontiguousarray(live[keep]))
    return core.ids_to_bitmap(as_ids(filter, "filter ids"))


def _popcount_rows(words: np.ndarray) -> np.ndarray:
    """Set bits per row of a uint64 matrix."""
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(words).sum(axis=1, dtype=np.uint64)
    return np.unpackbits(words.view(np.uint8), axis=1).sum(axis=1, dtype=np.uint64)
