"""Every engine adapter, on small data: it imports (CI installs every peer: a missing or broken
peer fails here, it is never skipped), builds, finds the true neighbours at a deep knob, and
reports its index size. The one exception: SVS's LVQ adapters on a CPU that is not Intel's, where
SVS would end the process, are skipped with that reason."""

from __future__ import annotations

import numpy as np
import pytest

from vecsearch.datasets import clustered_dataset, exact_knn

from bench.engines import ENGINES, HNSWParams, load_engine
from bench.engines.svs_ import cpu_vendor
from bench.measure import recall_at_k

K = 10


@pytest.fixture(scope="module")
def small() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    base, queries = clustered_dataset(3000, 60, 64, seed=3)  # SymphonyQG needs dim % 64 == 0
    truth, _ = exact_knn(base, queries, k=K, progress=False)
    return base, queries, truth


# Adapters whose library runs only on Intel CPUs (they refuse to load elsewhere: ImportError).
INTEL_ONLY = {"svs-lvq8", "svs-lvq4x8"}


def cannot_run_here(name: str) -> bool:
    return name in INTEL_ONLY and cpu_vendor() != "GenuineIntel"


def loadable(name: str, params: HNSWParams):
    """The engine, or a skip when its library cannot run on this CPU."""
    try:
        return load_engine(name, params)
    except ImportError as e:
        if cannot_run_here(name):
            pytest.skip(str(e))
        raise


@pytest.mark.parametrize("name", list(ENGINES))
def test_adapter_builds_searches_and_sizes(name: str, small) -> None:
    base, queries, truth = small
    engine = loadable(name, HNSWParams(dim=base.shape[1], M=16, ef_construction=100))
    try:
        engine.build(base, threads=2)
        deep = max(engine.knob_start([10, 20, 40, 80, 160]))
        ids = engine.search(queries, K, min(4 * deep, engine.knob_limit), 1)
        assert ids.shape == (queries.shape[0], K) and ids.dtype == np.int64
        assert ((ids >= -1) & (ids < base.shape[0])).all()
        assert recall_at_k(ids, truth, K) >= 0.9
        size = engine.index_bytes()
        # every index holds at least a link per vector; the float ones at least the vectors too
        assert size is not None and size >= base.shape[0] * 4
        if engine.codes == "float32":
            assert size >= base.nbytes
        # a second thread count answers the same queries (not necessarily bit for bit)
        assert recall_at_k(engine.search(queries, K, min(4 * deep, engine.knob_limit), 2), truth, K) >= 0.9
    finally:
        engine.close()


def test_every_engine_declares_its_capabilities() -> None:
    for name in ENGINES:
        try:
            engine = load_engine(name, HNSWParams(dim=8))
        except ImportError:
            assert cannot_run_here(name), name
            continue
        assert engine.name == name
        assert engine.filters in {"none", "callback", "idset", "expression", "sql"}
        assert engine.knob and engine.knob_limit >= 1
        assert engine.version and engine.version != "unknown"
