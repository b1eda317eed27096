"""The study store: Optuna's RDB storage plus hpsearch's per-epoch table in the same database.

Optuna keeps studies, trials, params and per-trial attributes. What Optuna does not keep is
every epoch's training *and* validation metrics, which the tradeoff needs, so hpsearch adds
one plain table, ``hpsearch_epochs``, created with SQLAlchemy and queryable with plain SQL::

    SELECT trial_number, epoch, loss, val_loss FROM hpsearch_epochs WHERE study_name = 'x';

Epochs are numbered from 1. Opening never creates a database by accident: read-only
commands need the database to exist already.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import optuna
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from hpsearch.errors import StorageError

METADATA = sa.MetaData()
EPOCHS = sa.Table(
    "hpsearch_epochs",
    METADATA,
    sa.Column("study_name", sa.String(512), primary_key=True),
    sa.Column("trial_number", sa.Integer, primary_key=True),
    sa.Column("epoch", sa.Integer, primary_key=True),
    sa.Column("loss", sa.Float),
    sa.Column("accuracy", sa.Float),
    sa.Column("val_loss", sa.Float),
    sa.Column("val_accuracy", sa.Float),
    sa.Column("seconds", sa.Float),
    sa.Column("recorded_at", sa.DateTime),
    # Inference-mode numbers on a training subsample (see hpsearch.trial.TrainEval); NULL in
    # stores written before they were measured.
    sa.Column("train_eval_loss", sa.Float),
    sa.Column("train_eval_accuracy", sa.Float),
    # Macro F1 (see hpsearch.trial.MacroF1), measured only in studies whose objective it is.
    sa.Column("macro_f1", sa.Float),
    sa.Column("val_macro_f1", sa.Float),
    sa.Column("train_eval_macro_f1", sa.Float),
)
EPOCH_METRICS = (
    "loss",
    "accuracy",
    "val_loss",
    "val_accuracy",
    "train_eval_loss",
    "train_eval_accuracy",
    "macro_f1",
    "val_macro_f1",
    "train_eval_macro_f1",
)
ADDED_COLUMNS = {
    "hpsearch_epochs": {
        "train_eval_loss": "FLOAT",
        "train_eval_accuracy": "FLOAT",
        "macro_f1": "FLOAT",
        "val_macro_f1": "FLOAT",
        "train_eval_macro_f1": "FLOAT",
    },
    "hpsearch_test_results": {"test_macro_f1": "FLOAT", "test_confusion": "TEXT"},
}
"""Columns added after a table first shipped: :meth:`EpochLog.create` adds them to old stores."""
TEST_RESULTS = sa.Table(
    "hpsearch_test_results",
    METADATA,
    sa.Column("study_name", sa.String(512), primary_key=True),
    sa.Column("trial_number", sa.Integer, primary_key=True),
    sa.Column("test_loss", sa.Float),
    sa.Column("test_accuracy", sa.Float),
    sa.Column("test_size", sa.Integer),
    sa.Column("evaluated_at", sa.DateTime),
    sa.Column("test_macro_f1", sa.Float),
    # The confusion matrix as JSON: {"classes": [...], "matrix": [[...]]}, rows = true class.
    sa.Column("test_confusion", sa.Text),
)
"""Test-split numbers, kept apart from every validation number: written only by
``hpsearch evaluate``, read by nothing that ranks or picks trials."""
SELECTION = sa.Table(
    "hpsearch_selection",
    METADATA,
    sa.Column("study_name", sa.String(512), primary_key=True),
    sa.Column("trial_number", sa.Integer, primary_key=True),
    sa.Column("repeat", sa.Integer, primary_key=True),
    sa.Column("split_seed", sa.Integer),
    sa.Column("seed", sa.Integer),
    sa.Column("value", sa.Float),
    sa.Column("best_epoch", sa.Integer),
    sa.Column("epochs", sa.Integer),
    sa.Column("gap_accuracy", sa.Float),
    sa.Column("gap_loss", sa.Float),
    sa.Column("seconds", sa.Float),
    sa.Column("recorded_at", sa.DateTime),
)
"""Re-evaluation runs of a study's finalists (see :mod:`hpsearch.selection`): each finalist
trained again on another validation split with another seed; validation numbers only."""


def sqlite_path(url: str) -> Path | None:
    """The file behind a ``sqlite:///`` URL, or None for other databases / in-memory."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StorageError(f"storage {url!r} is not a database URL") from None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def check_storage(url: str, *, create: bool) -> None:
    """Fail early, with one line, on a store that cannot be used; never create one by accident."""
    path = sqlite_path(url)
    if path is None:
        try:  # the dialect and its driver load here, before anything connects or writes
            sa.create_engine(url, **engine_kwargs(url)).dispose()
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise StorageError(f"storage {url!r} cannot be used: {_reason(exc)}") from None
        return
    if not create and not path.is_file():
        raise StorageError(f"storage {url!r}: no such database file {path}")
    if create and not path.exists():
        parent = path.parent if str(path.parent) else Path(".")
        if not parent.is_dir():
            raise StorageError(f"storage {url!r}: folder {parent} does not exist")
        if not _writable(parent):
            raise StorageError(f"storage {url!r}: folder {parent} is not writable")
    if path.exists() and path.stat().st_size > 0 and not _is_sqlite(path):
        raise StorageError(f"storage {url!r}: {path} is not an SQLite database")
    if not create and not _sqlite_tables(path) >= OPTUNA_TABLES:
        raise StorageError(
            f"storage {url!r}: {path} is not an hpsearch/Optuna store (no Optuna tables); "
            "allowed: a store written by `hpsearch run` or Optuna (nothing was changed)"
        )


OPTUNA_TABLES = {"studies", "trials", "version_info"}
"""Tables every Optuna RDB store has; a reading command refuses a database without them,
because Optuna's storage would create them (and so write to a file it was asked to read)."""


def _sqlite_tables(path: Path) -> set[str]:
    """The table names of an SQLite file, read through a read-only connection."""
    import sqlite3

    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=60)
    except sqlite3.Error:
        return set()
    try:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        return {r[0] for r in rows}
    except sqlite3.DatabaseError:
        return set()
    finally:
        conn.close()


def _is_sqlite(path: Path) -> bool:
    """Whether ``path`` is an SQLite database, asked through SQLite itself.

    Not by reading the file's header with ``open()``: closing any descriptor of the file
    drops every POSIX lock this process holds on it, including those of SQLite connections
    already open here (a worker, the benchmark). Another process then takes itself for the
    last user of the write-ahead log, checkpoints and deletes it under the writer, and the
    store is corrupt ("How To Corrupt An SQLite Database File", section 2.2). SQLite tracks
    its own descriptors per file and defers such closes.
    """
    import sqlite3

    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=60)
    except sqlite3.Error:
        return False
    try:
        conn.execute("PRAGMA schema_version").fetchone()
        return True
    except sqlite3.DatabaseError as exc:
        return "not a database" not in str(exc) and "encrypted" not in str(exc)
    finally:
        conn.close()


def _writable(folder: Path) -> bool:
    import os

    return os.access(folder, os.W_OK | os.X_OK)


def engine_kwargs(url: str) -> dict[str, Any]:
    """SQLAlchemy engine settings: SQLite waits up to a minute for a lock instead of
    failing at once (several local worker processes share the file)."""
    if sqlite_path(url) is not None:
        return {"connect_args": {"timeout": 60}}
    return {"pool_pre_ping": True}


def engine_for(url: str) -> sa.engine.Engine:
    return sa.create_engine(url, **engine_kwargs(url))


def use_wal(url: str) -> None:
    """Put an SQLite store in write-ahead-log mode (readers never block the writer; the
    setting is kept in the file, so every later connection uses it)."""
    path = sqlite_path(url)
    if path is None:
        return
    import sqlite3

    with sqlite3.connect(path, timeout=60) as conn:
        conn.execute("PRAGMA journal_mode=WAL")


def open_storage(
    url: str,
    *,
    create: bool,
    heartbeat_interval: int | None = None,
    grace_period: int | None = None,
    on_stale: Any = None,
) -> optuna.storages.RDBStorage:
    """Optuna's RDB storage on ``url``; a missing/unusable database is one StorageError.

    With ``heartbeat_interval``, running trials send heartbeats and a trial silent for
    ``grace_period`` seconds (its worker died) is failed and passed to ``on_stale``.
    """
    check_storage(url, create=create)
    if not create and sqlite_path(url) is None:
        _check_remote_tables(url)
    try:
        if create:
            use_wal(url)
        return optuna.storages.RDBStorage(
            url,
            engine_kwargs=engine_kwargs(url),
            heartbeat_interval=heartbeat_interval,
            grace_period=grace_period,
            heartbeat_stale_trial_callback=on_stale,
        )
    except RuntimeError as exc:  # Optuna: the schema was written by another Optuna version
        reason = " ".join(str(exc).split())[:300]
        raise StorageError(
            f"storage {url!r} has an Optuna schema this Optuna cannot use: {reason}; "
            f"upgrade it with `optuna storage upgrade --storage {url}` (back it up first)"
        ) from None
    except (SQLAlchemyError, ValueError, ImportError, OSError) as exc:
        raise StorageError(f"storage {url!r} cannot be opened: {_reason(exc)}") from None


def _reason(exc: BaseException) -> str:
    """A driver error in one line; a missing driver says which package to install."""
    text = " ".join(str(exc).split())[:300]
    if isinstance(exc, ImportError) or "No module named" in text:
        return (
            f"{text}; install its Python driver (for PostgreSQL the postgres extra: "
            'pip install "hpsearch[postgres]"; mysqlclient for MySQL)'
        )
    if "Can't load plugin" in text:
        return f"{text}; allowed: sqlite:///file.db or postgresql+psycopg://user@host/db"
    return text


def _check_remote_tables(url: str) -> None:
    """A reading command on a server database: refuse one without Optuna's tables."""
    try:
        engine = engine_for(url)
        try:
            names = set(sa.inspect(engine).get_table_names())
        finally:
            engine.dispose()
    except (SQLAlchemyError, ImportError, ValueError, OSError) as exc:
        raise StorageError(f"storage {url!r} cannot be opened: {_reason(exc)}") from None
    if not names >= OPTUNA_TABLES:
        raise StorageError(
            f"storage {url!r} is not an hpsearch/Optuna store (no Optuna tables); allowed: a "
            "store written by `hpsearch run` or Optuna (nothing was changed)"
        )


class EpochLog:
    """Reads and writes the ``hpsearch_epochs`` table."""

    def __init__(self, url: str) -> None:
        self.engine = engine_for(url)
        self._present: dict[str, set[str]] = {}

    def _columns(self, table: sa.Table) -> list[sa.Column[Any]]:
        """The table's columns this store has: a store written by an older version lacks the
        ones in ADDED_COLUMNS until a run migrates it, and reading never alters a store."""
        if table.name not in self._present:
            try:
                have = {c["name"] for c in sa.inspect(self.engine).get_columns(table.name)}
            except SQLAlchemyError:
                have = set()
            self._present[table.name] = have
        have = self._present[table.name]
        return [c for c in table.columns if c.name in have] or list(table.columns)

    def create(self) -> None:
        """Create hpsearch's tables, and add columns newer versions write to an older store
        (SQLAlchemy's ``create_all`` never alters an existing table; Alembic would be a whole
        migration framework for two nullable columns)."""
        METADATA.create_all(self.engine, tables=list(METADATA.sorted_tables))
        self._present.clear()
        inspector = sa.inspect(self.engine)
        for table, columns in ADDED_COLUMNS.items():
            have = {c["name"] for c in inspector.get_columns(table)}
            with self.engine.begin() as conn:
                for column, kind in columns.items():
                    if column not in have:
                        conn.execute(sa.text(f"ALTER TABLE {table} ADD COLUMN {column} {kind}"))

    def record(
        self, study: str, trial_number: int, epoch: int, logs: dict[str, Any], seconds: float
    ) -> None:
        row = {m: _finite(logs.get(m)) for m in EPOCH_METRICS}
        with self.engine.begin() as conn:
            conn.execute(
                EPOCHS.insert().values(
                    study_name=study,
                    trial_number=trial_number,
                    epoch=epoch,
                    seconds=seconds,
                    recorded_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
                    **row,
                )
            )

    def history(self, study: str, trial_number: int | None = None) -> list[dict[str, Any]]:
        """Rows for a study (or one trial), ordered by trial then epoch."""
        query = sa.select(*self._columns(EPOCHS)).where(EPOCHS.c.study_name == study)
        if trial_number is not None:
            query = query.where(EPOCHS.c.trial_number == trial_number)
        query = query.order_by(EPOCHS.c.trial_number, EPOCHS.c.epoch)
        try:
            with self.engine.connect() as conn:
                return [dict(r._mapping) for r in conn.execute(query)]
        except SQLAlchemyError:
            return []  # a store written by plain Optuna has no epoch table

    def record_test(
        self,
        study: str,
        trial_number: int,
        loss: float,
        accuracy: float,
        size: int,
        macro_f1: float | None = None,
        confusion: dict[str, Any] | None = None,
    ) -> None:
        """Store (or replace) one trial's test-split result."""
        self.create()
        key = (TEST_RESULTS.c.study_name == study) & (TEST_RESULTS.c.trial_number == trial_number)
        with self.engine.begin() as conn:
            conn.execute(TEST_RESULTS.delete().where(key))
            conn.execute(
                TEST_RESULTS.insert().values(
                    study_name=study,
                    trial_number=trial_number,
                    test_loss=_finite(loss),
                    test_accuracy=_finite(accuracy),
                    test_size=size,
                    evaluated_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
                    test_macro_f1=_finite(macro_f1),
                    test_confusion=None if confusion is None else json.dumps(confusion),
                )
            )

    def test_results(self, study: str) -> dict[int, dict[str, Any]]:
        """Test-split results by trial number (empty when none were measured)."""
        query = sa.select(*self._columns(TEST_RESULTS)).where(TEST_RESULTS.c.study_name == study)
        try:
            with self.engine.connect() as conn:
                rows = {r.trial_number: dict(r._mapping) for r in conn.execute(query)}
        except SQLAlchemyError:
            return {}
        for row in rows.values():
            if isinstance(row.get("test_confusion"), str):
                row["test_confusion"] = json.loads(row["test_confusion"])
        return rows

    def dispose(self) -> None:
        self.engine.dispose()


def _finite(value: Any) -> float | None:
    """NaN/inf are stored as NULL: SQL has no portable NaN, and NULL reads honestly."""
    if value is None:
        return None
    v = float(value)
    return v if math.isfinite(v) else None
