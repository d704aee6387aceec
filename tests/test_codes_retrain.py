"""SQ8 codes the index trained itself are trained again as it grows: codes learnt on the first
rows would clip every later row outside their range. Checked against the range of all the data
(an SQ8 code of a value inside its range is off by at most half a step)."""
from __future__ import annotations

import json

import numpy as np
import pytest

import vecsearch
from vecsearch import Index, quant

DIM = 16


def _growing(make_data, n):
    """Rows whose spread grows tenfold after the first 1,000, as a stream's might."""
    x = make_data(n, DIM, seed=11)
    x[:1000] *= 0.1
    return x


def _worst_code_error(quantizer, x):
    """The largest reconstruction error of `x` under `quantizer`, in steps of an SQ8 code
    spanning the data's own range (0.5 at most when that range is covered, more when clipped)."""
    step = (x.max(axis=0) - x.min(axis=0)) / 255.0
    return float((np.abs(quantizer.decode(quantizer.encode(x)) - x) / step).max())


@pytest.mark.parametrize("storage", ["auto", "sq8"])
def test_codes_follow_the_data_as_the_index_grows(make_data, storage):
    x = _growing(make_data, 4000)
    idx = Index(DIM, "l2", M=8, ef_construction=40, storage=storage)
    idx.add(x[:1000])
    first = idx.quantizer
    assert _worst_code_error(first, x) > 3  # trained on the narrow rows: the later ones clip
    for start in range(1000, 4000, 500):  # retrained at 2,000 and 4,000 rows
        idx.add(x[start:start + 500])
    assert idx.storage == "sq8" and idx.quantizer is not first
    assert _worst_code_error(idx.quantizer, x) <= 0.5 + 1e-3


def test_given_quantizer_is_never_retrained(make_data):
    x = _growing(make_data, 3000)
    given = quant.SQ8()
    idx = Index(DIM, "l2", M=8, ef_construction=40, storage=given)
    for start in range(0, 3000, 500):
        idx.add(x[start:start + 500])
    assert idx.quantizer is given


def test_retraining_continues_after_save_and_load(make_data, index_path):
    x = _growing(make_data, 2000)
    idx = Index(DIM, "l2", M=8, ef_construction=40, storage="sq8")
    idx.add(x[:1000])
    idx.save(index_path)
    loaded = Index.load(index_path)
    before = loaded.quantizer
    loaded.add(x[1000:])  # 2,000 rows: twice what the codes were trained on
    assert loaded.quantizer is not before
    assert _worst_code_error(loaded.quantizer, x) <= 0.5 + 1e-3
    assert (loaded.search(x[1500:1520], k=1)[0][:, 0] == np.arange(1500, 1520)).mean() >= 0.9


@pytest.mark.parametrize("value", [-1, "9", True, 1.5])
def test_bad_trained_on_field_refused(make_data, index_path, tmp_path, value):
    from vecsearch._format import IndexFile, write_atomic

    idx = Index(DIM, "l2", M=8, ef_construction=40, storage="sq8")
    idx.add(make_data(1000, DIM, seed=3))
    idx.save(index_path)
    f = IndexFile(str(index_path))
    meta = json.loads(json.dumps(f.meta))
    assert meta["codes_trained_on"] == 1000
    meta["codes_trained_on"] = value
    arrays = {name: np.array(f.raw(name)) for name in f.sections if name != "meta"}
    bad = tmp_path / "bad.vsi"
    write_atomic(str(bad), meta, arrays, version=f.version)
    with pytest.raises(vecsearch.FormatError, match="codes_trained_on"):
        Index.load(bad)
