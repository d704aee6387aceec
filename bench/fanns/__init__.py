"""The FANNS suite (``python -m bench fanns``; the default ``python -m bench``).

Filtered k-NN as in the FANNS benchmark (Iff et al. 2025): per-query EM, R, EMIS
and EM+R filters with values sampled from the data, plus unfiltered search and
controlled-selectivity sets, on generated arXiv-like data, the arxiv-for-fanns
layout, debian-minilm or a parquet file. Modules: ``data`` (sources, workloads,
cases), ``methods`` (adapters), ``measure`` (points, recall, memory), ``run``
(config and order of work), ``report`` (JSON/CSV/markdown), ``plots`` (PNG),
``cli`` (options).
"""
