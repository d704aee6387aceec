"""ShardedIndex: the Index API over shards that are vecsearch indexes on Ray actors.

Ids route to shards by a stable hash (routing.py). A search sends the whole batch to every
shard once (one remote call per shard per batch, the queries put in Ray's object store once);
each shard plans and answers on its own slice with the filter pushed down, and the k best of
each shard are merged exactly by distance (merge.py). Mutations are two-phase: every shard
involved checks the call first, so a bad add or delete changes no shard.
"""
from __future__ import annotations

import collections
import os
import threading
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from vecsearch._progress import progress as progress_bar
from vecsearch._validate import as_ids, as_vectors, positive_int, require_distinct
from vecsearch.distributed import cluster
from vecsearch.distributed.files import scan_files
from vecsearch.distributed.manifest import MANIFEST, Manifest, read_manifest, remove_other_generations, write_manifest
from vecsearch.distributed.merge import merge_info, merge_topk
from vecsearch.distributed.routing import shard_of, split_rows, take_rows
from vecsearch.errors import EmptyIndexError, UnknownIdError

# Latency samples kept per shard for stats(): enough for a stable p99.
SAMPLES = 1024


@dataclass
class ShardedPlan:
    """What :meth:`ShardedIndex.explain` reports: each shard's own plan and the totals."""

    plans: List[Any]  # a vecsearch QueryPlan per shard (None for an empty shard)
    matches: int
    live: int

    @property
    def selectivity(self) -> float:
        return self.matches / self.live if self.live else 0.0


class ShardedIndex:
    """An index split over `shards` Ray actors, each holding one :class:`vecsearch.Index`.

    Args:
        dim, metric, **index_options: as for :class:`vecsearch.Index` (M, ef_construction,
            storage, ef_search, ...), applied to every shard.
        shards: number of shards.
        replicas: actors per shard holding the same data. A search is answered by one replica
            (in turn); if it dies, another answers. Writes go to every replica.
        num_cpus: CPUs Ray reserves per actor (default: an equal share of the CPUs free when
            the index is made). Its whole part (at least 1) is each shard's search and build threads.
        actor_options: more ``ray.remote`` options for the actors (``resources``, ``scheduling_strategy``...).

    Ray is started locally (``ray.init()``) unless it already runs; to use a cluster, call
    ``ray.init(address=...)`` first. Saves need a directory every actor can reach.

    A shard actor that dies makes the call raise :class:`vecsearch.ShardError` naming it,
    unless a replica answers. Ray restarts a dead actor of an index loaded from (or built
    into) a directory, and the new actor loads that directory's current save: if the shard had
    not changed since, it is used again as if nothing happened; otherwise every call to it
    raises ShardError saying the changes since the save are lost on it (load the directory
    again to continue from the save).
    """

    def __init__(self, dim: int, metric: str = "l2", *, shards: int = 2, replicas: int = 1,
                 num_cpus: Optional[float] = None, actor_options: Optional[Dict[str, Any]] = None,
                 **index_options: Any) -> None:
        from vecsearch.index import Index

        Index(dim, metric, **index_options)  # checks the options here, once, with the Index's errors
        options = dict(index_options, dim=dim, metric=metric)
        self._setup(options, positive_int(shards, "shards"), positive_int(replicas, "replicas"),
                    num_cpus, actor_options, directory=None, load_options={}, next_id=0, generation=0)

    def _setup(self, options: Dict[str, Any], shards: int, replicas: int, num_cpus: Optional[float],
               actor_options: Optional[Dict[str, Any]], directory: Optional[str],
               load_options: Dict[str, Any], next_id: int, generation: int) -> None:
        self._options = options
        self._dim: int = options["dim"]
        self._directory = directory
        self._generation = generation
        self._next_id = next_id
        self._write_lock = threading.RLock()
        self._round = 0
        self._latency: List[collections.deque] = [collections.deque(maxlen=SAMPLES) for _ in range(shards)]
        self._gather: collections.deque = collections.deque(maxlen=SAMPLES)
        self._merge: collections.deque = collections.deque(maxlen=SAMPLES)
        self._overhead: collections.deque = collections.deque(maxlen=SAMPLES)
        self._dirty = [0] * shards  # mutations since the last save or load, per shard
        self._cpus = cluster.cpus_per_actor(shards * replicas, num_cpus)
        self._threads = max(1, int(self._cpus))  # each shard's search and add threads by default
        self._group = cluster.ShardGroup(shards, replicas, options, directory, load_options,
                                         self._cpus, actor_options or {}, self._adoptable)

    def _adoptable(self, shard: int, generation: int) -> bool:
        # A restarted actor came back from the directory's save: usable if nothing changed since.
        return self._dirty[shard] == 0 and self._directory is not None and generation == self._generation

    # -- properties -------------------------------------------------------------------------

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def metric(self) -> str:
        return self._options["metric"]

    @property
    def shards(self) -> int:
        return self._group.shards

    @property
    def replicas(self) -> int:
        return self._group.replicas

    def __len__(self) -> int:
        return int(sum(self._group.call_each("count")))

    def __contains__(self, id: object) -> bool:
        try:
            ids = as_ids([id])
        except (TypeError, ValueError):
            return False
        shard = int(shard_of(ids, self.shards)[0])
        return self._group.call(shard, "missing", ids).size == 0

    def __repr__(self) -> str:
        return f"ShardedIndex(dim={self.dim}, metric={self.metric!r}, shards={self.shards}, replicas={self.replicas})"

    # -- mutation ---------------------------------------------------------------------------

    def add(self, vectors: Any, ids: Any = None, *, attributes: Any = None,
            num_threads: Optional[int] = None) -> np.ndarray:
        """Adds vectors (as :meth:`vecsearch.Index.add`) to the shards their ids route to and
        returns the ids. Every shard checks its part (duplicate ids, attribute types) before
        any shard adds, so a call that raises has changed nothing."""
        data = as_vectors(vectors, self.dim, "vectors")
        n = data.shape[0]
        with self._write_lock:
            if ids is None:
                ids = np.arange(self._next_id, self._next_id + n, dtype=np.uint64)
            else:
                ids = as_ids(ids, "ids", count=n)
                require_distinct(ids, "add")
            parts = self._parts(ids)
            self._group.call_many([(s, "check_add", (ids[rows], take_rows(attributes, rows))) for s, rows in parts])
            threads = num_threads or self._threads
            self._write([(s, "add", (data[rows], ids[rows], take_rows(attributes, rows), threads))
                         for s, rows in parts])
            if n:
                self._next_id = max(self._next_id, int(ids.max()) + 1)
        return ids

    def delete(self, ids: Any) -> None:
        """Removes ids from their shards. Raises UnknownIdError (deleting nothing) if any is absent."""
        ids = as_ids(ids, "ids")
        require_distinct(ids, "delete")
        with self._write_lock:
            parts = self._parts(ids)
            self._require_present(ids, parts)
            self._write([(s, "delete", (ids[rows],)) for s, rows in parts])

    remove = delete

    def _parts(self, ids: np.ndarray) -> List[Tuple[int, np.ndarray]]:
        """(shard, positions in `ids`) for every shard that holds some of `ids`."""
        return [(s, rows) for s, rows in enumerate(split_rows(ids, self.shards)) if rows.size]

    def _require_present(self, ids: np.ndarray, parts: List[Tuple[int, np.ndarray]]) -> None:
        for missing in self._group.call_many([(s, "missing", (ids[rows],)) for s, rows in parts]):
            if missing.size:
                raise UnknownIdError(f"id {int(missing[0])} is not in the index")

    def _write(self, calls: List[Tuple[int, str, tuple]]) -> None:
        """Runs each (shard, method, args) on every live replica; the shards then differ from
        their last save."""
        self._group.write_many(calls)
        for s, _, _ in calls:
            self._dirty[s] += 1

    def set_attributes(self, ids: Any, attributes: Any) -> None:
        """Replaces column values of existing ids (as :meth:`vecsearch.Index.set_attributes`)."""
        ids = as_ids(ids, "ids")
        with self._write_lock:
            parts = self._parts(ids)
            self._require_present(ids, parts)
            self._write([(s, "set_attributes", (ids[rows], take_rows(attributes, rows))) for s, rows in parts])

    def get_attributes(self, ids: Any) -> dict:
        """Column name -> list of values of `ids`, in the order given."""
        ids = as_ids(ids, "ids")
        parts = self._parts(ids)
        answers = self._group.call_many([(s, "get_attributes", (ids[rows],)) for s, rows in parts])
        out: Dict[str, list] = {}
        for (_, rows), answer in zip(parts, answers):
            for name, values in answer.items():
                column = out.setdefault(name, [None] * ids.shape[0])
                for row, value in zip(rows, values):
                    column[row] = value
        return out

    def get_vectors(self, ids: Any) -> np.ndarray:
        """The stored vectors of `ids` [n, dim], in the order given."""
        ids = as_ids(ids, "ids")
        out = np.empty((ids.shape[0], self.dim), dtype=np.float32)
        parts = self._parts(ids)
        for (_, rows), vectors in zip(parts, self._group.call_many([(s, "get_vectors", (ids[rows],))
                                                                     for s, rows in parts])):
            out[rows] = vectors
        return out

    # -- search -----------------------------------------------------------------------------

    def search(self, queries: Any, k: int = 10, *, ef: Optional[int] = None, filter: Any = None,
               plan: str = "auto", rerank: Optional[int] = None, num_threads: Optional[int] = None,
               return_info: bool = False) -> Any:
        """The k nearest neighbours of each query over all shards; arguments and results as
        :meth:`vecsearch.Index.search` (``ef``, ``filter`` and ``plan`` apply in every shard).
        ``num_threads``: search threads in each shard (default: its CPU share). With
        ``return_info``, the info merges the shards': matches summed, exact only where every
        shard's answer was, and ``plan`` the shards' plans joined by ``+`` where they differ."""
        k = positive_int(k, "k")
        data = as_vectors(queries, self.dim, "queries")
        options = {"ef": ef, "filter": filter, "plan": plan, "rerank": rerank,
                   "num_threads": num_threads or self._threads, "return_info": return_info}
        start = time.perf_counter()
        answers = self._group.scatter("search", data, k, options)
        gathered = time.perf_counter()
        if all(a[0].shape[1] == 0 for a in answers):
            raise EmptyIndexError("the index is empty: add vectors before searching")
        result = merge_topk([(a[0], a[1]) for a in answers], k)
        self._gather.append(gathered - start)
        self._merge.append(time.perf_counter() - gathered)
        self._overhead.append(gathered - start - max(a[-1] for a in answers))
        for s, answer in enumerate(answers):
            self._latency[s].append(answer[-1])
        if return_info:
            return (*result, merge_info(result[0], [a[2] for a in answers if a[0].shape[1]]))
        return result

    def explain(self, query: Any, filter: Any, *, k: int = 10, ef: Optional[int] = None) -> ShardedPlan:
        """Each shard's plan for one query and filter (see :meth:`vecsearch.Index.explain`)."""
        data = as_vectors(query, self.dim, "query")[:1]
        plans = self._group.call_each("explain", data, filter, k, ef)
        found = [p for p in plans if p is not None]
        return ShardedPlan(plans, sum(p.matches for p in found), sum(p.live for p in found))

    def stats(self) -> dict:
        """``shards``: each shard's :meth:`vecsearch.Index.stats`; ``latency``: seconds per
        batch over the last batches (``batches``, ``mean``, ``p50``, ``p99`` each): ``shard``,
        each shard's own search time; ``gather``, the scatter-gather wall time (remote calls,
        queues and transfers included); ``overhead``, the gather time less the slowest shard's
        search, i.e. what distribution costs; ``merge``, the top-k merge."""
        def summary(samples: Sequence[float]) -> Dict[str, float]:
            if not samples:
                return {"batches": 0}
            arr = np.asarray(samples)
            return {"batches": len(arr), "mean": float(arr.mean()),
                    "p50": float(np.percentile(arr, 50)), "p99": float(np.percentile(arr, 99))}
        return {
            "shards": self._group.call_each("stats"),
            "latency": {"shard": [summary(s) for s in self._latency], "gather": summary(self._gather),
                        "overhead": summary(self._overhead), "merge": summary(self._merge)},
        }

    def reset_stats(self) -> None:
        """Zeroes every shard's counters and the latency samples."""
        self._group.call_each("reset_stats")
        for samples in (*self._latency, self._gather, self._overhead, self._merge):
            samples.clear()

    # -- persistence ------------------------------------------------------------------------

    def save(self, directory: str) -> None:
        """Saves every shard to a new file in `directory`, then the manifest (shard count, id
        routing, each file's SHA-256) atomically; files of the previous save are removed after.
        A crash before the manifest is written leaves the previous save loadable."""
        directory = os.fspath(directory)
        os.makedirs(directory, exist_ok=True)
        with self._write_lock:
            generation = max(self._generation, _generation_in(directory)) + 1
            entries = self._group.call_each("save", directory, generation)
            write_manifest(directory, Manifest(entries, generation, self._next_id, self._manifest_options()))
            remove_other_generations(directory, [e.file for e in entries])
            self._generation, self._directory = generation, directory
            self._dirty = [0] * self.shards

    def _manifest_options(self) -> Dict[str, Any]:
        options = {name: value for name, value in self._options.items() if _jsonable(value)}
        return dict(options, replicas=self.replicas)

    @classmethod
    def load(cls, directory: str, *, replicas: Optional[int] = None, num_cpus: Optional[float] = None,
             actor_options: Optional[Dict[str, Any]] = None, **load_options: Any) -> "ShardedIndex":
        """Loads a save, each shard in its actor (checking its file against the manifest's
        SHA-256). ``load_options`` are :meth:`vecsearch.Index.load`'s (``vectors_on_disk``,
        ``mmap``, ...); ``replicas`` defaults to the saved count."""
        directory = os.fspath(directory)
        manifest = read_manifest(directory)
        options = dict(manifest.options)
        saved_replicas = options.pop("replicas", 1)
        index = cls.__new__(cls)
        index._setup(options, len(manifest.shards), positive_int(replicas or saved_replicas, "replicas"),
                     num_cpus, actor_options, directory, load_options, manifest.next_id, manifest.generation)
        return index

    @classmethod
    def build(cls, directory: str, source: Any, *, shards: int = 2, replicas: int = 1,
              metric: str = "l2", column: Optional[str] = None, attribute_columns: Optional[List[str]] = None,
              num_cpus: Optional[float] = None, actor_options: Optional[Dict[str, Any]] = None,
              progress: Optional[bool] = None, **build_options: Any) -> "ShardedIndex":
        """Builds a sharded index of `source` into `directory`, every shard in parallel with the
        disk tier's builder (:func:`vecsearch.build_on_disk`; ``build_options`` are its
        ``storage``, ``M``, ``memory_budget``, ...), and returns it with vectors on disk.

        `source` is a directory of (or a list of) ``.npy`` / vector files or ``.parquet`` files
        (``column``: their vector column; ``attribute_columns``: columns kept as attributes).
        Ids are the rows' positions in the files taken in name order. Each shard streams the
        files and keeps its own rows. Progress shows rows streamed per shard."""
        directory = os.fspath(directory)
        if os.path.exists(os.path.join(directory, MANIFEST)):
            raise FileExistsError(f"{directory!r} already holds a sharded index; build into an empty directory")
        os.makedirs(directory, exist_ok=True)
        src = scan_files(source, column, attribute_columns)
        shards = positive_int(shards, "shards")
        options = {"dim": src.dim, "metric": metric}
        index = cls.__new__(cls)
        index._setup(options, shards, positive_int(replicas, "replicas"), num_cpus, actor_options, directory,
                     {"vectors_on_disk": True}, src.count, 0)
        build_options.setdefault("num_threads", index._threads)
        build_options.update(progress=False, load=True)
        per_shard = np.bincount(shard_of(np.arange(src.count, dtype=np.uint64), shards), minlength=shards)
        job = index._group.start_each("build", directory, 1, src, shards, {"metric": metric}, build_options)
        with progress_bar(src.count, f"vecsearch build ({shards} shards)", progress) as bar:
            shown = [0]

            def show(rows: np.ndarray) -> None:  # the total, and each shard's share done
                bar.update(int(rows.sum()) - shown[0])
                shown[0] = int(rows.sum())
                bar.set_postfix_str(" ".join(f"{100 * r / max(t, 1):.0f}%" for r, t in zip(rows, per_shard)))

            entries = index._group.finish(job, poll=show, total=per_shard)
        write_manifest(directory, Manifest(entries, 1, src.count, index._manifest_options()))
        remove_other_generations(directory, [e.file for e in entries])
        index._generation = 1
        index._group.reload_replicas(directory)
        return index

    def heal(self) -> int:
        """Replaces dead replicas by copies of live ones (writes do this first by themselves);
        returns how many were replaced."""
        with self._write_lock:
            return self._group.heal()

    def close(self) -> None:
        """Ends the shard actors (the index is gone unless saved)."""
        self._group.kill()


def _generation_in(directory: str) -> int:
    try:
        return read_manifest(directory).generation
    except Exception:  # no save there yet (or not ours: the save then replaces it)
        return 0


def _jsonable(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))
