"""The Python API (``import hpsearch``): the README's notebook example as written, typed
records of a stored study, and the CLI's one-line errors raised as exceptions."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import hpsearch
from hpsearch.records import EpochRecord, StopReason, TrialSummary
from tests.conftest import REPO


def example(page: str, marker: str) -> str:
    text = (REPO / page).read_text(encoding="utf-8")
    match = re.search(rf"<!-- {marker}:[^\n]*-->\n```python\n(.*?)```", text, re.S)
    assert match, f"{page} lost its example ({marker})"
    return match.group(1)


@pytest.mark.slow
def test_the_readme_and_notebook_examples_run_as_written(tmp_path: Path) -> None:
    """The README's example, then docs/api.md's (a space written in a cell), in one fresh
    process as a notebook would run them."""
    readme = example("README.md", "readme-example")
    notebook = example("docs/api.md", "notebook-example")
    (tmp_path / "example.py").write_text(readme + "\n\n" + notebook, encoding="utf-8")
    env = {**os.environ, "HPSEARCH_CACHE": str(tmp_path / "cache"), "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, "example.py"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    # Silent by default, as run() says: no Optuna INFO line per trial or per probe study,
    # no ExperimentalWarning for the heartbeat APIs hpsearch itself uses.
    for noise in ("finished with value", "A new study created", "ExperimentalWarning"):
        assert noise not in done.stderr, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    trials = [line for line in lines if re.match(r"^\d+ (COMPLETE|PRUNED|FAIL) ", line)]
    assert len(trials) >= 4 and trials[0].startswith("0 COMPLETE")  # BASELINE is trial 0
    assert re.search(r"^\d+ epochs stored$", done.stdout, re.M)
    assert re.search(r"^pick: \d+ 0\.\d+( ± 0\.\d+)? \(1 runs?\)$", done.stdout, re.M)
    assert re.search(r"^test accuracy: [01]\.?\d* of 500$", done.stdout, re.M)
    assert re.search(r"^test accuracy: [01]\.?\d*$", done.stdout, re.M)  # the README's
    assert "def build_model(params" in (tmp_path / "train_best.py").read_text()
    script = (tmp_path / "train_notebook.py").read_text()
    assert "def build_model(params, data):" in script and "GlobalAveragePooling1D" in script
    # The space lived in that process only: the CLI says so in one line.
    r = subprocess.run(
        [sys.executable, "-m", "hpsearch", "export", "notebook", "-o", "again.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert r.returncode != 0 and r.stderr.count("\n") == 1
    assert "space given as a Python object (<object notebook>)" in r.stderr


@pytest.mark.slow
def test_a_stored_study_reads_as_typed_records(cli, study_file) -> None:
    assert cli("run", str(study_file())).code == 0
    study = hpsearch.open_study("tiny", "sqlite:///tiny.db")
    trials = study.trials()
    assert trials and all(isinstance(t, TrialSummary) for t in trials)
    assert trials[0].baseline and trials[0].state.name == "COMPLETE"
    assert all(isinstance(t.stop_reason, StopReason) for t in trials if t.value is not None)
    epochs = study.epochs()
    assert all(isinstance(e, EpochRecord) for e in epochs)
    assert len(epochs) == sum(t.epochs or 0 for t in trials)
    assert [e.epoch for e in study.epochs(0)] == list(range(1, (trials[0].epochs or 0) + 1))
    best = study.best()
    assert best is not None and best.value == max(t.value for t in trials if t.value is not None)
    assert study.optuna.study_name == "tiny"
    assert study.tradeoff().study == "tiny"
    assert study.tradeoff(gap="loss", max_gap=0.25).max_gap == 0.25  # as tradeoff --max-gap
    with pytest.raises(hpsearch.ConfigError, match="trial 99 is out of range; study 'tiny'"):
        study.epochs(99)  # was an empty list, as if the trial had no epochs
    as_text: Any = "0"  # what a notebook user may pass, past the type hints
    for call in (lambda: study.epochs(as_text), lambda: study.export("x.py", trial=as_text)):
        with pytest.raises(hpsearch.ConfigError, match="trial = '0' is not a trial number"):
            call()
    none: Any = None
    with pytest.raises(hpsearch.ConfigError, match="path = None is not a file path"):
        study.export(none)  # was a TypeError
    with pytest.raises(hpsearch.ConfigError, match="include_pruned = 'x' is not a bool"):
        study.tradeoff(include_pruned=as_text.replace("0", "x"))
    assert not Path("x.py").exists()


def test_a_bad_study_is_refused_before_tensorflow_starts(tmp_path: Path) -> None:
    code = (
        "import sys, hpsearch\n"
        "try:\n    hpsearch.run({'name': 'x', 'space': 'pooled', 'budget': {'n_trials': 0}})\n"
        "except hpsearch.ConfigError as e:\n    print(e)\n"
        "assert 'tensorflow' not in sys.modules, 'tensorflow imported'\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "budget.n_trials = 0 is too small" in r.stdout


def test_errors_are_the_cli_one_liners_raised(tmp_path: Path) -> None:
    with pytest.raises(hpsearch.ConfigError, match="<dict>: key 'space' is missing"):
        hpsearch.run({"name": "x"})
    with pytest.raises(hpsearch.ConfigError, match="allowed: a study file path, a dict"):
        hpsearch.load_config(42)  # type: ignore[arg-type]
    with pytest.raises(
        hpsearch.ConfigError, match="n_trials = '3' has the wrong type; allowed: int"
    ):
        hpsearch.load_config({"name": "x", "space": "pooled"}, n_trials="3")
    with pytest.raises(hpsearch.ConfigError, match="unknown override 'trials'"):
        hpsearch.load_config({"name": "x", "space": "pooled"}, trials=3)
    with pytest.raises(hpsearch.SpaceError, match="has no build_model"):
        hpsearch.run({"name": "x"}, space={"suggest": lambda t: {}, "BASELINE": {}})
    # Arguments of the wrong kind are refused before anything is written.
    good = {"name": "x", "space": "pooled", "storage": f"sqlite:///{tmp_path / 'none.db'}"}
    with pytest.raises(hpsearch.ConfigError, match="reporter = 1 lacks start, epoch"):
        hpsearch.run(good, reporter=1)  # type: ignore[arg-type]
    with pytest.raises(hpsearch.ConfigError, match="select = 'no' is not a bool"):
        hpsearch.run(good, select="no")  # type: ignore[arg-type]
    with pytest.raises(hpsearch.StorageError):
        hpsearch.open_study("nope", f"sqlite:///{tmp_path / 'none.db'}")
    assert not (tmp_path / "none.db").exists() and not Path("hpsearch.db").exists()
    assert "pooled" in hpsearch.list_spaces()
