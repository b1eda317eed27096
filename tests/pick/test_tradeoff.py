"""Tradeoff: Pareto front and pick, computed from the per-epoch table; plots; report."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from hpsearch.pick.tradeoff import Candidate, pareto_front, pick


def _c(number: int, value: float, gap: float, state: str = "complete") -> Candidate:
    return Candidate(number, state, value, gap, 1, 1, "finished", {}, False)


def test_front_keeps_only_undominated_points() -> None:
    points = [_c(0, 0.80, 0.10), _c(1, 0.78, 0.02), _c(2, 0.75, 0.05), _c(3, 0.85, 0.20)]
    front = pareto_front(points, maximize=True)
    assert [c.number for c in front] == [1, 0, 3]  # by increasing gap; 2 is dominated by 1
    assert [c.number for c in pareto_front(points, maximize=False)] == [1, 2]


def test_a_model_worse_than_the_baseline_is_no_pick_however_small_its_gap() -> None:
    """A chance-level model does not overfit (gap about 0); with the baseline (the tutorial's
    settings) in the study, the pick must reach its value, and finalists are taken from those
    that do first (a TREC study picked a 0.23 trial before this)."""
    from hpsearch.pick.finalists import Finalist, finalists_of, rank

    baseline = Candidate(0, "complete", 0.858, 0.14, 8, 11, "finished", {}, True)
    chance, good, better = _c(1, 0.247, 0.0), _c(40, 0.859, 0.13), _c(81, 0.86, 0.145)
    points = [baseline, chance, good, better]
    chosen, reason = pick(points, 0.05, maximize=True)
    assert chosen is None and "scores at least the baseline (0.8580)" in reason
    assert finalists_of(points, 3, 0.05, maximize=True) == [81, 40, 0]
    finalists = [
        Finalist(1, 0.247, 0.0, (), 0.233, 0.01, -0.007),
        Finalist(40, 0.859, 0.13, (), 0.859, 0.001, 0.133),
    ]
    best, _ = rank(finalists, 0.05, maximize=True, floor=0.858)
    assert best is not None and best.number == 40
    # Without a baseline in the study, the gap limit alone decides, as before.
    assert pick([chance, good], 0.05, maximize=True)[0] == chance


def test_pick_is_best_within_the_gap_and_says_why() -> None:
    points = [_c(0, 0.80, 0.10), _c(1, 0.78, 0.02), _c(3, 0.85, 0.20)]
    chosen, reason = pick(points, max_gap=0.05, maximize=True)
    assert chosen is not None and chosen.number == 1
    assert "2 of 3" not in reason and "1 of 3 trials whose gap is <= 0.05" in reason
    assert "trial 3 scores higher (0.8500) but overfits more" in reason
    none, why = pick(points, max_gap=0.01, maximize=True)
    assert none is None and "smallest is 0.0200 (trial 1)" in why


STUDY = """
name = "tt"
space = "lstm_dropout"
seed = 9
[dataset]
kind = "csv"
path = "{train}"
test_path = "{test}"
max_samples = 240
num_words = 800
maxlen = 40
[pruner]
name = "none"
[sampler]
name = "random"
[early_stopping]
patience = 1
[selection]
finalists = 0
[budget]
n_trials = 4
max_epochs = 3
[tradeoff]
gap = "accuracy"
max_gap = 0.5
[ranges]
lstm_units = {{ low = 16, high = 100 }}
embedding_dim = [16, 32]
"""


def _shuffled_copy(src: Path, dst: Path) -> Path:
    import csv
    import random

    with src.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    labels = [r["label"] for r in rows]
    random.Random(0).shuffle(labels)
    with dst.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=["text", "label"])
        w.writeheader()
        for r, lab in zip(rows, labels, strict=True):
            w.writerow({"text": r["text"], "label": lab})
    return dst


@pytest.mark.slow
def test_tradeoff_evaluate_and_report_on_real_reviews(cli, study_file, tmp_path: Path) -> None:
    from tests.conftest import imdb_csv

    train, test = imdb_csv("train.csv"), imdb_csv("test.csv")
    # A copy of the test file: later replaced by one with shuffled labels.
    test_copy = tmp_path / "test.csv"
    test_copy.write_bytes(test.read_bytes())
    assert cli("run", str(study_file(STUDY.format(train=train, test=test_copy)))).code == 0

    r = cli("tradeoff", "tt", "--plots", "plots")
    assert r.code == 0, r.err
    assert "pick: trial" in r.out and (tmp_path / "plots" / "tradeoff.html").stat().st_size > 1e6
    picked = int(r.out.split("pick: trial ")[1].split(",")[0])

    # The pick's numbers are those of a plain SQL query of the per-epoch table.
    with sqlite3.connect("hpsearch.db") as conn:
        (best_epoch,) = conn.execute(
            "SELECT CAST(value_json AS INTEGER) FROM trial_user_attributes a JOIN trials t "
            "ON a.trial_id = t.trial_id WHERE t.number = ? AND a.key = 'best_epoch'",
            (picked,),
        ).fetchone()
        val_acc, gap = conn.execute(
            "SELECT val_accuracy, train_eval_accuracy - val_accuracy FROM hpsearch_epochs "
            "WHERE study_name = 'tt' AND trial_number = ? AND epoch = ?",
            (picked, best_epoch),
        ).fetchone()
    assert f"val_accuracy {val_acc:.4f}, accuracy gap {gap:.4f}" in r.out
    assert gap <= 0.5

    r = cli("evaluate", "tt")
    assert r.code == 0, r.err
    assert f"trial {picked} of tt" in r.out and "TEST (measured once, 1000 reviews)" in r.out
    # Retraining with the trial's seed reproduces its validation value.
    line = next(x for x in r.out.splitlines() if "validation val_accuracy" in x)
    search_value, retrained = (
        float(x.split()[-1].rstrip(",")) for x in line.split(": ")[1].split(", ")
    )
    assert retrained == pytest.approx(search_value, abs=1e-6)
    with sqlite3.connect("hpsearch.db") as conn:
        first = conn.execute(
            "SELECT trial_number, test_accuracy FROM hpsearch_test_results"
        ).fetchall()
    assert [t for t, _ in first] == [picked]

    # The test split is read once: a second evaluate is refused and writes nothing...
    before = (tmp_path / "hpsearch.db").read_bytes()
    r = cli("evaluate", "tt")
    assert r.code == 2 and r.err.count("\n") == 1
    assert r.err.startswith(
        f"hpsearch: error: study 'tt': its test split was read already (trial {picked}"
    )
    assert (tmp_path / "hpsearch.db").read_bytes() == before
    # ...unless asked for; then it is recorded and said. Shuffled test labels change the test
    # number, never the pick (and the changed test file must be accepted: the study is bound to
    # its data).
    _shuffled_copy(test, test_copy)
    r = cli("evaluate", "tt", "--again")
    assert r.code == 2 and "test.csv: changed since study 'tt' was created" in r.err
    r = cli("evaluate", "tt", "--again", "--accept-changed-data")
    assert r.code == 0 and "TEST (read 2 times: NOT an unbiased estimate" in r.out
    r = cli("tradeoff", "tt")
    assert f"pick: trial {picked}," in r.out
    with sqlite3.connect("hpsearch.db") as conn:
        second = conn.execute(
            "SELECT trial_number, test_accuracy FROM hpsearch_test_results"
        ).fetchall()
    assert second[0][0] == picked and second[0][1] != first[0][1]

    r = cli("report", "tt", "-o", "report.html")
    assert r.code == 0
    page = (tmp_path / "report.html").read_text()
    assert "was read 2 times (hpsearch evaluate, hpsearch evaluate --again)" in page
    for text in (
        "Tradeoff",
        "Learning curves",
        "Optimization history",
        "Parameter importances",
        "Intermediate values",
        "Parallel coordinates",
        "TEST accuracy (once)",
    ):
        assert text in page
    assert page.count("plotly.js v") <= 2  # inlined once (its banner comment), not per figure
    assert "cdn.plot.ly" not in page.split("<body>")[1][:200]


def test_evaluate_errors(cli, study_file) -> None:
    text = (
        'name = "e"\nspace = "lstm_dropout"\nbaseline = false\n'
        "[dataset]\nsamples = 60\ntest_samples = 0\nnum_words = 60\nmaxlen = 6\n"
        '[pruner]\nname = "none"\n'
        "[selection]\nfinalists = 0\n"
        "[budget]\nn_trials = 1\nmax_epochs = 1\n[ranges]\nlstm_units = {low = 16, high = 18}\n"
        "batch_size = [32]\n"
    )
    assert cli("run", str(study_file(text))).code == 0
    r = cli("evaluate", "e", "--trial", "5")
    assert r.code == 2 and "trial 5 is out of range; study 'e' has trials 0..0" in r.err
    r = cli("evaluate", "e", "--trial", "0")
    assert r.code == 2 and "has no test split" in r.err


def test_two_objective_study_runs_without_pruning(cli, study_file) -> None:
    text = (
        'name = "mo"\nspace = "lstm_dropout"\n'
        "[dataset]\nsamples = 80\nnum_words = 60\nmaxlen = 6\n"
        '[objective]\nmulti = true\n[sampler]\nname = "nsga2"\n'
        "[selection]\nfinalists = 0\n"
        "[budget]\nn_trials = 3\nmax_epochs = 2\n[ranges]\nlstm_units = {low = 16, high = 100}\n"
    )
    r = cli("run", str(study_file(text)))
    assert r.code == 0, r.err
    import optuna

    study = optuna.load_study(study_name="mo", storage="sqlite:///hpsearch.db")
    assert len(study.directions) == 2
    assert all(len(t.values) == 2 for t in study.trials)
    assert all(t.values[1] == pytest.approx(t.user_attrs["gap_accuracy"]) for t in study.trials)
    assert cli("tradeoff", "mo").code == 0 and cli("best", "mo").code == 0


def test_two_objectives_with_a_pruner_is_refused(cli, study_file) -> None:
    text = 'name = "mo"\nspace = "lstm_dropout"\n[objective]\nmulti = true\n'
    text += '[pruner]\nname = "median"\n'
    r = cli("run", str(study_file(text)))
    assert r.code == 2 and r.err.count("\n") == 1
    assert "Optuna cannot prune multi-objective studies" in r.err
