"""pytest-benchmark micro-benchmarks of the native kernels (not part of ``pytest tests``).

Run: ``python -m pytest bench/micro --benchmark-only`` (add ``--benchmark-save=NAME`` to keep a
baseline, ``--benchmark-compare`` to diff against it). Nothing here asserts a speed.

- distance kernels: ``vecsearch._core.kernel_distances`` at every SIMD level the CPU has,
  per metric (l2, ip), pairwise and blocked, 16 queries against 4,096 rows of dim 384;
- filter evaluation: a per-query list of 100 expressions turned into slot bitmaps natively,
  and the same filters in a full exact filtered search (``plan="scan"``);
- ADC scan: product-quantizer asymmetric distances over 50k codes (``vecsearch.PQ.search``).
"""

from __future__ import annotations

import numpy as np
import pytest

import vecsearch
from vecsearch import F, _core
from vecsearch.filters.batch import filter_batch
from vecsearch.filters.bitmaps import filter_bitmaps

DIM = 384
LEVELS = vecsearch.simd_info()["supported"]


@pytest.fixture(scope="module")
def rows() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4096, DIM), dtype=np.float32)
    q = rng.standard_normal((16, DIM), dtype=np.float32)
    return q, x


@pytest.mark.parametrize("block", [False, True], ids=["pairwise", "blocked"])
@pytest.mark.parametrize("metric", ["l2", "ip"])  # cosine runs the ip kernel on normalised rows
@pytest.mark.parametrize("level", LEVELS)
def test_distance_kernel(benchmark, rows, level: str, metric: str, block: bool) -> None:
    q, x = rows
    benchmark.group = f"distance {metric} {'blocked' if block else 'pairwise'} 16x4096x{DIM}"
    out = benchmark(_core.kernel_distances, level, metric, q, x, block)
    assert np.asarray(out).shape == (16, 4096)


@pytest.fixture(scope="module")
def filtered_index() -> tuple[vecsearch.Index, np.ndarray, list]:
    rng = np.random.default_rng(1)
    n = 20_000
    x = rng.standard_normal((n, 64), dtype=np.float32)
    index = vecsearch.Index(64, M=8, ef_construction=40)
    index.add(x, attributes={
        "section": rng.choice([f"s{i}" for i in range(50)], n).tolist(),
        "size": rng.integers(0, 100_000, n),
        "tags": [[f"t{j}" for j in rng.choice(200, 2, replace=False)] for _ in range(n)],
    })  # fmt: skip
    exprs = [
        (F("section") == f"s{i % 50}") & F("size").between(1000 * i, 1000 * i + 50_000)
        | F("tags").contains_any([f"t{i}"])
        for i in range(100)
    ]
    return index, x[:100], exprs


def test_filter_evaluation_to_bitmaps(benchmark, filtered_index) -> None:
    index, _, exprs = filtered_index
    benchmark.group = "filters: 100 per-query expressions over 20k items"
    bitmaps, matches, _ = benchmark(lambda: filter_bitmaps(index._core, index._attributes, filter_batch(exprs, 100)))
    assert len(matches) == 100


def test_filtered_exact_search(benchmark, filtered_index) -> None:
    index, queries, exprs = filtered_index
    benchmark.group = "filters: 100 per-query expressions over 20k items"
    ids, _ = benchmark(index.search, queries, 10, filter=exprs, plan="scan", num_threads=1)
    assert ids.shape == (100, 10)


def test_adc_scan(benchmark) -> None:
    rng = np.random.default_rng(2)
    x = rng.standard_normal((50_000, 384), dtype=np.float32)
    pq = vecsearch.PQ(48)
    pq.train(x[:10_000])
    codes = pq.encode(x)
    benchmark.group = "ADC scan: 16 queries x 50k PQ codes (384-d, m=48, 8 bits), top 10, 1 thread"
    ids, _ = benchmark(pq.search, codes, x[:16], 10, threads=1)
    assert ids.shape == (16, 10)
