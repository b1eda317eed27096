"""The store: one per process and database, read-only for readers, plain SQL tables."""

from __future__ import annotations

import json
import math
import os
import sqlite3
from pathlib import Path

import optuna
import pytest
from optuna.distributions import FloatDistribution, IntDistribution
from sqlalchemy.exc import InternalError, OperationalError
from sqlalchemy.pool import QueuePool

from hpsearch.config import StudyConfig
from hpsearch.errors import StorageError
from hpsearch.store.database import (
    EpochLog,
    Store,
    check_storage,
    close_stores,
    open_storage,
    sqlite_path,
)
from tests.conftest import REPO


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
    for create in (True, False):  # a folder, not "no such file" or "not a database"
        with pytest.raises(StorageError, match=r"is a folder; allowed: a database file in it"):
            check_storage(f"sqlite:///{tmp_path}", create=create)
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
    from hpsearch.store.database import _sqlite_tables

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


def _hpsearch_store(url: str) -> None:
    """A store as a run leaves it, without training: a study, two trials, their epochs."""
    store = Store.open(url, create=True)
    store.create_tables()
    study = optuna.create_study(study_name="s", storage=store.storage, direction="maximize")
    study.set_user_attr("hpsearch:space", "tiny")
    study.set_user_attr("hpsearch:metric", "val_accuracy")
    cfg = StudyConfig(name="s", space=str(REPO / "tests" / "spaces" / "tiny.py"), storage=url)
    study.set_user_attr("hpsearch:config", json.loads(json.dumps(cfg.to_dict(), default=str)))
    for number, value in ((0, 0.7), (1, 0.8)):
        study.add_trial(
            optuna.trial.create_trial(
                params={"width": 4 + number, "learning_rate": 0.01},
                distributions={
                    "width": IntDistribution(2, 8),
                    "learning_rate": FloatDistribution(1e-3, 1e-1, log=True),
                },
                value=value,
                user_attrs={"best_epoch": 1, "epochs": 1, "stop_reason": "finished", "seed": 1},
            )
        )
        row = {"loss": 0.5, "accuracy": value, "val_loss": 0.6, "val_accuracy": value}
        store.epochs.record("s", number, 1, row, 0.1)
    store.close()


def test_one_store_per_process_and_database(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    _hpsearch_store("sqlite:///one.db")
    reader = Store.open("sqlite:///one.db")
    assert Store.open(f"sqlite:///{tmp_path / 'one.db'}") is reader  # same file, same store
    assert not reader.writable and reader.epochs.engine is reader.storage.engine
    # A writer is needed: the reader is closed and one writable store takes its place; it
    # serves readers from then on.
    writer = Store.open("sqlite:///one.db", write=True)
    assert writer is not reader and reader.closed and writer.writable
    assert Store.open("sqlite:///one.db") is writer and Store.opened() == [writer]
    assert writer.budget("s") is writer.budget("s") and writer.budget("s").engine is writer.engine
    # Another folder, another file: the same relative URL is another store there.
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    _hpsearch_store("sqlite:///one.db")
    elsewhere = Store.open("sqlite:///one.db")
    assert elsewhere is not writer and len(Store.opened()) == 2
    close_stores()
    assert Store.opened() == [] and writer.closed and elsewhere.closed
    pool = writer.engine.pool
    assert isinstance(pool, QueuePool) and pool.checkedin() == 0  # every connection was closed


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_a_read_only_store_reads_and_never_writes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ro.db'}"
    _hpsearch_store(url)
    before = _files(tmp_path)
    store = Store.open(url)
    study = optuna.load_study(study_name="s", storage=store.storage)
    assert [t.value for t in study.get_trials(deepcopy=False)] == [0.7, 0.8]
    assert [r["trial_number"] for r in store.epochs.history("s")] == [0, 1]
    assert [r["epoch"] for r in store.epochs.history("s", trial_number=1)] == [1]
    assert store.epochs.test_results("s") == {}
    with pytest.raises(OperationalError, match="readonly"):
        store.epochs.record("s", 2, 1, {"loss": 0.1}, 0.1)
    with pytest.raises(OperationalError, match="readonly"):
        store.budget("s").set_total(3)
    with pytest.raises(optuna.exceptions.StorageInternalError) as optuna_refused:
        study.set_user_attr("x", 1)
    assert "readonly" in str(optuna_refused.value.__cause__)
    close_stores()
    assert _files(tmp_path).get("ro.db") == before["ro.db"]
    assert not _files(tmp_path).get("ro.db-wal")  # nothing was logged to write either


def test_reading_commands_leave_the_store_as_it_was(tmp_path: Path, cli) -> None:
    url = f"sqlite:///{tmp_path / 'cmd.db'}"
    _hpsearch_store(url)
    before = _files(tmp_path)["cmd.db"]
    for args in (
        ["studies"],
        ["trials", "s"],
        ["best", "s", "--json"],
        ["tradeoff", "s"],
        ["report", "s", "-o", str(tmp_path / "r.html")],
        ["export", "s", "--format", "json", "-o", str(tmp_path / "x.json")],
    ):
        r = cli(*args, "--storage", url)
        assert r.code == 0, (args, r.err)
        assert Store.opened() == []  # the command closed its store
    assert _files(tmp_path)["cmd.db"] == before
    assert not _files(tmp_path).get("cmd.db-wal")


PG_URL = os.environ.get("HPSEARCH_TEST_POSTGRES_URL")


@pytest.mark.skipif(not PG_URL, reason="HPSEARCH_TEST_POSTGRES_URL is not set (.ci/run sets it)")
def test_a_read_only_store_on_postgresql_refuses_writes() -> None:
    assert PG_URL is not None
    with Store.open(PG_URL, create=True) as writer:
        writer.create_tables()
    reader = Store.open(PG_URL)
    assert not reader.writable
    optuna.get_all_study_summaries(reader.storage, include_best_trial=False)  # reads
    with pytest.raises(InternalError, match="read-only transaction"):
        reader.epochs.record(f"ro-{os.getpid()}", 0, 1, {"loss": 0.1}, 0.1)
