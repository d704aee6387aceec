"""Refine codes: a second PQ of what an index's PQ codes leave out, kept in RAM beside them.

With its vectors on disk, an index re-ranks by reading float rows. A refine code tells, before
any read, which candidates can still enter the top k: the native core (csrc/quant/refine.h)
estimates each candidate's distance from both codes, bounds the part neither holds, and reads
the candidates in order of their lower bounds until the next one cannot beat the k-th best
exact distance. On 2M clustered 384-d vectors this needs about 26 rows per query where ranking by
the PQ96 walk codes alone needs about 100.

Per vector the refine code costs ``m`` bytes plus two floats: ``term = |b|^2 + 2 a.b`` (l2) and
``error = |x - a - b|``, where ``a`` is the walk code's reconstruction and ``b`` the refine's.
"""
from __future__ import annotations

from typing import Any, Tuple

import numpy as np

from vecsearch.quant.pq import PQ

# Bytes per vector besides the m code bytes: the term and the error (float32 each).
REFINE_FLOATS_BYTES = 8


def train_refine(walk: PQ, sample: np.ndarray, m: int, *, seed: int = 0, threads: int = 0) -> PQ:
    """A PQ of ``m`` sub-quantizers, trained on what the trained `walk` PQ misses of `sample`
    (rows as the index stores them: normalised for cosine). Scored by inner products, so its
    table gives ``q . b`` for any metric."""
    residual = sample - walk.decode(walk.encode(sample, threads=threads))
    refine = PQ(m, metric="ip", seed=seed)
    refine.train(residual, threads=threads)
    return refine


def encode_refine(walk: PQ, refine: PQ, rows: np.ndarray, walk_codes: np.ndarray, metric: str, *,
                  threads: int = 0) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(codes uint8 [n, m], terms float32 [n], errors float32 [n]) of `rows`, whose walk codes
    are `walk_codes`."""
    approx = walk.decode(walk_codes)
    residual = rows - approx
    codes = refine.encode(residual, threads=threads)
    fine = refine.decode(codes)
    if metric == "l2":
        terms = np.einsum("ij,ij->i", fine, fine + 2.0 * approx)
    else:
        terms = np.zeros(len(rows), dtype=np.float32)
    residual -= fine
    errors = np.sqrt(np.einsum("ij,ij->i", residual, residual))
    return codes, terms.astype(np.float32), errors.astype(np.float32)


def refine_m(refine: Any, walk: Any, dim: int) -> int:
    """The refine code's sub-quantizer count for build_on_disk's ``refine=`` (0: none):
    ``"auto"`` is the walk PQ's m, an int is taken as given (it must divide `dim`)."""
    if refine is None or refine is False:
        return 0
    if refine is True:
        refine = "auto"
    if getattr(walk, "kind", None) != "pq":
        if refine == "auto":
            return 0
        raise ValueError(f"refine codes refine PQ codes; storage is {getattr(walk, 'kind', walk)!r}")
    if refine == "auto":
        return walk.m
    if isinstance(refine, bool) or not isinstance(refine, (int, np.integer)) or refine < 1 or dim % int(refine):
        raise ValueError(f"refine must be 'auto', None or a number of sub-quantizers dividing dim {dim}, "
                         f"got {refine!r}")
    return int(refine)
