"""One shard: a vecsearch Index inside a Ray actor, and the calls the sharded index makes of it.

Each incarnation of the actor has a random token. The sharded index passes the token it knows
with every call; an actor that Ray restarted (after its process died) has a new token and
refuses the call with ShardRestarted, so a shard that came back from its last save (or empty)
is never mistaken for the one that held the data since.
"""
from __future__ import annotations

import os
import time
import uuid
from typing import Any, Dict, Optional, Tuple

import numpy as np

from vecsearch.attributes.store import NO_SLOT
from vecsearch.distributed.files import FileSource, shard_attributes, shard_blocks, shard_ids
from vecsearch.distributed.manifest import MANIFEST, ShardEntry, file_sha256, read_manifest, shard_file
from vecsearch.errors import FormatError, VecsearchError


class ShardRestarted(VecsearchError):
    """Internal: the actor is a new incarnation (args: its token, the generation it loaded)."""


class Shard:
    """The actor's state. `options` are the Index parameters; with `directory` holding a
    manifest the shard loads its file from the save the manifest names (what a restart does)."""

    def __init__(self, shard: int, options: Dict[str, Any], directory: Optional[str] = None,
                 load_options: Optional[Dict[str, Any]] = None) -> None:
        from vecsearch.index import Index

        self.shard = shard
        self.token = uuid.uuid4().hex
        self.generation = 0
        self.rows_streamed = 0  # of a running build, for the caller's progress bars
        self.load_options = dict(load_options or {})
        if directory is not None and os.path.exists(os.path.join(directory, MANIFEST)):
            self._load_save(directory)
        else:
            self.index = Index(**options)

    def _load_save(self, directory: str) -> None:
        """Loads this shard's file of the save the manifest of `directory` names, checked
        against the manifest's SHA-256."""
        from vecsearch.index import Index

        manifest = read_manifest(directory)
        entry = manifest.shards[self.shard]
        path = os.path.join(directory, entry.file)
        if file_sha256(path) != entry.sha256:
            raise FormatError(f"shard {self.shard}: {path!r} does not match the checksum in the manifest")
        self.index = Index.load(path, **self.load_options)
        self.generation = manifest.generation

    def _entry(self, directory: str, name: str, generation: int) -> ShardEntry:
        """The manifest entry of the file `name` this shard just wrote for `generation`."""
        self.generation = generation
        path = os.path.join(directory, name)
        return ShardEntry(name, file_sha256(path), os.path.getsize(path), len(self.index))

    def _check(self, token: Optional[str]) -> None:
        if token != self.token:
            raise ShardRestarted(self.token, self.generation)

    # -- calls of the sharded index ---------------------------------------------------------

    def hello(self) -> Tuple[str, int, int]:
        """(token, generation loaded, live count): the first call to a new incarnation."""
        return self.token, self.generation, len(self.index)

    def process_id(self) -> int:
        """The actor's process id (tests kill it to see a restart)."""
        return os.getpid()

    def count(self, token: str) -> int:
        self._check(token)
        return len(self.index)

    def add(self, token: str, vectors: np.ndarray, ids: np.ndarray, attributes: Any,
            num_threads: Optional[int]) -> int:
        self._check(token)
        self.index.add(vectors, ids, attributes=attributes, num_threads=num_threads, progress=False)
        return len(self.index)

    def delete(self, token: str, ids: np.ndarray) -> int:
        self._check(token)
        self.index.delete(ids)
        return len(self.index)

    def set_attributes(self, token: str, ids: np.ndarray, attributes: Any) -> None:
        self._check(token)
        self.index.set_attributes(ids, attributes)

    def get_attributes(self, token: str, ids: np.ndarray) -> dict:
        self._check(token)
        return self.index.get_attributes(ids)

    def get_vectors(self, token: str, ids: np.ndarray) -> np.ndarray:
        self._check(token)
        return self.index.get_vectors(ids)

    def search(self, token: str, queries: np.ndarray, k: int, options: Dict[str, Any]) -> tuple:
        """This shard's k best of every query (ids, distances, and with ``return_info`` in
        `options` its SearchInfo), then the seconds the search took here."""
        self._check(token)
        start = time.perf_counter()
        if len(self.index) == 0:
            nq = queries.shape[0]
            empty = (np.empty((nq, 0), np.uint64), np.empty((nq, 0), np.float32))
            return (*empty, None, 0.0) if options.get("return_info") else (*empty, 0.0)
        answer = self.index.search(queries, k, **options)
        return (*answer, time.perf_counter() - start)

    def explain(self, token: str, query: np.ndarray, filter: Any, k: int, ef: Optional[int]) -> Any:
        self._check(token)
        if len(self.index) == 0:
            return None
        return self.index.explain(query, filter, k=k, ef=ef)

    def stats(self, token: str) -> dict:
        self._check(token)
        return self.index.stats()

    def reset_stats(self, token: str) -> None:
        self._check(token)
        self.index.reset_stats()

    def save(self, token: str, directory: str, generation: int) -> ShardEntry:
        """Writes the shard as `generation`'s file in `directory` and returns its manifest entry."""
        self._check(token)
        name = shard_file(self.shard, generation)
        self.index.save(os.path.join(directory, name))
        return self._entry(directory, name, generation)

    def build(self, token: str, directory: str, generation: int, source: FileSource, shards: int,
              options: Dict[str, Any], build_options: Dict[str, Any]) -> ShardEntry:
        """Builds this shard's part of `source` into its file with the disk tier's builder and
        keeps it loaded (vectors on disk)."""
        from vecsearch.disk.build import build_on_disk

        self._check(token)
        name = shard_file(self.shard, generation)
        ids = shard_ids(source, self.shard, shards)
        blocks = self._counted(shard_blocks(source, self.shard, shards))
        self.index = build_on_disk(os.path.join(directory, name), blocks, ids=ids,
                                   attributes=shard_attributes(source, self.shard, shards), **options, **build_options)
        return self._entry(directory, name, generation)

    def _counted(self, blocks: Any) -> Any:
        self.rows_streamed = 0
        for block in blocks:
            yield block
            self.rows_streamed += block.shape[0]

    def build_progress(self) -> int:
        """Rows of the running build streamed into the graph so far."""
        return self.rows_streamed

    def export(self, token: str, scratch: str) -> bytes:
        """The shard as the bytes of a saved file (to seed a replacement replica)."""
        self._check(token)
        path = os.path.join(scratch, f"export-{self.shard}-{uuid.uuid4().hex}.vs")
        try:
            self.index.save(path)
            with open(path, "rb") as f:
                return f.read()
        finally:
            if os.path.exists(path):
                os.remove(path)

    def adopt(self, data: bytes, scratch: str) -> Tuple[str, int]:
        """Replaces this incarnation's index by an exported one; returns (token, count)."""
        from vecsearch.index import Index

        path = os.path.join(scratch, f"adopt-{self.shard}-{uuid.uuid4().hex}.vs")
        try:
            with open(path, "wb") as f:
                f.write(data)
            self.index = Index.load(path)
        finally:
            if os.path.exists(path):
                os.remove(path)
        return self.token, len(self.index)

    # -- two-phase mutations: every shard checks before any shard changes -------------------

    def check_add(self, token: str, ids: np.ndarray, attributes: Any) -> None:
        """Raises what this shard's add of `ids` would raise (duplicate id, bad attributes)."""
        self._check(token)
        self.index._check_absent(ids)
        self.index._attributes.prepare(attributes, len(ids))

    def missing(self, token: str, ids: np.ndarray) -> np.ndarray:
        """The ids of `ids` this shard does not hold."""
        self._check(token)
        ids = np.ascontiguousarray(ids, dtype=np.uint64)
        return ids[self.index._core.slots_of(ids, missing_ok=True) == NO_SLOT]

    def reload(self, token: str, directory: str) -> int:
        """Loads this shard's file of the save in `directory` (a replica joining a build)."""
        self._check(token)
        self._load_save(directory)
        return len(self.index)
