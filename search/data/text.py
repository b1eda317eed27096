"""Review text from a CSV file or an aclImdb-style folder, vectorized with Keras.

``keras.layers.TextVectorization`` is fitted on the training part only (after the
validation split is carved out), then sequences are padded and truncated at the front
like ``keras.utils.pad_sequences``' defaults. Results are cached by content and settings.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from hpsearch.config import DatasetConfig
from hpsearch.data.base import (
    Dataset,
    cache_key,
    cache_load,
    cache_save,
)
from hpsearch.errors import DataError
from hpsearch.portable.data import (
    UNLABELLED,
    Reviews,
    check_data_file,
    check_data_folder,
    read_csv,
    read_folder,
    vectorize_reviews,
)


def load_text(cfg: DatasetConfig, seed: int) -> Dataset:
    """A ``csv`` or ``directory`` dataset, from the cache when the sources are unchanged."""
    assert cfg.path is not None
    files = _source_files(cfg)
    key = cache_key({**asdict(cfg), "seed": seed, "v": 3}, files)
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


# TextVectorization's standardizations, in plain Python: the profile below needs word counts,
# not the vectorizer (and no TensorFlow).
_PUNCTUATION = re.compile(r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']')


def words_of(text: str, standardize: str) -> list[str]:
    """The words ``TextVectorization(standardize=...)`` splits ``text`` into."""
    if standardize in ("lower_and_strip_punctuation", "lower"):
        text = text.lower()
    if standardize in ("lower_and_strip_punctuation", "strip_punctuation"):
        text = _PUNCTUATION.sub("", text)
    return text.split()


@dataclass(frozen=True)
class TextProfile:
    """What a study's ranges follow: words per training text and how many words recur."""

    texts: int
    median_words: int
    p99_words: int
    recurring_words: int
    """Distinct words found in two training texts or more (a word seen once cannot be learnt)."""


def text_profile(cfg: DatasetConfig) -> TextProfile:
    """Words per text (median, 99th percentile) and recurring words of the training file,
    split into words as ``TextVectorization`` splits them."""
    texts = read_reviews(cfg)[0][0]
    lengths = []
    seen: Counter[str] = Counter()
    for text in texts:
        words = words_of(text, cfg.standardize)
        lengths.append(len(words))
        seen.update(set(words))
    median, p99 = np.percentile(lengths, [50, 99]) if lengths else (0, 0)
    return TextProfile(
        texts=len(texts),
        median_words=int(np.ceil(median)),
        p99_words=int(np.ceil(p99)),
        recurring_words=sum(1 for n in seen.values() if n >= 2),
    )


def _source_files(cfg: DatasetConfig) -> list[Path]:
    assert cfg.path is not None
    if cfg.kind == "csv":
        paths = [Path(cfg.path)] + ([Path(cfg.test_path)] if cfg.test_path else [])
        for p in paths:
            check_data_file(p)
        return paths
    root = Path(cfg.path)
    check_data_folder(root)
    if not root.is_dir():
        raise DataError(
            f"{root}: no such folder; allowed: an aclImdb folder (train/pos, train/neg)"
        )
    return sorted(p for p in root.glob("t*/*/*.txt") if p.parent.name != UNLABELLED)


def _build(cfg: DatasetConfig, seed: int) -> dict[str, np.ndarray]:
    train, test = read_reviews(cfg)
    check_words(train[0], cfg)
    return vectorize_reviews(
        train, test, *cfg.size(), cfg.validation_split, cfg.max_samples, seed, cfg.standardize
    )


MIN_TEXTS_WITH_WORDS = 10
"""Fewer texts holding a word than this leave nothing to learn a vocabulary or a model from."""


def check_words(texts: list[str], cfg: DatasetConfig) -> None:
    """Texts whose words the vectorizer can find: a column of empty or punctuation-only texts
    is one line naming the file and the column (a few empty texts among many still train)."""
    with_words = sum(1 for t in texts if _PUNCTUATION.sub("", t.lower()).split())
    if with_words >= min(MIN_TEXTS_WITH_WORDS, len(texts)) and with_words > 0:
        return
    where = f"{cfg.path}, column {cfg.text_column!r}" if cfg.kind == "csv" else f"{cfg.path}"
    raise DataError(
        f"{where}: {with_words} of {len(texts)} texts hold a word (the rest are empty or "
        f"punctuation); allowed: at least {MIN_TEXTS_WITH_WORDS} texts with words to train on"
    )
