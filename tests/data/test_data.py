"""Data sources: synthetic, CSV (real IMDB sample), aclImdb folder, Keras IMDB offline, cache."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from hpsearch.config import DatasetConfig
from hpsearch.data import load_dataset
from hpsearch.errors import DataError
from hpsearch.portable import data as portable_data
from hpsearch.portable.data import stratified_split
from tests.conftest import REPO, TINY_STUDY, imdb_csv


def test_synthetic_is_deterministic_and_labelled_synthetic() -> None:
    cfg = DatasetConfig(kind="synthetic", samples=200, num_words=100, maxlen=20)
    a, b = load_dataset(cfg, seed=1), load_dataset(cfg, seed=1)
    assert np.array_equal(a.x_train, b.x_train) and np.array_equal(a.y_val, b.y_val)
    assert not np.array_equal(a.x_train, load_dataset(cfg, seed=2).x_train)
    assert a.synthetic and "synthetic" in a.description
    assert a.x_train.shape[1] == 20 and a.x_train.max() < a.vocab_size
    assert len(a.y_train) + len(a.y_val) == 200
    # front padding: the first column is mostly padding, the last never is
    assert (a.x_train[:, -1] > 0).all()


def test_stratified_split_keeps_class_balance_and_is_seeded() -> None:
    y = np.array([0] * 80 + [1] * 20)
    keep, take = stratified_split(y, 0.25, seed=3)
    assert len(take) == 25 and y[take].sum() == 5
    assert not set(keep) & set(take) and len(keep) + len(take) == 100
    assert np.array_equal(take, stratified_split(y, 0.25, seed=3)[1])
    assert not np.array_equal(take, stratified_split(y, 0.25, seed=4)[1])


def _csv_cfg(path: Path, **kw: object) -> DatasetConfig:
    base = dict(kind="csv", path=str(path), num_words=800, maxlen=60, max_samples=200)
    base.update(kw)
    return DatasetConfig(**base)  # type: ignore[arg-type]


def test_csv_on_real_reviews_fits_vocabulary_on_training_split_only() -> None:
    train, test = imdb_csv("train.csv"), imdb_csv("test.csv")
    data = load_dataset(_csv_cfg(train, test_path=str(test)), seed=0)
    assert (len(data.y_train), len(data.y_val)) == (160, 40)
    assert data.y_train.mean() == pytest.approx(0.5) and data.y_val.mean() == pytest.approx(0.5)
    assert data.x_train.shape == (160, 60) and data.x_test is not None
    assert data.y_test is not None and len(data.y_test) == 1000
    assert data.vocabulary is not None and data.vocabulary[:2] == ("", "[UNK]")
    assert data.vocab_size == len(data.vocabulary) <= 800
    # Short reviews are padded at the front, like pad_sequences' defaults.
    lengths = (data.x_train > 0).sum(axis=1)
    short = int(np.argmin(lengths))
    if lengths[short] < 60:
        assert data.x_train[short, 0] == 0 and data.x_train[short, -1] > 0


def test_csv_vocabulary_ignores_validation_words(tmp_path: Path) -> None:
    rows = [(f"good film number {i}", 1) for i in range(20)] + [
        (f"bad film number {i}", 0) for i in range(20)
    ]
    path = tmp_path / "r.csv"
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows([("text", "label"), *rows])
    data = load_dataset(_csv_cfg(path, max_samples=None, validation_split=0.5), seed=0)
    assert data.vocabulary is not None
    # numbers 0..19 are split between train and validation; only train's are known
    numbers = {w for w in data.vocabulary if w.isdigit()}
    assert 0 < len(numbers) < 20


def test_second_load_comes_from_the_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = _csv_cfg(imdb_csv("train.csv"), max_samples=100)
    first = load_dataset(cfg, seed=0)

    def boom(*a: object, **k: object) -> None:
        raise AssertionError("tokenized again")

    monkeypatch.setattr(portable_data, "fit_vectorizer", boom)  # vectorize_reviews calls it
    second = load_dataset(cfg, seed=0)
    assert np.array_equal(first.x_train, second.x_train)
    assert first.vocabulary == second.vocabulary
    with pytest.raises(AssertionError, match="tokenized again"):
        load_dataset(dataclasses.replace(cfg, maxlen=61), seed=0)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_a_damaged_cache_file_is_rebuilt(tmp_path: Path, damage: str) -> None:
    cfg = _csv_cfg(imdb_csv("train.csv"), max_samples=100)
    first = load_dataset(cfg, seed=0)
    (cached,) = (tmp_path / "cache").glob("*.npz")
    data = cached.read_bytes()
    cached.write_bytes(
        {"garbage": b"not a zip file at all", "truncated": data[: len(data) // 2], "empty": b""}[
            damage
        ]
    )
    again = load_dataset(cfg, seed=0)
    assert np.array_equal(first.x_train, again.x_train) and first.vocabulary == again.vocabulary
    assert cached.read_bytes() == data  # rewritten whole


def test_directory_layout(tmp_path: Path) -> None:
    root = tmp_path / "aclImdb"
    with imdb_csv("test.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))[:60]
    for split, chunk in (("train", rows[:40]), ("test", rows[40:])):
        for i, row in enumerate(chunk):
            d = root / split / ("pos" if row["label"] == "1" else "neg")
            d.mkdir(parents=True, exist_ok=True)
            (d / f"{i}_7.txt").write_text(row["text"], encoding="utf-8")
    cfg = DatasetConfig(kind="directory", path=str(root), num_words=500, maxlen=30)
    data = load_dataset(cfg, seed=0)
    assert len(data.y_train) + len(data.y_val) == 40 and data.y_test is not None
    assert data.y_test is not None and len(data.y_test) == 20


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("content", "kw", "expected"),
    [
        (None, {}, "no such data file"),
        (
            "review,label\n" + "a,1\n" * 20,
            {},
            "no column 'text' (dataset.text_column); columns found: 'review', 'label'",
        ),
        ("text,label\n" + "a,1\nb,0\n" * 10, {"label_column": "stars"}, "no column 'stars'"),
        (
            "text;label\n" + "a;1\nb;0\n" * 10,
            {},
            "columns found: 'text;label'; the header is separated by semicolons: allowed: commas",
        ),
        ("text\tlabel\n" + "a\t1\nb\t0\n" * 10, {}, "the header is separated by tabs"),
        ("text,label\n" + "a,1\n" * 20, {}, "holds one class only ('1')"),
        (
            "text,label\n" + "".join(f"r{i},r{i}\n" for i in range(20)),
            {"label_column": "text"},
            "holds 20 distinct values in 20 rows: is it the right column?",
        ),
        ("text,label\n" + "a,1\nb,0\n" * 10 + "c,\n", {}, "is empty or missing in data row 21"),
        # a row cut short before its label (csv gives None, which once read as class 'None')
        ("text,label\n" + "a,1\nb,0\n" * 10 + "c\n", {}, "is empty or missing in data row 21"),
        # the wrong column: a class name as long as a review is cut, and the list of classes
        (
            "text,label\n" + "".join(f"r{i},{'x' * 500}{i}\n" for i in range(20)),
            {},
            "class 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' has 1 labelled row(s)",
        ),
        (
            "text,label\n" + "a,1\nb,0\n" * 10 + "c,2\n",
            {},
            "class '2' has 1 labelled row(s), which validation_split = 0.2 cannot put on both "
            "sides of the split; allowed: at least 3 rows",
        ),
        ("text,label\n", {}, "0 rows"),
        ("", {}, "columns found: none (empty file)"),
    ],
)
def test_csv_errors_are_one_line(
    tmp_path: Path, content: str | None, kw: dict, expected: str
) -> None:
    path = tmp_path / "d.csv"
    if content is not None:
        _write(path, content)
    with pytest.raises(DataError) as info:
        load_dataset(_csv_cfg(path, max_samples=None, **kw), seed=0)
    assert expected in str(info.value) and "\n" not in str(info.value)


def test_a_csv_saved_with_a_byte_order_mark_reads_as_without(tmp_path: Path) -> None:
    rows = "text,label\n" + "good film,pos\nbad film,neg\n" * 10
    plain = load_dataset(_csv_cfg(_write(tmp_path / "a.csv", rows), max_samples=None), seed=0)
    (tmp_path / "b.csv").write_text(rows, encoding="utf-8-sig")  # Excel's "CSV UTF-8"
    assert (tmp_path / "b.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    marked = load_dataset(_csv_cfg(tmp_path / "b.csv", max_samples=None), seed=0)
    assert marked.classes == plain.classes == ("neg", "pos")
    assert (marked.x_train == plain.x_train).all() and (marked.y_val == plain.y_val).all()


def test_directory_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such folder"):
        load_dataset(DatasetConfig(kind="directory", path=str(tmp_path / "nope")), seed=0)
    (tmp_path / "acl" / "train" / "pos").mkdir(parents=True)
    (tmp_path / "acl" / "train" / "pos" / "1.txt").write_text("good")
    with pytest.raises(DataError, match=r"1 class subfolder\(s\) with .txt reviews \(pos\)"):
        load_dataset(DatasetConfig(kind="directory", path=str(tmp_path / "acl")), seed=0)


def test_keras_imdb_offline_without_a_file_says_how(tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        load_dataset(DatasetConfig(kind="imdb"), seed=0)
    assert "set dataset.path" in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(DataError, match="no such file"):
        load_dataset(DatasetConfig(kind="imdb", path=str(tmp_path / "imdb.npz")), seed=0)


def _imdb_npz(path: Path, n_train: int = 120, n_test: int = 40) -> None:
    """A small file in the Keras ``imdb.npz`` format: ragged reviews of word ids from 1."""
    rng = np.random.default_rng(0)

    def reviews(n: int) -> np.ndarray:
        out = np.empty(n, dtype=object)
        for i in range(n):
            out[i] = [int(w) for w in rng.integers(1, 400, size=int(rng.integers(4, 30)))]
        return out

    labels = lambda n: (np.arange(n) % 2).astype("int64")  # noqa: E731
    np.savez(
        path,
        x_train=reviews(n_train),
        y_train=labels(n_train),
        x_test=reviews(n_test),
        y_test=labels(n_test),
    )


def test_a_local_imdb_npz_is_read_as_keras_reads_it(tmp_path: Path) -> None:
    from hpsearch.portable.data import read_imdb_npz

    path = tmp_path / "some where" / "imdb copy.npz"
    path.parent.mkdir()
    _imdb_npz(path)
    (x_train, y_train), (x_test, _) = read_imdb_npz(str(path), num_words=100)
    with np.load(path, allow_pickle=True) as f:
        raw = f["x_train"]
    order = np.arange(len(raw))
    np.random.RandomState(113).shuffle(order)
    first = raw[order[0]]
    assert x_train[0] == [1] + [w + 3 if w + 3 < 100 else 2 for w in first]
    assert max(max(r) for r in x_train + x_test) < 100 and len(y_train) == 120


def test_run_with_data_pointing_at_a_local_imdb_npz_trains(cli, study_file, tmp_path: Path) -> None:
    path = tmp_path / "imdb.npz"
    _imdb_npz(path, 200, 60)
    # The tiny averaging space: what is checked is reading imdb.npz, not an LSTM.
    tiny = json.dumps(str(REPO / "tests" / "spaces" / "tiny.py"))
    text = TINY_STUDY.replace('space = "lstm_dropout"', f"space = {tiny}").split("[ranges]")[0]
    r = cli("run", str(study_file(text)), "--data", str(path), "--trials", "2")
    assert r.code == 0, r.err
    assert "keras.datasets.imdb" in r.out
    import optuna

    study = optuna.load_study(study_name="tiny", storage="sqlite:///tiny.db")
    assert (
        len(
            study.get_trials(
                states=(optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
            )
        )
        == 2
    )


@pytest.mark.parametrize(
    ("values", "classes", "labels"),
    [
        (["neg", "pos", "NEG"], ("NEG", "pos"), [0, 1, 0]),  # aliases keep negative = 0
        (["1", "0", "positive"], ("0", "1"), [1, 0, 1]),
        (["pos", "neg"], ("neg", "pos"), [1, 0]),
        (["10", "2", "1", "02"], ("1", "2", "10"), [2, 1, 0, 1]),  # numbers sort as numbers
        (["sports", "arts", "tech", "arts"], ("arts", "sports", "tech"), [1, 0, 2, 0]),
        (["neg", "neutral", "pos"], ("neg", "neutral", "pos"), [0, 1, 2]),
    ],
)
def test_class_labels_have_a_stable_order(values: list, classes: tuple, labels: list) -> None:
    from hpsearch.portable.data import class_labels

    y, names = class_labels(values, "f.csv", "label")
    assert names == classes and y.tolist() == labels
    # The order depends on the set of values only, not on which row comes first.
    assert class_labels(list(reversed(values)), "f.csv", "label")[1] == classes


def test_a_test_label_outside_the_training_classes_is_one_line() -> None:
    from hpsearch.portable.data import class_labels

    y, _ = class_labels(["b", "a"], "test.csv", "label", ("a", "b", "c"))
    assert y.tolist() == [1, 0]
    with pytest.raises(DataError, match=r"has value 'd', which is not a class .* allowed: a, b, c"):
        class_labels(["a", "d"], "test.csv", "label", ("a", "b", "c"))


def test_four_class_ratings_csv_is_stratified_and_keeps_class_names() -> None:
    from tests.conftest import ratings_csv

    train, test = ratings_csv("train.csv"), ratings_csv("test.csv")
    data = load_dataset(_csv_cfg(train, test_path=str(test), max_samples=400), seed=0)
    assert data.classes == ("0", "1", "2", "3") and data.num_classes == 4
    assert np.bincount(data.y_train).tolist() == [80] * 4
    assert np.bincount(data.y_val).tolist() == [20] * 4
    assert data.y_test is not None and np.bincount(data.y_test).tolist() == [250] * 4
    assert data.summary()["classes"] == ["0", "1", "2", "3"]
    # The star rating as the label: eight classes in numeric order.
    stars = load_dataset(_csv_cfg(train, label_column="rating", max_samples=800), seed=0)
    assert stars.classes == ("1", "2", "3", "4", "7", "8", "9", "10")


def test_directory_with_named_class_folders(tmp_path: Path) -> None:
    root = tmp_path / "topics"
    for split, n in (("train", 10), ("test", 3)):
        for topic in ("sports", "arts", "tech"):
            d = root / split / topic
            d.mkdir(parents=True)
            for i in range(n):
                (d / f"{i}.txt").write_text(f"{topic} text number {i}", encoding="utf-8")
    (root / "train" / "unsup").mkdir()
    (root / "train" / "unsup" / "0.txt").write_text("unlabelled", encoding="utf-8")
    data = load_dataset(DatasetConfig(kind="directory", path=str(root), maxlen=5), seed=0)
    assert data.classes == ("arts", "sports", "tech")
    assert len(data.y_train) + len(data.y_val) == 30 and np.bincount(data.y_val).tolist() == [2] * 3
    assert data.y_test is not None and np.bincount(data.y_test).tolist() == [3] * 3
    (root / "test" / "music").mkdir()
    (root / "test" / "music" / "0.txt").write_text("a song", encoding="utf-8")
    with pytest.raises(DataError, match="subfolder 'music' is not a class"):
        load_dataset(DatasetConfig(kind="directory", path=str(root), maxlen=5), seed=0)


def test_a_folder_of_csv_files_given_as_a_folder_dataset_says_so(tmp_path: Path) -> None:
    (tmp_path / "train.csv").write_text("text,label\n")
    with pytest.raises(DataError, match=r"holds train.csv: give a CSV file itself"):
        portable_data.read_folder(tmp_path / "train")


@pytest.mark.parametrize(
    ("texts", "holding"),
    [(["", "!!!", "...", "?"] * 10, 0), (["good film"] * 3 + ["?"] * 37, 3)],
)
def test_texts_without_words_are_one_line_naming_the_file(
    tmp_path: Path, texts: list[str], holding: int
) -> None:
    path = tmp_path / "empty.csv"
    rows = ["text,label", *(f'"{t}",{i % 2}' for i, t in enumerate(texts))]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as refused:
        load_dataset(_csv_cfg(path, max_samples=None), seed=0)
    assert str(refused.value).startswith(f"{path}, column 'text': {holding} of 40 texts hold")


def test_a_few_empty_texts_among_many_still_train(tmp_path: Path) -> None:
    path = tmp_path / "mostly.csv"
    rows = ["text,label", *(f"word{i % 7} other{i % 3},{i % 2}" for i in range(38)), '"",0', "!,1"]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    data = load_dataset(_csv_cfg(path, max_samples=None, num_words=50, maxlen=8), seed=0)
    assert len(data.y_train) + len(data.y_val) == 40


def test_a_folder_review_that_is_not_utf8_is_one_line_as_a_csv_is(tmp_path: Path) -> None:
    for name in ("neg", "pos"):
        (tmp_path / "train" / name).mkdir(parents=True)
        for i in range(6):
            (tmp_path / "train" / name / f"{i}.txt").write_text(f"a {name} film {i}")
    (tmp_path / "train" / "pos" / "9.txt").write_bytes("un café crème".encode("latin-1"))
    with pytest.raises(DataError) as refused:
        portable_data.read_folder(tmp_path / "train")
    assert str(refused.value) == f"{tmp_path / 'train' / 'pos' / '9.txt'}: not UTF-8 text; " + (
        "allowed: UTF-8 .txt reviews"
    )


@pytest.mark.parametrize(
    "mode", ["lower_and_strip_punctuation", "lower", "strip_punctuation", "none"]
)
def test_standardize_finds_the_words_textvectorization_finds(mode: str) -> None:
    """The profile's plain-Python words (the ranges follow them) are the vectorizer's, for each
    of TextVectorization's modes; on pre-tokenized questions "lower" keeps "?" as a word and
    "none" keeps capitals."""
    from hpsearch.data.text import words_of

    trec = REPO.parent / "shared" / "data" / "trec" / "train.csv"
    cfg = DatasetConfig(
        kind="csv", path=str(trec), num_words=50000, maxlen=40, max_samples=300, standardize=mode
    )
    data = load_dataset(cfg, seed=0)
    assert data.vocabulary is not None
    with trec.open(newline="", encoding="utf-8") as f:
        texts = [row["text"] for row in csv.DictReader(f)]
    found = set(data.vocabulary[2:])
    every = {w for t in texts for w in words_of(t, mode)}
    assert found and found <= every  # the training split's words, each as the profile sees it
    assert ("?" in found) == (mode in ("lower", "none"))
    assert ("What" in found) == (mode in ("strip_punctuation", "none"))
