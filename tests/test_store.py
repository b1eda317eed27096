from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import pytest

from hpsearch.errors import StorageError
from hpsearch.store import EpochLog, check_storage, open_storage, sqlite_path


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


def test_checking_a_store_keeps_the_locks_of_connections_already_open(tmp_path: Path) -> None:
    """A worker re-checks its store while its own connections are open; meanwhile another
    process (the CLI, the dashboard) reads and closes. The writer's next rows must land in
    the store, not in a write-ahead log the reader checkpointed and deleted under it."""
    import subprocess
    import sys

    db = tmp_path / "live.db"
    url = f"sqlite:///{db}"
    writer = sqlite3.connect(db)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")  # rows stay in the log, as under load
    writer.execute("CREATE TABLE t (x INTEGER)")
    writer.execute("INSERT INTO t VALUES (1)")
    writer.commit()

    # Both checks a command makes, in the writer's process with its connection open: is it an
    # SQLite file, and does it hold Optuna's tables (here it does not).
    check_storage(url, create=True)
    from hpsearch.store import _sqlite_tables

    assert _sqlite_tables(db) == {"t"}

    count = (
        f"import sqlite3; db = sqlite3.connect({str(db)!r}); "
        "print(db.execute('SELECT count(*) FROM t').fetchone()[0])"
    )
    reader = subprocess.run([sys.executable, "-c", count], capture_output=True, text=True)
    assert reader.stdout.strip() == "1"
    writer.execute("INSERT INTO t VALUES (2)")
    writer.commit()
    after = subprocess.run([sys.executable, "-c", count], capture_output=True, text=True)
    writer.close()
    assert after.stdout.strip() == "2", after.stderr
    assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
