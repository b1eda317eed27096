"""Search space: a bag of words (and hashed word pairs) -> Dropout -> [Dense] -> Dense head.

A strong, fast family for small data, beyond the tutorial's: each review becomes the set of
its words (multi-hot over the vocabulary), optionally with its adjacent word pairs hashed
into extra buckets, then a linear or one-hidden-layer classifier. Order is lost, which on a
few thousand reviews costs less than the recurrent models' appetite for data. Tunes the data
knobs (vocabulary size, length), the word pairs, the weighting (presence, optionally scaled to
unit length; TF-IDF; or TF-IDF scaled by how strongly each word tells the classes apart in the
training split, as NBSVM does), input dropout, L2, the hidden layer and the shared training knobs.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import optuna

from hpsearch.knobs import DATA_BASELINE, TRAINING_BASELINE, suggest_data, suggest_training

BASELINE: dict[str, Any] = {
    **DATA_BASELINE,
    "bigram_buckets": 0,
    "weighting": "binary",
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
        "weighting": trial.suggest_categorical("weighting", ["binary", "tfidf", "nb"]),
    }
    if params["weighting"] == "binary":  # TF-IDF (and nb) rows always have unit length
        params["normalize"] = trial.suggest_categorical("normalize", [False, True])
    params |= {
        "dropout": trial.suggest_float("dropout", 0.0, 0.9),
        "l2": trial.suggest_float("l2", 1e-6, 1e-1, log=True),
        "hidden_units": trial.suggest_categorical("hidden_units", [0, 16, 32]),
    }
    if params["hidden_units"]:
        params["hidden_dropout"] = trial.suggest_float("hidden_dropout", 0.0, 0.7)
    return {**params, **suggest_training(trial)}


def pair_ids(tokens: Any, buckets: int, xp: Any) -> Any:
    """Adjacent word pairs hashed into ``buckets`` ids, 0 for a pair with padding in it.
    ``xp`` is ``keras.ops`` (inside the model) or numpy (counting pairs in the training data)."""
    previous = xp.pad(tokens[:, :-1], [[0, 0], [1, 0]])
    pair = (previous * 1_000_003 + tokens) % (buckets - 1) + 1
    return xp.where((previous > 0) & (tokens > 0), pair, xp.zeros_like(pair))


def presence(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each id once per row: ``(row index, id)`` of every distinct id in each row of ``ids``."""
    ordered = np.sort(ids, axis=1)
    first = np.ones_like(ordered, dtype=bool)
    first[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    return np.nonzero(first)[0], ordered[first]


def idf(ids: np.ndarray, size: int) -> np.ndarray:
    """Inverse document frequency of each id over the rows of ``ids`` (the training split):
    ``log((1 + n) / (1 + df)) + 1`` (scikit-learn's smoothed form); 0 for id 0 (padding)."""
    df = np.bincount(presence(ids)[1], minlength=size)[:size]
    out = np.log((1.0 + len(ids)) / (1.0 + df)) + 1.0
    out[0] = 0.0
    return out.astype("float32")


def log_count_ratio(ids: np.ndarray, labels: np.ndarray, size: int) -> np.ndarray:
    """How strongly each id tells the classes apart in the training split: NBSVM's log-count
    ratio (Wang & Manning, 2012), ``|log((p / |p|_1) / (q / |q|_1))|`` with ``p`` and ``q`` one
    plus the number of rows of a class, and of all other classes, holding the id; the largest
    over the classes (for two classes both sides give the same value). Its sign is not kept: a
    linear layer learns the sign, what the ratio changes is how far L2 lets each weight grow."""
    rows, found = presence(ids)
    labels = np.asarray(labels).reshape(-1).astype("int64")
    classes = int(labels.max()) + 1
    held = np.bincount(labels[rows] * size + found, minlength=classes * size)
    # Id 0 (padding) is not a word: left out of the sums, weight 0.
    held = held[: classes * size].reshape(classes, size)[:, 1:].astype("float64")
    out = np.zeros(size)
    for c in range(len(held)):
        p = 1.0 + held[c]
        q = 1.0 + held.sum(axis=0) - held[c]
        out[1:] = np.maximum(out[1:], np.abs(np.log((p / p.sum()) / (q / q.sum()))))
    return out.astype("float32")


def build_model(params: dict[str, Any], data: Any) -> keras.Model:
    from keras import ops

    # The head follows the data: one sigmoid unit for two classes, softmax over k otherwise.
    units, activation = (1, "sigmoid") if data.num_classes == 2 else (data.num_classes, "softmax")
    words = data.vocab_size
    buckets = params["bigram_buckets"]
    weighting = params.get("weighting", "binary")
    tfidf = weighting in ("tfidf", "nb")
    mode = "count" if tfidf else "multi_hot"
    tokens = keras.Input(shape=(data.maxlen,), dtype="int32")
    features = keras.layers.CategoryEncoding(words, output_mode=mode)(tokens)
    if buckets:
        pairs = keras.layers.CategoryEncoding(buckets, output_mode=mode)(
            pair_ids(tokens, buckets, ops)
        )
        features = keras.layers.Concatenate()([features, pairs[:, 1:]])
    if tfidf:
        train = np.asarray(data.x_train)
        sources = [(train, words)]
        if buckets:
            sources.append((pair_ids(train, buckets, np), buckets))
        # TF-IDF as scikit-learn's TfidfVectorizer(sublinear_tf=True): 1 + log(count) times
        # inverse document frequency over the training split (fixed, part of the saved model),
        # each review scaled to unit length; "nb" also scales each column by its log-count
        # ratio (from the training split's labels), as NBSVM does.
        # Keras has no layer that multiplies by fixed weights; Normalization with mean 0 and
        # variance 1 / weight^2 does (stored in the saved model, which loads in stock Keras).
        weights = [idf(ids, size) for ids, size in sources]
        if weighting == "nb":
            weights = [
                w * log_count_ratio(ids, data.y_train, size)
                for w, (ids, size) in zip(weights, sources, strict=True)
            ]
        # Pair bucket 0 (a pair with padding in it) is not a column.
        scale = np.concatenate([weights[0], *(w[1:] for w in weights[1:])])
        variance = np.where(scale > 0, 1.0 / np.maximum(scale, 1e-15) ** 2, 1e30)
        tf = ops.where(features > 0, 1.0 + ops.log(ops.maximum(features, 1.0)), 0.0)
        features = keras.layers.Normalization(mean=np.zeros_like(scale), variance=variance)(tf)
        norm = ops.sqrt(ops.maximum(ops.sum(features * features, axis=1, keepdims=True), 1e-12))
        features = features / norm
    elif params["normalize"]:
        # Unit length per review: long reviews no longer outweigh short ones.
        features = features / ops.sqrt(ops.maximum(ops.sum(features, axis=1, keepdims=True), 1.0))
    x = keras.layers.Dropout(params["dropout"])(features)
    l2 = keras.regularizers.L2(params["l2"])
    if params["hidden_units"]:
        x = keras.layers.Dense(params["hidden_units"], activation="relu", kernel_regularizer=l2)(x)
        x = keras.layers.Dropout(params["hidden_dropout"])(x)
    out = keras.layers.Dense(units, activation=activation, kernel_regularizer=l2)(x)
    return keras.Model(tokens, out)
