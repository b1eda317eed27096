"""The bag_of_words space: TF-IDF weighting as scikit-learn computes it, NBSVM's log-count
ratio, word pairs hashed the same inside the model and over the training data, and a model that
saves and loads."""

from __future__ import annotations

from types import SimpleNamespace

import keras
import numpy as np
import pytest
from keras import ops
from sklearn.feature_extraction.text import TfidfTransformer

from hpsearch.builtin_spaces import bag_of_words as bow


def tokens(rows: int, maxlen: int, words: int, seed: int = 0) -> np.ndarray:
    """Token ids as the vectorizer pads them: each row's ids, then zeros."""
    rng = np.random.default_rng(seed)
    out = rng.integers(1, words, size=(rows, maxlen)).astype("int32")
    for i, length in enumerate(rng.integers(1, maxlen, size=rows)):
        out[i, length:] = 0
    return out


def features(params: dict[str, object], data: SimpleNamespace, x: np.ndarray) -> np.ndarray:
    """The model's input to its first Dropout: the weighted bag of words."""
    model = bow.build_model(params, data)
    dropout = next(layer for layer in model.layers if isinstance(layer, keras.layers.Dropout))
    return np.asarray(keras.Model(model.inputs, dropout.input).predict(x, verbose=0))


def counts(x: np.ndarray, size: int) -> np.ndarray:
    out = np.zeros((len(x), size))
    for i, row in enumerate(x):
        np.add.at(out[i], row, 1)
    return out


def params(**overrides: object) -> dict[str, object]:
    return {**bow.BASELINE, "weighting": "tfidf", **overrides}


def test_tfidf_features_are_scikit_learns_sublinear_tfidf_fitted_on_the_training_rows() -> None:
    words, maxlen = 30, 12
    train, other = tokens(50, maxlen, words, seed=1), tokens(7, maxlen, words, seed=2)
    data = SimpleNamespace(vocab_size=words, maxlen=maxlen, num_classes=2, x_train=train)
    # Padding (id 0) is not a word: scikit-learn sees the counts of ids 1.. only.
    reference = TfidfTransformer(sublinear_tf=True).fit(counts(train, words)[:, 1:])
    expected = reference.transform(counts(other, words)[:, 1:]).toarray()
    got = features(params(), data, other)
    assert got[:, 0] == pytest.approx(np.zeros(len(other)))
    np.testing.assert_allclose(got[:, 1:], expected, rtol=1e-5, atol=1e-6)


def test_word_pairs_hash_the_same_in_the_model_and_in_numpy() -> None:
    x = tokens(20, 15, 5000, seed=3)
    for buckets in (20000, 50000):
        in_model = np.asarray(ops.convert_to_numpy(bow.pair_ids(x, buckets, ops)))
        in_numpy = bow.pair_ids(x, buckets, np)
        np.testing.assert_array_equal(in_model, in_numpy)
        assert in_numpy.min() >= 0 and in_numpy.max() < buckets
        assert (in_numpy[:, 0] == 0).all() and ((x == 0) <= (in_numpy == 0)).all()


def test_tfidf_with_pairs_weighs_pairs_by_their_training_document_frequency() -> None:
    words, maxlen, buckets = 40, 10, 20000
    train = tokens(60, maxlen, words, seed=4)
    data = SimpleNamespace(vocab_size=words, maxlen=maxlen, num_classes=3, x_train=train)
    got = features(params(bigram_buckets=buckets), data, train[:5])
    assert got.shape == (5, words + buckets - 1)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, rtol=1e-5)
    pairs = bow.pair_ids(train, buckets, np)
    reference = TfidfTransformer(sublinear_tf=True).fit(counts(pairs, buckets)[:, 1:])
    row = counts(pairs[:1], buckets)[:, 1:]
    weighted = np.where(row > 0, 1 + np.log(np.maximum(row, 1)), 0) * reference.idf_
    present = weighted[0] > 0
    # Within one review, the pair columns keep scikit-learn's ratios (only the norm differs).
    ratio = got[0, words:][present] / weighted[0][present]
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-5)


def test_a_tfidf_model_saves_and_loads_in_stock_keras(tmp_path) -> None:
    words, maxlen = 30, 12
    train = tokens(40, maxlen, words, seed=5)
    data = SimpleNamespace(vocab_size=words, maxlen=maxlen, num_classes=2, x_train=train)
    model = bow.build_model(params(bigram_buckets=20000), data)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(
        loaded.predict(train[:4], verbose=0), model.predict(train[:4], verbose=0), rtol=1e-6
    )


def nbsvm_ratio(present: np.ndarray, labels: np.ndarray, positive: int) -> np.ndarray:
    """Wang & Manning's r for one class against the rest, from a 0/1 presence matrix."""
    p = 1 + present[labels == positive].sum(axis=0)
    q = 1 + present[labels != positive].sum(axis=0)
    return np.log((p / p.sum()) / (q / q.sum()))


def test_nb_scales_tfidf_by_the_log_count_ratio_of_the_training_labels() -> None:
    words, maxlen = 30, 12
    train, other = tokens(80, maxlen, words, seed=6), tokens(7, maxlen, words, seed=7)
    labels = np.random.default_rng(8).integers(0, 2, size=80)
    data = SimpleNamespace(
        vocab_size=words, maxlen=maxlen, num_classes=2, x_train=train, y_train=labels
    )
    present = (counts(train, words)[:, 1:] > 0).astype(float)
    ratio = np.abs(nbsvm_ratio(present, labels, 1))
    np.testing.assert_allclose(bow.log_count_ratio(train, labels, words)[1:], ratio, rtol=1e-5)
    tfidf = TfidfTransformer(sublinear_tf=True).fit(counts(train, words)[:, 1:])
    expected = tfidf.transform(counts(other, words)[:, 1:]).toarray() * ratio
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    got = features(params(weighting="nb"), data, other)
    np.testing.assert_allclose(got[:, 1:], expected, rtol=1e-5, atol=1e-6)
    # The labels matter: the same reviews labelled otherwise are weighted otherwise.
    relabelled = SimpleNamespace(**{**vars(data), "y_train": 1 - labels[::-1]})
    assert not np.allclose(features(params(weighting="nb"), relabelled, other), got)


def test_nb_with_more_classes_takes_each_words_strongest_one_against_the_rest() -> None:
    words = 25
    train = tokens(90, 10, words, seed=9)
    labels = np.arange(90) % 4
    present = (counts(train, words)[:, 1:] > 0).astype(float)
    strongest = np.max([np.abs(nbsvm_ratio(present, labels, c)) for c in range(4)], axis=0)
    got = bow.log_count_ratio(train, labels, words)
    assert got[0] == 0.0
    np.testing.assert_allclose(got[1:], strongest, rtol=1e-5)
