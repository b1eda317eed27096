"""Search space: Embedding -> parallel Conv1D of several widths -> max over time -> Dense head.

The sentence CNN of Kim (2014), "Convolutional Neural Networks for Sentence Classification",
with word vectors learnt from scratch (its "CNN-rand"): each filter slides over 2 to 5 words,
the strongest match anywhere in the text is kept (global max pooling), so a short text is read
for its telling phrases wherever they stand. Strong where texts are short and word order
matters (sentences, questions), where a bag of words loses the phrase. Tunes the vocabulary size
and length, the vectors' width, the filter widths and count, dropout, L2 and the shared training
knobs.
"""

from __future__ import annotations

from typing import Any

import keras
import optuna

from hpsearch.knobs import DATA_BASELINE, TRAINING_BASELINE, suggest_data, suggest_training

WIDTHS = {"3,4,5": (3, 4, 5), "2,3,4": (2, 3, 4), "1,2,3": (1, 2, 3), "2,3,4,5": (2, 3, 4, 5)}
"""The filter widths a trial may choose, by name (Optuna's categorical choices are scalars)."""

BASELINE: dict[str, Any] = {
    **DATA_BASELINE,
    "embedding_dim": 128,
    "widths": "3,4,5",
    "filters": 100,
    "embedding_dropout": 0.0,
    "dropout": 0.5,
    "l2": 1e-6,
    **TRAINING_BASELINE,
}
"""Kim's CNN-rand (filter widths 3, 4, 5 with 100 filters each, dropout 0.5; 128-wide vectors
where his were 300) on the tutorial's data and training settings (5,000 words, 500 tokens,
Adam 1e-3, batch 64)."""


def suggest(trial: optuna.Trial) -> dict[str, Any]:
    return {
        **suggest_data(trial),
        "embedding_dim": trial.suggest_categorical("embedding_dim", [32, 64, 128, 256]),
        "widths": trial.suggest_categorical("widths", list(WIDTHS)),
        "filters": trial.suggest_categorical("filters", [32, 64, 100, 200]),
        "embedding_dropout": trial.suggest_float("embedding_dropout", 0.0, 0.5),
        "dropout": trial.suggest_float("dropout", 0.0, 0.8),
        "l2": trial.suggest_float("l2", 1e-7, 1e-2, log=True),
        **suggest_training(trial),
    }


def build_model(params: dict[str, Any], data: Any) -> keras.Model:
    # The head follows the data: one sigmoid unit for two classes, softmax over k otherwise.
    units, activation = (1, "sigmoid") if data.num_classes == 2 else (data.num_classes, "softmax")
    l2 = keras.regularizers.L2(params["l2"])
    tokens = keras.Input(shape=(data.maxlen,), dtype="int32")
    x = keras.layers.Embedding(data.vocab_size, params["embedding_dim"])(tokens)
    x = keras.layers.SpatialDropout1D(params["embedding_dropout"])(x)
    pooled = [
        keras.layers.GlobalMaxPooling1D()(
            keras.layers.Conv1D(
                params["filters"], width, activation="relu", padding="same", kernel_regularizer=l2
            )(x)
        )
        for width in WIDTHS[params["widths"]]
    ]
    x = keras.layers.Concatenate()(pooled) if len(pooled) > 1 else pooled[0]
    x = keras.layers.Dropout(params["dropout"])(x)
    out = keras.layers.Dense(units, activation=activation, kernel_regularizer=l2)(x)
    return keras.Model(tokens, out)
