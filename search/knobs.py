"""Training knobs every space shares: batch size, optimizer, learning rate (and momentum).

Spaces call :func:`suggest_training` inside their ``suggest`` so the three model families
tune these the same way; the engine calls :func:`make_optimizer` when it compiles.
"""

from __future__ import annotations

from typing import Any

import optuna

OPTIMIZERS = ("adam", "rmsprop", "nadam", "sgd")

TRAINING_BASELINE: dict[str, Any] = {"batch_size": 64, "optimizer": "adam", "learning_rate": 1e-3}
"""The tutorial's training settings: Adam at Keras' default learning rate, batch 64."""


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


def make_optimizer(params: dict[str, Any]) -> Any:
    """The Keras optimizer for a params dict (as stored on a trial)."""
    import keras

    name, lr = params["optimizer"], params["learning_rate"]
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate=lr, momentum=params.get("momentum", 0.0))
    return {
        "adam": keras.optimizers.Adam,
        "rmsprop": keras.optimizers.RMSprop,
        "nadam": keras.optimizers.Nadam,
    }[name](learning_rate=lr)
