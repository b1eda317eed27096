"""Review text from a CSV file or an aclImdb-style folder, vectorized with Keras.

``keras.layers.TextVectorization`` is fitted on the training part only (after the
validation split is carved out), then sequences are padded and truncated at the front
like ``keras.utils.pad_sequences``' defaults. Results are cached by content and settings.
"""

from __future__ import annotations

import csv
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from hpsearch.config import DatasetConfig
from hpsearch.data.base import (
    Dataset,
    cache_key,
    cache_load,
    cache_save,
    check_split,
    class_labels,
    class_order,
    stratified_split,
    subsample,
)
from hpsearch.errors import DataError

Reviews = tuple[list[str], np.ndarray, tuple[str, ...]]
"""Texts, their labels as class indices, and the class names in index order."""
UNLABELLED = "unsup"
"""aclImdb's folder of unlabelled reviews: never a class."""


def load_text(cfg: DatasetConfig, seed: int) -> Dataset:
    """A ``csv`` or ``directory`` dataset, from the cache when the sources are unchanged."""
    assert cfg.path is not None
    files = _source_files(cfg)
    key = cache_key({**asdict(cfg), "seed": seed, "v": 2}, files)
    arrays = cache_load(key)
    if arrays is None:
        arrays = _build(cfg, seed)
        cache_save(key, arrays)
    return Dataset.from_arrays(
        f"{cfg.kind} {cfg.path}", arrays, len(arrays["vocabulary"]), cfg.size()[1]
    )


def read_reviews(cfg: DatasetConfig) -> tuple[Reviews, Reviews | None]:
    """(train, test) texts and class labels as the study file describes them; the test
    split uses the training split's classes."""
    assert cfg.path is not None
    if cfg.kind == "csv":
        train = read_csv(Path(cfg.path), cfg.text_column, cfg.label_column)
        test = (
            read_csv(Path(cfg.test_path), cfg.text_column, cfg.label_column, train[2])
            if cfg.test_path
            else None
        )
        return train, test
    root = Path(cfg.path)
    test_dir = root / "test"
    train = read_folder(root / "train")
    return train, (read_folder(test_dir, train[2]) if test_dir.is_dir() else None)


def read_csv(
    path: Path, text_column: str, label_column: str, classes: tuple[str, ...] | None = None
) -> Reviews:
    """Texts and labels from a CSV with a header row (labels: see ``class_labels``)."""
    if not path.is_file():
        raise DataError(f"{path}: no such data file")
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    try:
        # utf-8-sig: a byte-order mark (Excel's "CSV UTF-8") would glue itself to the first
        # column's name
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            columns = reader.fieldnames or []
            for column, role in ((text_column, "text_column"), (label_column, "label_column")):
                if column not in columns:
                    found = ", ".join(map(repr, columns))  # quoted: a stray space shows
                    raise DataError(
                        f"{path}: no column {column!r} (dataset.{role}); columns found: "
                        f"{found or 'none (empty file)'}"
                    )
                if columns.count(column) > 1:  # csv.DictReader would keep the last silently
                    raise DataError(
                        f"{path}: the header names column {column!r} (dataset.{role}) "
                        f"{columns.count(column)} times; allowed: each name once"
                    )
            rows = [(r[text_column] or "", r[label_column]) for r in reader]
    except UnicodeDecodeError:
        raise DataError(f"{path}: not UTF-8 text; allowed: a UTF-8 CSV file") from None
    except csv.Error as exc:
        raise DataError(f"{path}: not a readable CSV file: {exc}") from None
    if len(rows) < 10:
        raise DataError(f"{path}: {len(rows)} rows; allowed: at least 10 labelled reviews")
    labels, names = class_labels([lab for _, lab in rows], str(path), label_column, classes)
    return [t for t, _ in rows], labels, names


def read_folder(folder: Path, classes: tuple[str, ...] | None = None) -> Reviews:
    """Texts from ``<class>/*.txt``: one subfolder per class, named by the class (aclImdb's
    ``neg``/``pos``; its unlabelled ``unsup`` is skipped). Class order: see ``class_order``.
    With ``classes`` (a test folder), a subfolder outside them is one DataError line."""
    if not folder.is_dir():
        csvs = sorted(p.name for p in folder.parent.glob("*.csv")) if folder.parent.is_dir() else []
        hint = (
            f" ({folder.parent} holds {', '.join(csvs[:3])}: give a CSV file itself)"
            if csvs
            else ""
        )
        raise DataError(f"{folder}: missing; allowed: a folder with one subfolder per class{hint}")
    found = sorted(d.name for d in folder.iterdir() if d.is_dir() and d.name != UNLABELLED)
    found = [name for name in found if any((folder / name).glob("*.txt"))]
    if classes is None:
        classes = class_order(found)
        if len(classes) < 2:
            raise DataError(
                f"{folder}: {len(classes)} class subfolder(s) with .txt reviews "
                f"({', '.join(found) or 'none'}); allowed: at least two, e.g. neg/ and pos/"
            )
    else:
        extra = sorted(set(found) - set(classes))
        if extra:
            raise DataError(
                f"{folder}: subfolder {extra[0]!r} is not a class of the training data; "
                f"allowed: {', '.join(classes)}"
            )
    texts: list[str] = []
    labels: list[int] = []
    for label, name in enumerate(classes):
        files = sorted((folder / name).glob("*.txt"))
        texts += [f.read_text(encoding="utf-8", errors="replace") for f in files]
        labels += [label] * len(files)
    return texts, np.asarray(labels, dtype="int32"), classes


def _source_files(cfg: DatasetConfig) -> list[Path]:
    assert cfg.path is not None
    if cfg.kind == "csv":
        paths = [Path(cfg.path)] + ([Path(cfg.test_path)] if cfg.test_path else [])
        for p in paths:
            if not p.is_file():
                raise DataError(f"{p}: no such data file")
        return paths
    root = Path(cfg.path)
    if not root.is_dir():
        raise DataError(
            f"{root}: no such folder; allowed: an aclImdb folder (train/pos, train/neg)"
        )
    return sorted(p for p in root.glob("t*/*/*.txt") if p.parent.name != UNLABELLED)


def _build(cfg: DatasetConfig, seed: int) -> dict[str, np.ndarray]:
    train, test = read_reviews(cfg)
    return vectorize_reviews(train, test, *cfg.size(), cfg.validation_split, cfg.max_samples, seed)


# The functions below are copied verbatim into exported training scripts (hpsearch.export):
# they use only the standard library, NumPy and Keras.


def vectorize_reviews(
    train: Reviews,
    test: Reviews | None,
    num_words: int,
    maxlen: int,
    validation_split: float,
    max_samples: int | None,
    seed: int,
) -> dict[str, np.ndarray]:
    """Subsample, split (seeded, stratified), fit the vocabulary on the training part only,
    and encode every split as front-padded integer sequences."""
    texts, labels, classes = train
    picked = subsample(labels, max_samples, seed)
    texts, labels = [texts[i] for i in picked], labels[picked]
    keep, val = stratified_split(labels, validation_split, seed)
    check_split(labels, keep, val, classes, validation_split)
    train_texts = [texts[i] for i in keep]
    encode, vocabulary = fit_vectorizer(train_texts, num_words, maxlen)
    arrays = {
        "x_train": encode(train_texts),
        "y_train": labels[keep],
        "x_val": encode([texts[i] for i in val]),
        "y_val": labels[val],
        "vocabulary": np.asarray(vocabulary),
        "classes": np.asarray(classes),
    }
    if test is not None:
        arrays["x_test"], arrays["y_test"] = encode(test[0]), test[1]
    return arrays


def fit_vectorizer(train_texts: list[str], num_words: int, maxlen: int):  # type: ignore[no-untyped-def]
    """Fit TextVectorization on ``train_texts``; return (encode, vocabulary)."""
    import keras

    layer = keras.layers.TextVectorization(max_tokens=num_words, output_mode="int", ragged=True)
    layer.adapt(np.asarray(train_texts, dtype=object), batch_size=512)

    def encode(texts: list[str]) -> np.ndarray:
        seqs: list[list[int]] = []
        for start in range(0, len(texts), 512):
            seqs += layer(np.asarray(texts[start : start + 512], dtype=object)).to_list()
        return keras.utils.pad_sequences(seqs, maxlen=maxlen, padding="pre", truncating="pre")

    return encode, list(layer.get_vocabulary())


def raw_text_model(
    model: Any, vocabulary: list[str], maxlen: int, name: str = "text_classifier"
) -> Any:
    """Wrap a trained sequence model so it takes raw review strings.

    The fitted vocabulary travels inside a TextVectorization layer; its output is moved to
    the front and cut to the last ``maxlen`` tokens with ``keras.ops`` (what
    ``pad_sequences`` does by default), which saves and loads with stock Keras alone.
    """
    import keras
    from keras import ops

    vectorize = keras.layers.TextVectorization(output_mode="int", vocabulary=vocabulary[2:])
    text = keras.Input(shape=(), dtype="string", name="review")
    tokens = ops.cast(vectorize(text), "int32")
    lengths = ops.cast(ops.count_nonzero(tokens, axis=1), "int32")
    index = ops.expand_dims(lengths, 1) - maxlen + ops.expand_dims(ops.arange(maxlen), 0)
    picked = ops.take_along_axis(tokens, ops.maximum(index, 0), axis=1)
    padded = ops.where(index >= 0, picked, ops.zeros_like(picked))
    return keras.Model(text, model(padded), name=name)
