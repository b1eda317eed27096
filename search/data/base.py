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


# The functions below are copied verbatim into exported training scripts (hpsearch.export).


def restrict_arrays(
    arrays: dict[str, np.ndarray], num_words: int, maxlen: int, oov: int
) -> dict[str, np.ndarray]:
    """Front-padded integer sequences cut to their last ``maxlen`` tokens, with every word
    id at or above ``num_words`` replaced by ``oov`` (what a smaller vocabulary maps it to)."""
    out = dict(arrays)
    for key in ("x_train", "x_val", "x_test"):
        if out.get(key) is not None:
            x = out[key][:, -maxlen:]
            out[key] = np.where(x >= num_words, oov, x).astype(x.dtype)
    if out.get("vocabulary") is not None:
        out["vocabulary"] = out["vocabulary"][:num_words]
    return out


def stratified_split(y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (kept, taken): ``fraction`` of each class taken, seeded, order-preserving."""
    rng = np.random.default_rng(seed)
    taken: list[np.ndarray] = []
    for cls in np.unique(y):
        idx = np.flatnonzero(y == cls)
        rng.shuffle(idx)
        taken.append(idx[: round(len(idx) * fraction)])
    take = np.sort(np.concatenate(taken)) if taken else np.array([], dtype=int)
    keep = np.setdiff1d(np.arange(len(y)), take)
    return keep, take


def subsample(y: np.ndarray, n: int | None, seed: int) -> np.ndarray:
    """Indices of a stratified sample of ``n`` rows (all rows when ``n`` is None or larger)."""
    if n is None or n >= len(y):
        return np.arange(len(y))
    _, take = stratified_split(y, n / len(y), seed + 7919)
    return take


BINARY_ALIASES = {"0": 0, "1": 1, "neg": 0, "pos": 1, "negative": 0, "positive": 1}
"""Two-class labels accepted in any case; they keep ids 0/1 whatever their sort order."""


def number_of(value: str) -> float | None:
    """A label's value as a number ("2", "2.0", "-1", "0.5"), or None when it is not a finite
    number."""
    try:
        number = float(value)
    except ValueError:
        return None
    return number if abs(number) < float("inf") else None  # not inf, not nan


def class_order(values: list[str]) -> tuple[str, ...]:
    """The class names of a label column, in a stable order that depends only on the set of
    values: 0/1 and neg/pos (any case) keep negative = 0; numbers sort as numbers (star
    ratings 1 < 2 < 10), and one number written two ways is one class ("1" and "1.0": pandas
    writes integer labels as floats), named as an integer where it is one; anything else sorts
    as text."""
    names = sorted(set(values))
    ids = {BINARY_ALIASES.get(v.lower()) for v in names}
    if ids == {0, 1}:
        return tuple(min(v for v in names if BINARY_ALIASES[v.lower()] == i) for i in (0, 1))
    written: dict[float, str] = {}
    for name in names:
        number = number_of(name)
        if number is None:
            return tuple(names)
        written.setdefault(number, name)
    return tuple(str(int(n)) if n.is_integer() else written[n] for n in sorted(written))


def class_labels(
    values: list[Any], where: str, column: str, classes: tuple[str, ...] | None = None
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Labels as class indices ``0..k-1`` and the class names in that order.

    Without ``classes`` the order comes from the values (:func:`class_order`); with them (a
    test file read with the training file's classes) a value outside them is one DataError.
    """
    # None: a CSV row that ends before its label column (csv.DictReader's missing field)
    keys = ["" if v is None else str(v).strip() for v in values]
    for row, key in enumerate(keys):
        if not key:
            raise DataError(
                f"{where}: label column {column!r} is empty or missing in data row {row + 1}; "
                "allowed: a class name or number in every row"
            )
    if classes is None:
        classes = class_order(keys)
    index = {c: i for i, c in enumerate(classes)}
    numbers = {number_of(c): i for i, c in enumerate(classes)}
    binary = len(classes) == 2 and {BINARY_ALIASES.get(c.lower()) for c in classes} == {0, 1}
    out = np.empty(len(keys), dtype="int32")
    for i, key in enumerate(keys):
        found = index.get(key)
        if found is None and binary:
            found = BINARY_ALIASES.get(key.lower())
        if found is None and number_of(key) is not None:
            found = numbers.get(number_of(key))
        if found is None:
            raise DataError(
                f"{where}: label column {column!r} has value {shown(key)}, which is not a class of "
                f"the training data; allowed: {listed(classes)}"
            )
        out[i] = found
    if len(classes) < 2:
        raise DataError(
            f"{where}: label column {column!r} holds one class only ({shown(classes[0])}); "
            "allowed: at least two classes"
        )
    return out, classes


def shown(value: str, limit: int = 40) -> str:
    """A value for a one-line message: its repr, cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def listed(classes: tuple[str, ...], limit: int = 10) -> str:
    """Class names for a one-line message: the first ``limit`` of them, and how many in all."""
    names = ", ".join(shown(c)[1:-1] for c in classes[:limit])
    return names if len(classes) <= limit else f"{names}, ... ({len(classes)} classes)"


def check_split(
    labels: np.ndarray, keep: np.ndarray, val: np.ndarray, classes: tuple[str, ...], split: float
) -> None:
    """Every class has rows on both sides of the validation split, or one DataError line."""
    for i, name in enumerate(classes):
        total = int(np.sum(labels == i))
        taken = int(np.sum(labels[val] == i))
        if taken == 0 or taken == total:
            need = next(n for n in range(2, 10**6) if 0 < round(n * split) < n)
            hint = (
                f" (the label column holds {len(classes)} distinct values in {len(labels)} "
                "rows: is it the right column?)"
                if len(classes) > len(labels) / 2
                else ""
            )
            raise DataError(
                f"class {shown(name)} has {total} labelled row(s), which validation_split = "
                f"{split} cannot put on both sides of the split; allowed: at least {need} rows of "
                f"each class, another validation_split, or drop that class{hint}"
            )


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
