"""Read-only views of a store (hpsearch.store.queries) on a real tiny SQLite study: counts by state,
trial rows as ``hpsearch trials`` shows them, the best row before and after ``select``."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest

from hpsearch.cli.main import main
from hpsearch.errors import StorageError
from hpsearch.output.tables import fmt, short, trial_cells
from hpsearch.pick.tradeoff import best_row
from hpsearch.store.database import close_stores
from hpsearch.store.queries import SHOWN_STATES, list_studies, trial_rows
from tests.conftest import REPO

STUDY = f"""
name = "q"
space = "{REPO / "tests" / "spaces" / "tiny.py"}"
seed = 5
baseline = false

[dataset]
samples = 60
test_samples = 20
num_words = 60
maxlen = 6

[sampler]
name = "random"

[selection]
finalists = 2
repeats = 1

[budget]
n_trials = 3
max_epochs = 1

"""


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(before, after): the study searched by a worker, then its finalists re-evaluated."""
    folder = tmp_path_factory.mktemp("queries")
    (folder / "q.toml").write_text(STUDY, encoding="utf-8")
    before, after = folder / "before.db", folder / "after.db"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)
        mp.setenv("HPSEARCH_CACHE", str(folder / "cache"))
        mp.setenv("KERAS_HOME", str(folder / "keras-home"))
        url = f"sqlite:///{after}"
        assert main(["create", "q.toml", "--storage", url]) == 0
        assert main(["worker", "q", "--storage", url, "--quiet"]) == 0
        close_stores()
        shutil.copyfile(after, before)
        assert main(["select", "q", "--storage", url]) == 0
        close_stores()
    yield f"sqlite:///{before}", url


def _states(url: str) -> dict[str, int]:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        rows = conn.execute("SELECT state, COUNT(*) FROM trials GROUP BY state").fetchall()
    return {state.lower(): n for state, n in rows}


def test_list_studies_counts_trials_by_state(stores: tuple[str, str]) -> None:
    url = stores[0]
    (s,) = list_studies(url)
    assert (s["name"], s["space"], s["metric"], s["direction"]) == (
        "q",
        "tiny",
        "val_accuracy",
        "maximize",
    )
    assert s["trials"] == 3 and sum(s["counts"].values()) == 3
    assert set(s["counts"]) >= set(SHOWN_STATES)
    assert {k: v for k, v in s["counts"].items() if v} == _states(url)
    done = [r for r in trial_rows(url, "q") if r["state"] == "complete"]
    top = max(done, key=lambda r: (r["value"], -r["number"]))
    assert (s["best_value"], s["best_trial"]) == (top["value"], top["number"])


def test_trial_rows_are_what_the_trials_command_prints(stores: tuple[str, str], cli) -> None:
    url = stores[0]
    rows = trial_rows(url, "q")
    assert [r["number"] for r in rows] == [0, 1, 2]
    assert all(not r["baseline"] and set(r["params"]) >= {"width", "learning_rate"} for r in rows)
    shown = cli("trials", "q", "--storage", url)
    assert shown.code == 0, shown.err
    printed = {}
    for line in shown.out.splitlines():
        cells = [c.strip() for c in line.split("│")[1:-1]]
        if cells and cells[0]:  # a wrapped row continues with an empty first cell
            printed[cells[0]] = cells
    for r in rows:
        cells = trial_cells(r)
        # number, state, value, why stopped, epochs, best epoch, gaps: as printed
        assert printed[cells[0]][:8] == cells[:8]


def test_best_row_before_and_after_select(stores: tuple[str, str]) -> None:
    before, after = stores
    plain = best_row(before, "q")
    assert plain["study"] == "q" and plain["metric"] == "val_accuracy"
    assert plain["reevaluated"] is None
    done = [r for r in trial_rows(before, "q") if r["state"] == "complete"]
    assert plain["value"] == max(r["value"] for r in done)

    picked = best_row(after, "q")
    again = picked["reevaluated"]
    assert again is not None and again["runs"] == 1
    assert picked["number"] in {r["number"] for r in done}
    assert {"mean", "standard_error", "gap"} <= set(again)


def test_unknown_study_and_no_completed_trial(stores: tuple[str, str], tmp_path: Path) -> None:
    with pytest.raises(StorageError, match=r"no study 'nope' in .*; studies there: q$"):
        trial_rows(stores[0], "nope")
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    optuna.create_study(study_name="empty", storage=url)
    with pytest.raises(StorageError, match="study 'empty' has no completed trial yet"):
        best_row(url, "empty")


def test_fmt_and_short() -> None:
    assert fmt(None) == "-"
    assert fmt(0.123456) == "0.1235"
    assert fmt(3) == "3" and fmt("adam") == "adam"
    assert short(0.000123456) == "0.000123"
    assert short(64) == "64" and short("adam") == "adam"
