"""A tiny space for the worker tests: an averaged embedding, fast enough for 200 trials."""

from __future__ import annotations

from typing import Any

import keras
import optuna

BASELINE: dict[str, Any] = {
    "width": 4,
    "batch_size": 32,
    "optimizer": "adam",
    "learning_rate": 0.01,
}


def suggest(trial: optuna.Trial) -> dict[str, Any]:
    return {
        "width": trial.suggest_int("width", 2, 8),
        "batch_size": 32,
        "optimizer": "adam",
        "learning_rate": trial.suggest_float("learning_rate", 1e-3, 1e-1, log=True),
    }


def build_model(params: dict[str, Any], data: Any) -> keras.Model:
    # The head follows the data: one sigmoid unit for two classes, softmax over k otherwise.
    units, activation = (1, "sigmoid") if data.num_classes == 2 else (data.num_classes, "softmax")
    return keras.Sequential(
        [
            keras.Input(shape=(data.maxlen,), dtype="int32"),
            keras.layers.Embedding(data.vocab_size, params["width"]),
            keras.layers.GlobalAveragePooling1D(),
            keras.layers.Dense(units, activation=activation),
        ]
    )
