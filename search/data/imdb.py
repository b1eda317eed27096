"""The Keras IMDB dataset (``keras.datasets.imdb``), as the tutorial loads it.

Top ``num_words`` words, reviews padded/truncated to ``maxlen`` at the front. With
``dataset.path`` pointing at a local ``imdb.npz`` it works offline; offline without one
it fails with one line that says how to provide the data.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from hpsearch.config import DatasetConfig
from hpsearch.data.base import Dataset, stratified_split, subsample
from hpsearch.errors import DataError

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


# Copied verbatim into exported training scripts (hpsearch.export): NumPy and Keras only.
def read_imdb_npz(path: str, num_words: int) -> tuple[tuple[Any, Any], tuple[Any, Any]]:
    """``keras.datasets.imdb.load_data(num_words=...)`` on a local ``imdb.npz`` at any path.

    Keras 3's ``load_data`` takes only a file name under its own cache folder, so a local copy
    is read here with Keras' own steps: the same shuffle (seed 113), start character 1, word
    ids shifted by 3, and ids at or above ``num_words`` replaced by the out-of-vocabulary id 2.
    The file holds pickled object arrays (ragged reviews), so read only files you trust.
    """
    with np.load(path, allow_pickle=True) as f:
        x_train, y_train = f["x_train"], f["y_train"]
        x_test, y_test = f["x_test"], f["y_test"]
    rng = np.random.RandomState(113)
    order = np.arange(len(x_train))
    rng.shuffle(order)
    x_train, y_train = x_train[order], y_train[order]
    order = np.arange(len(x_test))
    rng.shuffle(order)
    x_test, y_test = x_test[order], y_test[order]

    def encode(reviews: Any) -> list[list[int]]:
        return [[1] + [w + 3 if w + 3 < num_words else 2 for w in r] for r in reviews]

    return (encode(x_train), y_train), (encode(x_test), y_test)


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

    if os.path.isfile(path):
        (x_train, y_train), (x_test, y_test) = read_imdb_npz(path, num_words)
    else:  # the download route: Keras fetches imdb.npz into its own cache
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
        "classes": np.asarray(["neg", "pos"]),
    }
