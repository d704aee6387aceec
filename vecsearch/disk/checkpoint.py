"""Checkpoints of an out-of-core build, so that a killed or interrupted ``build_on_disk`` of the
same source continues where it stopped instead of starting over.

A checkpoint, ``<path>.checkpoint``, is a checksummed index file (vecsearch/_format.py) of the
graph, ids and attribute columns of the rows added so far, without their vectors: those are
the first rows of ``<path>.building``, flushed to disk before the checkpoint is written. It is
written atomically, so a kill at any moment leaves either the previous checkpoint or the new
one, each consistent with the vector rows it names. Its meta holds the build's fingerprint
(parameters and source shape): a build with other parameters never resumes from it.
"""
from __future__ import annotations

import json
import os
from typing import Any, Dict, Optional, Tuple

import numpy as np

from vecsearch import _core
from vecsearch._format import IndexFile, write_atomic
from vecsearch.attributes import AttributeStore
from vecsearch.attributes.persist import from_sections as attributes_from_sections
from vecsearch.attributes.persist import to_sections as attributes_to_sections
from vecsearch._persist import STATE_FIELDS, entry_table_sections, graph_state, restore_entry_table
from vecsearch.errors import FormatError

SUFFIX = ".checkpoint"
KIND = "hnsw-build-checkpoint"
_GRAPH = ("ids", "levels", "deleted", "links0", "upper")


def checkpoint_path(path: Any) -> str:
    """Where a build of `path` keeps its last checkpoint."""
    return os.fspath(path) + SUFFIX


def write_checkpoint(index: Any, path: Any, rows: int, vectors: Any, fingerprint: Dict[str, Any]) -> None:
    """Records the first `rows` rows of the build of `path`, whose vectors are the flushed
    memory map `vectors` (the spill file's)."""
    vectors.flush()
    state = index._core.export_state(with_vectors=False)
    meta = {"kind": KIND, "rows": int(rows), "fingerprint": fingerprint, "ef_search": index.ef_search,
            **{key: state[key] for key in STATE_FIELDS}}
    arrays = {name: state[name] for name in _GRAPH}
    entry_arrays, meta["entries_built_at"] = entry_table_sections(state)
    arrays.update(entry_arrays)
    if index._attributes.columns:
        spec, attr_arrays = attributes_to_sections(index._attributes)
        arrays["attrs"] = np.frombuffer(json.dumps(spec).encode("utf-8"), dtype=np.uint8)
        arrays.update(attr_arrays)
    write_atomic(checkpoint_path(path), meta, arrays)


def read_checkpoint(path: Any, fingerprint: Dict[str, Any]) -> Optional[IndexFile]:
    """The checkpoint of a build of `path` with this fingerprint, or None (no checkpoint, or
    one of another build). A corrupt checkpoint raises FormatError."""
    ckpt = checkpoint_path(path)
    if not os.path.exists(ckpt):
        return None
    f = IndexFile(ckpt)
    if f.meta.get("kind") != KIND:
        raise FormatError(f"{ckpt}: not a build checkpoint")
    if f.meta.get("fingerprint") != json.loads(json.dumps(fingerprint)):
        return None
    return f


def restore_checkpoint(f: IndexFile, vectors: np.ndarray, params: Dict[str, Any]) -> Tuple[Any, int]:
    """(index, rows) from checkpoint `f`, its vectors borrowed from the spill mapping `vectors`
    (which must hold at least `rows` rows)."""
    from vecsearch.index import Index

    meta = f.meta
    rows, count = meta.get("rows"), meta.get("count")
    if not isinstance(rows, int) or not isinstance(count, int) or not 0 < count <= rows <= vectors.shape[0]:
        raise FormatError(f"{f.path}: checkpoint row counts are inconsistent with {vectors.shape[0]} spilled rows")
    ids, deleted = f.array("ids", np.uint64), f.array("deleted", np.uint8)
    state = graph_state(f, meta, vectors[:count], ids, deleted)
    core = _core.HnswIndex.restore({**params, "acorn_gamma": 1, "acorn_m_beta": 2 * params["M"]}, state, True)
    restore_entry_table(f, core)
    index = Index.__new__(Index)
    index._init(core, meta["ef_search"])
    live = np.ascontiguousarray(ids[deleted == 0])
    if f.has("attrs"):
        index._attributes = attributes_from_sections(f, live, core.slots_of)
    else:
        store = AttributeStore()
        store.append(live, {}, core.slots_of(live))
        index._attributes = store
    return index, rows


def remove_checkpoint(path: Any) -> None:
    try:
        os.unlink(checkpoint_path(path))
    except FileNotFoundError:
        pass
