"""End to end through the CLI: the shipped quick start, and a study on real IMDB reviews."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.conftest import REPO, imdb_csv


@pytest.mark.slow
def test_shipped_quickstart_has_baseline_completed_and_pruned_trials(cli) -> None:
    # The shipped file as written, cut to 4 of its 10 trials and 3 of its 6 epochs (its pruner
    # still has trials to cut) to keep the suite fast.
    r = cli("run", str(REPO / "studies" / "quickstart.toml"), "--trials", "4", "--max-epochs", "3")
    assert r.code == 0, r.err
    with sqlite3.connect("hpsearch.db") as conn:
        states = dict(conn.execute("SELECT state, COUNT(*) FROM trials GROUP BY state").fetchall())
        epochs = conn.execute("SELECT COUNT(*) FROM hpsearch_epochs").fetchone()[0]
        ran = conn.execute(
            "SELECT SUM(CAST(value_json AS INTEGER)) FROM trial_user_attributes "
            "WHERE key = 'epochs'"
        ).fetchone()[0]
    assert states.get("COMPLETE", 0) >= 2 and states.get("PRUNED", 0) >= 1
    assert epochs == ran  # one row per epoch run
    r = cli("trials", "quickstart")
    assert "0 (baseline)" in r.out and "complete" in r.out and "pruned" in r.out


@pytest.mark.slow
def test_study_on_real_reviews(cli, study_file, tmp_path: Path) -> None:
    train = imdb_csv("train.csv")
    text = f'''
    name = "real"
    space = "cnn_lstm"
    seed = 5
    [dataset]
    kind = "csv"
    path = "{train}"
    max_samples = 400
    num_words = 2000
    maxlen = 120
    [pruner]
    name = "median"
    n_startup_trials = 1
    [early_stopping]
    patience = 1
    [selection]
    finalists = 0
    [budget]
    n_trials = 3
    max_epochs = 3
    [ranges]
    lstm_units = {{ low = 16, high = 100 }}
    filters = [16, 64]
    '''
    r = cli("run", str(study_file(text)))
    assert r.code == 0, r.err
    assert "csv" in r.out and "320 train / 80 validation" in r.out
    with sqlite3.connect("hpsearch.db") as conn:
        rows = conn.execute(
            "SELECT trial_number, epoch, val_accuracy FROM hpsearch_epochs WHERE study_name='real'"
        ).fetchall()
    assert {t for t, _, _ in rows} == {0, 1, 2}
    assert all(0.0 <= acc <= 1.0 for _, _, acc in rows)
