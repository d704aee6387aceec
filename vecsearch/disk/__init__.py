"""Indexes larger than RAM: the float vectors stay in the index file on disk while the graph and
compact codes live in RAM (bi-granular retrieval, as in BiDR and DiskANN).

- :func:`build_on_disk` streams a source of any size into an index file with bounded memory;
- :func:`plan_memory` says which codes fit a memory budget;
- ``Index.load(path, vectors_on_disk=True)`` searches the file, re-ranking from disk.
"""
from vecsearch.disk.budget import plan_memory
from vecsearch.disk.build import build_on_disk

__all__ = ["build_on_disk", "plan_memory"]
