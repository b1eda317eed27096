"""The :class:`Dataset` every source returns, the seeded stratified split, and the cache.

The split is written here (a few lines of NumPy) rather than pulling in scikit-learn for
``train_test_split``. The cache stores vectorized arrays as ``.npz`` files keyed by the
source's content and the settings, written atomically so parallel workers can share it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hpsearch.errors import DataError
from hpsearch.portable.data import restrict_arrays


@dataclass(frozen=True)
class Dataset:
    """Integer sequences ready for ``model.fit``; ``maxlen`` and ``vocab_size`` size the model."""

    description: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray | None
    y_test: np.ndarray | None
    vocab_size: int
    maxlen: int
    synthetic: bool = False
    vocabulary: tuple[str, ...] | None = None
    oov: int = 1
    """The id of a word outside the vocabulary (1 for TextVectorization, 2 for Keras' IMDB)."""
    classes: tuple[str, ...] = ("0", "1")
    """Class names in label order: label ``i`` is ``classes[i]`` (see :func:`class_labels`)."""

    @property
    def num_classes(self) -> int:
        """How many classes the labels hold: a space builds ``Dense(1, sigmoid)`` for 2 and
        ``Dense(num_classes, softmax)`` for more."""
        return len(self.classes)

    @classmethod
    def from_arrays(
        cls,
        description: str,
        arrays: dict[str, np.ndarray],
        vocab_size: int,
        maxlen: int,
        synthetic: bool = False,
        oov: int = 1,
    ) -> Dataset:
        """A Dataset from the array dict a source's loader returns."""
        vocabulary = arrays.get("vocabulary")
        classes = arrays.get("classes")
        return cls(
            description=description,
            x_train=arrays["x_train"],
            y_train=arrays["y_train"],
            x_val=arrays["x_val"],
            y_val=arrays["y_val"],
            x_test=arrays.get("x_test"),
            y_test=arrays.get("y_test"),
            vocab_size=vocab_size,
            maxlen=maxlen,
            synthetic=synthetic,
            vocabulary=None if vocabulary is None else tuple(str(w) for w in vocabulary),
            oov=oov,
            classes=("0", "1") if classes is None else tuple(str(c) for c in classes),
        )

    def restrict(self, num_words: int | None, maxlen: int | None) -> Dataset:
        """The same data at a smaller vocabulary and/or length (a trial's data knobs).

        ``None`` keeps the dataset's own value. Identical to vectorizing again at that
        setting: the vocabulary is ordered by frequency, so its top ``num_words`` are the
        ones a smaller vocabulary would keep, and sequences are padded and cut at the front.
        """
        words = self.vocab_size if num_words is None else min(num_words, self.vocab_size)
        length = self.maxlen if maxlen is None else maxlen
        if (words, length) == (self.vocab_size, self.maxlen):
            return self
        if length > self.maxlen:
            raise DataError(
                f"maxlen {length} is longer than the {self.maxlen} tokens vectorized; "
                "allowed: at most the study's largest maxlen"
            )
        arrays = {
            k: v
            for k, v in (
                ("x_train", self.x_train),
                ("x_val", self.x_val),
                ("x_test", self.x_test),
            )
            if v is not None
        }
        cut = restrict_arrays(arrays, words, length, self.oov)
        return dataclasses.replace(
            self,
            x_train=cut["x_train"],
            x_val=cut["x_val"],
            x_test=cut.get("x_test"),
            vocab_size=words,
            maxlen=length,
            vocabulary=None if self.vocabulary is None else self.vocabulary[:words],
        )

    def summary(self) -> dict[str, Any]:
        """Sizes and settings, for notes and the study's user attributes."""
        return {
            "description": self.description,
            "train": len(self.y_train),
            "validation": len(self.y_val),
            "test": 0 if self.y_test is None else len(self.y_test),
            "vocab_size": self.vocab_size,
            "maxlen": self.maxlen,
            "synthetic": self.synthetic,
            "classes": list(self.classes),
        }


def cache_dir() -> Path:
    return Path(os.environ.get("HPSEARCH_CACHE", Path.home() / ".cache" / "hpsearch"))


def cache_key(settings: dict[str, Any], files: list[Path]) -> str:
    """A digest of the settings and of every source file's bytes."""
    h = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode())
    for f in files:
        h.update(str(f.name).encode())
        with f.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()[:32]


def cache_load(key: str) -> dict[str, np.ndarray] | None:
    path = cache_dir() / f"{key}.npz"
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except Exception:
        return None  # a damaged cache file is rebuilt, never trusted
    if not {"x_train", "y_train", "x_val", "y_val"} <= arrays.keys():
        return None
    return arrays


def cache_save(key: str, arrays: dict[str, np.ndarray]) -> None:
    d = cache_dir()
    try:
        d.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=d, suffix=".tmp.npz")
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)  # type: ignore[arg-type]
        os.replace(tmp, d / f"{key}.npz")
    except OSError:
        pass  # the cache is an optimisation: an unwritable cache folder only costs time
