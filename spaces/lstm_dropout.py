"""Search space: Embedding -> LSTM(dropout, recurrent_dropout) -> Dense head.

The tutorial's first fix for overfitting: dropout on the LSTM's inputs and on its
recurrent state. Tunes both rates, the LSTM width, the embedding size and the shared
training knobs (batch size, optimizer, learning rate).
"""

from __future__ import annotations

from typing import Any

import keras
import optuna

from hpsearch.knobs import TRAINING_BASELINE, suggest_training

BASELINE: dict[str, Any] = {
    "embedding_dim": 32,
    "lstm_units": 100,
    "dropout": 0.3,
    "recurrent_dropout": 0.1,
    **TRAINING_BASELINE,
}


def suggest(trial: optuna.Trial) -> dict[str, Any]:
    return {
        "embedding_dim": trial.suggest_categorical("embedding_dim", [16, 32, 64]),
        "lstm_units": trial.suggest_int("lstm_units", 16, 128),
        "dropout": trial.suggest_float("dropout", 0.0, 0.6),
        "recurrent_dropout": trial.suggest_float("recurrent_dropout", 0.0, 0.5),
        **suggest_training(trial),
    }


def build_model(params: dict[str, Any], data: Any) -> keras.Model:
    # The head follows the data: one sigmoid unit for two classes, softmax over k otherwise.
    units, activation = (1, "sigmoid") if data.num_classes == 2 else (data.num_classes, "softmax")
    return keras.Sequential(
        [
            keras.Input(shape=(data.maxlen,), dtype="int32"),
            keras.layers.Embedding(data.vocab_size, params["embedding_dim"]),
            keras.layers.LSTM(
                params["lstm_units"],
                dropout=params["dropout"],
                recurrent_dropout=params["recurrent_dropout"],
            ),
            keras.layers.Dense(units, activation=activation),
        ]
    )
