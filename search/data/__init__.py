"""Datasets: turn a study file's ``[dataset]`` table into train/validation/test arrays.

:func:`load_dataset` is the one entry point. Sources (``imdb``, ``csv``, ``directory``,
``synthetic``) live in their own modules; all of them end in a :class:`Dataset` whose
validation split is carved from the training data (seeded, stratified). The test split is
carried along but never used during search.
"""

from __future__ import annotations

from search.config import DatasetConfig
from search.data.base import Dataset


def load_dataset(cfg: DatasetConfig, seed: int) -> Dataset:
    """Load, vectorize (cached on disk) and split the dataset a study file names.

    A vocabulary size or length left unset is the tutorial's (5,000 words, 500 tokens).
    """
    cfg = cfg.filled()
    if cfg.kind == "synthetic":
        from search.data.synthetic import load_synthetic

        return load_synthetic(cfg, seed)
    if cfg.kind == "imdb":
        from search.data.imdb import load_imdb

        return load_imdb(cfg, seed)
    from search.data.text import load_text

    return load_text(cfg, seed)


__all__ = ["Dataset", "load_dataset"]
