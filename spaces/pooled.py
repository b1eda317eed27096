"""Search space: Embedding -> global average and/or max pooling -> Dropout -> Dense head.

A fast family beyond the tutorial's: word vectors averaged and/or max-pooled over the padded
review, no recurrence, so an epoch costs a fraction of an LSTM's. Padding takes part, as a
learnt vector: a masked average divides by zero for a review with no words ("", "!!!"), and
Keras' GlobalMaxPooling1D ignores masks anyway. Tunes
the data knobs (vocabulary size, length), the embedding size, the pooling, dropout, L2 on
the embedding and the shared training knobs.
"""

from __future__ import annotations

from typing import Any

import keras
import optuna

from hpsearch.knobs import DATA_BASELINE, TRAINING_BASELINE, suggest_data, suggest_training

BASELINE: dict[str, Any] = {
    **DATA_BASELINE,
    "embedding_dim": 32,
    "pooling": "average",
    "dropout": 0.0,
    "l2": 1e-7,
    **TRAINING_BASELINE,
}
"""The tutorial's data and training settings and its Embedding(32), averaged."""


def suggest(trial: optuna.Trial) -> dict[str, Any]:
    return {
        **suggest_data(trial),
        "embedding_dim": trial.suggest_categorical("embedding_dim", [16, 32, 64, 128]),
        "pooling": trial.suggest_categorical("pooling", ["average", "max", "average_max"]),
        "dropout": trial.suggest_float("dropout", 0.0, 0.7),
        "l2": trial.suggest_float("l2", 1e-7, 1e-3, log=True),
        **suggest_training(trial),
    }


def build_model(params: dict[str, Any], data: Any) -> keras.Model:
    # The head follows the data: one sigmoid unit for two classes, softmax over k otherwise.
    units, activation = (1, "sigmoid") if data.num_classes == 2 else (data.num_classes, "softmax")
    tokens = keras.Input(shape=(data.maxlen,), dtype="int32")
    vectors = keras.layers.Embedding(
        data.vocab_size,
        params["embedding_dim"],
        embeddings_regularizer=keras.regularizers.L2(params["l2"]),
    )(tokens)
    pooled = []
    if params["pooling"] in ("average", "average_max"):
        pooled.append(keras.layers.GlobalAveragePooling1D()(vectors))
    if params["pooling"] in ("max", "average_max"):
        pooled.append(keras.layers.GlobalMaxPooling1D()(vectors))
    x = pooled[0] if len(pooled) == 1 else keras.layers.Concatenate()(pooled)
    x = keras.layers.Dropout(params["dropout"])(x)
    return keras.Model(tokens, keras.layers.Dense(units, activation=activation)(x))
