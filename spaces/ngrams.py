"""Search space: exact words and word pairs, weighted -> Dropout -> one linear layer (L2).

The practitioner's first model, TF-IDF of word and word-pair counts with logistic regression,
as a Keras model whose every setting is searched: the vocabulary size and length, how many word
pairs join the words (exact pairs, the most frequent in the training split, not hashed), their
weighting (presence; TF-IDF with sublinear counts; TF-IDF scaled by NBSVM's log-count ratio; or
all three side by side, an ensemble of the three in one layer, ``WEIGHTINGS``),
the L2 penalty and input dropout. A linear layer over these columns with a sigmoid (or softmax)
head is logistic regression, and its training knobs are the ones that solve it: Adam from 3e-3
to 5e-2. The shared knobs (RMSprop, SGD, learning rates down to 1e-4) leave a linear model far
from its optimum when EarlyStopping ends it: on the IMDB sample a search over them settled on
2,000-word binary vocabularies at 0.866 where this range reaches 0.87-0.88 with every word and
pair (``benchmarks/results/readme_path.json``, docs/studies.md).
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import optuna

from hpsearch.knobs import DATA_BASELINE, suggest_data

BASELINE: dict[str, Any] = {
    **DATA_BASELINE,
    "pairs": 20000,
    "weighting": "tfidf",
    "dropout": 0.0,
    "l2": 1e-6,
    "batch_size": 32,
    "optimizer": "adam",
    "learning_rate": 1e-2,
}
"""TF-IDF of words and 20,000 word pairs into one linear layer, on the tutorial's data settings
(5,000 words, 500 tokens), trained as this space trains (Adam at 1e-2, batch 32)."""

LEARNING_RATE = (3e-3, 5e-2)
"""Adam's learning rates for a linear layer: below 3e-3 it has not converged when EarlyStopping
ends it (IMDB: 0.862 at 1e-3 after 19 epochs, 0.874 at 1e-2, 0.880 at 3e-2)."""


WEIGHTINGS = ("binary", "tfidf", "nb", "all")
"""Presence; TF-IDF with sublinear counts; TF-IDF times NBSVM's log-count ratio; and ``all``:
the three side by side, each row scaled to unit length per block, into the one linear layer.
Averaging three linear models is a linear model over their columns side by side, so ``all``
holds that ensemble and trains it jointly. Measured on validation splits with one setting of the
other knobs (``python benchmarks/weightings.py``, ``benchmarks/results/weightings.md``), it
scored about as the three models averaged, above the best of them alone on three of four splits
(IMDB sample 0.886 against 0.879 TF-IDF, 0.878 NB, 0.875 binary, 0.889 averaged; four classes
0.644 against 0.629-0.633, 0.636 averaged; SST-2 0.803 against at best 0.796) and under NB
alone on the fourth (SST-2, another split: 0.775 against 0.789), so the search chooses."""


def suggest(trial: optuna.Trial) -> dict[str, Any]:
    return {
        **suggest_data(trial),
        "pairs": trial.suggest_categorical("pairs", [0, 20000, 50000, 100000]),
        "weighting": trial.suggest_categorical("weighting", list(WEIGHTINGS)),
        "dropout": trial.suggest_float("dropout", 0.0, 0.9),
        "l2": trial.suggest_float("l2", 1e-8, 1e-3, log=True),
        "batch_size": trial.suggest_categorical("batch_size", [32, 64, 128]),
        "optimizer": "adam",
        "learning_rate": trial.suggest_float("learning_rate", *LEARNING_RATE, log=True),
    }


def pair_keys(tokens: Any, vocab_size: int, xp: Any) -> Any:
    """Each adjacent word pair as one integer, ``previous * vocab_size + word`` (0 where either
    is padding). ``xp`` is ``keras.ops`` inside the model, numpy on the training split."""
    tokens = xp.cast(tokens, "int64") if xp is not np else tokens.astype("int64")
    previous = xp.pad(tokens[:, :-1], [[0, 0], [1, 0]])
    key = previous * vocab_size + tokens
    return xp.where((previous > 0) & (tokens > 0), key, xp.zeros_like(key))


def frequent_pairs(x_train: np.ndarray, vocab_size: int, n: int) -> np.ndarray:
    """The ``n`` pairs found in the most training rows (each at least twice), as keys."""
    keys = pair_keys(np.asarray(x_train), vocab_size, np)
    found = presence(keys)[1]
    found = found[found > 0]
    values, counts = np.unique(found, return_counts=True)
    order = np.lexsort((values, -counts))  # most rows first, then the smaller key
    kept = values[order][counts[order] >= 2][:n]
    return np.sort(kept)


def presence(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each id once per row: ``(row index, id)`` of every distinct id in each row of ``ids``."""
    ordered = np.sort(ids, axis=1)
    first = np.ones_like(ordered, dtype=bool)
    first[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    return np.nonzero(first)[0], ordered[first]


def column_weights(columns: np.ndarray, labels: np.ndarray, size: int, nb: bool) -> np.ndarray:
    """Per column of ``size``: inverse document frequency over the training rows
    (``log((1 + n) / (1 + df)) + 1``, scikit-learn's smoothed form), times NBSVM's log-count
    ratio with ``nb`` (Wang & Manning, 2012: ``|log((p / |p|_1) / (q / |q|_1))|`` for the rows
    of a class against all others, the largest over the classes; the linear layer learns the
    sign). ``columns`` holds each row's column ids, 0 for none; column 0 gets weight 0."""
    rows, found = presence(columns)
    keep = found > 0
    rows, found = rows[keep], found[keep]
    df = np.bincount(found, minlength=size)[:size]
    weights = np.log((1.0 + len(columns)) / (1.0 + df)) + 1.0
    if nb:
        labels = np.asarray(labels).reshape(-1).astype("int64")
        classes = int(labels.max()) + 1
        held = np.bincount(labels[rows] * size + found, minlength=classes * size)
        held = held[: classes * size].reshape(classes, size).astype("float64")
        ratio = np.zeros(size)
        for c in range(classes):
            p = 1.0 + held[c]
            q = 1.0 + held.sum(axis=0) - held[c]
            ratio = np.maximum(ratio, np.abs(np.log((p / p.sum()) / (q / q.sum()))))
        weights = weights * ratio
    weights[0] = 0.0
    return weights.astype("float32")


def block_weights(
    kind: str, train_columns: list[tuple[np.ndarray, int]], labels: Any
) -> np.ndarray:
    """One block's fixed weight per column (words, then the kept pairs, then one column for "no
    pair" weighted 0): 1 for ``binary`` (the padding column 0 included: it marks a short text),
    inverse document frequency for ``tfidf``, times the log-count ratio for ``nb``."""
    if kind == "binary":
        weights = [np.ones(n, "float32") for _, n in train_columns]
    else:
        weights = [column_weights(c, labels, n, kind == "nb") for c, n in train_columns]
    pairs = [w[1:] for w in weights[1:]]  # a pair block's id 0 is "none": no column
    none = [np.zeros(1, "float32")] if pairs else []
    return np.concatenate([weights[0], *pairs, *none]).astype("float32")


def build_model(params: dict[str, Any], data: Any) -> keras.Model:
    """TF-IDF (or presence, or NB-scaled) rows of unit length into one linear layer, computed
    over the text's token positions, not over a dense row per text.

    A dense row has a column for every word and pair (up to 3 x 120,000 for ``all``) and cost
    follows that width: 10.1 s per IMDB epoch on one core for ``all`` with 100,000 pairs against
    0.63 for TF-IDF of words alone; over positions, 1.27 and 0.30
    (``benchmarks/results/positions.md``). The same linear model over positions costs what the
    text holds: a column ``k`` with count ``c`` in a row has the value ``x_k = w_k f(c) / |row|``
    (``f(c) = 1 + log c`` sublinear, 1 for presence), and the layer's output ``sum_k x_k W_k``
    is, over the row's positions ``j`` holding column ``k_j`` ``c_j`` times,
    ``sum_j x_{k_j} / c_j * W_{k_j}``: an ``Embedding`` lookup of ``W`` (L2 on it as on a
    ``Dense`` kernel), weighted per position. ``|row|^2 = sum_j (w f(c_j))^2 / c_j`` the same way.
    Dropout falls on occurrences instead of columns. Stock layers only: the saved model loads in
    stock Keras.
    """
    from keras import ops

    # The head follows the data: one sigmoid unit for two classes, softmax over k otherwise.
    units, activation = (1, "sigmoid") if data.num_classes == 2 else (data.num_classes, "softmax")
    words, weighting = data.vocab_size, params["weighting"]
    tokens = keras.Input(shape=(data.maxlen,), dtype="int32")
    x_train = np.asarray(data.x_train)
    ids, size = tokens, words
    train_columns = [(x_train, words)]
    # No pair recurs in the training split (texts of one word each): the words alone.
    known = frequent_pairs(x_train, words, params["pairs"]) if params["pairs"] else np.zeros(0)
    if len(known):
        # Pair i of ``known`` is id i + 1; any other key (and padding, 0) is id 0, no column.
        lookup = keras.layers.IntegerLookup(
            vocabulary=known, num_oov_indices=1, mask_token=None, output_mode="int"
        )
        pair_ids = ops.cast(lookup(pair_keys(tokens, words, ops)), "int32")
        # Column of pair i: words + i; a position without a kept pair: the last column.
        none = words + len(known)
        ids = ops.concatenate([tokens, ops.where(pair_ids > 0, pair_ids + words - 1, none)], 1)
        size = none + 1
        train_keys = pair_keys(x_train, words, np)
        at = np.minimum(np.searchsorted(known, train_keys), len(known) - 1)
        hit = (train_keys > 0) & (known[at] == train_keys)
        train_columns.append((np.where(hit, at + 1, 0), len(known) + 1))
    kinds = WEIGHTINGS[:3] if weighting == "all" else (weighting,)
    table = np.stack([block_weights(k, train_columns, data.y_train) for k in kinds], axis=1)
    # Each position's count of its column in the row (>= 1), and its blocks' values there.
    counts = keras.layers.CategoryEncoding(size, output_mode="count")(ids)
    count = ops.take_along_axis(counts, ids, axis=1)[:, :, None]
    # The fixed column weights: a frozen Embedding, stored in the saved model.
    fixed = keras.layers.Embedding(size, len(kinds), weights=[table], trainable=False)(ids)
    sublinear = np.array([k != "binary" for k in kinds], "float32")
    value = fixed * (1.0 + ops.log(count) * sublinear)
    norm = ops.sqrt(ops.maximum(ops.sum(value * value / count, axis=1, keepdims=True), 1e-12))
    x = keras.layers.Dropout(params["dropout"])(value / (count * norm))
    l2 = keras.regularizers.L2(params["l2"])
    # The linear layer's kernel: a row of ``units`` per column and block (zeros to start, as
    # logistic regression starts), and its bias through a Dense on a constant one.
    kernel = keras.layers.Embedding(
        size, len(kinds) * units, embeddings_initializer="zeros", embeddings_regularizer=l2
    )(ids)
    kernel = ops.reshape(kernel, (-1, ops.shape(ids)[1], len(kinds), units))
    one = ops.ones_like(ops.cast(tokens[:, :1], "float32"))
    bias = keras.layers.Dense(units, use_bias=False, kernel_initializer="zeros")(one)
    logits = ops.einsum("bnk,bnku->bu", x, kernel) + bias
    return keras.Model(tokens, keras.layers.Activation(activation)(logits))
