"""Export: a standalone script that reproduces the trial, takes raw text, and is injection-safe."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import imdb_csv

# Runs the exported script with hpsearch made unimportable, so any import of it fails.
RUNNER = (
    "import runpy, sys\n"
    "for name in ('search', 'hpsearch', 'hpsearch_spaces'):\n"
    "    sys.modules[name] = None\n"
    "sys.argv = [sys.argv[1], *sys.argv[2:]]\n"
    "runpy.run_path(sys.argv[0], run_name='__main__')\n"
)


def run_script(script: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", RUNNER, str(script), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin", "HOME": str(cwd)},
    )


def epochs_printed(stdout: str) -> dict[int, float]:
    return {
        int(m.group(1)): float(m.group(2))
        for m in re.finditer(r"^epoch (\d+): .*val_loss=([-\d.e]+)", stdout, re.M)
    }


def assert_prints_the_stored_epochs(stdout: str, study: str, trial: int) -> None:
    """The script printed every stored epoch's validation loss, to 1e-6."""
    printed = epochs_printed(stdout)
    with sqlite3.connect("hpsearch.db") as conn:
        stored = dict(
            conn.execute(
                "SELECT epoch, val_loss FROM hpsearch_epochs "
                "WHERE study_name = ? AND trial_number = ?",
                (study, trial),
            ).fetchall()
        )
    assert stored and printed.keys() == stored.keys()
    for epoch, val_loss in stored.items():
        assert printed[epoch] == pytest.approx(val_loss, abs=1e-6)


STUDY = """
name = {name}
space = "lstm_dropout"
seed = 4
[dataset]
kind = "csv"
path = {train}
test_path = {test}
max_samples = 200
num_words = 600
maxlen = 40
[sampler]
name = "random"
[pruner]
name = "none"
[selection]
finalists = 0
[budget]
n_trials = 2
max_epochs = 3
[ranges]
lstm_units = {{ low = 16, high = 100 }}
embedding_dim = [16, 32]
"""


@pytest.mark.slow
def test_exported_script_reproduces_the_trial_and_saves_a_text_model(
    cli, study_file, tmp_path: Path
) -> None:
    train, test = imdb_csv("train.csv"), imdb_csv("test.csv")
    text = STUDY.format(name='"ex"', train=json.dumps(str(train)), test=json.dumps(str(test)))
    assert cli("run", str(study_file(text))).code == 0
    r = cli("export", "ex", "--trial", "1", "-o", "train_best.py")
    assert r.code == 0, r.err
    script = tmp_path / "train_best.py"
    source = script.read_text()
    assert not re.search(r"^\s*(import|from)\s+(search|hpsearch)", source, re.M)

    done = run_script(script, "--output", "model.keras", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert_prints_the_stored_epochs(done.stdout, "ex", 1)
    assert "validation: loss=" in done.stdout and "test: loss=" in done.stdout

    import keras

    model = keras.models.load_model(tmp_path / "model.keras")
    scores = model.predict(np.array(["a moving, beautiful film", "dull"], dtype=object), verbose=0)
    assert scores.shape == (2, 1) and ((scores >= 0) & (scores <= 1)).all()

    r = cli("export", "ex", "--format", "json", "-o", "best.json")
    config = json.loads((tmp_path / "best.json").read_text())
    assert config["study"] == "ex" and config["space"] == "lstm_dropout"
    assert config["dataset"]["path"] == os.path.abspath(train) and config["study_seed"] == 4
    assert "samples" not in config["dataset"]  # the synthetic kind's setting, not a CSV's
    assert set(config["versions"]) >= {"keras", "tensorflow", "optuna"}
    assert config["params"]["optimizer"] in ("adam", "rmsprop", "nadam", "sgd")


@pytest.mark.slow
def test_the_saved_text_model_splits_words_as_the_study_did(
    cli, study_file, tmp_path: Path
) -> None:
    """A study that keeps case and punctuation (``standardize = "none"``) saves a raw-text
    model that finds the same words: it scores the raw test questions as the script did."""
    import csv

    import keras

    trec = imdb_csv("train.csv").parent.parent / "trec"
    text = STUDY.format(
        name='"cased"',
        train=json.dumps(str(trec / "train.csv")),
        test=json.dumps(str(trec / "test.csv")),
    ).replace("maxlen = 40\n", 'maxlen = 40\nstandardize = "none"\n')
    assert cli("run", str(study_file(text))).code == 0
    assert cli("export", "cased", "--trial", "1", "-o", "t.py").code == 0
    done = run_script(tmp_path / "t.py", "--output", "q.keras", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    printed = re.search(r"^test: .*\baccuracy=([\d.]+)", done.stdout, re.M)
    assert printed is not None, done.stdout
    model = keras.models.load_model(tmp_path / "q.keras")
    vectorizer = next(x for x in model.layers if isinstance(x, keras.layers.TextVectorization))
    assert vectorizer.get_config()["standardize"] is None
    assert "What" in vectorizer.get_vocabulary() and "?" in vectorizer.get_vocabulary()
    with (trec / "test.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    questions = np.array([row["text"] for row in rows], dtype=object)
    names = json.loads((tmp_path / "q.keras.classes.json").read_text())["classes"]
    labels = np.array([names.index(row["label"]) for row in rows])
    predicted = model.predict(questions, batch_size=256, verbose=0).argmax(axis=1)
    assert abs(float((predicted == labels).mean()) - float(printed.group(1))) <= 0.002


HOSTILE_SPACE = '''
"""A space whose categorical values are hostile strings."""
from __future__ import annotations
import keras
from hpsearch.knobs import TRAINING_BASELINE

EVIL = "__import__('os').system('touch pwned')" + chr(10) + chr(34) * 3 + chr(39) * 3
BASELINE = {"tag": EVIL, **TRAINING_BASELINE}


def suggest(trial):
    return {"tag": trial.suggest_categorical("tag", [EVIL, "plain"]), **TRAINING_BASELINE}


def build_model(params, data):
    return keras.Sequential([
        keras.Input(shape=(data.maxlen,), dtype="int32"),
        keras.layers.Embedding(data.vocab_size, 4),
        keras.layers.GlobalAveragePooling1D(),
        keras.layers.Dense(1, activation="sigmoid", name="out_" + str(len(params["tag"]))),
    ])
'''


def test_hostile_names_paths_and_values_stay_data(cli, study_file, tmp_path: Path) -> None:
    (tmp_path / "hostile.py").write_text(HOSTILE_SPACE)
    folder = tmp_path / 'we\'ird "dir"'
    folder.mkdir()
    shutil.copy(imdb_csv("test.csv"), folder / "r.csv")
    # Quotes and code stay data in the script (a newline in a name is refused: test_errors).
    name = "x\"'; __import__('os').system('touch pwned') #"
    text = (
        f"name = {json.dumps(name)}\nspace = {json.dumps(str(tmp_path / 'hostile.py'))}\n"
        f'[dataset]\nkind = "csv"\npath = {json.dumps(str(folder / "r.csv"))}\n'
        "max_samples = 80\nnum_words = 200\nmaxlen = 12\n"
        '[pruner]\nname = "none"\n[selection]\nfinalists = 0\n'
        "[budget]\nn_trials = 1\nmax_epochs = 1\n"
    )
    assert cli("run", str(study_file(text))).code == 0
    r = cli("export", name, "-o", "s.py")
    assert r.code == 0, r.err
    done = run_script(tmp_path / "s.py", "--output", "m.keras", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert not (tmp_path / "pwned").exists()
    assert "'tag': " in (tmp_path / "s.py").read_text()


def test_export_errors(cli, study_file, tmp_path: Path) -> None:
    text = (
        'name = "e"\nspace = "lstm_dropout"\nbaseline = false\n'
        "[dataset]\nsamples = 60\nnum_words = 60\nmaxlen = 6\n"
        '[pruner]\nname = "none"\n'
        "[selection]\nfinalists = 0\n"
        "[budget]\nn_trials = 1\nmax_epochs = 1\n[ranges]\nlstm_units = {low = 16, high = 18}\n"
        "batch_size = [32]\n"
    )
    assert cli("run", str(study_file(text))).code == 0
    cases = [
        (("export", "nope"), "no study 'nope'"),
        (("export", "e", "--trial", "3"), "trial 3 is out of range"),
        (("export", "e", "--ensemble", "2"), "--ensemble needs a text dataset"),
        (("export", "e", "--ensemble", "0"), "Invalid value for '--ensemble'"),
    ]
    for args, expected in cases:
        r = cli(*args)
        assert r.code != 0 and expected in r.err and r.err.count("\n") == 1
    assert cli("export", "e", "--trial", "3").code == 2  # an argument out of range: bad input
    r = cli("export", "e", "-o", "")  # as the API refuses an empty path
    assert r.code == 2 and r.err == "hpsearch: error: -o '' is empty; allowed: a file path\n"
    assert cli("export", "e", "-o", "t.py").code == 0
    r = cli("export", "e", "-o", "t.py")
    assert r.code == 2 and "t.py exists; pass --force" in r.err
    assert cli("export", "e", "-o", "t.py", "--force").code == 0
    # a trial that did not complete
    import optuna

    study = optuna.load_study(study_name="e", storage="sqlite:///hpsearch.db")
    study.tell(study.ask(), state=optuna.trial.TrialState.PRUNED)
    r = cli("export", "e", "--trial", "1", "-o", "u.py")
    assert r.code == 1 and "trial 1 of 'e' is pruned, not complete" in r.err


BAG = """
name = "bagx"
space = "bag_of_words"
seed = 2
[dataset]
kind = "csv"
path = {train}
test_path = {test}
max_samples = 240
[sampler]
name = "random"
[pruner]
name = "none"
[selection]
finalists = 1
repeats = 1
[tradeoff]
max_gap = 0.05
penalize = true
[budget]
n_trials = 2
max_epochs = 3
[ranges]
num_words = {{ low = 1000, high = 1500 }}
maxlen = [50, 100]
bigram_buckets = [20000]
weighting = ["nb"]
"""


@pytest.mark.slow
def test_export_of_a_data_knob_trial_reproduces_in_a_clean_process_and_refits(
    cli, study_file, tmp_path: Path
) -> None:
    train, test = imdb_csv("train.csv"), imdb_csv("test.csv")
    text = BAG.format(train=json.dumps(str(train)), test=json.dumps(str(test)))
    assert cli("run", str(study_file(text))).code == 0
    r = cli("export", "bagx", "--trial", "1", "-o", "train_best.py")
    assert r.code == 0, r.err
    source = (tmp_path / "train_best.py").read_text()
    threads = {k: os.environ[k] for k in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")}
    written = re.search(r"^THREADS = (.*)$", source, re.M)
    assert written is not None and ast.literal_eval(written.group(1)) == threads

    # As a user runs it: a fresh process whose environment has no thread settings.
    done = run_script(tmp_path / "train_best.py", "--output", "m.keras", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert_prints_the_stored_epochs(done.stdout, "bagx", 1)
    # The study penalizes the gap: the script judges epochs by the same score, and the
    # helpers build_model calls (TF-IDF and NB weights, hashed pairs) travel with it.
    assert "val_accuracy_penalized=" in done.stdout
    assert all(f"def {f}(" in source for f in ("idf", "log_count_ratio", "presence", "pair_ids"))
    with sqlite3.connect("hpsearch.db") as conn:
        (params,) = conn.execute(
            "SELECT COUNT(*) FROM trial_params p JOIN trials t ON p.trial_id = t.trial_id "
            "WHERE t.number = 1 AND p.param_name IN ('num_words', 'maxlen')"
        ).fetchone()
    assert params == 2

    # The final model: training + validation rows (192 + 48 of the 240 sampled).
    done = run_script(tmp_path / "train_best.py", "--refit", "--output", "f.keras", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "refit on 240 reviews (training + validation)" in done.stdout
    assert "test: loss=" in done.stdout and "validation:" not in done.stdout
    # Both runs read the test split and recorded it in the study's store: the second said so,
    # and hpsearch evaluate now asks for --again.
    assert "was read 1 time(s) before: this test number is NOT an unbiased" in done.stdout
    with sqlite3.connect("hpsearch.db") as conn:
        reads = conn.execute("SELECT trial_number, command FROM hpsearch_test_reads").fetchall()
    assert reads == [(1, "train_best.py"), (1, "train_best.py --refit")]
    r = cli("evaluate", "bagx")
    assert r.code == 2 and "by `train_best.py`" in r.err
    import keras

    model = keras.models.load_model(tmp_path / "f.keras")
    scores = model.predict(np.array(["a moving, beautiful film", "dull"], dtype=object), verbose=0)
    assert scores.shape == (2, 1)


ENSEMBLE = """
name = "ens"
space = "bag_of_words"
seed = 4
[dataset]
kind = "csv"
path = {train}
test_path = {test}
max_samples = 240
[sampler]
name = "random"
[pruner]
name = "none"
[selection]
finalists = 2
repeats = 1
[budget]
n_trials = 2
max_epochs = 1
[ranges]
num_words = {{ low = 1000, high = 3000 }}
maxlen = [60, 120]
bigram_buckets = [0]
hidden_units = [0]
"""


@pytest.mark.slow
def test_an_ensemble_export_refits_the_finalists_and_saves_their_average(
    cli, study_file, tmp_path: Path
) -> None:
    train, test = imdb_csv("train.csv"), imdb_csv("test.csv")
    text = ENSEMBLE.format(train=json.dumps(str(train)), test=json.dumps(str(test)))
    assert cli("run", str(study_file(text))).code == 0
    # Asked for more than reach the baseline, it averages those there are and says so.
    r = cli("export", "ens", "--ensemble", "3", "-o", "three.py")
    assert r.code == 0, r.err
    assert "--ensemble 3: 2 re-evaluated finalist(s) reach the baseline" in r.out
    three = re.search(r"averages it with trials ([\d, ]+) \(", r.out)
    assert three is not None and len(three.group(1).split(", ")) == 1
    r = cli("export", "ens", "--ensemble", "2", "-o", "ens.py")
    assert "reach the baseline, so" not in r.out
    assert r.code == 0, r.err
    pick = int(re.search(r"trial (\d+) of ens", r.out).group(1))  # type: ignore[union-attr]
    other = int(re.search(r"averages it with trials (\d+)", r.out).group(1))  # type: ignore[union-attr]
    assert other != pick

    done = run_script(tmp_path / "ens.py", "--refit", "--output", "e.keras", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("refit on 240 reviews (training + validation)") == 2
    estimate = re.search(
        rf"^the study's estimate for trial {pick}: val_accuracy ([\d.]+)(?: ± [\d.]+)? over 1 "
        r"re-evaluation runs .*; the average of 2 models has none of its own$",
        done.stdout,
        re.M,
    )
    assert estimate is not None, done.stdout
    printed = re.search(r"^test \(average of 2 models\): accuracy=([\d.]+)$", done.stdout, re.M)
    assert printed is not None
    names = json.loads((tmp_path / "e.keras.classes.json").read_text())
    assert names["trial"] == [pick, other]
    # The saved model is one stock-Keras model over raw strings that averages the members:
    # it scores on the raw test reviews what the script measured from the members' arrays.
    import csv

    import keras

    with test.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    reviews = np.array([row["text"] for row in rows], dtype=object)
    labels = np.array([int(row["label"]) for row in rows])
    model = keras.models.load_model(tmp_path / "e.keras")
    assert len([layer for layer in model.layers if isinstance(layer, keras.Model)]) == 2
    scores = model.predict(reviews, batch_size=256, verbose=0)[:, 0]
    assert abs(float(((scores > 0.5) == labels).mean()) - float(printed.group(1))) <= 0.002


def test_export_of_a_study_that_leaves_the_data_size_to_the_default(
    cli, study_file, tmp_path: Path
) -> None:
    """No num_words/maxlen in the file and a space that does not search them: the tutorial's
    5,000 words and 500 tokens, which the script must carry too (it raised KeyError)."""
    tiny = Path(__file__).parents[1] / "spaces" / "tiny.py"
    text = (
        f'name = "plain"\nspace = {json.dumps(str(tiny))}\nseed = 6\n'
        "[dataset]\nsamples = 48\ntest_samples = 16\n"
        '[pruner]\nname = "none"\n[selection]\nfinalists = 0\n'
        "[budget]\nn_trials = 1\nmax_epochs = 2\n"
    )
    assert cli("run", str(study_file(text))).code == 0
    assert cli("export", "plain", "-o", "p.py").code == 0
    assert cli("export", "plain", "--format", "json", "-o", "p.json").code == 0
    config = json.loads((tmp_path / "p.json").read_text())
    assert (config["dataset"]["num_words"], config["dataset"]["maxlen"]) == (5000, 500)
    done = run_script(tmp_path / "p.py", "--output", "m.keras", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert_prints_the_stored_epochs(done.stdout, "plain", 0)


@pytest.mark.slow
def test_the_exported_script_keeps_the_one_line_promise(cli, study_file, tmp_path: Path) -> None:
    """Changed or missing data and an output it cannot write: one line each, no traceback;
    changed data goes on with --accept-changed-data."""
    from tests.conftest import REPO, TINY_STUDY
    from tests.data.test_fingerprint import _csv

    train, test = _csv(tmp_path / "train.csv"), _csv(tmp_path / "test.csv", 20)
    text = (
        TINY_STUDY.replace('"lstm_dropout"', f'"{REPO / "tests" / "spaces" / "tiny.py"}"')
        .split("[ranges]")[0]
        .replace(
            '[dataset]\nkind = "synthetic"\nsamples = 160\ntest_samples = 40\n',
            f'[dataset]\nkind = "csv"\npath = "{train}"\ntest_path = "{test}"\n',
        )
        .replace("n_trials = 4", "n_trials = 1")
    )
    assert cli("run", str(study_file(text))).code == 0
    assert cli("export", "tiny", "--storage", "sqlite:///tiny.db", "-o", "train.py").code == 0
    script = tmp_path / "train.py"
    changed = tmp_path / "changed.csv"
    changed.write_text(train.read_text().replace("word1", "word7"), encoding="utf-8")
    cases = [
        (("--data", str(changed)), 2, f"{changed}: differs from the data study 'tiny' was created"),
        (("--data", str(tmp_path / "gone.csv")), 2, "gone.csv: no such data file"),
        (("--data", str(tmp_path)), 2, "is a folder; allowed: a CSV file, e.g. "),
        (("--output", str(train / "m.keras")), 1, "Not a directory"),
    ]
    for args, status, message in cases:
        done = run_script(script, *args, cwd=tmp_path)
        assert done.returncode == status, (args, done.stderr[-2000:])
        # TensorFlow's own start-up lines may come first (its C++ logs, not ours).
        ours = [line for line in done.stderr.splitlines() if line.startswith("train.py: ")]
        assert "Traceback" not in done.stderr and len(ours) == 1, done.stderr[-2000:]
        assert ours[0].startswith("train.py: error: ") and message in ours[0]
    done = run_script(script, "--data", str(changed), "--accept-changed-data", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]


def test_a_long_study_name_makes_a_model_file_name_the_file_system_takes() -> None:
    from hpsearch.output.export import model_file

    long_a, long_b = "a" * 300, "a" * 299 + "b"
    names = {model_file(long_a, 3), model_file(long_b, 3)}
    assert len(names) == 2  # cut, yet still two files
    assert all(len(n.encode()) + len(".classes.json") <= 200 for n in names)
    assert all(n.endswith("-trial3.keras") for n in names)
    assert model_file("ünï cödé", 1) == "ünï_cödé-trial1.keras"
