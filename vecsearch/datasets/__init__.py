"""Data for vecsearch: vector file formats, synthetic sets, exact k-NN.

Also the arxiv-for-fanns layout (:mod:`.fanns`) and, with pyarrow, parquet
(:mod:`.parquet`). The benchmarks' own generators and workloads live in
``bench.datasets``, outside the shipped package.

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

__all__ = [
    "FannsDataset",
    "load_fanns",
    "pad_ground_truth",
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
