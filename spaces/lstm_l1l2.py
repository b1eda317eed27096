"""Search space: Embedding -> LSTM -> Dense head with L2 kernel / L1 activity penalties.

The tutorial's second fix for overfitting: regularize the output layer. Each penalty can be
switched off (``use_kernel_l2`` / ``use_activity_l1``); when on, its strength is searched on
a log scale. Also tunes the LSTM width, embedding size and the shared training knobs.
"""

from __future__ import annotations

from typing import Any

import keras
import optuna

from hpsearch.knobs import TRAINING_BASELINE, suggest_training

BASELINE: dict[str, Any] = {
    "embedding_dim": 32,
    "lstm_units": 100,
    "use_kernel_l2": True,
    "kernel_l2": 1e-3,
    "use_activity_l1": True,
    "activity_l1": 1e-3,
    **TRAINING_BASELINE,
}


def suggest(trial: optuna.Trial) -> dict[str, Any]:
    params: dict[str, Any] = {
        "embedding_dim": trial.suggest_categorical("embedding_dim", [16, 32, 64]),
        "lstm_units": trial.suggest_int("lstm_units", 16, 128),
        "use_kernel_l2": trial.suggest_categorical("use_kernel_l2", [True, False]),
        "use_activity_l1": trial.suggest_categorical("use_activity_l1", [True, False]),
    }
    if params["use_kernel_l2"]:
        params["kernel_l2"] = trial.suggest_float("kernel_l2", 1e-6, 1e-1, log=True)
    if params["use_activity_l1"]:
        params["activity_l1"] = trial.suggest_float("activity_l1", 1e-6, 1e-1, log=True)
    return {**params, **suggest_training(trial)}


def build_model(params: dict[str, Any], data: Any) -> keras.Model:
    # The head follows the data: one sigmoid unit for two classes, softmax over k otherwise.
    units, activation = (1, "sigmoid") if data.num_classes == 2 else (data.num_classes, "softmax")
    kernel_l2 = params.get("kernel_l2", 0.0) if params["use_kernel_l2"] else 0.0
    activity_l1 = params.get("activity_l1", 0.0) if params["use_activity_l1"] else 0.0
    return keras.Sequential(
        [
            keras.Input(shape=(data.maxlen,), dtype="int32"),
            keras.layers.Embedding(data.vocab_size, params["embedding_dim"]),
            keras.layers.LSTM(params["lstm_units"]),
            keras.layers.Dense(
                units,
                activation=activation,
                kernel_regularizer=keras.regularizers.L2(kernel_l2) if kernel_l2 else None,
                activity_regularizer=keras.regularizers.L1(activity_l1) if activity_l1 else None,
            ),
        ]
    )
