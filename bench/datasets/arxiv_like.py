"""A seeded arXiv-like stand-in for arxiv-for-fanns: vectors plus the same 11 attributes.

Vectors come from the clustered mixture of :mod:`vecsearch.datasets.synthetic`
(L2-normalised float32). Each item's cluster (its nearest mixture centre) steers
its attributes, as topic does in the real set:

- ``main_categories``: 1-3 archive codes (``cs``, ``math``, ...), Zipf-weighted, with
  each cluster favouring a few of them; ``number_of_main_categories`` is the count.
- ``sub_categories``: ``<main>.<XY>`` codes, one per main category plus more from the
  first one; ``number_of_sub_categories`` follows the medium set's frequencies
  (1: 52.8%, 2: 29.9%, 3: 12.0%, 4: 3.8%, 5: 1.2%, 6: 0.2%, 7: 0.03%).
- ``update_date``: days since 1970 in 13655..20216 (2007-05-22..2025-05-08), skewed
  to recent years, later in some clusters than others.
- ``authors`` (heavy-tailed count, Zipf over a name pool, ``number_of_authors``),
  ``submitter`` (usually one of them), ``has_comment`` (p = 0.742),
  ``number_of_versions`` (geometric), ``license`` (a few URLs, one dominant).

Same ``seed`` and sizes, same data; rows are drawn in blocks like the vectors, so
it is fast (vectorised) at 100k+ items.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from vecsearch.datasets.synthetic import make_mixture

__all__ = [
    "ARXIV_LIKE_VERSION",
    "ARXIV_WORKLOADS",
    "ArxivLike",
    "DATE_RANGE",
    "MAIN_CATEGORIES",
    "SUB_CATEGORY_FREQ",
    "generate_arxiv_like",
    "write_arxiv_like",
]

#: Bump when generated values change (keys caches together with the seed).
ARXIV_LIKE_VERSION = 1
DATE_RANGE = (13655, 20216)
#: Medium set's number_of_sub_categories = 1..7 frequencies (third-party count).
SUB_CATEGORY_FREQ = (0.528, 0.299, 0.120, 0.038, 0.012, 0.002, 0.0003)
MAIN_CATEGORIES = (
    "cs", "math", "cond-mat", "physics", "astro-ph", "hep-ph", "quant-ph", "stat", "hep-th",
    "gr-qc", "math-ph", "eess", "nucl-th", "q-bio", "hep-ex", "nlin", "q-fin", "econ",
    "nucl-ex", "hep-lat",
)  # fmt: skip
_LICENSES = (
    ("http://arxiv.org/licenses/nonexclusive-distrib/1.0/", 0.70),
    ("http://creativecommons.org/licenses/by/4.0/", 0.19),
    ("http://creativecommons.org/licenses/by-nc-sa/4.0/", 0.04),
    ("http://creativecommons.org/licenses/by-nc-nd/4.0/", 0.03),
    ("http://creativecommons.org/licenses/by-sa/4.0/", 0.02),
    ("http://creativecommons.org/publicdomain/zero/1.0/", 0.02),
)
_SUBS_PER_MAIN = 12
_N_MAIN_P = (0.74, 0.21, 0.05)  # 1, 2, 3 main categories


@dataclass
class ArxivLike:
    """A generated set: vectors, the 11 attribute columns, and each item's cluster.

    Attributes:
        base: float32 [n, dim], unit norm.
        queries: float32 [nq, dim], unit norm, same mixture, independent stream.
        attributes: the 11 arxiv-for-fanns columns (int64/bool arrays, lists).
        cluster: int64 [n], the mixture component nearest to each item.
    """

    base: np.ndarray
    queries: np.ndarray
    attributes: dict[str, Any]
    cluster: np.ndarray


def _zipf_weights(count: int, a: float) -> np.ndarray:
    w = 1.0 / np.arange(1, count + 1) ** a
    return w / w.sum()


def generate_arxiv_like(
    n: int, nq: int, dim: int = 384, *, seed: int = 0, n_clusters: int = 32
) -> ArxivLike:
    """Generate an arXiv-like data set.

    Args:
        n: items.
        nq: query vectors.
        dim: vector dimension (arxiv-for-fanns has 4096; 384 is a MiniLM-sized default).
        seed: the one seed everything derives from.
        n_clusters: mixture components (topics).

    Returns:
        An :class:`ArxivLike`.

    Raises:
        ValueError: non-positive sizes.

    Example:
        >>> ds = generate_arxiv_like(1000, 10, 32, seed=1)
        >>> sorted(ds.attributes)[:3]
        ['authors', 'has_comment', 'license']
    """
    if n <= 0 or nq < 0 or dim <= 0 or n_clusters <= 0:
        raise ValueError(f"n, dim and n_clusters must be positive, nq >= 0; got {n}, {nq}, "
                         f"{dim}, {n_clusters}")  # fmt: skip
    mix = make_mixture(dim, n_clusters=n_clusters, seed=seed)
    base = mix.sample(n, seed, 1)
    queries = mix.sample(nq, seed, 2)
    cluster = np.argmax(base @ mix.centres.T, axis=1).astype(np.int64)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(8_000, n)))
    attrs = _attributes(rng, cluster, n_clusters)
    return ArxivLike(base, queries, attrs, cluster)


def _attributes(rng: np.random.Generator, cluster: np.ndarray, n_clusters: int) -> dict[str, Any]:
    n = cluster.shape[0]
    n_main_vocab = len(MAIN_CATEGORIES)
    # Topic preferences: global Zipf popularity times a boost of 3 favourites per cluster.
    base_w = _zipf_weights(n_main_vocab, 1.1)
    pref = np.tile(base_w, (n_clusters, 1))
    for c in range(n_clusters):
        fav = rng.choice(n_main_vocab, 3, replace=False, p=base_w)
        pref[c, fav] *= (12.0, 6.0, 3.0)
    pref /= pref.sum(axis=1, keepdims=True)

    n_sub = rng.choice(np.arange(1, 8), n, p=np.array(SUB_CATEGORY_FREQ) / sum(SUB_CATEGORY_FREQ))
    n_main = np.minimum(rng.choice(np.arange(1, 4), n, p=_N_MAIN_P), n_sub)
    sub_w = _zipf_weights(_SUBS_PER_MAIN, 1.0)
    sub_codes = [f"{chr(65 + i // 26)}{chr(65 + i % 26)}" for i in range(_SUBS_PER_MAIN)]
    main_cats: list[list[str]] = []
    sub_cats: list[list[str]] = []
    # Gumbel top-k per row samples categories without replacement from the row's weights.
    gumbel = rng.gumbel(size=(n, n_main_vocab))
    ranked = np.argsort(-(np.log(pref[cluster]) + gumbel), axis=1)[:, :3]
    sub_draw = rng.choice(_SUBS_PER_MAIN, size=(n, 7), p=sub_w)
    for i in range(n):
        mains = [MAIN_CATEGORIES[j] for j in ranked[i, : n_main[i]]]
        subs: list[str] = []
        picks = iter(sub_draw[i])
        for m in mains:  # one sub-category per main category ...
            subs.append(f"{m}.{sub_codes[next(picks)]}")
        seen = set(subs)
        extra = [s for s in (f"{mains[0]}.{c}" for c in sub_codes) if s not in seen]
        order = rng.permutation(len(extra))
        subs += [extra[j] for j in order[: n_sub[i] - len(subs)]]  # ... the rest from the first
        main_cats.append(mains)
        sub_cats.append(subs)
    n_sub = np.array([len(s) for s in sub_cats], dtype=np.int64)

    lo, hi = DATE_RANGE
    skew = 1.5 + 2.5 * rng.random(n_clusters)  # Beta(a, 1): larger a -> more recent
    dates = lo + np.floor(rng.beta(skew[cluster], 1.0) * (hi - lo + 1)).astype(np.int64)
    dates = np.minimum(dates, hi)

    n_auth = np.maximum(1, np.round(rng.lognormal(1.1, 0.7, n))).astype(np.int64)
    big = rng.random(n) < 0.002  # large collaborations (hep-ex style)
    n_auth[big] = rng.integers(50, 200, int(big.sum()))
    pool = max(1000, n)
    draws = (rng.zipf(1.25, int(n_auth.sum())) - 1) % pool
    ends = np.cumsum(n_auth)
    authors = [[f"author_{a}" for a in draws[e - c : e]] for e, c in zip(ends, n_auth)]
    other = (rng.zipf(1.3, n) - 1) % pool
    own = rng.random(n) < 0.85
    submitter = [a[0] if o else f"author_{s}" for a, o, s in zip(authors, own, other)]

    lic_names = [name for name, _ in _LICENSES]
    lic_p = np.array([p for _, p in _LICENSES])
    licenses = [lic_names[j] for j in rng.choice(len(lic_names), n, p=lic_p / lic_p.sum())]
    return {
        "submitter": submitter,
        "has_comment": rng.random(n) < 0.742,
        "number_of_main_categories": np.array([len(m) for m in main_cats], dtype=np.int64),
        "main_categories": main_cats,
        "number_of_sub_categories": n_sub,
        "sub_categories": sub_cats,
        "license": licenses,
        "number_of_versions": np.minimum(rng.geometric(0.55, n), 30).astype(np.int64),
        "update_date": dates,
        "number_of_authors": n_auth,
        "authors": authors,
    }


#: The FANNS benchmark's three filter workloads on the arxiv-for-fanns keys (plus EM+R).
ARXIV_WORKLOADS = {
    "em": ("number_of_sub_categories", None, None),
    "r": (None, "update_date", None),
    "emis": (None, None, "main_categories"),
    "em+r": ("number_of_sub_categories", "update_date", None),
}


def write_arxiv_like(
    directory: Any, n: int, nq: int, dim: int = 384, *, seed: int = 0, gt_k: int = 100,
    progress: bool = False,
) -> Any:
    """Generate a set and write it as the 10 arxiv-for-fanns files, ground truth included.

    Query filter values are sampled from the items' values as in the published set
    (EM label = a random item's ``number_of_sub_categories``, R = the dates of two
    random items, EMIS = one main category of a random item); ground truth is the
    exact top-``gt_k`` over the passing items (shorter rows when fewer pass).

    Returns:
        The directory, readable with :func:`vecsearch.datasets.fanns.load_fanns`.
    """
    from vecsearch.datasets.fanns import write_fanns
    from .workloads import WorkloadSpec, filtered_knn, make_query_set

    ds = generate_arxiv_like(n, nq, dim, seed=seed)
    sets = {
        name: make_query_set(ds.attributes, WorkloadSpec(name, *cols), nq, seed)
        for name, cols in ARXIV_WORKLOADS.items()
        if name != "em+r"
    }
    gt = {}
    for name, masks in [("unfiltered", None), *((k, s.masks) for k, s in sets.items())]:
        ids, _ = filtered_knn(ds.base, ds.queries, masks, min(gt_k, n), progress=progress)
        gt[name] = [row[row >= 0] for row in ids]
    return write_fanns(
        directory, ds.base, ds.queries, ds.attributes,
        [v["label"] for v in sets["em"].values],
        np.array([(v["range_start"], v["range_end"]) for v in sets["r"].values]).reshape(-1, 2),
        [v["tag"] for v in sets["emis"].values],
        gt,
    )  # fmt: skip
