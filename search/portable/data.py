"""The data steps exported scripts carry: read a CSV or aclImdb folder, name the classes,
split (seeded, stratified), vectorize with Keras' ``TextVectorization``, cut to a trial's
vocabulary and length; synthetic and Keras-IMDB arrays too. NumPy at module level; Keras only
inside the functions that vectorize, so reading commands stay free of TensorFlow.
"""

from __future__ import annotations

import csv
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from hpsearch.errors import DataError

STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation", "none")
"""How texts become words: TextVectorization's own ``standardize`` modes, "none" for None (the
texts as written, split on whitespace). The first is Keras's default and hpsearch's."""
DEFAULT_STANDARDIZE = STANDARDIZE[0]


def keras_standardize(mode: str) -> str | None:
    """TextVectorization's ``standardize`` argument for a mode of ``STANDARDIZE``."""
    return None if mode == "none" else mode


_SENTIMENT_TOKENS = 20  # ids 3..22 lean negative, 23..42 lean positive
BINARY_ALIASES = {"0": 0, "1": 1, "neg": 0, "pos": 1, "negative": 0, "positive": 1}
"""Two-class labels accepted in any case; they keep ids 0/1 whatever their sort order."""
UNLABELLED = "unsup"
"""aclImdb's folder of unlabelled reviews: never a class."""
Reviews = tuple[list[str], np.ndarray, tuple[str, ...]]
"""Texts, their labels as class indices, and the class names in index order."""


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


def shown(value: str, limit: int = 40) -> str:
    """A value for a one-line message: its repr, cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def counted(n: int, noun: str) -> str:
    """``n`` and ``noun``, plural unless ``n`` is 1: "1 epoch", "3 epochs"."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def listed(classes: tuple[str, ...], limit: int = 10) -> str:
    """Class names for a one-line message: the first ``limit`` of them, and how many in all."""
    names = ", ".join(shown(c)[1:-1] for c in classes[:limit])
    return names if len(classes) <= limit else f"{names}, ... ({len(classes)} classes)"


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


def separator_hint(columns: list[str]) -> str:
    """A header read as one column that holds another separator (Excel in many locales saves
    ';'): say so, rather than leave the user to spot it in the column's name."""
    if len(columns) == 1:
        for sep, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "bars")):
            if sep in columns[0]:
                return f"; the header is separated by {name}: allowed: commas (save it as CSV)"
    return ""


def check_data_file(path: Path) -> None:
    """A data file that is missing, or is a folder, is one line naming it."""
    if path.is_dir():
        raise DataError(f"{path} is a folder; allowed: a CSV file, e.g. {path / 'train.csv'}")
    if not path.is_file():
        raise DataError(f"{path}: no such data file")


def check_data_folder(path: Path) -> None:
    """A folder dataset's path that is a file is one line saying so (not "missing")."""
    if path.is_file():
        raise DataError(
            f"{path} is a file; allowed: a folder with one subfolder per class under train/ "
            '(a CSV file: dataset.kind = "csv")'
        )


def read_csv(
    path: Path, text_column: str, label_column: str, classes: tuple[str, ...] | None = None
) -> Reviews:
    """Texts and labels from a CSV with a header row (labels: see ``class_labels``)."""
    check_data_file(path)
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
                        f"{found or 'none (empty file)'}{separator_hint(list(columns))}"
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
    check_data_folder(folder.parent)
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
        for f in files:  # one decoding policy with read_csv: UTF-8 (a BOM allowed), or refused
            try:
                texts.append(f.read_text(encoding="utf-8-sig"))
            except UnicodeDecodeError:
                raise DataError(f"{f}: not UTF-8 text; allowed: UTF-8 .txt reviews") from None
        labels += [label] * len(files)
    return texts, np.asarray(labels, dtype="int32"), classes


def fit_vectorizer(  # type: ignore[no-untyped-def]
    train_texts: list[str],
    num_words: int,
    maxlen: int,
    standardize: str = DEFAULT_STANDARDIZE,
):
    """Fit TextVectorization on ``train_texts``; return (encode, vocabulary). ``standardize``
    is TextVectorization's own ("none": None, the texts as written)."""
    import keras

    layer = keras.layers.TextVectorization(
        max_tokens=num_words,
        output_mode="int",
        ragged=True,
        standardize=keras_standardize(standardize),
    )
    layer.adapt(np.asarray(train_texts, dtype=object), batch_size=512)

    def encode(texts: list[str]) -> np.ndarray:
        seqs: list[list[int]] = []
        for start in range(0, len(texts), 512):
            seqs += layer(np.asarray(texts[start : start + 512], dtype=object)).to_list()
        return keras.utils.pad_sequences(seqs, maxlen=maxlen, padding="pre", truncating="pre")

    return encode, list(layer.get_vocabulary())


def vectorize_reviews(
    train: Reviews,
    test: Reviews | None,
    num_words: int,
    maxlen: int,
    validation_split: float,
    max_samples: int | None,
    seed: int,
    standardize: str = DEFAULT_STANDARDIZE,
) -> dict[str, np.ndarray]:
    """Subsample, split (seeded, stratified), fit the vocabulary on the training part only,
    and encode every split as front-padded integer sequences (words as ``standardize`` finds
    them: see ``fit_vectorizer``)."""
    texts, labels, classes = train
    picked = subsample(labels, max_samples, seed)
    texts, labels = [texts[i] for i in picked], labels[picked]
    keep, val = stratified_split(labels, validation_split, seed)
    check_split(labels, keep, val, classes, validation_split)
    train_texts = [texts[i] for i in keep]
    encode, vocabulary = fit_vectorizer(train_texts, num_words, maxlen, standardize)
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


def raw_text_model(
    model: Any,
    vocabulary: list[str],
    maxlen: int,
    name: str = "text_classifier",
    standardize: str = DEFAULT_STANDARDIZE,
) -> Any:
    """Wrap a trained sequence model so it takes raw review strings.

    The fitted vocabulary travels inside a TextVectorization layer; its output is moved to
    the front and cut to the last ``maxlen`` tokens with ``keras.ops`` (what
    ``pad_sequences`` does by default), which saves and loads with stock Keras alone.
    """
    import keras
    from keras import ops

    vectorize = keras.layers.TextVectorization(
        output_mode="int",
        vocabulary=vocabulary[2:],
        standardize=keras_standardize(standardize),
    )
    text = keras.Input(shape=(), dtype="string", name="review")
    tokens = ops.cast(vectorize(text), "int32")
    lengths = ops.cast(ops.count_nonzero(tokens, axis=1), "int32")
    index = ops.expand_dims(lengths, 1) - maxlen + ops.expand_dims(ops.arange(maxlen), 0)
    picked = ops.take_along_axis(tokens, ops.maximum(index, 0), axis=1)
    padded = ops.where(index >= 0, picked, ops.zeros_like(picked))
    return keras.Model(text, model(padded), name=name)


# Copied verbatim into exported training scripts (hpsearch.output.export): NumPy and Keras only.
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


def generate(n: int, num_words: int, maxlen: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` front-padded sequences and balanced 0/1 labels, fully determined by ``seed``."""
    rng = np.random.default_rng(seed)
    first_plain = 3 + 2 * _SENTIMENT_TOKENS
    ranks = np.arange(1, num_words - first_plain + 1)
    weights = 1.0 / ranks
    weights /= weights.sum()
    y = np.arange(n) % 2
    rng.shuffle(y)
    x = np.zeros((n, maxlen), dtype="int32")
    for i in range(n):
        length = int(rng.integers(maxlen // 4, maxlen + 1))
        tokens = first_plain + rng.choice(len(ranks), size=length, p=weights)
        own = 3 + _SENTIMENT_TOKENS * y[i] + rng.integers(0, _SENTIMENT_TOKENS, size=4)
        other = 3 + _SENTIMENT_TOKENS * (1 - y[i]) + rng.integers(0, _SENTIMENT_TOKENS, size=2)
        spots = rng.choice(length, size=min(length, 6), replace=False)
        tokens[spots] = np.concatenate([own, other])[: len(spots)]
        x[i, maxlen - length :] = tokens
    flip = rng.random(n) < 0.10
    y = np.where(flip, 1 - y, y).astype("int32")
    return x, y


def synthetic_vocab_size(num_words: int) -> int:
    return max(num_words, 3 + 2 * _SENTIMENT_TOKENS + 10)


def synthetic_arrays(
    samples: int,
    test_samples: int,
    num_words: int,
    maxlen: int,
    validation_split: float,
    seed: int,
) -> dict[str, np.ndarray]:
    """Generated train/validation (and test) arrays, fully determined by ``seed``."""
    vocab = synthetic_vocab_size(num_words)
    x, y = generate(samples, vocab, maxlen, seed)
    keep, val = stratified_split(y, validation_split, seed)
    arrays = {"x_train": x[keep], "y_train": y[keep], "x_val": x[val], "y_val": y[val]}
    if test_samples:
        arrays["x_test"], arrays["y_test"] = generate(test_samples, vocab, maxlen, seed + 1)
    return arrays


def data_digest(path: Path) -> str:
    """sha256 of a data file's bytes; of a folder, of its files' relative paths and bytes, in
    sorted order (what binds a study to its data)."""
    import hashlib

    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        if path.is_dir():
            digest.update(str(f.relative_to(path)).encode() + b"\0")
        with f.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def check_data_digest(path: Path, expected: str | None, study: str, accept: bool) -> None:
    """A data file the study was created on, by content (it may have moved): one DataError
    line when it differs, unless ``accept``."""
    if expected is None or accept or not path.exists() or data_digest(path) == expected:
        return
    raise DataError(
        f"{path}: differs from the data study {study!r} was created on; allowed: that data, "
        "or --accept-changed-data"
    )
