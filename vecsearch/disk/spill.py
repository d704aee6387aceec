"""The file an out-of-core build streams its vectors into, ``<path>.building``.

It exists only while a build of `path` runs (an exclusive ``flock`` marks it live) or after a
build was killed: the index itself appears at `path` by an atomic rename only once complete, so
a leftover ``.building`` file beside a missing index means an interrupted build.
"""
from __future__ import annotations

import fcntl
import os
import warnings
from typing import Any

import numpy as np

from vecsearch._format import FileRegion
from vecsearch.errors import IncompleteIndexError

SUFFIX = ".building"


def building_path(path: Any) -> str:
    """Where a build of `path` keeps its vectors until the index is complete."""
    return os.fspath(path) + SUFFIX


def check_complete(path: Any) -> None:
    """Raises IncompleteIndexError when `path` is missing because its build never finished."""
    path = os.fspath(path)
    spill = building_path(path)
    if not os.path.exists(path) and os.path.exists(spill):
        state = "is still running" if _locked(spill) else "was interrupted"
        raise IncompleteIndexError(
            f"{path}: no index file, but {spill} is there: a build of this index {state}; "
            "the index is incomplete (build it again: build_on_disk with the same source and parameters "
            "continues from its last checkpoint)")


def _locked(spill: str) -> bool:
    try:
        fd = os.open(spill, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


class SpillFile:
    """float32 rows [capacity, dim] in ``<path>.building``, mapped writable and grown by
    doubling; the build's index writes its vectors straight into the mapping."""

    def __init__(self, path: Any, dim: int, capacity: int, keep_rows: int = 0) -> None:
        """keep_rows: resume a build whose first `keep_rows` rows are in the file (a checkpoint
        names them); 0 starts afresh."""
        self.path = building_path(path)
        self.dim = dim
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RuntimeError(f"another process is building {os.fspath(path)} ({self.path} is locked)") from None
        size = os.fstat(fd).st_size
        if keep_rows and size < keep_rows * dim * 4:
            os.close(fd)
            raise ValueError(f"{self.path} holds {size // (dim * 4)} rows, fewer than the {keep_rows} to resume from")
        if not keep_rows:
            if size:
                warnings.warn(f"removing {self.path}, left by an interrupted build", RuntimeWarning, stacklevel=3)
            os.ftruncate(fd, 0)
        self._fd = fd
        self.rows = 0
        self.array: Any = None
        self._map(max(1, capacity, keep_rows))

    def _map(self, capacity: int) -> None:
        os.ftruncate(self._fd, capacity * self.dim * 4)  # sparse: no disk used until written
        self.array = np.memmap(self.path, dtype=np.float32, mode="r+", shape=(capacity, self.dim))
        self.rows = capacity

    def ensure(self, rows: int) -> bool:
        """Grows the file to hold `rows` rows; True when the mapping changed (re-attach it)."""
        if rows <= self.rows:
            return False
        self.array.flush()
        self._map(max(rows, 2 * self.rows))
        return True

    def region(self, count: int) -> FileRegion:
        """The first `count` rows, as a payload for the index file writer."""
        self.array.flush()
        return FileRegion(self.path, 0, count * self.dim * 4)

    def close(self, keep: bool = False) -> None:
        """Unmaps, removes the file (unless `keep`: an interrupted build resumes from it) and
        releases the lock."""
        if keep and self.array is not None:
            self.array.flush()
        self.array = None
        if not keep:
            try:
                os.unlink(self.path)
            except OSError:
                pass
        os.close(self._fd)
