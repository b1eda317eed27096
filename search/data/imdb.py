"""The Keras IMDB dataset (``keras.datasets.imdb``), as the tutorial loads it.

Top ``num_words`` words, reviews padded/truncated to ``maxlen`` at the front. With
``dataset.path`` pointing at a local ``imdb.npz`` it works offline; offline without one
it fails with one line that says how to provide the data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from search.config import DatasetConfig
from search.data.base import Dataset, stratified_split, subsample
from search.errors import DataError

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


# Copied verbatim into exported training scripts (search.export): NumPy and Keras only.
def imdb_arrays(
    path: str,
    num_words: int,
    maxlen: int,
    validation_split: float,
    max_samples: int | None,
    seed: int,
) -> dict[str, np.ndarray]:
    """The tutorial's loading: top ``num_words`` words, front-padded to ``maxlen``, then a
    seeded stratified validation split of the training half."""
    import keras

    (x_train, y_train), (x_test, y_test) = keras.datasets.imdb.load_data(
        path=path, num_words=num_words
    )
    y_train = np.asarray(y_train, dtype="int32")
    picked = subsample(y_train, max_samples, seed)
    keep, val = stratified_split(y_train[picked], validation_split, seed)
    x_all = keras.utils.pad_sequences(x_train, maxlen=maxlen)[picked]
    return {
        "x_train": x_all[keep],
        "y_train": y_train[picked][keep],
        "x_val": x_all[val],
        "y_val": y_train[picked][val],
        "x_test": keras.utils.pad_sequences(x_test, maxlen=maxlen),
        "y_test": np.asarray(y_test, dtype="int32"),
    }
