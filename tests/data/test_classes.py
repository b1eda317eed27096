"""More than two classes, end to end on real 4-class reviews; two classes exactly as before."""

from __future__ import annotations

import json
import sqlite3
import warnings
from pathlib import Path

import numpy as np
import pytest

from hpsearch.portable.data import class_labels
from hpsearch.portable.scores import confusion_table
from tests.conftest import imdb_csv, ratings_csv
from tests.output.test_export import assert_prints_the_stored_epochs, run_script

RATINGS = """
name = "stars"
space = "pooled"
seed = 5
baseline = false
[dataset]
kind = "csv"
path = {train}
test_path = {test}
max_samples = 400
[objective]
metric = "val_macro_f1"
[sampler]
name = "random"
[pruner]
name = "none"
[selection]
finalists = 1
repeats = 1
[budget]
n_trials = 2
max_epochs = 3
[ranges]
num_words = {{ low = 1000, high = 3000 }}
maxlen = [100]
embedding_dim = [16, 32]
learning_rate = {{ low = 0.005, high = 0.02 }}
"""


@pytest.mark.slow
def test_a_four_class_study_runs_evaluates_and_exports(cli, study_file, tmp_path: Path) -> None:
    train, test = ratings_csv("train.csv"), ratings_csv("test.csv")
    text = RATINGS.format(train=json.dumps(str(train)), test=json.dumps(str(test)))
    r = cli("run", str(study_file(text)))
    assert r.code == 0, r.err
    with sqlite3.connect("hpsearch.db") as conn:
        rows = conn.execute(
            "SELECT val_macro_f1, train_eval_macro_f1, val_accuracy FROM hpsearch_epochs"
        ).fetchall()
        (attrs,) = conn.execute(
            "SELECT value_json FROM study_user_attributes WHERE key = 'hpsearch:dataset'"
        ).fetchone()
    assert len(rows) >= 2 and all(0.0 <= f1 <= 1.0 and 0.0 <= tf1 <= 1.0 for f1, tf1, _ in rows)
    assert json.loads(attrs)["classes"] == ["0", "1", "2", "3"]
    assert cli("tradeoff", "stars").code == 0

    # The test split, once: accuracy, macro F1 and a 4 x 4 confusion matrix over 1,000 reviews.
    r = cli("evaluate", "stars")
    assert r.code == 0, r.err
    assert "macro F1 0." in r.out and "true \\ predicted" in r.out
    matrix_lines = r.out.splitlines()[-4:]
    counts = [[int(v) for v in line.split()[1:]] for line in matrix_lines]
    assert [line.split()[0] for line in matrix_lines] == ["0", "1", "2", "3"]
    assert np.asarray(counts).sum(axis=1).tolist() == [250] * 4
    with warnings.catch_warnings(record=True) as caught:  # Optuna's, while drawing its plots
        warnings.simplefilter("always")
        assert cli("report", "stars", "-o", "report.html").code == 0
    assert not [w for w in caught if "optuna" in w.filename], [str(w.message) for w in caught]
    assert "class='confusion'" in (tmp_path / "report.html").read_text()

    # The exported script trains the same 4-class model and saves it with its class names.
    r = cli("export", "stars", "--trial", "1", "-o", "train_best.py")
    assert r.code == 0, r.err
    done = run_script(tmp_path / "train_best.py", "--output", "m.keras", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert_prints_the_stored_epochs(done.stdout, "stars", 1)
    assert "macro_f1=" in done.stdout and "test macro F1: " in done.stdout
    table = done.stdout.split("confusion matrix:\n")[1].splitlines()[1:5]
    assert sum(int(v) for line in table for v in line.split()[1:]) == 1000
    import keras

    model = keras.models.load_model(tmp_path / "m.keras")
    reviews = np.array(["a masterpiece, ten stars", "awful", "it was fine"], dtype=object)
    probabilities = model.predict(reviews, verbose=0)
    assert probabilities.shape == (3, 4)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    names = json.loads((tmp_path / "m.keras.classes.json").read_text())["classes"]
    assert names == ["0", "1", "2", "3"]


BINARY = """
name = "bin"
space = "pooled"
seed = 3
baseline = false
[dataset]
kind = "csv"
path = {train}
max_samples = 200
[sampler]
name = "random"
[pruner]
name = "none"
[selection]
finalists = 0
[budget]
n_trials = 1
max_epochs = 3
[ranges]
num_words = {{ low = 1000, high = 1200 }}
maxlen = [50]
embedding_dim = [16]
"""
# What this study stored before hpsearch knew more than two classes (commit faee660, 2-core
# x86_64 CPU): epoch -> (val_loss, loss). Equal to the last digit on that machine; the
# tolerance leaves room for another CPU's kernels, far below what another head, loss or
# label mapping moves (several hundredths).
BEFORE = {
    1: (0.6975669264793396, 0.6988919973373413),
    2: (0.6968201994895935, 0.6953801512718201),
    3: (0.696272075176239, 0.6955682635307312),
}


def test_a_two_class_study_trains_exactly_the_model_it_did_before(cli, study_file) -> None:
    train = imdb_csv("train.csv")
    assert cli("run", str(study_file(BINARY.format(train=json.dumps(str(train)))))).code == 0
    with sqlite3.connect("hpsearch.db") as conn:
        rows = conn.execute("SELECT epoch, val_loss, loss FROM hpsearch_epochs").fetchall()
    assert {e: (v, lo) for e, v, lo in rows} == {
        e: (pytest.approx(v, abs=2e-4), pytest.approx(lo, abs=2e-4))
        for e, (v, lo) in BEFORE.items()
    }


FIXED_HEAD = """
import keras
from hpsearch.knobs import TRAINING_BASELINE, suggest_training

BASELINE = {**TRAINING_BASELINE}


def suggest(trial):
    return suggest_training(trial)


def build_model(params, data):
    tokens = keras.Input((data.maxlen,), dtype="int32")
    x = keras.layers.GlobalAveragePooling1D()(keras.layers.Embedding(data.vocab_size, 4)(tokens))
    return keras.Model(tokens, keras.layers.Dense(1, activation="sigmoid")(x))
"""


def test_a_two_class_head_on_four_classes_is_one_line(cli, study_file, tmp_path: Path) -> None:
    (tmp_path / "fixed.py").write_text(FIXED_HEAD)
    train = json.dumps(str(ratings_csv("train.csv")))
    text = (
        f'name = "h"\nspace = "fixed.py"\n[dataset]\nkind = "csv"\npath = {train}\n'
        "max_samples = 100\nnum_words = 500\nmaxlen = 20\n[budget]\nn_trials = 1\n"
    )
    r = cli("run", str(study_file(text)))
    assert r.code == 2 and r.err.count("\n") == 1
    assert "build_model() outputs 1 value(s) per review but the data has 4 classes" in r.err
    assert "Dense(4, softmax)" in r.err and not (tmp_path / "hpsearch.db").exists()


@pytest.mark.parametrize(
    ("values", "classes", "ids"),
    [
        (["10", "2", "1"], ("1", "2", "10"), [2, 1, 0]),  # integers sort as numbers
        (["10.0", "2.0", "1.0"], ("1", "2", "10"), [2, 1, 0]),  # as pandas writes them
        (["1", "1.0", "2"], ("1", "2"), [0, 0, 1]),  # one number written two ways
        (["0.5", "0.25", "1"], ("0.25", "0.5", "1"), [1, 0, 2]),
        (["pos", "neg"], ("neg", "pos"), [1, 0]),  # negative = 0
        (["b", "a", "1"], ("1", "a", "b"), [2, 1, 0]),  # not all numbers: as text
    ],
)
def test_labels_that_are_numbers_are_ordered_and_merged_as_numbers(
    values: list[str], classes: tuple[str, ...], ids: list[int]
) -> None:
    labels, names = class_labels(values * 2, "x.csv", "label")
    assert names == classes and labels.tolist() == ids * 2
    # A test file written the other way ("2" for "2.0") reads with the training classes.
    test = [str(int(float(v))) if v.endswith(".0") else v for v in values]
    assert class_labels(test, "t.csv", "label", names)[0].tolist() == ids


def test_a_confusion_matrix_too_wide_to_print_is_one_line() -> None:
    classes = tuple(str(i) for i in range(21))
    table = confusion_table(classes, [[0] * 21 for _ in range(21)])
    assert table.count("\n") == 0 and "21 classes" in table
    assert confusion_table(classes[:20], [[0] * 20] * 20).count("\n") == 20
