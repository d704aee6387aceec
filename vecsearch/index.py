"""The user-facing :class:`Index`: an HNSW graph over float32 vectors with uint64 ids."""
from __future__ import annotations

import os
import threading
from typing import Any, Callable, Dict, Optional, Tuple, Union

import numpy as np

from vecsearch import _core
from vecsearch._persist import codes_trained_on, load_index, save_index
from vecsearch.disk.budget import check_file_budget
from vecsearch.disk.spill import check_complete
from vecsearch._progress import progress as _progress_bar
from vecsearch._storage import StorageState, resolve_storage
from vecsearch._validate import (MAX_ACORN_GAMMA, MAX_DIM, MAX_M, METRICS, MISSING_ID, as_ids, as_vectors,
                                 non_negative_int, normalized, positive_int, require_distinct)
from vecsearch.attributes import AttributeStore
from vecsearch.attributes.store import NO_SLOT
from vecsearch.errors import DuplicateIdError, EmptyIndexError, UnknownIdError
from vecsearch.search_info import search_info
from vecsearch.filters.planner import QueryPlan
from vecsearch.filters.range_index import RangeIndex, check_range_column, load_range_indexes
from vecsearch.filters.search import FilteredSearch

# Results are k wide whatever the index size, so k is bounded to keep a typo from asking for
# gigabytes of padding.
MAX_K = 1 << 20
# Adds and searches run natively in chunks this large, so Ctrl-C and progress bars are served
# between chunks while each chunk still keeps every thread busy.
ADD_CHUNK = 16_384
SEARCH_CHUNK = 65_536
# How an index with its vectors on disk reads the rows it re-ranks (see Index.load).
DISK_IO = ("auto", "io_uring", "pread", "mmap")

PathLike = Union[str, "os.PathLike[str]"]


class Index:
    """An approximate nearest-neighbour index (HNSW) over float32 vectors with uint64 ids.

    Args:
        dim: vector length.
        metric: ``"l2"`` (squared Euclidean distance), ``"ip"`` (distance ``1 - dot``) or
            ``"cosine"`` (``1 - cosine``; vectors are normalised when added and queried).
        M: graph degree (level 0 keeps up to ``2 * M`` links per vector).
        ef_construction: beam width while building; higher builds slower and better graphs.
        seed: seeds the level draw, so single-threaded builds are reproducible.
        ef_search: default beam width of :meth:`search` when ``ef`` is not given.
        acorn_gamma: 1 (default) builds a plain HNSW graph, searched with ACORN-1 under filters.
            Above 1, an ACORN-gamma graph (Patel et al., SIGMOD 2024): level 0 keeps about
            ``M * acorn_gamma`` nearest neighbours, found without looking at any predicate, so the
            part of the graph that any filter leaves stays navigable down to selectivities near
            ``1 / acorn_gamma``. Builds several times slower and holds longer link rows.
        acorn_m_beta: with ``acorn_gamma > 1``, how many nearest level-0 neighbours are kept
            uncompressed (default ``2 * M``); past them a neighbour already linked from a kept
            one is dropped and recovered at search time in two hops.
        storage: ``"auto"`` (default): once the index holds 1,000 vectors, walks
            score SQ8 codes (one byte per dimension) and re-rank exactly from the float vectors,
            if a check on a sample shows the codes keep the true neighbours (else float32); a
            filtered walk whose matches crowd within the codes' error of one distance (the
            re-rank cannot tell them apart) is answered by the exact scan; or ``"float32"`` (every walk
            uses exact distances), ``"sq8"``, ``"pq"`` (``dim / 4`` bytes),
            ``"binary"`` (one bit per dimension), or a :class:`vecsearch.quant.Quantizer`. An
            untrained quantizer is trained on (a sample of up to 65,536 of) the first add's
            vectors; SQ8 codes of ``"auto"`` and ``"sq8"`` are trained again each time the
            index has doubled, until trained on 65,536. The graph is built from the float
            vectors, which stay in RAM to re-rank.
        rerank: with codes, how many of a walk's best candidates are re-scored exactly by
            default (None: the whole beam, ``max(ef, k)``; 0: none, code distances are the
            answer). The beam is widened to ``rerank`` when that is larger than ``ef``. With SQ8
            codes in RAM it is a ceiling: candidates whose estimate, less the codes' measured
            error, cannot beat the k-th exact distance are not re-scored.

    Capacity grows by itself. All methods may be called from several threads at once:
    searches run concurrently; ``add`` and ``delete`` wait for running searches and make later
    ones wait until they finish (a search never sees a half-done add or delete).

    Example:
        >>> import numpy as np, vecsearch
        >>> index = vecsearch.Index(4, metric="l2")
        >>> ids = index.add(np.eye(4, dtype=np.float32))
        >>> found, dists = index.search(np.eye(4, dtype=np.float32)[0], k=2)
        >>> int(found[0, 0])
        0
    """

    def __init__(
        self,
        dim: int,
        metric: str = "l2",
        *,
        M: int = 16,
        ef_construction: int = 200,
        seed: int = 0,
        ef_search: int = 64,
        acorn_gamma: int = 1,
        acorn_m_beta: Optional[int] = None,
        storage: Any = "auto",
        rerank: Optional[int] = None,
    ) -> None:
        dim = positive_int(dim, "dim", maximum=MAX_DIM)
        if metric not in METRICS:
            raise ValueError(f"unknown metric {metric!r}; expected one of {', '.join(METRICS)}")
        M = positive_int(M, "M", maximum=MAX_M)
        if M < 2:
            raise ValueError("M must be at least 2")
        ef_construction = positive_int(ef_construction, "ef_construction", maximum=1 << 20)
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) < 2**64:
            raise ValueError(f"seed must be an integer in [0, 2**64), got {seed!r}")
        acorn_gamma = positive_int(acorn_gamma, "acorn_gamma", maximum=MAX_ACORN_GAMMA)
        if acorn_m_beta is None:
            acorn_m_beta = min(2 * M, M * acorn_gamma)
        acorn_m_beta = positive_int(acorn_m_beta, "acorn_m_beta", maximum=M * acorn_gamma)
        quantizer = resolve_storage(storage, dim, metric)
        self._init(_core.HnswIndex(dim, metric, M, ef_construction, int(seed), acorn_gamma, acorn_m_beta), ef_search)
        self.rerank = rerank
        self._storage.configure(storage, quantizer)  # an untrained quantizer waits for the first add

    def _init(self, core: Any, ef_search: int, keepalive: Any = None) -> None:
        self._core = core
        params = core.params()
        self._dim: int = params["dim"]
        self._metric: str = params["metric"]
        self._M: int = params["M"]
        self._ef_construction: int = params["ef_construction"]
        self._seed: int = params["seed"]
        self._acorn_gamma: int = params["acorn_gamma"]
        self._acorn_m_beta: int = params["acorn_m_beta"]
        self.ef_search = ef_search
        self._keepalive = keepalive  # the mmap behind borrowed vectors
        self._disk_io: Optional[str] = None  # "io_uring", "pread" or "mmap" with vectors on disk
        self._storage = StorageState(self)  # the codes walks score with, and when they change
        self._rerank: Optional[int] = None
        self._filtered = FilteredSearch(self)
        self._attributes = AttributeStore()
        # Held by adds and deletes around their native call, and by a filtered search that keeps
        # losing the race with them, so that search cannot starve.
        self._write_gate = threading.Lock()
        self._range_indexes: Dict[str, RangeIndex] = {}  # column -> its range index

    # -- properties -------------------------------------------------------------------------

    @property
    def dim(self) -> int:
        """Vector length."""
        return self._dim

    @property
    def metric(self) -> str:
        """``"l2"``, ``"ip"`` or ``"cosine"``."""
        return self._metric

    @property
    def M(self) -> int:
        """Graph degree."""
        return self._M

    @property
    def ef_construction(self) -> int:
        """Beam width used while building."""
        return self._ef_construction

    @property
    def seed(self) -> int:
        """Seed of the level draw."""
        return self._seed

    @property
    def acorn_gamma(self) -> int:
        """ACORN-gamma graph density (1: plain HNSW)."""
        return self._acorn_gamma

    @property
    def acorn_m_beta(self) -> int:
        """Level-0 neighbours kept uncompressed in an ACORN-gamma graph."""
        return self._acorn_m_beta

    @property
    def ef_search(self) -> int:
        """Default beam width of :meth:`search`."""
        return self._ef_search

    @ef_search.setter
    def ef_search(self, value: int) -> None:
        self._ef_search = positive_int(value, "ef_search")

    @property
    def storage(self) -> str:
        """``"float32"``, or the kind of the codes walks use (``"sq8"``, ``"pq"``, ``"binary"``)."""
        return self._storage.kind

    @property
    def quantizer(self) -> Any:
        """The :class:`vecsearch.quant.Quantizer` of quantized storage, or None."""
        return self._storage.quantizer

    @property
    def rerank(self) -> Optional[int]:
        """Default number of candidates re-scored exactly with quantized storage (None: the beam)."""
        return self._rerank

    @rerank.setter
    def rerank(self, value: Optional[int]) -> None:
        self._rerank = None if value is None else non_negative_int(value, "rerank", maximum=MAX_K)

    def __len__(self) -> int:
        return self._core.size()

    def __contains__(self, id: object) -> bool:
        if isinstance(id, bool) or not isinstance(id, (int, np.integer)) or not 0 <= int(id) < 2**64 - 1:
            return False
        return self._core.contains(int(id))

    def __repr__(self) -> str:
        return (
            f"vecsearch.Index(dim={self.dim}, metric={self.metric!r}, M={self.M}, "
            f"ef_construction={self.ef_construction}"
            + (f", acorn_gamma={self.acorn_gamma}, acorn_m_beta={self.acorn_m_beta}" if self.acorn_gamma > 1 else "")
            + (f", storage={self.storage!r}" if self.quantizer is not None else "")
            + f", len={len(self)})"
        )

    # -- mutation ---------------------------------------------------------------------------

    def add(
        self,
        vectors: Any,
        ids: Any = None,
        *,
        attributes: Any = None,
        num_threads: Optional[int] = None,
        progress: Optional[bool] = None,
    ) -> np.ndarray:
        """Adds vectors and returns their ids.

        Args:
            vectors: [n, dim] (or one [dim] vector) of any float dtype, any layout.
            ids: n distinct non-negative integers not yet in the index; None assigns
                consecutive ids after the largest id ever used.
            attributes: one value per vector for each column, as a dict of arrays/lists, a
                pandas DataFrame or a pyarrow Table. The first add with attributes fixes the
                schema (int, float, date, bool, category, tags; inferred); later adds must fit
                it, and columns they omit are null.
            num_threads: native threads for the build (default: all cores).
            progress: show a tqdm bar (default: only for large adds, when tqdm exists).

        Returns:
            uint64 array [n] of the ids used.

        Raises:
            DimensionError, DTypeError, NonFiniteError: bad vectors.
            DuplicateIdError: an id repeats within `ids` or is already in the index.
            ValueError: bad ids (negative, wrong count), zero vector with the cosine metric.
            FilterError: attributes of the wrong type for their column, or an unknown column.

        Bad input is detected before anything changes. An interrupted add (Ctrl-C) keeps the
        vectors of the chunks that finished.
        """
        data = as_vectors(vectors, self.dim, "vectors")
        if self.metric == "cosine":
            data = normalized(data, "vectors")
        n = data.shape[0]
        threads = self._threads(num_threads)
        if ids is not None:
            ids = as_ids(ids, "ids", count=n)
            require_distinct(ids, "add")
            self._check_absent(ids)
        prepared = self._attributes.prepare(attributes, n)
        self._storage.before_add(data)
        out = np.empty(n, dtype=np.uint64)
        self._core.reserve_more(n)  # a MemoryError here leaves the index untouched
        self._disk_io = None  # the core copies vectors on disk into RAM before adding
        with _progress_bar(n, "vecsearch add", progress) as bar:
            for start in range(0, n, ADD_CHUNK):
                stop = min(n, start + ADD_CHUNK)
                chunk_ids = None if ids is None else ids[start:stop]
                with self._write_gate:
                    out[start:stop] = self._core.add(data[start:stop], chunk_ids, threads)
                    self._attributes.append(out[start:stop], {
                        name: (kind, values[start:stop], null[start:stop])
                        for name, (kind, values, null) in prepared.items()
                    }, self._core.slots_of(out[start:stop]))
                bar.update(stop - start)
        self._storage.after_add(threads)
        self._filtered.ensure_axis_codes()  # the first add trained the codes on an empty index
        return out

    def set_storage(self, storage: Any, *, num_threads: Optional[int] = None) -> None:
        """Switches how walks score: ``"float32"`` drops the codes; ``"sq8"``, ``"pq"``,
        ``"binary"`` or a :class:`vecsearch.quant.Quantizer` encodes every stored vector (an
        untrained quantizer is first trained on a sample of up to 65,536 of them); ``"auto"``
        decides as the constructor's does (now, or once 1,000 vectors are in). The graph is
        kept as it is: it was built from the float vectors, whatever the storage.
        """
        quantizer = resolve_storage(storage, self.dim, self.metric)
        self._storage.switch(storage, quantizer, self._threads(num_threads))
        self._filtered.ensure_axis_codes()  # SQ8 codes in RAM: the codes plan's first pass

    def _live_ids(self) -> np.ndarray:
        with self._attributes.lock:
            return self._attributes.ids[self._attributes.alive]

    def _sample_vectors(self, pick: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """The stored vectors of the ids pick(live ids) returns. Without the write gate, a
        concurrent delete may take a picked id between the pick and the read (UnknownIdError):
        this thread does not hold the gate then (a writer ran), so it waits for it and picks again."""
        def read() -> np.ndarray:
            return self._core.get_vectors(np.ascontiguousarray(pick(self._live_ids())))
        try:
            return read()
        except UnknownIdError:
            with self._write_gate:
                return read()

    def _check_absent(self, ids: np.ndarray) -> None:
        # A native membership pass so a duplicate fails before the first chunk is inserted.
        present = np.flatnonzero(self._core.slots_of(ids, missing_ok=True) != NO_SLOT)
        if present.size:
            raise DuplicateIdError(f"id {int(ids[present[0]])} is already in the index")

    def delete(self, ids: Any) -> None:
        """Removes ids; they are never returned again and their space is reused by later adds.

        Raises:
            UnknownIdError: an id is not in the index (nothing is deleted then).
            DuplicateIdError: an id repeats within `ids`.
        """
        ids = as_ids(ids, "ids")
        with self._write_gate:
            self._core.remove(ids)
            self._attributes.delete(ids)

    remove = delete

    def set_attributes(self, ids: Any, attributes: Any) -> None:
        """Replaces the values of the given columns for existing ids (other columns keep theirs).
        A column the index does not have yet is added, null for every other id.

        Raises:
            UnknownIdError: an id is not in the index. FilterError: a value of the wrong type.
        """
        ids = as_ids(ids, "ids")
        prepared = self._attributes.prepare(attributes, ids.shape[0], new_columns=True)
        self._attributes.set(ids, prepared)

    def get_attributes(self, ids: Any) -> dict:
        """Column name -> list of values of `ids` (None where null)."""
        return self._attributes.get(as_ids(ids, "ids"))

    @property
    def attribute_schema(self) -> dict:
        """Column name -> kind (``int``, ``float``, ``date``, ``bool``, ``category``, ``tags``)."""
        return self._attributes.schema

    def create_range_index(self, column: str, *, num_threads: Optional[int] = None) -> None:
        """Keeps the vectors again in the order of an int, float or date column, as 8-bit codes
        (about ``dim + 8`` bytes per vector; ``dim + axes + 12`` when a few principal axes hold
        most of the variance and the scan keeps only those, see
        :mod:`vecsearch.quant.projection`), so that a filter that is a range on that column
        (``F(column).between(a, b)``, ``<``, ``>=``, ``==`` or an AND of them, as expressions
        or strings) scans just the vectors in its range with integer dot products and re-scores
        the best ``max(k, rerank)`` exactly. ``plan="auto"`` uses it for the queries where its
        measured cost is below the other plans' (:meth:`explain` shows both); ``plan="range"``
        forces it. Adds, deletes and changes to the column make it stale: the next search that
        uses it rebuilds it. Saved with the index and rebuilt on first use after a load.

        Raises:
            FilterError: the column does not exist or is not int, float or date.
        """
        check_range_column(self._attributes, column)
        ranged = self._range_indexes.get(column) or RangeIndex(column)
        with self._write_gate:
            ranged.refresh(self._core, self._attributes, self._threads(num_threads))
        self._range_indexes[column] = ranged

    def drop_range_index(self, column: str) -> None:
        """Removes the range index of `column` (KeyError if it has none)."""
        if column not in self._range_indexes:
            raise KeyError(f"no range index on {column!r}; indexed: {sorted(self._range_indexes) or 'none'}")
        del self._range_indexes[column]

    @property
    def range_indexes(self) -> Tuple[str, ...]:
        """The columns that have a range index (see :meth:`create_range_index`)."""
        return tuple(self._range_indexes)

    def get_vectors(self, ids: Any) -> np.ndarray:
        """The stored vectors of `ids` as float32 [n, dim] (normalised for cosine).

        Raises:
            UnknownIdError: an id is not in the index.
        """
        return self._core.get_vectors(as_ids(ids, "ids"))

    # -- search -----------------------------------------------------------------------------

    def search(
        self,
        queries: Any,
        k: int = 10,
        *,
        ef: Optional[int] = None,
        num_threads: Optional[int] = None,
        filter: Any = None,
        plan: str = "auto",
        rerank: Optional[int] = None,
        return_info: bool = False,
    ) -> Any:
        """The k nearest neighbours of each query.

        Args:
            queries: [nq, dim] or one [dim] query (then nq = 1), any float dtype.
            k: neighbours per query.
            ef: beam width (default ``max(k, ef_search)``); higher is slower and more accurate.
            num_threads: native threads across queries (default: all cores).
            filter: restricts the answer, shared by every query or as a list with one per query:
                an expression over attributes (``F("year") >= 2018``), or the same as a string
                (``"year >= 2018 AND section IN ('libs', 'doc')"``, see
                :mod:`vecsearch.filters.text`); an array of allowed ids
                (ids not in the index are ignored); a numba ``@cfunc("uint8(uint64)")`` of the id,
                called from native code without the GIL; or a plain Python callable
                ``f(id) -> bool`` (slow: one Python call per vector).
            plan: how filtered queries are answered: ``"auto"`` (per query, from the exact
                match count and measured costs; see :meth:`explain`), ``"scan"`` (exact),
                ``"acorn"`` (ACORN-1 walk over matching nodes), ``"post"`` (walk, then filter) or
                ``"codes"`` (every match's SQ8 code scored with an integer query, the best ``rerank``
                re-scored exactly: storage ``"sq8"`` or ``"auto"`` that chose it) or ``"range"``
                (the range index of the filter's column: see :meth:`create_range_index`).
            rerank: with quantized storage, how many of the walk's best candidates are re-scored
                exactly (default: the index's ``rerank``; 0 returns code distances). The exact
                scan plan always uses the float vectors.
            return_info: also return a :class:`vecsearch.SearchInfo`: per query, the live
                matches of its filter, what answered it, and whether the row is exact and
                complete (a short row because only that many match, not because any were missed).

        Returns:
            (ids, distances), or (ids, distances, info) with ``return_info``: uint64 [nq, k] and
            float32 [nq, k], each row sorted by distance.
            Rows shorter than k (only when fewer than k live vectors match) are padded with ``MISSING_ID``
            (2**64-1, i.e. -1 viewed as int64) and ``inf``.

        Raises:
            EmptyIndexError: the index holds no vectors.
            DimensionError, DTypeError, NonFiniteError: bad queries.
            ValueError: k or ef < 1, or k > 2**20.
        """
        k = positive_int(k, "k", maximum=MAX_K)
        ef = max(k, self.ef_search) if ef is None else positive_int(ef, "ef")
        data = as_vectors(queries, self.dim, "queries")
        if self.metric == "cosine":
            data = normalized(data, "queries")
        threads = self._threads(num_threads)
        rerank = self._rerank_for(ef, k, rerank)
        if len(self) == 0:
            raise EmptyIndexError("the index is empty: add vectors before searching")
        nq = data.shape[0]
        if filter is not None:
            ids, dists, answered, matches = self._filtered.search(data, k, ef, rerank, threads, filter, plan)
            if not return_info:
                return ids, dists
            return ids, dists, search_info(ids, matches, answered, scans_exact=not self._scans_codes)
        ids, dists = self._search_unfiltered(data, k, ef, rerank, threads)
        return (ids, dists, search_info(ids, np.full(nq, len(self)), None)) if return_info else (ids, dists)

    def _search_unfiltered(self, data: np.ndarray, k: int, ef: int, rerank: int, threads: int
                           ) -> Tuple[np.ndarray, np.ndarray]:
        nq = data.shape[0]
        if nq <= SEARCH_CHUNK:
            return self._core.search(data, k, ef, rerank, threads)
        ids = np.empty((nq, k), dtype=np.uint64)
        dists = np.empty((nq, k), dtype=np.float32)
        with _progress_bar(nq, "vecsearch search", None, unit="q") as bar:
            for start in range(0, nq, SEARCH_CHUNK):
                stop = min(nq, start + SEARCH_CHUNK)
                ids[start:stop], dists[start:stop] = self._core.search(data[start:stop], k, ef, rerank, threads)
                bar.update(stop - start)
        return ids, dists

    knn_query = search

    def _rerank_for(self, ef: int, k: int, rerank: Optional[int]) -> int:
        if rerank is not None:
            return non_negative_int(rerank, "rerank", maximum=MAX_K)
        return max(ef, k) if self._rerank is None else self._rerank

    def explain(self, query: Any, filter: Any, *, k: int = 10, ef: Optional[int] = None,
                shared_by: int = 1) -> QueryPlan:
        """The plan :meth:`search` would choose for one query and filter, with the match count,
        selectivity and the estimated cost of each plan in microseconds. ``shared_by``: how many
        queries of the batch use this same filter (a scan shared by a block of queries costs
        each of them less)."""
        k = positive_int(k, "k", maximum=MAX_K)
        ef = max(k, self.ef_search) if ef is None else positive_int(ef, "ef")
        as_vectors(query, self.dim, "query")
        shared_by = positive_int(shared_by, "shared_by")
        if len(self) == 0:
            raise EmptyIndexError("the index is empty: add vectors before searching")
        return self._filtered.explain(filter, k, ef, shared_by)

    @property
    def _sq8_in_ram(self) -> bool:
        # SQ8 codes and float rows in RAM: the codes plan can scan the codes and re-rank exactly.
        return self.storage == "sq8" and self._disk_io is None

    @property
    def _scans_codes(self) -> bool:
        # With rows read per query from disk, the scan plan scores codes and re-reads the best.
        return self._disk_io in ("io_uring", "pread") and self.quantizer is not None

    @staticmethod
    def _threads(num_threads: Optional[int]) -> int:
        return 0 if num_threads is None else positive_int(num_threads, "num_threads", maximum=4096)

    # -- persistence ------------------------------------------------------------------------

    def memory_usage(self) -> dict:
        """Approximate bytes of RAM held by the index, by component: ``graph`` (links, levels),
        ``codes`` (quantized storage and its quantizer), ``vectors`` (float32 rows: the
        re-rank vectors with quantized storage; file pages when loaded with ``mmap=True``),
        ``ids`` (id maps), ``attributes`` (columns and their indexes), ``range_indexes`` (see
        :meth:`create_range_index`) and their ``total``."""
        parts = dict(self._core.memory_parts())
        mapped = parts.pop("vectors_mapped")
        parts["attributes"] = self._attributes.nbytes()
        parts["range_indexes"] = sum(r.memory_bytes() for r in self._range_indexes.values())
        if mapped and self._disk_io is not None:  # vectors on disk: file pages, read per query
            parts["disk"] = parts.pop("vectors")
            parts["vectors"] = 0
        parts["total"] = sum(v for name, v in parts.items() if name != "disk")
        return parts

    def stats(self) -> dict:
        """What the index holds and has read: ``memory`` (:meth:`memory_usage`) and ``io``, the
        counters since load or :meth:`reset_stats`: ``queries`` re-ranked exactly and the
        ``rows_reranked`` they scored; with vectors on disk also ``mode`` (``"io_uring"``,
        ``"pread"`` or ``"mmap"``) and, for io_uring and pread, ``rows_read``, ``bytes_read`` and ``read_calls``
        (io_uring batches or pread system calls), with ``bytes_per_query`` and ``reads_per_query``,
        and for pread ``rows_missed_cache``. Bytes the page cache served
        count too: they are what the index asked of the file, not what the device did.

        ``plans`` counts filtered queries by the plan chosen for them (``scan``, ``acorn``,
        ``post``), the ACORN queries re-routed to the exact scan because their filter fails
        around them (``acorn_rerouted``), and the walks whose answer the exact scan replaced
        because they met fewer matches than exist or provably missed closer ones
        (``acorn_fallback``, ``post_fallback``): a walk's own quality is its queries less
        those."""
        io = dict(self._core.io_stats())
        io.pop("read_mode", None)
        io["mode"] = self._disk_io
        queries = max(io["queries"], 1)
        io["rows_per_query"] = io["rows_reranked"] / queries
        if "bytes_read" in io:
            io["bytes_per_query"] = io["bytes_read"] / queries
            io["reads_per_query"] = io["read_calls"] / queries
        plans = {name: count - self._filtered.calibration_plans.get(name, 0)
                 for name, count in self._core.plan_stats().items()}
        return {"memory": self.memory_usage(), "io": io, "plans": plans}

    def reset_stats(self) -> None:
        """Zeroes the counters that :meth:`stats` reports under ``io`` and ``plans``."""
        self._core.reset_io_stats()
        self._core.reset_plan_stats()
        self._filtered.calibration_plans = {}

    def save(self, path: PathLike) -> None:
        """Writes the index to `path` atomically (temporary file, fsync, rename).

        The file format is documented in ``vecsearch/_format.py``.
        """
        save_index(self, path)

    @classmethod
    def load(cls, path: PathLike, *, mmap: bool = False, vectors_on_disk: bool = False, disk_io: str = "auto",
             memory_budget: Optional[int] = None, verify_vectors: bool = True) -> "Index":
        """Reads an index saved by :meth:`save`.

        Args:
            path: the file.
            mmap: map the vectors read-only from the file instead of copying them into RAM
                (they are copied on the first add).
            vectors_on_disk: keep the float vectors in the file: the graph, codes, ids and
                attributes are read into RAM, and with quantized storage a search reads from the
                file only the rows it re-ranks (``rerank`` per query). Filters work as in memory
                (an exact scan plan reads its matching rows through the mapping). Searches on
                float32 storage work too but read a row per visited node. Adds copy the vectors
                into RAM first.
            disk_io: with ``vectors_on_disk``, how re-ranked rows are read: ``"io_uring"`` (each
                query's rows submitted together in one system call and awaited together),
                ``"pread"`` (rows in the page cache read with a non-blocking call each, the others
                requested together with ``posix_fadvise`` and then read), ``"auto"`` (default:
                pread, which measured faster than io_uring cold and warm at 2M vectors on 2
                cores), or ``"mmap"`` (page faults
                through the mapping, one at a time; the pages then count in the process's RSS).
            memory_budget: bytes of RAM the loaded index may hold (the vectors on disk not
                counted); a larger index raises MemoryBudgetError before anything is read.

            verify_vectors: with ``vectors_on_disk``, False skips reading the vectors section to
                check its checksum (and that it holds no NaN/inf): a load then reads only the
                graph, codes and attributes, not the whole file. Every other section is still
                verified; a vectors section corrupted on disk would go unnoticed.

        Raises:
            FormatError: not a vecsearch file, truncated, corrupt (checksums) or inconsistent.
            FormatVersionError: written by a format version this vecsearch cannot read.
            IncompleteIndexError: no file at `path`, but the leftovers of an interrupted build of it.
            MemoryBudgetError: the index needs more RAM than ``memory_budget``.
        """
        if disk_io not in DISK_IO:
            raise ValueError(f"unknown disk_io {disk_io!r}; expected one of {', '.join(DISK_IO)}")
        if disk_io == "io_uring" and not _core.io_uring_available():
            raise OSError("io_uring is not available here (kernel too old, or disabled by policy); use disk_io='pread'")
        check_complete(path)
        if memory_budget is not None:
            check_file_budget(path, positive_int(memory_budget, "memory_budget"), vectors_on_disk)
        mapped = mmap or vectors_on_disk
        if not verify_vectors and not vectors_on_disk:
            raise ValueError("verify_vectors=False is for vectors_on_disk=True: vectors read into RAM are always checked")
        core, ef_search, f, attributes, quantizer, rerank = load_index(path, mapped, verify_vectors)
        index = cls.__new__(cls)
        index._init(core, ef_search, keepalive=f if mapped else None)
        index._attributes = attributes
        index._rerank = rerank
        index._storage.restore(quantizer, f.meta.get("storage_auto"), codes_trained_on(f.meta, path), path)
        index._range_indexes = load_range_indexes(f.meta.get("range_indexes", []), attributes, path)
        if vectors_on_disk and f.has("vectors"):
            f.release("vectors")  # read per query from now on, one row at a time
            if disk_io != "mmap":
                core.attach_reader(f.path, f.section_offset("vectors"), core.slot_count(), disk_io == "io_uring")
                disk_io = core.io_stats()["read_mode"]
            index._disk_io = disk_io
        index._filtered.ensure_axis_codes()
        _core.trim_heap()
        return index


__all__ = ["Index", "MISSING_ID"]
