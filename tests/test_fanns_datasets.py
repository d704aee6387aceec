"""FANNS data files: the arxiv-for-fanns layout, ragged ivecs, parquet (the benchmarks'
generators and workloads are tested in bench/tests/test_generators.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from vecsearch.datasets import (
    exact_knn,
    load_fanns,
    pad_ground_truth,
    read_ragged_vecs,
    write_ragged_vecs,
    write_vecs,
)
from vecsearch.datasets.fanns import ATTRIBUTE_KEYS, FANNS_FILES

# ---------------------------------------------------------------- tiny arxiv-for-fanns fixture


def _item(i: int) -> dict:
    return {
        "submitter": f"s{i % 3}",
        "has_comment": i % 2 == 0,
        "number_of_main_categories": 1 + i % 2,
        "main_categories": ["cs"] if i % 2 == 0 else ["cs", "math"],
        "number_of_sub_categories": 1 + i % 3,
        "sub_categories": ["cs.LG"],
        "license": "cc-by",
        "number_of_versions": 1,
        "update_date": 14000 + 100 * i,
        "number_of_authors": 2,
        "authors": ["a", "b"],
    }


def _naive(base: np.ndarray, q: np.ndarray, allowed: np.ndarray, k: int) -> np.ndarray:
    ids = np.flatnonzero(allowed)
    d = ((base[ids].astype(np.float64) - q.astype(np.float64)) ** 2).sum(1)
    return ids[np.lexsort((ids, d))][:k]


@pytest.fixture()
def tiny_fanns(tmp_path: Path) -> Path:
    """8 unit vectors d=4, all 11 keys, 3 queries; GT with a short row and an empty one."""
    rng = np.random.default_rng(5)
    base = rng.standard_normal((8, 4)).astype(np.float32)
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    queries = base[:3] + np.float32(0.01)
    d = tmp_path / "fanns"
    d.mkdir()
    write_vecs(d / FANNS_FILES["base"], base)
    write_vecs(d / FANNS_FILES["queries"], queries)
    items = [_item(i) for i in range(8)]
    (d / FANNS_FILES["attributes"]).write_text("".join(json.dumps(r) + "\n" for r in items))
    em = [1, 3, 9]  # 9 matches nothing: m = 0
    r = [(14000, 14300), (14000, 14000), (14200, 14800)]
    emis = ["math", "cs", "math"]
    (d / FANNS_FILES["em"]).write_text("".join(json.dumps({"label": v, "extra": 1}) + "\n" for v in em))
    (d / FANNS_FILES["r"]).write_text(
        "".join(json.dumps({"range_start": a, "range_end": b}) + "\n" for a, b in r)
    )
    (d / FANNS_FILES["emis"]).write_text("".join(json.dumps({"label": v}) + "\n" for v in emis))
    nsub = np.array([it["number_of_sub_categories"] for it in items])
    date = np.array([it["update_date"] for it in items])
    gts = {
        "gt": [_naive(base, q, np.ones(8, bool), 100) for q in queries],
        "gt_em": [_naive(base, q, nsub == v, 100) for q, v in zip(queries, em)],
        "gt_r": [_naive(base, q, (date >= a) & (date <= b), 100) for q, (a, b) in zip(queries, r)],
        "gt_emis": [
            _naive(base, q, np.array([v in it["main_categories"] for it in items]), 100)
            for q, v in zip(queries, emis)
        ],
    }
    for key, rows in gts.items():
        write_ragged_vecs(d / FANNS_FILES[key], rows)
    return d


def test_fanns_loader_reads_the_published_layout(tiny_fanns: Path) -> None:
    ds = load_fanns(tiny_fanns)
    assert ds.base.shape == (8, 4) and ds.queries.shape == (3, 4)
    assert isinstance(ds.base, np.memmap) or isinstance(ds.base.base, np.memmap)
    assert set(ds.attributes) == set(ATTRIBUTE_KEYS)
    np.testing.assert_array_equal(ds.attributes["update_date"], 14000 + 100 * np.arange(8))
    assert ds.attributes["main_categories"][1] == ["cs", "math"]
    assert ds.em_labels.tolist() == [1, 3, 9]
    assert ds.r_ranges.tolist() == [[14000, 14300], [14000, 14000], [14200, 14800]]
    assert ds.emis_labels == ["math", "cs", "math"]
    lengths = {k: [len(r) for r in v] for k, v in ds.ground_truth.items()}
    assert lengths["unfiltered"] == [8, 8, 8]
    assert lengths["em"][2] == 0  # m = 0
    assert lengths["r"][1] == 1  # m < k
    padded = pad_ground_truth(ds.ground_truth["r"], 10)
    assert padded.shape == (3, 10) and padded[1, 0] == 0 and (padded[1, 1:] == -1).all()


def test_fanns_loader_agrees_with_exact_filtered_knn(tiny_fanns: Path) -> None:
    ds = load_fanns(tiny_fanns)
    nsub = np.asarray(ds.attributes["number_of_sub_categories"])
    for q, label, truth in zip(ds.queries, ds.em_labels, ds.ground_truth["em"]):
        rows = np.flatnonzero(nsub == label)
        if rows.size == 0:
            assert truth.size == 0
            continue
        ids, _ = exact_knn(np.ascontiguousarray(ds.base[rows]), q[None, :], k=rows.size, progress=False)
        assert rows[ids[0]].tolist() == truth.tolist()


@pytest.mark.parametrize(
    "breakage, message",
    [
        ("truncated_fvecs", "truncated"),
        ("bad_ivecs_dim", "has length -3"),
        ("bad_json", "line 2 is not valid JSON"),
        ("missing_key", "lacks the key 'update_date'"),
        ("wrong_type", "'has_comment' should be true/false"),
        ("line_count", "7 lines for 8 vectors"),
    ],
)
def test_fanns_loader_rejects_malformed_files(tiny_fanns: Path, breakage: str, message: str) -> None:
    d = tiny_fanns
    attrs = d / FANNS_FILES["attributes"]
    if breakage == "truncated_fvecs":
        p = d / FANNS_FILES["base"]
        p.write_bytes(p.read_bytes()[:-3])
    elif breakage == "bad_ivecs_dim":
        p = d / FANNS_FILES["gt_em"]
        p.write_bytes(np.array([-3], "<i4").tobytes() + p.read_bytes())
    elif breakage == "bad_json":
        lines = attrs.read_text().splitlines()
        lines[1] = lines[1][:-5]
        attrs.write_text("\n".join(lines) + "\n")
    elif breakage in ("missing_key", "wrong_type"):
        lines = attrs.read_text().splitlines()
        obj = json.loads(lines[3])
        if breakage == "missing_key":
            del obj["update_date"]
        else:
            obj["has_comment"] = "yes"
        lines[3] = json.dumps(obj)
        attrs.write_text("\n".join(lines) + "\n")
    else:
        attrs.write_text("".join(attrs.read_text().splitlines(keepends=True)[:7]))
    with pytest.raises(ValueError, match=message):
        load_fanns(d)


def test_fanns_loader_names_a_missing_file(tiny_fanns: Path) -> None:
    (tiny_fanns / FANNS_FILES["r"]).unlink()
    with pytest.raises(FileNotFoundError, match="r_query_attributes.jsonl"):
        load_fanns(tiny_fanns)


def test_ragged_vecs_round_trip_and_truncation(tmp_path: Path) -> None:
    rows = [np.arange(5), np.array([], dtype=np.int64), np.array([7])]
    p = tmp_path / "gt.ivecs"
    write_ragged_vecs(p, rows)
    back = read_ragged_vecs(p)
    assert [r.tolist() for r in back] == [[0, 1, 2, 3, 4], [], [7]]
    with pytest.raises(ValueError, match="expected 0..3"):
        read_ragged_vecs(p, max_dim=3)
    p.write_bytes(p.read_bytes()[:-2])
    with pytest.raises(ValueError, match="truncated: record 2"):
        read_ragged_vecs(p)


# ------------------------------------------------------------------------------- parquet


def test_parquet_round_trip_and_errors(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    from vecsearch.datasets.parquet import load_parquet, write_parquet

    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    attrs = {"year": np.array([2001, 2002, 2003, 2004]), "tags": [["a"], [], ["a", "b"], ["c"]],
             "section": ["x", "y", "x", "z"]}  # fmt: skip
    p = tmp_path / "v.parquet"
    write_parquet(p, x, attrs)
    vec, cols = load_parquet(p)
    np.testing.assert_array_equal(vec, x)
    assert cols["year"].tolist() == [2001, 2002, 2003, 2004] and cols["tags"][2] == ["a", "b"]
    with pytest.raises(ValueError, match="no vector column 'emb'"):
        load_parquet(p, vector_column="emb")
    ragged = tmp_path / "ragged.parquet"
    pq.write_table(pa.table({"vector": [[1.0, 2.0], [1.0]]}), ragged)
    with pytest.raises(ValueError, match="vector row 1 has length 1"):
        load_parquet(ragged)
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet at all")
    with pytest.raises(ValueError, match="not a readable parquet file"):
        load_parquet(bad)
