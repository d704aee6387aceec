"""Benchmark data for vecsearch: vector file formats, synthetic sets, exact k-NN.

Also: the arxiv-for-fanns layout (:mod:`.fanns`), an arXiv-like generator
(:mod:`.arxiv_like`), FANNS workloads with filtered ground truth (:mod:`.workloads`),
and, with optional extras, parquet (:mod:`.parquet`, pyarrow), the debian-minilm
layout (:mod:`.debian`, pyarrow) and text embedding (:mod:`.embed`, ``[embed]``).

Only numpy is required; tqdm, when installed, draws progress bars
(through the package's shared ``vecsearch._progress`` helper).

Example:
    >>> from vecsearch.datasets import clustered_dataset, exact_knn
    >>> base, queries = clustered_dataset(2000, 10, 32, seed=0)
    >>> ids, dists = exact_knn(base, queries, k=10, progress=False)
    >>> ids.shape
    (10, 10)
"""

from __future__ import annotations

from .arxiv_like import ARXIV_WORKLOADS, generate_arxiv_like, write_arxiv_like
from .fanns import FannsDataset, load_fanns, pad_ground_truth, write_fanns
from .ground_truth import METRICS, exact_knn
from .synthetic import (
    GENERATOR_VERSION,
    Mixture,
    clustered_dataset,
    clustered_queries,
    clustered_vectors,
    make_mixture,
)
from .vectorio import (
    SUPPORTED_SUFFIXES,
    load_vectors,
    read_bin,
    read_npy,
    read_ragged_vecs,
    read_vecs,
    save_vectors,
    write_bin,
    write_ragged_vecs,
    write_vecs,
)
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
    "FannsDataset",
    "QuerySet",
    "WorkloadSpec",
    "cached_filtered_knn",
    "controlled_sets",
    "filtered_knn",
    "generate_arxiv_like",
    "load_fanns",
    "make_query_set",
    "pad_ground_truth",
    "write_arxiv_like",
    "write_fanns",
    "GENERATOR_VERSION",
    "METRICS",
    "SUPPORTED_SUFFIXES",
    "Mixture",
    "clustered_dataset",
    "clustered_queries",
    "clustered_vectors",
    "exact_knn",
    "load_vectors",
    "make_mixture",
    "read_bin",
    "read_npy",
    "read_ragged_vecs",
    "read_vecs",
    "save_vectors",
    "write_bin",
    "write_ragged_vecs",
    "write_vecs",
]
