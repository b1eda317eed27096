"""Datasets: turn a study file's ``[dataset]`` table into train/validation/test arrays.

:func:`load_dataset` is the one entry point. Sources (``imdb``, ``csv``, ``directory``,
``synthetic``) live in their own modules; all of them end in a :class:`Dataset` whose
validation split is carved from the training data (seeded, stratified). The test split is
carried along but never used during search.
"""

from __future__ import annotations

from hpsearch.config import DatasetConfig
from hpsearch.data.base import Dataset
from hpsearch.errors import DataError


def load_dataset(cfg: DatasetConfig, seed: int) -> Dataset:
    """Load, vectorize (cached on disk) and split the dataset a study file names.

    A vocabulary size or length left unset is the tutorial's (5,000 words, 500 tokens).
    """
    cfg = cfg.filled()
    if cfg.kind == "synthetic":
        from hpsearch.data.synthetic import load_synthetic

        data = load_synthetic(cfg, seed)
    elif cfg.kind == "imdb":
        from hpsearch.data.imdb import load_imdb

        data = load_imdb(cfg, seed)
    else:
        from hpsearch.data.text import load_text

        data = load_text(cfg, seed)
    return checked(data, cfg)


def checked(data: Dataset, cfg: DatasetConfig) -> Dataset:
    """Every kind of dataset: both splits hold rows of every class, or one DataError line."""
    for name, y in (("training", data.y_train), ("validation", data.y_val)):
        missing = [c for i, c in enumerate(data.classes) if not (y == i).any()]
        if missing:
            raise DataError(
                f"dataset ({data.description}): the {name} split holds {len(y)} rows and no "
                f"row of class {missing[0]!r} at validation_split = {cfg.validation_split}; "
                "allowed: more rows of every class, or a split that leaves every class on "
                "each side"
            )
    return data


__all__ = ["Dataset", "load_dataset"]
