"""ACORN-gamma graphs: denser predicate-agnostic level 0, recall under selective filters, search
answers and persistence like any index, parameter checks."""
from __future__ import annotations

import numpy as np
import pytest

import vecsearch
from vecsearch import _format


@pytest.fixture(scope="module")
def graphs(make_data_queries):
    x, q = make_data_queries(8000, 40, 24, seed=12)
    plain = vecsearch.Index(24, M=8, ef_construction=64, seed=3)
    plain.add(x, num_threads=1)
    dense = vecsearch.Index(24, M=8, ef_construction=64, seed=3, acorn_gamma=6)
    dense.add(x, num_threads=1)
    return plain, dense, x, q


def _acorn_recall(index, x, q, allowed, oracle, walk_recall, ef=32):
    """The ACORN walk's own recall: queries the exact scan answered after it count as misses."""
    truth, _ = oracle(x[allowed], q, 10, "l2", ids=allowed)

    def search():
        ids, _ = index.search(q, k=10, ef=ef, filter=allowed, plan="acorn")
        assert np.isin(ids[ids != vecsearch.MISSING_ID], allowed).all()
        return ids

    return walk_recall(index, search, truth)[0]


def test_gamma_graph_is_denser_and_reports_its_parameters(graphs):
    plain, dense, _, _ = graphs
    assert (plain.acorn_gamma, dense.acorn_gamma, dense.acorn_m_beta) == (1, 6, 16)
    assert dense.memory_usage()["graph"] > plain.memory_usage()["graph"]
    assert "acorn_gamma=6" in repr(dense)


# At 2% the walk alone is weak: the scan fallback answered 27 of 40 queries and the walk's own
# recall is 0.30 at ef 32-128 (ef changes nothing: the walk exhausts its reachable matches), which
# the fallback used to hide. Strict: this test fails once the walk holds recall there.
STRANDED = pytest.mark.xfail(strict=True, reason="ACORN walk at 2% strands: the scan answers 27/40")


@pytest.mark.parametrize("selectivity", [pytest.param(0.02, marks=STRANDED), 0.05, 0.2])
def test_gamma_walk_keeps_recall_under_selective_filters(graphs, oracle, walk_recall, selectivity):
    """The walk alone (every query the scan fallback answered counted as a miss) reaches
    recall 0.9 on the dense graph, and does at least as well as ACORN-1 on the plain graph."""
    plain, dense, x, q = graphs
    allowed = np.flatnonzero(np.random.default_rng(4).random(len(x)) < selectivity)
    dense_recall = _acorn_recall(dense, x, q, allowed, oracle, walk_recall)
    plain_recall = _acorn_recall(plain, x, q, allowed, oracle, walk_recall)
    assert dense_recall >= 0.9
    assert dense_recall >= plain_recall - 0.02


def test_gamma_graph_unfiltered_recall(graphs, oracle, recall):
    _, dense, x, q = graphs
    truth, _ = oracle(x, q, 10, "l2")
    ids, _ = dense.search(q, k=10, ef=32)
    assert recall(ids, truth) >= 0.95


@pytest.mark.parametrize("storage,version", [("float32", 3), ("auto", 4)])
def test_gamma_graph_survives_save_load_and_deletes(make_data_queries, tmp_path, storage, version):
    x, q = make_data_queries(1500, 10, 8, seed=2)
    index = vecsearch.Index(8, M=6, ef_construction=32, acorn_gamma=4, acorn_m_beta=8, storage=storage)
    index.add(x, attributes={"n": np.arange(len(x))})
    index.delete(np.arange(0, len(x), 5))
    path = tmp_path / "gamma.vs"
    index.save(path)
    # Gamma rows alone need version 3; codes (storage="auto" chose SQ8 here) need 4.
    assert _format.IndexFile(str(path)).version == version
    for mmap in (False, True):
        loaded = vecsearch.Index.load(path, mmap=mmap)
        assert (loaded.acorn_gamma, loaded.acorn_m_beta) == (4, 8)
        for kwargs in ({}, {"filter": vecsearch.F("n") < 300, "plan": "acorn"}):
            a = index.search(q, k=5, **kwargs)
            b = loaded.search(q, k=5, **kwargs)
            np.testing.assert_array_equal(a[0], b[0])
    plain = vecsearch.Index(8, M=6)
    plain.add(x[:10])
    plain.save(tmp_path / "plain.vs")
    assert _format.IndexFile(str(tmp_path / "plain.vs")).version == 2  # older releases still read it


def test_gamma_file_claiming_an_older_version_is_refused(make_data_queries, tmp_path):
    x, _ = make_data_queries(200, 1, 8, seed=2)
    index = vecsearch.Index(8, M=4, acorn_gamma=3)
    index.add(x)
    state = index._core.export_state()
    meta = {"kind": "hnsw", "dim": 8, "metric": "l2", "M": 4, "ef_construction": 200, "seed": 0, "ef_search": 64,
            "count": state["count"], "entry_point": state["entry_point"], "max_level": state["max_level"],
            "next_auto_id": state["next_auto_id"], "acorn_gamma": 3, "acorn_m_beta": 8}
    arrays = {name: state[name] for name in ("vectors", "ids", "levels", "deleted", "links0", "upper")}
    _format.write_atomic(str(tmp_path / "old.vs"), meta, arrays, version=2)
    with pytest.raises(vecsearch.FormatError, match="ACORN-gamma graph in a version 2 file"):
        vecsearch.Index.load(tmp_path / "old.vs")
    meta["acorn_gamma"] = 1  # rows wider than a plain graph's: the core's size check refuses it
    _format.write_atomic(str(tmp_path / "lie.vs"), meta, arrays, version=3)
    with pytest.raises(vecsearch.FormatError, match="links0"):
        vecsearch.Index.load(tmp_path / "lie.vs")


@pytest.mark.parametrize("kwargs, message", [
    ({"acorn_gamma": 0}, "acorn_gamma"),
    ({"acorn_gamma": 65}, "acorn_gamma"),
    ({"acorn_gamma": 2.5}, "acorn_gamma"),
    ({"acorn_gamma": 2, "acorn_m_beta": 17}, "acorn_m_beta"),
    ({"acorn_gamma": 2, "acorn_m_beta": 0}, "acorn_m_beta"),
])
def test_bad_acorn_parameters(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        vecsearch.Index(8, M=8, **kwargs)
