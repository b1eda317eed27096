"""The Keras IMDB dataset (``keras.datasets.imdb``), as the tutorial loads it.

Top ``num_words`` words, reviews padded/truncated to ``maxlen`` at the front. With
``dataset.path`` pointing at a local ``imdb.npz`` it works offline; offline without one
it fails with one line that says how to provide the data.
"""

from __future__ import annotations

from pathlib import Path

from hpsearch.config import DatasetConfig
from hpsearch.data.base import Dataset
from hpsearch.errors import DataError
from hpsearch.portable.data import imdb_arrays

_HOW = (
    "download https://storage.googleapis.com/tensorflow/tf-keras-datasets/imdb.npz on a "
    "machine with network and set dataset.path (or pass --data imdb.npz), or use --data "
    "with a CSV or an aclImdb folder"
)


def load_imdb(cfg: DatasetConfig, seed: int) -> Dataset:
    path = "imdb.npz"
    num_words, maxlen = cfg.size()
    if cfg.path:
        p = Path(cfg.path).expanduser().resolve()
        if not p.is_file():
            raise DataError(f"{cfg.path}: no such file; {_HOW}")
        path = str(p)
    try:
        arrays = imdb_arrays(path, num_words, maxlen, cfg.validation_split, cfg.max_samples, seed)
    except Exception as exc:  # download errors come as many types (URLError, OSError, ...)
        reason = " ".join(str(exc).split())[:200]
        raise DataError(f"cannot load the Keras IMDB data ({reason}); {_HOW}") from None
    return Dataset.from_arrays(
        f"keras.datasets.imdb (top {num_words} words)", arrays, num_words, maxlen, oov=2
    )
