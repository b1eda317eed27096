"""The training commands (hpsearch.cli.run): run and resume, bad study files, reused names."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest


def _db_snapshot(path: Path) -> bytes | None:
    return path.read_bytes() if path.exists() else None


@pytest.mark.slow
def test_run_then_list_trials_best_and_studies(cli, study_file) -> None:
    path = study_file()
    r = cli("run", str(path))
    assert r.code == 0, r.err
    assert "study tiny" in r.out and "best trials of tiny" in r.out
    assert r.err == ""  # no TensorFlow noise, no Optuna logging

    r = cli("trials", "tiny", "--storage", "sqlite:///tiny.db")
    assert r.code == 0
    assert "0 (baseline)" in r.out
    assert any(reason in r.out for reason in ("finished", "early-stopped", "pruned"))

    r = cli("best", "tiny", "--storage", "sqlite:///tiny.db", "--json")
    best = json.loads(r.out)
    with sqlite3.connect("tiny.db") as conn:
        (top,) = conn.execute(
            "SELECT MAX(val_accuracy) FROM hpsearch_epochs e JOIN trials t "
            "ON t.number = e.trial_number WHERE t.state = 'COMPLETE' AND e.study_name = 'tiny'"
        ).fetchone()
    assert best["value"] <= top + 1e-9 and best["study"] == "tiny"
    assert set(best["params"]) >= {"dropout", "recurrent_dropout", "optimizer", "batch_size"}

    r = cli("studies", "--storage", "sqlite:///tiny.db")
    assert r.code == 0 and "tiny" in r.out and "lstm_dropout" in r.out

    # Running again resumes: the budget is for the whole study, so nothing more runs.
    r = cli("run", str(path))
    assert r.code == 0
    with sqlite3.connect("tiny.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM trials").fetchone() == (4,)
    # ... and --trials raises the budget; the new trials continue the same study.
    assert cli("run", str(path), "--trials", "5").code == 0
    with sqlite3.connect("tiny.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM trials").fetchone() == (5,)


BAD_FILES = {
    "typo in a key": (
        "[selection]\nfinalists = 0\n[budget]\nn_trails = 3\n",
        "unknown key 'budget.n_trails'",
    ),
    "unknown space": ("", "space 'lstm_dropuot' is unknown"),
    "low > high": (
        "[ranges]\ndropout = { low = 0.6, high = 0.2 }\n",
        "ranges.dropout has low = 0.6 > high = 0.2",
    ),
    "unknown sampler": ('[sampler]\nname = "bayes"\n', "sampler.name = 'bayes' is unknown"),
    "unknown pruner": ('[pruner]\nname = "asha"\n', "pruner.name = 'asha' is unknown"),
    "range on a missing param": ("[ranges]\nunits = [3]\n", "has no parameter 'units'"),
    "missing data file": (
        '[dataset]\nkind = "csv"\npath = "nope.csv"\n',
        "nope.csv: no such data file",
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_study_files_exit_2_with_one_line_and_write_nothing(
    cli, study_file, tmp_path, case
) -> None:
    extra, expected = BAD_FILES[case]
    base = 'name = "bad"\nspace = "lstm_dropout"\nstorage = "sqlite:///store.db"\n'
    if case == "unknown space":
        base = base.replace("lstm_dropout", "lstm_dropuot")
    # A store with a finished study in it must come out byte-for-byte unchanged.
    store = tmp_path / "store.db"
    conn = sqlite3.connect(store)
    conn.execute("CREATE TABLE marker (x)")
    conn.commit()
    conn.close()
    before = _db_snapshot(store)
    r = cli("run", str(study_file(base + extra)))
    assert r.code == 2
    assert r.err.count("\n") == 1 and r.err.startswith("hpsearch: error: ")
    assert expected in r.err
    assert "Traceback" not in r.err
    assert _db_snapshot(store) == before


def test_bad_input_creates_no_database(cli, study_file, tmp_path) -> None:
    r = cli("run", str(study_file('name = "x"\nspace = "nope"\n')))
    assert r.code == 2 and not (tmp_path / "hpsearch.db").exists()


SAME = (
    'name = "same"\nspace = "lstm_dropout"\nbaseline = false\n'
    "[dataset]\nsamples = 60\nnum_words = 60\nmaxlen = 6\n"
    "[selection]\nfinalists = 0\n"
    "[budget]\nn_trials = 1\nmax_epochs = 1\n[ranges]\nbatch_size = [32]\n"
)


def test_study_name_reused_with_another_space_is_refused(cli, study_file) -> None:
    text = SAME
    assert cli("run", str(study_file(text))).code == 0
    r = cli("run", str(study_file(text.replace("lstm_dropout", "lstm_l1l2"), name="b.toml")))
    assert r.code == 1 and "was created with space 'lstm_dropout', not 'lstm_l1l2'" in r.err


def test_a_study_reused_with_other_settings_names_what_differs(cli, study_file) -> None:
    text = SAME
    assert cli("run", str(study_file(text))).code == 0
    before = Path("hpsearch.db").read_bytes()
    other = text.replace("samples = 60", "samples = 80").replace("[32]", "[64]")
    r = cli("run", str(study_file(other, name="b.toml")))
    assert r.code == 2 and r.err.count("\n") == 1
    assert "dataset.samples: 60 -> 80" in r.err and "ranges.batch_size" in r.err
    assert Path("hpsearch.db").read_bytes() == before
    # Only the budget may change when resuming.
    more = cli("run", str(study_file(text.replace("n_trials = 1", "n_trials = 2"), "c.toml")))
    assert more.code == 0, more.err
