"""How much RAM an index with its vectors on disk holds, and which codes fit a budget.

The estimate mirrors what ``Index.memory_usage()`` counts once the index is built: the graph's
link rows and levels, the id maps, the attribute rows, and the codes with their quantizer.
"""
from __future__ import annotations

import math
import os
from typing import Any, Dict, List, Tuple

from vecsearch._format import section_lengths
from vecsearch.errors import MemoryBudgetError

# Per vector, besides the level-0 link row and the code: level (4), deleted flag (1), upper-row
# pointer (8), id (8), the native id -> slot hash table (12-byte buckets, at worst 35% full
# after it doubles: 35) and the attribute store's row bookkeeping (id 8, alive 1, slot 4, id ->
# row map 16).
FIXED_BYTES_PER_VECTOR = 4 + 1 + 8 + 8 + 35 + 8 + 1 + 4 + 16
# The entry table where walks start (csrc/graph/entry_table.h): up to 64 slots and vectors.
ENTRY_TABLE_ENTRIES = 64


def entry_table_bytes(dim: int) -> int:
    return ENTRY_TABLE_ENTRIES * (4 * dim + 4)


def quantizer_bytes(dim: int) -> int:
    """A PQ quantizer's codebooks (m * 256 centroids of dim / m floats) and an SQ8's ranges are
    about dim * 256 * 4 bytes at most; rounded up."""
    return dim * 256 * 4 + 4096


def graph_bytes_per_vector(M: int, acorn_gamma: int = 1, acorn_m_beta: int = 0) -> float:
    """Link rows: level 0 (1 + degree uint32) and the expected upper levels (1 / (M - 1) rows
    of 1 + M, from HNSW's level draw with multiplier 1 / ln M)."""
    degree = 2 * M
    if acorn_gamma > 1:
        degree = max(2 * M, min(M * acorn_gamma, (acorn_m_beta or 2 * M) + 2 * M))
    return 4 * (1 + degree) + 4 * (1 + M) / (M - 1)


def code_options(dim: int) -> List[Tuple[str, int]]:
    """(storage, bytes per vector) from the most to the least faithful: ``"sq8"``, ``"pq<m>"``
    with 2 to 16 dimensions per sub-space (m dividing dim), ``"binary"`` (one bit each)."""
    options: List[Tuple[str, int]] = [("sq8", dim)]
    options += [(f"pq{dim // per}", dim // per) for per in (2, 3, 4, 6, 8, 12, 16) if dim % per == 0]
    options.append(("binary", math.ceil(dim / 8)))
    return options


def quantizer_for(storage: str, metric: str) -> Any:
    """The untrained quantizer a :func:`plan_memory` storage name stands for."""
    from vecsearch import quant

    if storage.startswith("pq") and storage[2:].isdigit():
        return quant.PQ(int(storage[2:]), nbits=8, metric=metric)
    return {"sq8": quant.SQ8, "binary": quant.BinaryQuantizer}[storage](metric=metric)


def plan_memory(n: int, dim: int, memory_budget: int, *, M: int = 16, acorn_gamma: int = 1,
                acorn_m_beta: int = 0) -> Dict[str, Any]:
    """The most faithful codes with which `n` vectors of `dim` fit in `memory_budget` bytes of
    RAM (vectors on disk), and the estimate: ``{"storage": "sq8" | "pq<m>" | "binary",
    "code_size", "bytes", "per_vector"}``.

    Raises:
        MemoryBudgetError: not even one-bit codes fit.
    """
    for storage, code_size in code_options(dim):
        need = estimate_bytes(n, dim, code_size, M=M, acorn_gamma=acorn_gamma, acorn_m_beta=acorn_m_beta)
        if need <= memory_budget:
            return {"storage": storage, "code_size": code_size, "bytes": need, "per_vector": need / max(n, 1)}
    smallest = estimate_bytes(n, dim, math.ceil(dim / 8), M=M, acorn_gamma=acorn_gamma, acorn_m_beta=acorn_m_beta)
    raise MemoryBudgetError(
        f"{n} vectors of dim {dim} need at least {smallest / 2**20:.1f} MiB of RAM with the smallest "
        f"(binary) codes and M={M}, over the memory_budget of {memory_budget / 2**20:.1f} MiB")


def estimate_bytes(n: int, dim: int, code_size: int, *, M: int = 16, acorn_gamma: int = 1,
                   acorn_m_beta: int = 0) -> int:
    """RAM of `n` vectors with codes of `code_size` bytes (0: float32 rows in RAM)."""
    per = graph_bytes_per_vector(M, acorn_gamma, acorn_m_beta) + FIXED_BYTES_PER_VECTOR
    per += code_size if code_size else 4 * dim
    return int(n * per + (quantizer_bytes(dim) if code_size else 0) + entry_table_bytes(dim))


def check_file_budget(path: Any, memory_budget: int, vectors_on_disk: bool) -> None:
    """Raises MemoryBudgetError when loading the index file at `path` would hold more RAM than
    `memory_budget`; reads only the section table."""
    sections = section_lengths(os.fspath(path))
    ids = sections.get("ids", 0) // 8
    need = sum(length for name, length in sections.items() if not (vectors_on_disk and name == "vectors"))
    # Levels, deleted flags and ids are sections; the id maps and row bookkeeping are built on load.
    need += ids * (FIXED_BYTES_PER_VECTOR - 4 - 1 - 8)
    if need > memory_budget:
        raise MemoryBudgetError(
            f"{os.fspath(path)}: loading needs about {need / 2**20:.1f} MiB of RAM"
            f"{' (vectors on disk)' if vectors_on_disk else ''}, over the memory_budget of "
            f"{memory_budget / 2**20:.1f} MiB" + ("" if vectors_on_disk else "; try vectors_on_disk=True"))
