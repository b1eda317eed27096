"""Search space: a bag of words (and hashed word pairs) -> Dropout -> [Dense] -> Dense head.

A strong, fast family for small data, beyond the tutorial's: each review becomes the set of
its words (multi-hot over the vocabulary), optionally with its adjacent word pairs hashed
into extra buckets, then a linear or one-hidden-layer classifier. Order is lost, which on a
few thousand reviews costs less than the recurrent models' appetite for data. Tunes the data
knobs (vocabulary size, length), the word pairs, unit-length scaling, input dropout, L2, the
hidden layer and the shared training knobs.
"""

from __future__ import annotations

from typing import Any

import keras
import optuna

from hpsearch.knobs import DATA_BASELINE, TRAINING_BASELINE, suggest_data, suggest_training

BASELINE: dict[str, Any] = {
    **DATA_BASELINE,
    "bigram_buckets": 0,
    "normalize": False,
    "dropout": 0.0,
    "l2": 1e-6,
    "hidden_units": 0,
    **TRAINING_BASELINE,
}
"""The tutorial's data and training settings (5,000 words, 500 tokens, Adam 1e-3, batch 64)
on a plain linear bag of words."""


def suggest(trial: optuna.Trial) -> dict[str, Any]:
    params: dict[str, Any] = {
        **suggest_data(trial),
        "bigram_buckets": trial.suggest_categorical("bigram_buckets", [0, 20000, 50000]),
        "normalize": trial.suggest_categorical("normalize", [False, True]),
        "dropout": trial.suggest_float("dropout", 0.0, 0.9),
        "l2": trial.suggest_float("l2", 1e-6, 1e-1, log=True),
        "hidden_units": trial.suggest_categorical("hidden_units", [0, 16, 32]),
    }
    if params["hidden_units"]:
        params["hidden_dropout"] = trial.suggest_float("hidden_dropout", 0.0, 0.7)
    return {**params, **suggest_training(trial)}


def build_model(params: dict[str, Any], data: Any) -> keras.Model:
    from keras import ops

    # The head follows the data: one sigmoid unit for two classes, softmax over k otherwise.
    units, activation = (1, "sigmoid") if data.num_classes == 2 else (data.num_classes, "softmax")
    words = data.vocab_size
    buckets = params["bigram_buckets"]
    tokens = keras.Input(shape=(data.maxlen,), dtype="int32")
    features = keras.layers.CategoryEncoding(words, output_mode="multi_hot")(tokens)
    if buckets:
        # Adjacent word pairs, hashed into `buckets` ids (0 marks a pair with padding in it).
        previous = ops.pad(tokens[:, :-1], [[0, 0], [1, 0]])
        pair = (previous * 1_000_003 + tokens) % (buckets - 1) + 1
        pair = ops.where((previous > 0) & (tokens > 0), pair, ops.zeros_like(pair))
        pairs = keras.layers.CategoryEncoding(buckets, output_mode="multi_hot")(pair)
        features = keras.layers.Concatenate()([features, pairs[:, 1:]])
    if params["normalize"]:
        # Unit length per review: long reviews no longer outweigh short ones.
        features = features / ops.sqrt(ops.maximum(ops.sum(features, axis=1, keepdims=True), 1.0))
    x = keras.layers.Dropout(params["dropout"])(features)
    l2 = keras.regularizers.L2(params["l2"])
    if params["hidden_units"]:
        x = keras.layers.Dense(params["hidden_units"], activation="relu", kernel_regularizer=l2)(x)
        x = keras.layers.Dropout(params["hidden_dropout"])(x)
    out = keras.layers.Dense(units, activation=activation, kernel_regularizer=l2)(x)
    return keras.Model(tokens, out)
