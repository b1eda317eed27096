"""Knobs every space can share: the data's vocabulary size and sequence length, and the
training knobs (batch size, optimizer, learning rate and momentum).

Spaces call :func:`suggest_data` and :func:`suggest_training` inside their ``suggest`` so every
family tunes these the same way. The engine reads the data knobs from a trial's params
(:data:`DATA_KNOBS`) and hands ``build_model`` the data at that setting; it calls
:func:`make_optimizer` (kept in :mod:`hpsearch.portable.training`, which exported scripts
carry) when it compiles.
"""

from __future__ import annotations

from typing import Any

import optuna

OPTIMIZERS = ("adam", "rmsprop", "nadam", "sgd")

DATA_KNOBS = ("num_words", "maxlen")
"""Params that choose the data rather than the model: vocabulary size and sequence length."""

NUM_WORDS = (500, 100_000)
"""The vocabulary sizes :func:`suggest_data` declares (a study narrows them to its data)."""

MAXLEN = (8, 2000)
"""The lengths in tokens :func:`suggest_data` declares (a study narrows them to its data)."""

DATA_BASELINE: dict[str, Any] = {"num_words": 5000, "maxlen": 500}
"""The tutorial's data settings: the top 5,000 words, reviews cut or padded to 500 tokens."""

TRAINING_BASELINE: dict[str, Any] = {"batch_size": 64, "optimizer": "adam", "learning_rate": 1e-3}
"""The tutorial's training settings: Adam at Keras' default learning rate, batch 64."""


def suggest_data(trial: optuna.Trial) -> dict[str, Any]:
    """Vocabulary size and sequence length, both on a log scale.

    Declared wide enough for any text task; a study searches the part its own data calls for:
    unless its ``[ranges]`` say otherwise, the engine narrows both to the training texts
    (:func:`hpsearch.engine.setting.follow_data`: lengths from the median to the 99th
    percentile of words per text, vocabularies up to the words found in two texts or more).
    Text is vectorized once at the largest setting the study allows; each trial's setting is
    cut from it (see :func:`hpsearch.portable.data.restrict_arrays`), so trying many costs
    nothing.
    """
    return {
        "num_words": trial.suggest_int("num_words", *NUM_WORDS, log=True),
        "maxlen": trial.suggest_int("maxlen", *MAXLEN, log=True),
    }


def suggest_training(trial: optuna.Trial) -> dict[str, Any]:
    """Batch size, optimizer and learning rate; SGD also gets a momentum."""
    params: dict[str, Any] = {
        "batch_size": trial.suggest_categorical("batch_size", [32, 64, 128, 256]),
        "optimizer": trial.suggest_categorical("optimizer", list(OPTIMIZERS)),
        "learning_rate": trial.suggest_float("learning_rate", 1e-4, 3e-2, log=True),
    }
    if params["optimizer"] == "sgd":
        params["momentum"] = trial.suggest_float("momentum", 0.0, 0.95)
    return params


def __getattr__(name: str) -> Any:
    """``make_optimizer``, from :mod:`hpsearch.portable.training` when first asked for (it
    imports TensorFlow; spaces import this module without it)."""
    if name == "make_optimizer":
        from hpsearch.portable.training import make_optimizer

        return make_optimizer
    raise AttributeError(f"module 'hpsearch.knobs' has no attribute {name!r}")


__all__ = [
    "DATA_BASELINE",
    "DATA_KNOBS",
    "OPTIMIZERS",
    "TRAINING_BASELINE",
    "suggest_data",
    "suggest_training",
]
