from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import pytest

from search.errors import StorageError
from search.store import EpochLog, check_storage, open_storage, sqlite_path


def test_epoch_log_is_plain_sql(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    log = EpochLog(url)
    log.create()
    log.record(
        "s", 0, 1, {"loss": 0.7, "accuracy": 0.5, "val_loss": 0.69, "val_accuracy": 0.52}, 1.5
    )
    log.record("s", 0, 2, {"loss": math.nan, "accuracy": 0.5}, 1.2)
    rows = log.history("s")
    assert [r["epoch"] for r in rows] == [1, 2]
    assert rows[1]["loss"] is None  # NaN stored as NULL
    with sqlite3.connect(tmp_path / "s.db") as conn:
        got = conn.execute("SELECT val_loss FROM hpsearch_epochs WHERE epoch = 1").fetchone()
    assert got == (0.69,)


def test_reading_never_creates_a_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'missing.db'}"
    with pytest.raises(StorageError, match="no such database file"):
        open_storage(url, create=False)
    assert not (tmp_path / "missing.db").exists()


def test_non_database_files_and_bad_folders(tmp_path: Path) -> None:
    (tmp_path / "notes.db").write_text("hello")
    with pytest.raises(StorageError, match="is not an SQLite database"):
        check_storage(f"sqlite:///{tmp_path / 'notes.db'}", create=True)
    with pytest.raises(StorageError, match="does not exist"):
        check_storage(f"sqlite:///{tmp_path / 'nope' / 'x.db'}", create=True)
    assert sqlite_path("postgresql+psycopg://u@localhost/db") is None
