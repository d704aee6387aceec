"""Attribute columns inside an index file (format version 2).

Sections: ``attrs`` (UTF-8 JSON: columns in order with name, kind and, for category and tags,
the vocabulary), ``attr.ids`` uint64 [rows], ``attr.alive`` uint8 [rows], and per column i:
``a{i}.nul`` uint8 [rows] plus ``a{i}.val`` (int64 / float64 / datetime64[ns] as int64 / uint8)
for numeric kinds, ``a{i}.codes`` int32 [rows] for categories, ``a{i}.off`` int64 [rows + 1] and
``a{i}.tags`` int32 for tags. Everything is checked on load (FormatError) before it is used.
"""
from __future__ import annotations

import json
from typing import Any, Dict, Tuple

import numpy as np

from vecsearch.attributes.columns import CategoryColumn, NumericColumn, TagsColumn
from vecsearch.attributes.idmap import IdRowMap
from vecsearch.attributes.store import NO_SLOT, AttributeStore, _new_column
from vecsearch.errors import FormatError

_VALUE_DTYPES = {"int": np.int64, "float": np.float64, "date": np.int64, "bool": np.uint8}


def to_sections(store: AttributeStore) -> Tuple[Dict[str, Any], Dict[str, np.ndarray]]:
    """(the attrs JSON object, section name -> array) for a store with columns."""
    with store.lock:
        columns = []
        arrays: Dict[str, np.ndarray] = {
            "attr.ids": store.ids.copy(),
            "attr.alive": store.alive.astype(np.uint8),
        }
        for i, (name, col) in enumerate(store.columns.items()):
            entry: Dict[str, Any] = {"name": name, "kind": col.kind}
            arrays[f"a{i}.nul"] = col.null.astype(np.uint8)
            if isinstance(col, NumericColumn):
                arrays[f"a{i}.val"] = col.values.view(np.int64) if col.kind == "date" else col.values.astype(
                    _VALUE_DTYPES[col.kind])
            elif isinstance(col, CategoryColumn):
                entry["vocabulary"] = list(col.categories)
                arrays[f"a{i}.codes"] = col.codes.copy()
            elif isinstance(col, TagsColumn):
                entry["vocabulary"] = list(col.vocabulary)
                arrays[f"a{i}.off"] = col.offsets.copy()
                arrays[f"a{i}.tags"] = col.tag_codes.copy()
            columns.append(entry)
    return {"columns": columns}, arrays


def from_sections(f: Any, live_ids: np.ndarray, slots_of: Any) -> AttributeStore:
    """Rebuilds a store from a validated IndexFile; `live_ids` are the index's live ids, which
    must be exactly the store's alive rows, and `slots_of(ids)` gives their graph slots."""

    def fail(what: str) -> FormatError:
        return FormatError(f"{f.path}: attributes: {what}")

    try:
        spec = json.loads(bytes(f.raw("attrs")).decode("utf-8"))
        columns = spec["columns"]
        assert isinstance(columns, list)
    except (ValueError, KeyError, TypeError, AssertionError):
        raise fail("the attrs section is not a valid column list") from None
    store = AttributeStore()
    ids = f.array("attr.ids", np.uint64).copy()
    alive = f.array("attr.alive", np.uint8)
    rows = ids.shape[0]
    if alive.shape[0] != rows or (alive > 1).any():
        raise fail("alive flags do not match the rows")
    alive = alive.astype(bool)
    live = ids[alive]
    if len(np.unique(live)) != len(live) or not np.array_equal(np.sort(live), np.sort(live_ids)):
        raise fail("live rows do not match the live ids of the index")
    for i, entry in enumerate(columns):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or entry.get("kind") not in (
                "int", "float", "date", "bool", "category", "tags") or entry["name"] in store.columns:
            raise fail(f"column {i} has a bad name or kind")
        kind = entry["kind"]
        col = _new_column(entry["name"], kind)
        null = f.array(f"a{i}.nul", np.uint8)
        if null.shape[0] != rows or (null > 1).any():
            raise fail(f"column {entry['name']!r} has a bad null mask")
        col.null = null.astype(bool)
        if isinstance(col, NumericColumn):
            raw = f.array(f"a{i}.val", _VALUE_DTYPES[kind])
            if raw.shape[0] != rows:
                raise fail(f"column {entry['name']!r} has {raw.shape[0]} values for {rows} rows")
            col.values = raw.view("datetime64[ns]").copy() if kind == "date" else raw.astype(col.values.dtype)
        else:
            vocab = entry.get("vocabulary")
            if not isinstance(vocab, list) or not all(isinstance(v, str) for v in vocab) or len(set(vocab)) != len(vocab):
                raise fail(f"column {entry['name']!r} has a bad vocabulary")
            if isinstance(col, CategoryColumn):
                codes = f.array(f"a{i}.codes", np.int32)
                if codes.shape[0] != rows or (codes < -1).any() or (codes >= len(vocab)).any() or not np.array_equal(
                        codes < 0, col.null):
                    raise fail(f"column {entry['name']!r} has bad category codes")
                col.codes = codes.copy()
                col.categories = list(vocab)
                col._code_of = {v: j for j, v in enumerate(vocab)}
            else:
                offsets = f.array(f"a{i}.off", np.int64)
                tags = f.array(f"a{i}.tags", np.int32)
                if (offsets.shape[0] != rows + 1 or offsets[0] != 0 or (np.diff(offsets) < 0).any()
                        or offsets[-1] != tags.shape[0] or (tags < 0).any() or (tags >= len(vocab)).any()):
                    raise fail(f"column {entry['name']!r} has bad tag lists")
                assert isinstance(col, TagsColumn)
                col.offsets = offsets.copy()
                col.tag_codes = tags.copy()
                col.vocabulary = list(vocab)
                col._code_of = {v: j for j, v in enumerate(vocab)}
        store.columns[entry["name"]] = col
    store.ids = ids
    store.alive = alive
    store.row_slots = np.full(rows, NO_SLOT, dtype=np.uint32)
    store.row_slots[alive] = slots_of(live)
    store.slots_version += 1
    store._row_of = IdRowMap.from_arrays(live, np.flatnonzero(alive))
    return store
