"""Sizes of what an adapter saved: the index bytes the reports give per vector."""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Callable


def tree_bytes(path: str) -> int:
    """Total size of the files under ``path`` (a file's own size if it is one)."""
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(
        os.path.getsize(os.path.join(root, f)) for root, _, files in os.walk(path) for f in files
    )


def saved_bytes(save: Callable[[str], None]) -> int:
    """Size of what ``save(path)`` writes at a fresh path in a temporary directory."""
    tmp = tempfile.mkdtemp(prefix="bench-size-")
    try:
        save(os.path.join(tmp, "index"))
        return tree_bytes(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
