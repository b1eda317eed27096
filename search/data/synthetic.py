"""Synthetic review-like sequences with a learnable signal, for the quick start and tests.

Not real data and always labelled "synthetic" wherever it shows. Token frequencies follow
a Zipf-like law; each review mixes a few sentiment tokens of its class with some of the
other class, and 10% of labels are flipped, so models learn it but can also overfit it.
"""

from __future__ import annotations

from hpsearch.config import DatasetConfig
from hpsearch.data.base import Dataset
from hpsearch.portable.data import synthetic_arrays, synthetic_vocab_size


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
