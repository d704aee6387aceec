"""Read and write the vector file formats of the ANN benchmark world.

Formats (all little-endian):

- ``.npy``: numpy array, 2-D; opened with ``mmap_mode="r"``.
- ``.fvecs`` / ``.ivecs`` / ``.bvecs`` (TEXMEX, e.g. SIFT1M): each record is an
  int32 dimension followed by that many float32 / int32 / uint8 values.
- ``.fbin`` / ``.ibin`` / ``.u8bin`` / ``.i8bin`` (big-ann-benchmarks, DiskANN):
  header int32 rows, int32 dim, then rows x dim values.

Readers memory-map the file and return a read-only view (no copy), so a large
base set costs no RAM until touched. Every structural problem (short header,
truncated record, ragged dimensions, size mismatch) raises ``ValueError``
naming the file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Union

import numpy as np

__all__ = [
    "SUPPORTED_SUFFIXES",
    "load_vectors",
    "read_bin",
    "read_npy",
    "read_ragged_vecs",
    "read_vecs",
    "save_vectors",
    "write_bin",
    "write_ragged_vecs",
    "write_vecs",
]

PathLike = Union[str, "os.PathLike[str]"]

_VECS_DTYPES: dict[str, np.dtype] = {
    ".fvecs": np.dtype("<f4"),
    ".ivecs": np.dtype("<i4"),
    ".bvecs": np.dtype("u1"),
}
_BIN_DTYPES: dict[str, np.dtype] = {
    ".fbin": np.dtype("<f4"),
    ".ibin": np.dtype("<i4"),
    ".u8bin": np.dtype("u1"),
    ".i8bin": np.dtype("i1"),
}
SUPPORTED_SUFFIXES = (".npy", *_VECS_DTYPES, *_BIN_DTYPES)


def load_vectors(path: PathLike) -> np.ndarray:
    """Open a vector file, choosing the reader by suffix.

    Args:
        path: a ``.npy``, ``.fvecs``, ``.ivecs``, ``.bvecs``, ``.fbin``,
            ``.ibin``, ``.u8bin`` or ``.i8bin`` file.

    Returns:
        A read-only 2-D array [n, dim] backed by a memory map, in the file's
        own dtype (convert with ``np.asarray(x, dtype=np.float32)``).

    Raises:
        ValueError: unknown suffix or malformed file (the message names the file).
        FileNotFoundError: the file does not exist.

    Example:
        >>> base = load_vectors("sift_base.fvecs")  # doctest: +SKIP
    """
    suffix = Path(path).suffix.lower()
    if suffix == ".npy":
        return read_npy(path)
    if suffix in _VECS_DTYPES:
        return read_vecs(path)
    if suffix in _BIN_DTYPES:
        return read_bin(path)
    raise ValueError(
        f"{path}: unknown vector file suffix {suffix!r}; supported: {', '.join(SUPPORTED_SUFFIXES)}"
    )


def save_vectors(path: PathLike, x: np.ndarray) -> None:
    """Write ``x`` [n, dim] in the format named by the suffix (inverse of :func:`load_vectors`)."""
    suffix = Path(path).suffix.lower()
    if suffix == ".npy":
        np.save(path, np.asarray(x), allow_pickle=False)
    elif suffix in _VECS_DTYPES:
        write_vecs(path, x)
    elif suffix in _BIN_DTYPES:
        write_bin(path, x)
    else:
        raise ValueError(
            f"{path}: unknown vector file suffix {suffix!r}; "
            f"supported: {', '.join(SUPPORTED_SUFFIXES)}"
        )


def read_npy(path: PathLike) -> np.ndarray:
    """Memory-map a 2-D ``.npy`` array (1-D is taken as one row)."""
    try:
        x = np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError as e:  # bad magic/header: numpy's message omits the file
        raise ValueError(f"{path}: not a valid .npy file ({e})") from e
    if x.ndim == 1:
        x = x.reshape(1, -1)
    if x.ndim != 2:
        raise ValueError(f"{path}: expected a 2-D array, got shape {x.shape}")
    return x


def read_vecs(path: PathLike) -> np.ndarray:
    """Memory-map a TEXMEX ``.fvecs`` / ``.ivecs`` / ``.bvecs`` file.

    Returns:
        [n, dim] view skipping the per-record dimension field (not C-contiguous).

    Raises:
        ValueError: empty file, bad dimension, ragged dimensions or truncation.
    """
    dtype = _dtype_for(path, _VECS_DTYPES)
    size = os.path.getsize(path)
    if size < 4:
        raise ValueError(f"{path}: file too short ({size} bytes) for a {Path(path).suffix} record")
    dim = int(np.fromfile(path, dtype="<i4", count=1)[0])
    if dim <= 0:
        raise ValueError(f"{path}: record 0 has dimension {dim}, expected > 0")
    record = 4 + dim * dtype.itemsize
    if size % record:
        _raise_vecs_problem(path, dtype, size)
    n = size // record
    raw = np.memmap(path, dtype=np.uint8, mode="r", shape=(n, record))
    dims = raw[:, :4].view("<i4")[:, 0]
    bad = np.flatnonzero(dims != dim)
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"{path}: record {i} has dimension {int(dims[i])}, record 0 has {dim}; "
            "ragged files are not supported"
        )
    return raw[:, 4:].view(dtype)


def read_bin(path: PathLike) -> np.ndarray:
    """Memory-map a ``.fbin`` / ``.ibin`` / ``.u8bin`` / ``.i8bin`` file.

    Raises:
        ValueError: short header, negative sizes, or a size that disagrees with the header.
    """
    dtype = _dtype_for(path, _BIN_DTYPES)
    size = os.path.getsize(path)
    if size < 8:
        raise ValueError(
            f"{path}: file too short ({size} bytes) for the 8-byte header (int32 rows, int32 dim)"
        )
    n, dim = (int(v) for v in np.fromfile(path, dtype="<i4", count=2))
    if n < 0 or dim <= 0:
        raise ValueError(f"{path}: header says {n} rows of dimension {dim}")
    expected = 8 + n * dim * dtype.itemsize
    if size != expected:
        kind = "truncated" if size < expected else "has trailing bytes"
        raise ValueError(
            f"{path}: {kind}: header says {n} x {dim} {dtype.name} = {expected} bytes, "
            f"file has {size}"
        )
    if n == 0:
        return np.empty((0, dim), dtype=dtype)
    return np.memmap(path, dtype=dtype, mode="r", offset=8, shape=(n, dim))


def write_vecs(path: PathLike, x: np.ndarray) -> None:
    """Write ``x`` [n, dim] as ``.fvecs`` / ``.ivecs`` / ``.bvecs`` (dtype from the suffix)."""
    dtype = _dtype_for(path, _VECS_DTYPES)
    x = _as_matrix(x, dtype, path)
    n, dim = x.shape
    rec = np.empty((n, 4 + dim * dtype.itemsize), dtype=np.uint8)
    rec[:, :4] = np.frombuffer(np.int32(dim).astype("<i4").tobytes(), dtype=np.uint8)
    rec[:, 4:] = x.view(np.uint8).reshape(n, -1)
    rec.tofile(path)


def write_bin(path: PathLike, x: np.ndarray) -> None:
    """Write ``x`` [n, dim] as ``.fbin`` / ``.ibin`` / ``.u8bin`` / ``.i8bin``."""
    dtype = _dtype_for(path, _BIN_DTYPES)
    x = _as_matrix(x, dtype, path)
    with open(path, "wb") as f:
        np.array(x.shape, dtype="<i4").tofile(f)
        x.tofile(f)


def read_ragged_vecs(path: PathLike, *, max_dim: int | None = None) -> list[np.ndarray]:
    """Read a TEXMEX file whose records may differ in length, sequentially.

    Ground-truth ``.ivecs`` files of filtered benchmarks hold one record per
    query with ``m <= k`` ids, ``m = 0`` when nothing passes the filter, so
    they cannot be viewed as a fixed-stride matrix. The file is read once
    into memory (such files are small); every record is a copy.

    Args:
        path: a ``.fvecs`` / ``.ivecs`` / ``.bvecs`` file.
        max_dim: refuse records longer than this (e.g. 100 for top-100 ground truth).

    Returns:
        One 1-D array per record, in the file's dtype.

    Raises:
        ValueError: negative or too large record length, or a truncated record
            (the message names the file, the record and its byte offset).
    """
    dtype = _dtype_for(path, _VECS_DTYPES)
    raw = np.fromfile(path, dtype=np.uint8)
    size, offset = raw.size, 0
    rows: list = []
    while offset < size:
        i = len(rows)
        if size - offset < 4:
            raise ValueError(
                f"{path}: truncated: {size - offset} stray bytes after record {i - 1}"
                f" at offset {offset}"
            )
        dim = int(raw[offset : offset + 4].view("<i4")[0])
        if dim < 0 or (max_dim is not None and dim > max_dim):
            limit = f"0..{max_dim}" if max_dim is not None else ">= 0"
            raise ValueError(
                f"{path}: record {i} at offset {offset} has length {dim}, expected {limit}"
            )
        need = 4 + dim * dtype.itemsize
        if offset + need > size:
            raise ValueError(
                f"{path}: truncated: record {i} at offset {offset} needs {need} bytes,"
                f" {size - offset} remain"
            )
        rows.append(raw[offset + 4 : offset + need].view(dtype).copy())
        offset += need
    return rows


def write_ragged_vecs(path: PathLike, rows: "list[np.ndarray]") -> None:
    """Write 1-D rows of possibly different lengths (0 allowed) as ``.fvecs/.ivecs/.bvecs``."""
    dtype = _dtype_for(path, _VECS_DTYPES)
    with open(path, "wb") as f:
        for row in rows:
            r = np.ascontiguousarray(np.asarray(row).ravel(), dtype=dtype)
            np.array([r.size], dtype="<i4").tofile(f)
            r.tofile(f)


def _dtype_for(path: PathLike, table: dict[str, np.dtype]) -> np.dtype:
    suffix = Path(path).suffix.lower()
    if suffix not in table:
        raise ValueError(f"{path}: expected one of {', '.join(table)}, got suffix {suffix!r}")
    return table[suffix]


def _as_matrix(x: np.ndarray, dtype: np.dtype, path: PathLike) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"{path}: can only write a 2-D array, got shape {x.shape}")
    if x.shape[1] == 0 or x.shape[0] > np.iinfo(np.int32).max:
        raise ValueError(f"{path}: shape {x.shape} does not fit the int32 header")
    return np.ascontiguousarray(x, dtype=dtype)


def _raise_vecs_problem(path: PathLike, dtype: np.dtype, size: int) -> None:
    """Walk records to say precisely what is wrong (only on the error path)."""
    offset, i = 0, 0
    with open(path, "rb") as f:
        while offset < size:
            if size - offset < 4:
                raise ValueError(
                    f"{path}: truncated: {size - offset} stray bytes after record {i - 1}"
                    f" at offset {offset}"
                )
            f.seek(offset)
            dim = int(np.frombuffer(f.read(4), dtype="<i4")[0])
            if dim <= 0:
                raise ValueError(
                    f"{path}: record {i} at offset {offset} has dimension {dim}, expected > 0"
                )
            need = 4 + dim * dtype.itemsize
            if offset + need > size:
                raise ValueError(
                    f"{path}: truncated: record {i} at offset {offset} needs {need} bytes,"
                    f" {size - offset} remain"
                )
            offset += need
            i += 1
    # Every record is complete but the sizes differ: the file is ragged.
    raise ValueError(f"{path}: records have different dimensions; ragged files are not supported")
