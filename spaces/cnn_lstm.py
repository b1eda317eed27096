"""Search space: Embedding -> SpatialDropout1D -> Conv1D -> MaxPooling1D -> LSTM -> Dense.

The tutorial's third model: a convolutional front end that shortens the sequence before
the LSTM (about three times faster per epoch). Tunes the convolution's filters, kernel and
pooling, spatial dropout, the LSTM's dropouts and width, and the shared training knobs.
"""

from __future__ import annotations

from typing import Any

import keras
import optuna

from hpsearch.knobs import TRAINING_BASELINE, suggest_training

BASELINE: dict[str, Any] = {
    "embedding_dim": 32,
    "spatial_dropout": 0.0,
    "filters": 64,
    "kernel_size": 5,
    "pool_size": 4,
    "lstm_units": 100,
    "dropout": 0.3,
    "recurrent_dropout": 0.1,
    **TRAINING_BASELINE,
}


def suggest(trial: optuna.Trial) -> dict[str, Any]:
    return {
        "embedding_dim": trial.suggest_categorical("embedding_dim", [16, 32, 64]),
        "spatial_dropout": trial.suggest_float("spatial_dropout", 0.0, 0.5),
        "filters": trial.suggest_categorical("filters", [16, 32, 64, 128]),
        "kernel_size": trial.suggest_categorical("kernel_size", [3, 5, 7]),
        "pool_size": trial.suggest_categorical("pool_size", [2, 4]),
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
            keras.layers.SpatialDropout1D(params["spatial_dropout"]),
            keras.layers.Conv1D(
                params["filters"], params["kernel_size"], activation="relu", padding="same"
            ),
            keras.layers.MaxPooling1D(params["pool_size"]),
            keras.layers.LSTM(
                params["lstm_units"],
                dropout=params["dropout"],
                recurrent_dropout=params["recurrent_dropout"],
            ),
            keras.layers.Dense(units, activation=activation),
        ]
    )
