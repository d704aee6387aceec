"""IdRowMap: external id -> attribute row for the live ids, as two sorted numpy arrays.

16 bytes an id where a dict of Python ints costs about 100, which matters at tens of millions
of vectors; lookups are vectorised (searchsorted). A deleted id keeps its place with row -1 (a
tombstone), so deleting and re-adding it costs no reshuffle; tombstones are compacted away once
they are half the entries.
"""
from __future__ import annotations

import numpy as np

from vecsearch.errors import UnknownIdError

_GONE = -1


class IdRowMap:
    def __init__(self) -> None:
        self._ids = np.zeros(0, dtype=np.uint64)
        self._rows = np.zeros(0, dtype=np.int64)
        self._live = 0

    @classmethod
    def from_arrays(cls, ids: np.ndarray, rows: np.ndarray) -> "IdRowMap":
        m = cls()
        if (ids[1:] > ids[:-1]).all():  # already sorted (automatic ids): no permutation to hold
            m._ids = np.array(ids, dtype=np.uint64)
            m._rows = np.array(rows, dtype=np.int64)
        else:
            order = np.argsort(ids, kind="stable")
            m._ids = np.ascontiguousarray(ids[order], dtype=np.uint64)
            m._rows = np.ascontiguousarray(rows[order], dtype=np.int64)
        m._live = int(ids.shape[0])
        return m

    def __len__(self) -> int:
        return self._live

    @property
    def nbytes(self) -> int:
        return self._ids.nbytes + self._rows.nbytes

    def _locate(self, ids: np.ndarray) -> tuple:
        """(positions, present): where each id sits, and whether it has an entry there (live or
        a tombstone)."""
        pos = np.searchsorted(self._ids, ids)
        if not self._ids.shape[0]:
            return pos, np.zeros(ids.shape, dtype=bool)
        clipped = np.minimum(pos, self._ids.shape[0] - 1)
        return clipped, (pos < self._ids.shape[0]) & (self._ids[clipped] == ids)

    def _find(self, ids: np.ndarray) -> tuple:
        """(positions, found): where each id sits and whether it is live there."""
        pos, present = self._locate(ids)
        if present.any():
            present &= self._rows[pos] != _GONE
        return pos, present

    def add(self, ids: np.ndarray, rows: np.ndarray) -> None:
        """Maps ids that are not live (the caller has checked) to rows."""
        ids = np.asarray(ids, dtype=np.uint64)
        rows = np.asarray(rows, dtype=np.int64)
        clipped, revived = self._locate(ids)
        self._rows[clipped[revived]] = rows[revived]  # tombstones of deleted ids
        fresh = ~revived
        if fresh.all():
            new_ids, new_rows = ids, rows
        else:
            new_ids, new_rows = ids[fresh], rows[fresh]
        if new_ids.size:
            if not (new_ids[1:] > new_ids[:-1]).all():
                order = np.argsort(new_ids, kind="stable")
                new_ids, new_rows = new_ids[order], new_rows[order]
            if self._ids.size == 0 or new_ids[0] > self._ids[-1]:  # ids in increasing order: append
                self._ids = np.concatenate([self._ids, new_ids])
                self._rows = np.concatenate([self._rows, new_rows])
            else:
                at = np.searchsorted(self._ids, new_ids)
                self._ids = np.insert(self._ids, at, new_ids)
                self._rows = np.insert(self._rows, at, new_rows)
        self._live += int(ids.shape[0])

    def rows(self, ids: np.ndarray) -> np.ndarray:
        """The rows of `ids` (int64); UnknownIdError names the first id that is not live."""
        ids = np.asarray(ids, dtype=np.uint64)
        pos, found = self._find(ids)
        if not found.all():
            raise UnknownIdError(f"id {int(ids[np.flatnonzero(~found)[0]])} is not in the index")
        return self._rows[pos]

    def remove(self, ids: np.ndarray) -> np.ndarray:
        """Unmaps the live ones among `ids`; returns their rows."""
        ids = np.asarray(ids, dtype=np.uint64)
        pos, found = self._find(ids)
        pos = np.unique(pos[found])
        rows = self._rows[pos].copy()
        self._rows[pos] = _GONE
        self._live -= int(pos.shape[0])
        if self._ids.shape[0] > 2 * self._live + 1024:  # mostly tombstones: compact
            keep = self._rows != _GONE
            self._ids, self._rows = self._ids[keep], self._rows[keep]
        return rows
