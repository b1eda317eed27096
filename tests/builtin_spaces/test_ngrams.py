"""The ngrams space: exact word and word-pair columns weighted as scikit-learn's
``TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)`` weighs them, the most frequent pairs
kept, a baseline inside its own space, and a model that saves and loads in stock Keras."""

from __future__ import annotations

from types import SimpleNamespace

import keras
import numpy as np
import optuna
import pytest
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

from hpsearch.builtin_spaces import ngrams


def tokens(rows: int, maxlen: int, words: int, seed: int = 0) -> np.ndarray:
    """Token ids as the vectorizer pads them: zeros, then each row's ids (front padding)."""
    rng = np.random.default_rng(seed)
    out = rng.integers(1, words, size=(rows, maxlen)).astype("int32")
    for i, length in enumerate(rng.integers(2, maxlen, size=rows)):
        out[i, : maxlen - length] = 0
    return out


def columns(
    params: dict[str, object], data: SimpleNamespace, x: np.ndarray
) -> tuple[keras.Model, np.ndarray]:
    """The model, and the rows its linear layer sees, as dense columns: ``(rows, blocks,
    columns)``, each position's value (the input to its Dropout) added into its column."""
    model = ngrams.build_model(params, data)
    dropout = next(layer for layer in model.layers if isinstance(layer, keras.layers.Dropout))
    kernel = next(
        layer
        for layer in model.layers
        if isinstance(layer, keras.layers.Embedding) and layer.trainable
    )
    values, ids = keras.Model(model.inputs, [dropout.input, kernel.input]).predict(x, verbose=0)
    dense = np.zeros((len(x), values.shape[2], kernel.input_dim))
    for b, j in np.ndindex(*ids.shape):
        dense[b, :, ids[b, j]] += values[b, j]
    return model, dense


def features(params: dict[str, object], data: SimpleNamespace, x: np.ndarray) -> np.ndarray:
    """The weighted, unit-length words and pairs, blocks side by side (without the column for
    positions that hold no kept pair, always 0)."""
    dense = columns(params, data, x)[1]
    if params["pairs"]:
        assert np.all(dense[:, :, -1] == 0)
        dense = dense[:, :, :-1]
    return dense.reshape(len(x), -1)


def as_text(x: np.ndarray) -> list[str]:
    return [" ".join(f"w{t}" for t in row if t > 0) for row in x]


def test_tfidf_over_words_and_pairs_is_scikit_learns_over_the_same_columns() -> None:
    words, maxlen = 12, 10
    train, other = tokens(60, maxlen, words, seed=1), tokens(6, maxlen, words, seed=2)
    data = SimpleNamespace(
        vocab_size=words, maxlen=maxlen, num_classes=2, x_train=train, y_train=np.zeros(60)
    )
    got = features({**ngrams.BASELINE, "pairs": 10_000, "weighting": "tfidf"}, data, other)
    # scikit-learn's columns: every word, and every pair found in two training texts or more.
    counter = CountVectorizer(ngram_range=(1, 2), token_pattern=r"\S+").fit(as_text(train))
    found = (counter.transform(as_text(train)) > 0).sum(axis=0).A1
    names = counter.get_feature_names_out()
    keep = [i for i, n in enumerate(names) if " " not in n or found[i] >= 2]
    columns = counter.transform(as_text(train))[:, keep]
    tfidf = TfidfTransformer(sublinear_tf=True).fit(columns)
    expected = tfidf.transform(counter.transform(as_text(other))[:, keep]).toarray()
    # The model's columns: padding, words 1.., then the kept pairs by key; map names to them.
    kept = ngrams.frequent_pairs(train, words, 10_000)
    where = {f"w{w}": w for w in range(1, words)}
    where |= {f"w{k // words} w{k % words}": words + i for i, k in enumerate(kept)}
    assert sorted(where) == sorted(names[keep])
    order = [where[names[i]] for i in keep]
    assert got.shape == (len(other), words + len(kept))
    np.testing.assert_allclose(got[:, order], expected, rtol=1e-5, atol=1e-6)
    assert got[:, 0] == pytest.approx(np.zeros(len(other)))


def test_frequent_pairs_keeps_the_pairs_in_most_rows_and_never_a_pair_seen_once() -> None:
    words = 10
    x = np.array([[0, 1, 2, 3], [0, 1, 2, 4], [0, 5, 1, 2], [0, 3, 4, 9], [0, 0, 3, 4]])
    key = lambda a, b: a * words + b  # noqa: E731
    assert list(ngrams.frequent_pairs(x, words, 1)) == [key(1, 2)]  # three rows
    assert list(ngrams.frequent_pairs(x, words, 10)) == sorted([key(1, 2), key(3, 4)])


def test_the_baseline_is_a_point_of_the_space_and_trains_with_adam() -> None:
    assert ngrams.suggest(optuna.trial.FixedTrial(ngrams.BASELINE)) == ngrams.BASELINE
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(20):
        params = ngrams.suggest(study.ask())
        assert params["optimizer"] == "adam"
        assert ngrams.LEARNING_RATE[0] <= params["learning_rate"] <= ngrams.LEARNING_RATE[1]


def test_all_is_the_three_weightings_side_by_side_each_of_unit_length() -> None:
    words, maxlen = 15, 10
    train, other = tokens(50, maxlen, words, seed=3), tokens(5, maxlen, words, seed=4)
    data = SimpleNamespace(
        vocab_size=words, maxlen=maxlen, num_classes=2, x_train=train, y_train=np.arange(50) % 2
    )
    one = {**ngrams.BASELINE, "pairs": 100}
    blocks = [features({**one, "weighting": w}, data, other) for w in ("binary", "tfidf", "nb")]
    got = features({**one, "weighting": "all"}, data, other)
    np.testing.assert_allclose(got, np.hstack(blocks), rtol=1e-5, atol=1e-6)
    for block in blocks:  # each block a unit row, and the three differ
        np.testing.assert_allclose(np.linalg.norm(block, axis=1), 1.0, rtol=1e-5)
    assert not np.allclose(blocks[1], blocks[2]) and not np.allclose(blocks[0], blocks[1])


@pytest.mark.parametrize("weighting", ["binary", "all"])
def test_the_output_is_one_linear_layer_over_those_columns(weighting: str) -> None:
    """Summed over token positions, the model is logistic regression over the dense columns."""
    words, maxlen = 25, 12
    train, other = tokens(60, maxlen, words, seed=6), tokens(8, maxlen, words, seed=7)
    data = SimpleNamespace(
        vocab_size=words, maxlen=maxlen, num_classes=3, x_train=train, y_train=np.arange(60) % 3
    )
    params = {**ngrams.BASELINE, "pairs": 100, "weighting": weighting}
    model, dense = columns(params, data, other)
    rng = np.random.default_rng(0)
    for layer in model.layers:  # the kernel and the bias, random instead of zeros
        if layer.trainable_weights:
            layer.set_weights([rng.normal(size=w.shape) for w in layer.get_weights()])
    kernel, bias = (layer.get_weights()[0] for layer in model.layers if layer.trainable_weights)
    blocks = dense.shape[1]
    logits = np.einsum("bkc,ckU->bU", dense, kernel.reshape(len(kernel), blocks, 3)) + bias
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(model.predict(other, verbose=0), expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("weighting", ["nb", "all"])
def test_weighted_pairs_model_saves_and_loads_in_stock_keras(tmp_path, weighting: str) -> None:
    words, maxlen = 30, 12
    train = tokens(40, maxlen, words, seed=5)
    labels = np.arange(40) % 3
    data = SimpleNamespace(
        vocab_size=words, maxlen=maxlen, num_classes=3, x_train=train, y_train=labels
    )
    model = ngrams.build_model({**ngrams.BASELINE, "weighting": weighting}, data)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(
        loaded.predict(train[:4], verbose=0), model.predict(train[:4], verbose=0), rtol=1e-6
    )


def test_texts_of_one_word_have_no_pairs_and_train_on_words_alone() -> None:
    """No pair recurs where every text is one word (a lexicon, labels of single terms): the
    model is the words' block, whatever ``pairs`` asks for, and it trains."""
    words, maxlen = 12, 4
    train = np.zeros((40, maxlen), "int32")
    train[:, -1] = np.arange(40) % (words - 1) + 1
    labels = (np.arange(40) % 2).astype("float32")
    data = SimpleNamespace(vocab_size=words, maxlen=maxlen, num_classes=2, x_train=train)
    data.y_train = labels
    for weighting in ngrams.WEIGHTINGS:
        params = {**ngrams.BASELINE, "pairs": 100, "weighting": weighting}
        model, dense = columns(params, data, train[:6])
        alone, _ = columns({**params, "pairs": 0}, data, train[:6])
        assert dense.shape[2] == words and model.count_params() == alone.count_params()
        model.compile(loss="binary_crossentropy", optimizer="adam")
        assert np.isfinite(model.fit(train, labels, epochs=1, verbose=0).history["loss"][-1])
