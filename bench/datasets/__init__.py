"""Benchmark-only data: the arXiv-like generator, FANNS workloads with filtered ground truth,
the debian-minilm layout and text embedding.

The library keeps what its users read and write (:mod:`vecsearch.datasets`: vector files, the
arxiv-for-fanns layout, parquet, the synthetic mixture, exact k-NN); what only the benchmarks
need lives here, outside the shipped package.
"""

from __future__ import annotations

from .arxiv_like import ARXIV_WORKLOADS, generate_arxiv_like, write_arxiv_like
from .workloads import (
    QuerySet,
    WorkloadSpec,
    cached_filtered_knn,
    controlled_sets,
    filtered_knn,
    make_query_set,
)

__all__ = [
    "ARXIV_WORKLOADS",
    "QuerySet",
    "WorkloadSpec",
    "cached_filtered_knn",
    "controlled_sets",
    "filtered_knn",
    "generate_arxiv_like",
    "make_query_set",
    "write_arxiv_like",
]
