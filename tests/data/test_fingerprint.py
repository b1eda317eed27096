"""A study is bound to its data: a changed byte in a data file is one line from every command
that would train or test on it, and the store stays as it was; --accept-changed-data goes on
and is recorded."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from hpsearch.config import DatasetConfig
from hpsearch.data.fingerprint import changed, fingerprint
from tests.conftest import REPO, TINY_STUDY

TINY = REPO / "tests" / "spaces" / "tiny.py"


def _csv(path: Path, n: int = 60) -> Path:
    rows = ["text,label", *(f"word{i % 9} film{i % 4} good{i % 2},{i % 2}" for i in range(n))]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _flip_one_byte(path: Path) -> None:
    """One byte changed, the size kept (an edit in place): the new time sends it to the hash."""
    data = bytearray(path.read_bytes())
    data[20] = ord("X") if data[20] != ord("X") else ord("Y")
    stat = path.stat()
    path.write_bytes(bytes(data))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_a_touched_file_is_the_same_data_and_a_changed_byte_is_not(tmp_path: Path) -> None:
    cfg = DatasetConfig(kind="csv", path=str(_csv(tmp_path / "t.csv")))
    stored = fingerprint(cfg)
    os.utime(tmp_path / "t.csv")  # a touch: time differs, content the same
    assert changed(stored, cfg) is None
    data = bytearray((tmp_path / "t.csv").read_bytes())
    data[20] = ord("X")
    (tmp_path / "t.csv").write_bytes(bytes(data))
    found = changed(stored, cfg)
    assert found is not None and found[0] == str((tmp_path / "t.csv").resolve())


def _dump(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return list(conn.iterdump())


def test_changed_data_is_refused_by_every_command_until_accepted(cli, study_file, tmp_path):
    train, test = _csv(tmp_path / "train.csv"), _csv(tmp_path / "test.csv", 20)
    text = (
        TINY_STUDY.replace('"lstm_dropout"', f'"{TINY}"')
        .split("[ranges]")[0]
        .replace(
            '[dataset]\nkind = "synthetic"\nsamples = 160\ntest_samples = 40\n',
            f'[dataset]\nkind = "csv"\npath = "{train}"\ntest_path = "{test}"\n',
        )
        .replace("n_trials = 4", "n_trials = 2")
    )
    path = study_file(text)
    assert cli("run", str(path)).code == 0
    _flip_one_byte(train)
    before = _dump(tmp_path / "tiny.db")
    for args in (
        ("run", str(path), "--trials", "3"),
        ("worker", "tiny", "--storage", "sqlite:///tiny.db", "--quiet"),
        ("select", "tiny", "--storage", "sqlite:///tiny.db"),
        ("evaluate", "tiny", "--storage", "sqlite:///tiny.db"),
    ):
        r = cli(*args)
        assert r.code == 2 and r.err.count("\n") == 1, (args, r.err)
        assert r.err.startswith(f"hpsearch: error: {train.resolve()}: changed since study 'tiny'")
        assert "--accept-changed-data" in r.err
        assert _dump(tmp_path / "tiny.db") == before, args
    r = cli("run", str(path), "--trials", "3", "--accept-changed-data")
    assert r.code == 0, r.err
    import optuna

    study = optuna.load_study(study_name="tiny", storage="sqlite:///tiny.db")
    accepted = study.user_attrs["hpsearch:data_accepted"]
    assert len(accepted) == 1 and accepted[0]["file"] == str(train.resolve())
    assert cli("run", str(path), "--trials", "4").code == 0  # the new data is the study's now


@pytest.mark.parametrize("kind", ["synthetic"])
def test_synthetic_data_has_no_files(kind: str) -> None:
    assert fingerprint(DatasetConfig(kind=kind)) == {}
