"""The arxiv-for-fanns layout (FANNS benchmark, Iff et al. 2025): read and write its 10 files.

A data set directory holds::

    database_vectors.fvecs        n x d float32 (TEXMEX fvecs), memory-mapped
    database_attributes.jsonl     line i: the 11 attributes of item i
    query_vectors.fvecs           nq x d float32
    em_query_attributes.jsonl     line j: {"label": <int>}              number_of_sub_categories == label
    r_query_attributes.jsonl      line j: {"range_start": a, "range_end": b}   a <= update_date <= b
    emis_query_attributes.jsonl   line j: {"label": "<main category>"}  label in main_categories
    ground_truth.ivecs            unfiltered top-<=100 ids per query (variable-length records)
    ground_truth_em.ivecs, ground_truth_r.ivecs, ground_truth_emis.ivecs

Query files may carry extra keys (ignored). Ground-truth records may be shorter
than 100 ids, or empty, when few items pass a filter. Every structural problem
raises ``ValueError`` naming the file, the line or record, and what was expected.
The synthetic stand-in (:mod:`vecsearch.datasets.arxiv_like`) is written with
:func:`write_fanns`, so the same loader and filters serve both.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence, Union

import numpy as np

from .vectorio import read_ragged_vecs, read_vecs, write_ragged_vecs, write_vecs

__all__ = [
    "ATTRIBUTE_KEYS",
    "FANNS_FILES",
    "FannsDataset",
    "GT_MAX",
    "attribute_columns",
    "load_fanns",
    "pad_ground_truth",
    "read_jsonl",
    "write_fanns",
]

PathLike = Union[str, "os.PathLike[str]"]

#: The 11 attribute keys of an item and the JSON type each must have.
ATTRIBUTE_KEYS: dict[str, str] = {
    "submitter": "str",
    "has_comment": "bool",
    "number_of_main_categories": "int",
    "main_categories": "list",
    "number_of_sub_categories": "int",
    "sub_categories": "list",
    "license": "str",
    "number_of_versions": "int",
    "update_date": "int",
    "number_of_authors": "int",
    "authors": "list",
}
_ALIASES = {"has_comments": "has_comment"}  # spelling seen in a third-party description

FANNS_FILES: dict[str, str] = {
    "base": "database_vectors.fvecs",
    "attributes": "database_attributes.jsonl",
    "queries": "query_vectors.fvecs",
    "em": "em_query_attributes.jsonl",
    "r": "r_query_attributes.jsonl",
    "emis": "emis_query_attributes.jsonl",
    "gt": "ground_truth.ivecs",
    "gt_em": "ground_truth_em.ivecs",
    "gt_r": "ground_truth_r.ivecs",
    "gt_emis": "ground_truth_emis.ivecs",
}
GT_MAX = 100  # ids per ground-truth record in the published files
_QUERY_KEYS = {"em": {"label": "int"}, "r": {"range_start": "int", "range_end": "int"},
               "emis": {"label": "str"}}  # fmt: skip
_GT_FILES = {"unfiltered": "gt", "em": "gt_em", "r": "gt_r", "emis": "gt_emis"}


@dataclass
class FannsDataset:
    """One arxiv-for-fanns variant in memory (vectors memory-mapped).

    Attributes:
        base: float32 [n, d] read-only view of ``database_vectors.fvecs``.
        queries: float32 [nq, d].
        attributes: column name -> values: int64 / bool arrays, lists of str,
            lists of lists of str (the set-valued keys).
        em_labels: int64 [nq], EM filter value per query.
        r_ranges: int64 [nq, 2], inclusive (start, end) per query.
        emis_labels: one main category per query.
        ground_truth: ``"unfiltered" | "em" | "r" | "emis"`` -> one int array of
            ids per query (possibly short or empty); only the files present.
    """

    base: np.ndarray
    queries: np.ndarray
    attributes: dict[str, Any]
    em_labels: np.ndarray
    r_ranges: np.ndarray
    emis_labels: list[str]
    ground_truth: dict[str, list[np.ndarray]] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(self.base.shape[0])

    @property
    def nq(self) -> int:
        return int(self.queries.shape[0])


def _type_ok(value: Any, kind: str) -> bool:
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "str":
        return isinstance(value, str)
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def read_jsonl(path: PathLike, schema: dict[str, str]) -> list[dict[str, Any]]:
    """Read a JSON Lines file whose every line is an object with ``schema``'s keys.

    Args:
        path: the file.
        schema: required key -> ``"int" | "bool" | "str" | "list"`` (list of strings).
            Other keys are dropped; ``has_comments`` is read as ``has_comment``.

    Returns:
        One dict per non-empty line, holding exactly the schema's keys.

    Raises:
        ValueError: a line that is not JSON, not an object, lacks a key or has a
            value of the wrong type (message: file, line number, key).
    """
    out = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}: line {lineno} is not valid JSON ({e.msg})") from None
            if not isinstance(obj, dict):
                raise ValueError(f"{path}: line {lineno} is not a JSON object")
            for alias, key in _ALIASES.items():
                if alias in obj and key not in obj:
                    obj[key] = obj[alias]
            row = {}
            for key, kind in schema.items():
                if key not in obj:
                    raise ValueError(f"{path}: line {lineno} lacks the key {key!r}")
                if not _type_ok(obj[key], kind):
                    raise ValueError(
                        f"{path}: line {lineno}: {key!r} should be {_KIND_TEXT[kind]},"
                        f" got {obj[key]!r}"
                    )
                row[key] = obj[key]
            out.append(row)
    return out


_KIND_TEXT = {"int": "an integer", "bool": "true/false", "str": "a string",
              "list": "a list of strings"}  # fmt: skip


def attribute_columns(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Per-item attribute dicts -> columns (ints/bools as numpy arrays, strings and sets as lists)."""
    cols: dict[str, Any] = {}
    for key, kind in ATTRIBUTE_KEYS.items():
        values = [r[key] for r in records]
        if kind == "int":
            cols[key] = np.asarray(values, dtype=np.int64).reshape(-1)
        elif kind == "bool":
            cols[key] = np.asarray(values, dtype=bool).reshape(-1)
        else:
            cols[key] = values
    return cols


def load_fanns(directory: PathLike, *, ground_truth: bool = True) -> FannsDataset:
    """Load an arxiv-for-fanns directory (published variant or generated stand-in).

    Args:
        directory: the folder with the 10 files (ground-truth files may be absent).
        ground_truth: read the ``ground_truth*.ivecs`` files that exist.

    Returns:
        A :class:`FannsDataset`; the vectors are memory-mapped.

    Raises:
        FileNotFoundError: a required file is missing.
        ValueError: malformed files or counts that disagree (message names the file).

    Example:
        >>> ds = load_fanns("datasets/arxiv-for-fanns-small")  # doctest: +SKIP
        >>> ds.base.shape, len(ds.em_labels)                   # doctest: +SKIP
        ((1000, 4096), 10000)
    """
    d = Path(directory)
    for key in ("base", "attributes", "queries", "em", "r", "emis"):
        if not (d / FANNS_FILES[key]).is_file():
            raise FileNotFoundError(f"{d}: missing {FANNS_FILES[key]} (an arxiv-for-fanns file)")
    base = read_vecs(d / FANNS_FILES["base"])
    queries = read_vecs(d / FANNS_FILES["queries"])
    if base.dtype != np.float32 or queries.dtype != np.float32:
        raise ValueError(f"{d}: vectors must be float32 .fvecs")
    if base.shape[1] != queries.shape[1]:
        raise ValueError(
            f"{d}: query vectors have dim {queries.shape[1]}, database vectors {base.shape[1]}"
        )
    records = read_jsonl(d / FANNS_FILES["attributes"], ATTRIBUTE_KEYS)
    if len(records) != base.shape[0]:
        raise ValueError(
            f"{d / FANNS_FILES['attributes']}: {len(records)} lines for {base.shape[0]} vectors"
        )
    nq = queries.shape[0]
    qa = {}
    for key, schema in _QUERY_KEYS.items():
        rows = read_jsonl(d / FANNS_FILES[key], schema)
        if len(rows) != nq:
            raise ValueError(f"{d / FANNS_FILES[key]}: {len(rows)} lines for {nq} query vectors")
        qa[key] = rows
    ds = FannsDataset(
        base=base,
        queries=queries,
        attributes=attribute_columns(records),
        em_labels=np.array([r["label"] for r in qa["em"]], dtype=np.int64).reshape(-1),
        r_ranges=np.array(
            [(r["range_start"], r["range_end"]) for r in qa["r"]], dtype=np.int64
        ).reshape(-1, 2),
        emis_labels=[r["label"] for r in qa["emis"]],
    )
    if ground_truth:
        for name, key in _GT_FILES.items():
            path = d / FANNS_FILES[key]
            if path.is_file():
                ds.ground_truth[name] = _read_gt(path, nq, ds.n)
    return ds


def _read_gt(path: Path, nq: int, n: int) -> list[np.ndarray]:
    rows = read_ragged_vecs(path, max_dim=GT_MAX)
    if len(rows) != nq:
        raise ValueError(f"{path}: {len(rows)} records for {nq} queries")
    for i, r in enumerate(rows):
        if r.size and (r.min() < 0 or r.max() >= n):
            raise ValueError(f"{path}: record {i} has an id outside 0..{n - 1}")
    return [r.astype(np.int64) for r in rows]


def pad_ground_truth(rows: Sequence[np.ndarray], k: int) -> np.ndarray:
    """Ragged ground truth -> int64 [nq, k], cut to k and padded with -1."""
    out = np.full((len(rows), k), -1, dtype=np.int64)
    for i, r in enumerate(rows):
        m = min(k, len(r))
        out[i, :m] = r[:m]
    return out


def write_fanns(
    directory: PathLike,
    base: np.ndarray,
    queries: np.ndarray,
    attributes: dict[str, Any],
    em_labels: Sequence[int],
    r_ranges: np.ndarray,
    emis_labels: Sequence[str],
    ground_truth: dict[str, Sequence[np.ndarray]] | None = None,
) -> Path:
    """Write the arxiv-for-fanns files (the inverse of :func:`load_fanns`).

    Args:
        directory: created if needed; existing files are replaced.
        base, queries: float32 [n, d] and [nq, d].
        attributes: the 11 columns (as :func:`attribute_columns` returns them).
        em_labels, r_ranges, emis_labels: one filter value per query.
        ground_truth: optional ``"unfiltered" | "em" | "r" | "emis"`` -> ragged id rows.

    Returns:
        The directory.
    """
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    missing = [k for k in ATTRIBUTE_KEYS if k not in attributes]
    if missing:
        raise ValueError(f"attributes lack the keys {missing}")
    write_vecs(d / FANNS_FILES["base"], np.asarray(base, dtype=np.float32))
    write_vecs(d / FANNS_FILES["queries"], np.asarray(queries, dtype=np.float32))
    n = base.shape[0]
    cols = {k: _plain(attributes[k]) for k in ATTRIBUTE_KEYS}
    with open(d / FANNS_FILES["attributes"], "w", encoding="utf-8") as f:
        for i in range(n):
            f.write(json.dumps({k: cols[k][i] for k in ATTRIBUTE_KEYS}) + "\n")
    _write_lines(d / FANNS_FILES["em"], ({"label": int(v)} for v in em_labels))
    _write_lines(
        d / FANNS_FILES["r"],
        ({"range_start": int(a), "range_end": int(b)} for a, b in np.asarray(r_ranges)),
    )
    _write_lines(d / FANNS_FILES["emis"], ({"label": str(v)} for v in emis_labels))
    for name, rows in (ground_truth or {}).items():
        write_ragged_vecs(d / FANNS_FILES[_GT_FILES[name]], [np.asarray(r) for r in rows])
    return d


def _plain(values: Any) -> list[Any]:
    return values.tolist() if isinstance(values, np.ndarray) else list(values)


def _write_lines(path: Path, objs: Any) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for obj in objs:
            f.write(json.dumps(obj) + "\n")
