"""Deleting a study leaves nothing behind: through Optuna (the dashboard's button,
``optuna delete-study``) the name runs again; ``hpsearch delete`` removes every row."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import optuna
import pytest

import hpsearch
from hpsearch.store.schema import METADATA
from tests.conftest import REPO, TINY_STUDY

# The averaging space of the worker tests: what is checked here is the store, not the model.
FAST = TINY_STUDY.replace('"lstm_dropout"', f'"{REPO / "tests" / "spaces" / "tiny.py"}"').split(
    "[ranges]"
)[0]


def _rows(db: Path, study: str) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        have = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        return {
            t.name: conn.execute(
                f"SELECT COUNT(*) FROM {t.name} WHERE study_name = ?", (study,)
            ).fetchone()[0]
            for t in METADATA.sorted_tables
            if t.name in have
        }


@pytest.mark.slow
def test_a_study_deleted_through_optuna_runs_again_under_its_name(cli, study_file, tmp_path):
    path = study_file(FAST)
    assert cli("run", str(path)).code == 0
    first = _rows(tmp_path / "tiny.db", "tiny")
    assert first["hpsearch_epochs"] > 0
    optuna.delete_study(study_name="tiny", storage="sqlite:///tiny.db")  # what the dashboard does
    r = cli("run", str(path))
    assert r.code == 0, r.err
    again = hpsearch.open_study("tiny", "sqlite:///tiny.db")
    trials = again.trials()
    assert len(trials) == 4 and all(t.number < 4 for t in trials)
    # Only the new study's epochs: the old ones were cleared when the name was created again.
    assert len(again.epochs()) == sum(t.epochs or 0 for t in trials)


def test_hpsearch_delete_removes_the_study_and_all_of_its_rows(cli, study_file, tmp_path):
    assert cli("run", str(study_file(FAST))).code == 0
    study = hpsearch.open_study("tiny", "sqlite:///tiny.db")
    assert study.epochs()
    r = cli("delete", "tiny", "--storage", "sqlite:///tiny.db")
    assert r.code == 0 and r.out.startswith("deleted study tiny from sqlite:///tiny.db: 4 trials")
    assert set(_rows(tmp_path / "tiny.db", "tiny").values()) == {0}
    for call in (study.trials, study.epochs, study.tradeoff):  # the handle says so, every call
        with pytest.raises(hpsearch.StorageError, match="no study 'tiny'"):
            call()
    r = cli("delete", "tiny", "--storage", "sqlite:///tiny.db")
    assert r.code == 1 and r.err == (
        "hpsearch: error: no study 'tiny' in sqlite:///tiny.db; studies there: none\n"
    )
