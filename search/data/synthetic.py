"""Synthetic review-like sequences with a learnable signal, for the quick start and tests.

Not real data and always labelled "synthetic" wherever it shows. Token frequencies follow
a Zipf-like law; each review mixes a few sentiment tokens of its class with some of the
other class, and 10% of labels are flipped, so models learn it but can also overfit it.
"""

from __future__ import annotations

import numpy as np

from hpsearch.config import DatasetConfig
from hpsearch.data.base import Dataset, stratified_split

_SENTIMENT_TOKENS = 20  # ids 3..22 lean negative, 23..42 lean positive


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


def load_synthetic(cfg: DatasetConfig, seed: int) -> Dataset:
    num_words, maxlen = cfg.size()
    arrays = synthetic_arrays(
        cfg.samples, cfg.test_samples, num_words, maxlen, cfg.validation_split, seed
    )
    return Dataset.from_arrays(
        f"synthetic ({cfg.samples} generated sequences, not real reviews)",
        arrays,
        synthetic_vocab_size(num_words),
        maxlen,
        synthetic=True,
    )


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
