"""Saving and loading an :class:`~vecsearch.Index`: the graph state and attribute columns as
sections of one checksummed file (vecsearch/_format.py), and every field checked on the way in."""
from __future__ import annotations

import json
import os
from typing import Any, Dict, Optional, Tuple

import numpy as np

from vecsearch import _core
from vecsearch._format import FileRegion, IndexFile, write_atomic
from vecsearch._validate import MAX_ACORN_GAMMA, MAX_DIM, MAX_M, METRICS
from vecsearch.attributes import AttributeStore
from vecsearch.attributes.persist import from_sections as attributes_from_sections
from vecsearch.attributes.persist import to_sections as attributes_to_sections
from vecsearch.errors import FormatError

_INT_FIELDS = ("dim", "M", "ef_construction", "seed", "ef_search", "count", "entry_point", "max_level",
               "next_auto_id")


def save_index(index: Any, path: Any, vectors: Optional[FileRegion] = None) -> None:
    """Writes `index` to `path` atomically; `vectors`, when given, is where the float vectors
    already lie in another file (an out-of-core build), copied from there through a buffer."""
    state = index._core.export_state(with_vectors=vectors is None)
    if vectors is not None:
        state["vectors"] = vectors
    meta = {
        "kind": "hnsw",
        "dim": index.dim,
        "metric": index.metric,
        "M": index.M,
        "ef_construction": index.ef_construction,
        "seed": index.seed,
        "ef_search": index.ef_search,
        "count": state["count"],
        "entry_point": state["entry_point"],
        "max_level": state["max_level"],
        "next_auto_id": state["next_auto_id"],
        "acorn_gamma": index.acorn_gamma,
        "acorn_m_beta": index.acorn_m_beta,
        "storage": index.storage,
        "rerank": index.rerank,
    }
    if index.range_indexes:  # rebuilt from the vectors and the column on first use after a load
        meta["range_indexes"] = list(index.range_indexes)
    meta.update(index._storage.meta())  # storage="auto" pending or decided, codes trained again
    arrays = {name: state[name] for name in ("vectors", "ids", "levels", "deleted", "links0", "upper")}
    store = index._attributes
    if store.columns:
        spec, attr_arrays = attributes_to_sections(store)
        arrays["attrs"] = np.frombuffer(json.dumps(spec).encode("utf-8"), dtype=np.uint8)
        arrays.update(attr_arrays)
    coded = index._core.export_codes()
    if coded is not None:
        blob, codes = coded
        arrays["codec"] = np.frombuffer(blob, dtype=np.uint8)
        arrays["codes"] = codes
    refined = index._core.export_refine()
    if refined is not None:  # sections older readers skip: the index still loads, unrefined
        blob, codes, terms, errors = refined
        arrays.update(refine_codec=np.frombuffer(blob, dtype=np.uint8), refine_codes=codes,
                      refine_terms=terms, refine_errors=errors)
    entry_arrays, meta["entries_built_at"] = entry_table_sections(state)
    arrays.update(entry_arrays)
    # A file takes the lowest version that holds it: codes need 4, ACORN-gamma rows (wider than
    # older releases expect) 3, anything else 2.
    version = 4 if coded is not None else 3 if index.acorn_gamma > 1 else 2
    write_atomic(os.fspath(path), meta, arrays, version=version)


def load_index(path: Any, mmap: bool, verify_vectors: bool = True
               ) -> Tuple[Any, int, IndexFile, AttributeStore, Any, Optional[int]]:
    """(native core, ef_search, the open file, attribute store, quantizer or None, rerank) of a
    saved index."""
    finite = _FiniteCheck()
    f = IndexFile(os.fspath(path), inspect={"vectors": finite}, unverified=() if verify_vectors else ("vectors",))
    meta = f.meta
    fields = {}
    for key in _INT_FIELDS:
        value = meta.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise FormatError(f"{f.path}: meta field {key!r} is missing or not an integer")
        fields[key] = value
    # Optional since version 3: absent means a plain HNSW graph.
    gamma, m_beta = meta.get("acorn_gamma", 1), meta.get("acorn_m_beta", 2 * fields["M"])
    if any(isinstance(v, bool) or not isinstance(v, int) for v in (gamma, m_beta)) or not (
            1 <= gamma <= MAX_ACORN_GAMMA and 1 <= m_beta <= fields["M"] * max(gamma, 2)):
        raise FormatError(f"{f.path}: ACORN parameters in meta are out of range")
    if gamma > 1 and f.version < 3:
        raise FormatError(f"{f.path}: an ACORN-gamma graph in a version {f.version} file")
    if meta.get("kind") != "hnsw" or meta.get("metric") not in METRICS:
        raise FormatError(f"{f.path}: unknown index kind or metric in meta")
    if not (1 <= fields["dim"] <= MAX_DIM and 2 <= fields["M"] <= MAX_M and fields["ef_construction"] >= 1
            and fields["ef_search"] >= 1 and 0 <= fields["seed"] < 2**64 and fields["count"] >= 0
            and 0 <= fields["next_auto_id"] < 2**64):
        raise FormatError(f"{f.path}: parameters in meta are out of range")
    vectors = f.array("vectors", np.float32)
    if not finite.ok:
        raise FormatError(f"{f.path}: stored vectors contain NaN or inf")
    ids = f.array("ids", np.uint64)
    deleted = f.array("deleted", np.uint8)
    params = {"dim": fields["dim"], "metric": meta["metric"], "M": fields["M"],
              "ef_construction": fields["ef_construction"], "seed": fields["seed"], "acorn_gamma": gamma,
              "acorn_m_beta": m_beta}
    core = _core.HnswIndex.restore(params, graph_state(f, fields, vectors, ids, deleted), bool(mmap),
                                   mapped_source=True)
    restore_entry_table(f, core)
    live = np.ascontiguousarray(ids[deleted == 0])
    # Each section is dropped from the mapping once its contents are copied, so a load holds the
    # index once plus one section, not twice. Only mapped vectors (mmap) stay.
    graph = ("links0", "upper", "levels", "deleted", "ids") + (() if mmap else ("vectors",))
    f.release_all(only=graph)
    quantizer, rerank = _load_storage(f, core, fields["dim"])
    f.release_all(only=("codes", "codec"))
    if f.has("attrs"):
        store = attributes_from_sections(f, live, core.slots_of)
    else:  # rows without columns, so attributes added later leave these ids null
        store = AttributeStore()
        store.append(live, {}, core.slots_of(live))
    f.release_all(only=[name for name in f.sections if name not in graph + ("codes", "codec", "vectors")])
    return core, fields["ef_search"], f, store, quantizer, rerank


class _FiniteCheck:
    """Watches the vectors section go by while its checksum is read: are all values finite?"""

    def __init__(self) -> None:
        self.ok = True

    def __call__(self, chunk: memoryview) -> None:
        if self.ok and chunk.nbytes % 4 == 0:
            self.ok = bool(np.isfinite(np.frombuffer(chunk, dtype=np.float32)).all())


def _load_storage(f: IndexFile, core: Any, dim: int) -> Tuple[Any, Optional[int]]:
    """Attaches the saved quantizer and codes (version 4 files with quantized storage)."""
    meta = f.meta
    storage, rerank = meta.get("storage", "float32"), meta.get("rerank")
    if rerank is not None and (isinstance(rerank, bool) or not isinstance(rerank, int) or rerank < 0):
        raise FormatError(f"{f.path}: meta field 'rerank' is not a non-negative integer")
    has_codes = f.has("codec") or f.has("codes")
    if storage == "float32" and not has_codes:
        return None, rerank
    if storage not in ("sq8", "pq", "binary") or not (f.has("codec") and f.has("codes")) or f.version < 4:
        raise FormatError(f"{f.path}: quantized storage {storage!r} without its codec and codes sections")
    from vecsearch.quant import Quantizer

    blob = f.array("codec", np.uint8).tobytes()
    quantizer = Quantizer.from_bytes(blob)
    if quantizer.kind != storage or quantizer.dim != dim:
        raise FormatError(f"{f.path}: the saved quantizer does not match the index (kind or dim)")
    codes = f.array("codes", np.uint8)
    size = quantizer.code_size
    if codes.size % size:
        raise FormatError(f"{f.path}: codes section is not a whole number of {size}-byte codes")
    core.attach_codec(blob, codes.reshape(-1, size), 0, mapped_source=True)
    _load_refine(f, core)
    return quantizer, rerank


def codes_trained_on(meta: dict, path: Any) -> int:
    """The rows the index's own SQ8 codes were last trained on (meta "codes_trained_on"; 0 when
    absent: codes it does not train again)."""
    value = meta.get("codes_trained_on", 0)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise FormatError(f"{path}: meta field 'codes_trained_on' is {value!r}, not a non-negative integer")
    if value and meta.get("storage") != "sq8":
        raise FormatError(f"{path}: meta field 'codes_trained_on' without SQ8 storage")
    return value


_REFINE_SECTIONS = ("refine_codec", "refine_codes", "refine_terms", "refine_errors")


def _load_refine(f: IndexFile, core: Any) -> None:
    """Attaches the saved refine code (vecsearch/quant/refine.py), when the file has one."""
    present = [f.has(name) for name in _REFINE_SECTIONS]
    if not any(present):
        return
    if not all(present):
        raise FormatError(f"{f.path}: a refine code without all of its sections {_REFINE_SECTIONS}")
    from vecsearch.quant import Quantizer

    blob = f.array("refine_codec", np.uint8).tobytes()
    refine = Quantizer.from_bytes(blob)
    if refine.kind != "pq" or refine.metric != "ip":
        raise FormatError(f"{f.path}: the refine code is not an inner-product PQ")
    codes, terms, errors = (f.array(name, dtype) for name, dtype in
                            zip(_REFINE_SECTIONS[1:], (np.uint8, np.float32, np.float32)))
    if codes.size % refine.code_size:
        raise FormatError(f"{f.path}: refine_codes is not a whole number of {refine.code_size}-byte codes")
    core.attach_refine(blob, codes.reshape(-1, refine.code_size), terms, errors)
    f.release_all(only=_REFINE_SECTIONS)


# The scalars of an exported state that a file keeps in its meta.
STATE_FIELDS = ("count", "entry_point", "max_level", "next_auto_id")


def graph_state(f: IndexFile, fields: Dict[str, Any], vectors: np.ndarray, ids: np.ndarray,
                deleted: np.ndarray) -> Dict[str, Any]:
    """The `state` HnswIndex.restore takes (export_state's keys): the STATE_FIELDS of `fields`, the
    arrays the caller has read already, and the graph sections of `f`."""
    return {**{key: fields[key] for key in STATE_FIELDS}, "vectors": vectors, "ids": ids, "deleted": deleted,
            "levels": f.array("levels", np.int32), "links0": f.array("links0", np.uint32),
            "upper": f.array("upper", np.uint32)}


def entry_table_sections(state: Dict[str, Any]) -> Tuple[Dict[str, np.ndarray], int]:
    """The entry table's sections (none when it is empty) and the live count it was chosen at,
    from an export_state taken under the same lock as the graph's. Older readers skip the
    sections; such an index starts its walks by descending."""
    slots = state["entry_slots"]
    arrays = {"entry_slots": slots, "entry_vectors": state["entry_vectors"]} if len(slots) else {}
    return arrays, int(state["entries_built_at"])


def restore_entry_table(f: IndexFile, core: Any) -> None:
    """Gives `core` the entry table saved in `f`, if any (files before it have none)."""
    if not f.has("entry_slots"):
        return
    built_at, count = f.meta.get("entries_built_at"), f.meta.get("count")
    if not isinstance(built_at, int) or not isinstance(count, int) or not f.has("entry_vectors"):
        raise FormatError(f"{f.path}: an entry table without its vectors or its live count")
    if not 0 <= built_at <= count:  # chosen among the live vectors, at most every slot
        raise FormatError(f"{f.path}: the entry table's live count {built_at} is out of range")
    vectors = f.array("entry_vectors", np.float32)
    if not np.isfinite(vectors).all():
        raise FormatError(f"{f.path}: the entry table's vectors contain NaN or inf")
    core.set_entry_table(f.array("entry_slots", np.uint32), vectors, built_at)
