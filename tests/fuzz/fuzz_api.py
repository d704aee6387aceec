"""Fuzz the numpy boundary of Index: random shapes, dtypes, strides, empty and non-contiguous
arrays, NaN/inf, and k, ef, thread counts and ids at and past their limits.

Every call must return a well-formed result or raise one of the documented exceptions
(vecsearch errors, ValueError, TypeError, KeyError, MemoryError); a crash, a hang, a sanitizer
report or any other exception is a bug. Results are checked: shapes, sorted rows, padding.

Run: python tests/fuzz/fuzz_api.py [libFuzzer flags, e.g. -max_total_time=60]
"""
from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    import numpy as np

    import vecsearch
    from vecsearch import _core

DTYPES = [np.float32, np.float64, np.float16, np.int32, np.int64, np.uint8, np.bool_, np.complex64, object]
ID_DTYPES = [np.uint64, np.int64, np.int32, np.uint8, np.float64, object]
METRICS = ["l2", "ip", "cosine"]
EDGE_INTS = [-(2**63), -1, 0, 1, 2, 3, 10, 64, 2**20, 2**20 + 1, 2**31, 2**63, 2**64 - 1, 2**64]
ALLOWED = (vecsearch.VecsearchError, ValueError, TypeError, KeyError, MemoryError, OverflowError)

INDEXES = {}


def get_index(fdp: atheris.FuzzedDataProvider) -> vecsearch.Index:
    key = (fdp.ConsumeIntInRange(1, 9), METRICS[fdp.ConsumeIntInRange(0, 2)])
    if key not in INDEXES or len(INDEXES[key]) > 2000:
        INDEXES[key] = vecsearch.Index(key[0], key[1], M=4, ef_construction=16)
    return INDEXES[key]


def edge_int(fdp: atheris.FuzzedDataProvider):
    choice = fdp.ConsumeIntInRange(0, 3)
    if choice == 0:
        return EDGE_INTS[fdp.ConsumeIntInRange(0, len(EDGE_INTS) - 1)]
    if choice == 1:
        return fdp.ConsumeIntInRange(-5, 50)
    if choice == 2:
        return [None, 1.5, "3", True][fdp.ConsumeIntInRange(0, 3)]
    return np.int64(fdp.ConsumeIntInRange(-5, 50))


def array(fdp: atheris.FuzzedDataProvider, dim: int):
    ndim = fdp.ConsumeIntInRange(0, 3)
    shape = [fdp.ConsumeIntInRange(0, 6) for _ in range(ndim)]
    if ndim >= 1 and fdp.ConsumeBool():
        shape[-1] = dim
    dtype = DTYPES[fdp.ConsumeIntInRange(0, len(DTYPES) - 1)]
    values = np.array(fdp.ConsumeFloatListInRange(int(np.prod(shape)) * 2 + 2, -1e6, 1e6), dtype=np.float64)
    special = fdp.ConsumeIntInRange(0, 5)
    if special == 1 and values.size:
        values[fdp.ConsumeIntInRange(0, values.size - 1)] = np.nan
    elif special == 2 and values.size:
        values[fdp.ConsumeIntInRange(0, values.size - 1)] = np.inf
    elif special == 3:
        values[:] = 0.0
    elif special == 4:
        values *= 1e300
    big = np.resize(values, int(np.prod(shape)) * 2 if shape else 1)
    if ndim == 0:
        arr = np.array(big[0])
    else:
        doubled = list(shape)
        doubled[0] *= 2
        arr = big[: int(np.prod(doubled))].reshape(doubled)
        layout = fdp.ConsumeIntInRange(0, 2)
        arr = arr[::2] if layout == 1 else arr[: shape[0]]  # strided or plain
        if layout == 2 and arr.ndim == 2:
            arr = np.asfortranarray(arr)
    with np.errstate(all="ignore"):
        return arr.astype(dtype) if dtype is not object else arr.astype(object)


def ids_array(fdp: atheris.FuzzedDataProvider, n: int):
    dtype = ID_DTYPES[fdp.ConsumeIntInRange(0, len(ID_DTYPES) - 1)]
    vals = [edge_int(fdp) if fdp.ConsumeIntInRange(0, 4) == 0 else fdp.ConsumeIntInRange(0, 3000)
            for _ in range(n if fdp.ConsumeIntInRange(0, 5) else fdp.ConsumeIntInRange(0, 8))]
    try:
        return np.array(vals, dtype=dtype)
    except (TypeError, ValueError, OverflowError):
        return vals


def check_result(index: vecsearch.Index, result, k: int) -> None:
    ids, dists = result
    assert ids.dtype == np.uint64 and dists.dtype == np.float32
    assert ids.ndim == 2 and ids.shape == dists.shape and ids.shape[1] == k
    missing = ids == vecsearch.MISSING_ID
    assert np.all(np.isinf(dists[missing]))
    finite = np.where(missing, np.float32(np.inf), dists)
    assert np.all(finite[:, 1:] >= finite[:, :-1]), "rows not sorted"  # diff() would give inf - inf


def filtered_search(fdp: atheris.FuzzedDataProvider, index: vecsearch.Index) -> None:
    """filter= and plan= at their edges; every returned id must pass its query's filter."""
    queries = array(fdp, index.dim)
    nq = queries.shape[0] if getattr(queries, "ndim", 0) == 2 else 1
    if fdp.ConsumeBool():
        filt = [ids_array(fdp, fdp.ConsumeIntInRange(0, 6)) for _ in range(nq + fdp.ConsumeIntInRange(-1, 1))]
    else:
        filt = ids_array(fdp, fdp.ConsumeIntInRange(0, 50))
    plan = ["auto", "scan", "acorn", "post", "bogus"][fdp.ConsumeIntInRange(0, 4)]
    k = fdp.ConsumeIntInRange(1, 12)
    ids, dists = index.search(queries, k=k, ef=edge_int(fdp) if fdp.ConsumeBool() else None,
                              filter=filt, plan=plan)
    check_result(index, (ids, dists), k)
    per_query = isinstance(filt, list) and len(filt) > 0 and all(np.ndim(f) >= 1 for f in filt)
    for row in range(ids.shape[0]):
        allowed = np.asarray(filt[row] if per_query else filt).astype(np.uint64)
        found = ids[row][ids[row] != vecsearch.MISSING_ID]
        assert np.isin(found, allowed).all(), "a result outside its filter"


def raw_filter_program(fdp: atheris.FuzzedDataProvider, index: vecsearch.Index) -> None:
    """The native filter-program evaluator called directly: any ops (valid or not) over any rows
    (in range or not) must raise or give bitmaps of live slots whose counts match."""
    ops = np.frombuffer(fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 12)), dtype=np.uint8).copy()
    rows = [np.array([fdp.ConsumeIntInRange(-3, len(index._attributes) + 3) for _ in range(fdp.ConsumeIntInRange(0, 8))],
                     dtype=np.int64) for _ in range(fdp.ConsumeIntInRange(0, 4))]
    words, matches, _ = index._core.evaluate_filters([_core.FilterProgram(ops, rows)], index._attributes.row_slots, 1)
    assert int(np.unpackbits(words.view(np.uint8)).sum()) == int(matches[0]), "match count differs from bitmap"
    assert int(matches[0]) <= len(index), "more matches than live vectors"


def TestOneInput(raw: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(raw)
    index = get_index(fdp)
    op = fdp.ConsumeIntInRange(0, 7)
    try:
        if op == 0:
            vecs = array(fdp, index.dim)
            n = vecs.shape[0] if getattr(vecs, "ndim", 0) >= 1 else 1
            ids = ids_array(fdp, n) if fdp.ConsumeBool() else None
            index.add(vecs, ids, num_threads=edge_int(fdp) if fdp.ConsumeBool() else None)
        elif op == 1:
            k = edge_int(fdp)
            result = index.search(array(fdp, index.dim), k=k, ef=edge_int(fdp) if fdp.ConsumeBool() else None,
                                  num_threads=edge_int(fdp) if fdp.ConsumeBool() else None)
            check_result(index, result, int(k))
        elif op == 2:
            index.delete(ids_array(fdp, fdp.ConsumeIntInRange(0, 4)))
        elif op == 3:
            index.get_vectors(ids_array(fdp, fdp.ConsumeIntInRange(0, 4)))
        elif op == 4:
            _ = edge_int(fdp) in index
        elif op == 6:
            filtered_search(fdp, index)
        elif op == 7:
            raw_filter_program(fdp, index)
        else:
            vecsearch.Index(edge_int(fdp), ["l2", "ip", "cosine", "hamming", 3][fdp.ConsumeIntInRange(0, 4)],
                            M=edge_int(fdp), ef_construction=edge_int(fdp), seed=edge_int(fdp),
                            acorn_gamma=edge_int(fdp), acorn_m_beta=edge_int(fdp) if fdp.ConsumeBool() else None)
    except ALLOWED:
        pass


def main() -> None:
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
