"""The study store: Optuna's RDB storage plus hpsearch's own tables in the same database.

Optuna keeps studies, trials, params and per-trial attributes. What Optuna does not keep is
every epoch's training *and* validation metrics, which the tradeoff needs, so hpsearch adds
plain tables, created with SQLAlchemy and queryable with plain SQL::

    SELECT trial_number, epoch, loss, val_loss FROM hpsearch_epochs WHERE study_name = 'x';

Epochs are numbered from 1. A process holds one :class:`Store` per database: Optuna's
storage, the epoch table, the budget, the re-evaluation runs and the test results all go
through the one engine Optuna's storage holds, and :func:`close_stores` (called when a
command ends, and at exit) disposes it. Opening never creates a database by accident, and
reading commands open it read-only, so reading never writes.
"""

from __future__ import annotations

import atexit
import datetime as dt
import json
import logging
import math
import os
import socket
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import optuna
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from hpsearch.errors import StorageError
from hpsearch.store.budget import Budget
from hpsearch.store.schema import (
    ADDED_COLUMNS,
    EPOCH_METRICS,
    EPOCHS,
    METADATA,
    TEST_READS,
    TEST_RESULTS,
)

_logger = logging.getLogger("hpsearch")


LOCK_WAIT_S = 60
"""How long a connection to an SQLite store waits for another process's write lock."""


def sqlite_path(url: str) -> Path | None:
    """The file behind a ``sqlite:///`` URL, or None for other databases / in-memory."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StorageError(f"storage {url!r} is not a database URL") from None
    if parsed.get_backend_name() != "sqlite" or _in_memory(url):
        return None
    assert parsed.database is not None
    return Path(parsed.database)


def _in_memory(url: str) -> bool:
    """Whether an SQLite URL names no file: SQLite's in-memory database."""
    parsed = make_url(url)
    return parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:")


def check_storage(url: str, *, create: bool) -> None:
    """Fail early, with one line, on a store that cannot be used; never create one by accident."""
    path = sqlite_path(url)
    if path is None and _in_memory(url):
        raise StorageError(
            f"storage {url!r} is an in-memory SQLite database, which keeps nothing once this "
            "process ends and is not shared by hpsearch's connections; allowed: a file, e.g. "
            "'sqlite:///hpsearch.db', or a server URL"
        )
    if path is None:
        try:  # the dialect and its driver load here, before anything connects or writes
            sa.create_engine(url, **engine_kwargs(url)).dispose()
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise StorageError(f"storage {url!r} cannot be used: {_reason(exc)}") from None
        return
    if path.is_dir():
        raise StorageError(
            f"storage {url!r}: {path} is a folder; allowed: a database file in it, "
            f"e.g. 'sqlite:///{path / 'hpsearch.db'}'"
        )
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
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=LOCK_WAIT_S)
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
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=LOCK_WAIT_S)
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


def engine_kwargs(url: str, *, read_only: bool = False) -> dict[str, Any]:
    """SQLAlchemy engine settings: SQLite waits up to a minute for a lock instead of failing
    at once (several local worker processes share the file). ``read_only``: the database
    itself refuses writes: SQLite opened with ``mode=ro``, PostgreSQL sessions with
    ``default_transaction_read_only``, MySQL sessions ``READ ONLY``; other databases are read
    by code that does not write, without such a guard."""
    path = sqlite_path(url)
    if path is not None:
        if not read_only:
            # pysqlite's own transaction handling is off (it would BEGIN only before a
            # write); :func:`lock_on_begin` begins each transaction instead.
            return {"connect_args": {"timeout": LOCK_WAIT_S, "isolation_level": None}}
        uri = f"{path.resolve().as_uri()}?mode=ro"

        def connect() -> sqlite3.Connection:
            # The pool hands connections between threads (Optuna's heartbeat), as
            # SQLAlchemy's own file-database default allows.
            return sqlite3.connect(uri, uri=True, timeout=LOCK_WAIT_S, check_same_thread=False)

        return {"creator": connect}
    # At most two connections per process on a database server: the worker's own and the
    # heartbeat thread's (measured with pg_stat_activity: benchmarks/pgload.py), so one
    # server's max_connections divided by two is how many workers it holds.
    kwargs: dict[str, Any] = {
        "pool_pre_ping": True,
        "pool_size": 2,
        "max_overflow": 0,
        "pool_timeout": 120,
    }
    parsed = make_url(url)
    driver = (parsed.get_backend_name(), parsed.get_driver_name())
    if driver in (("postgresql", "psycopg"), ("postgresql", "psycopg2")):
        # Each connection names its process in pg_stat_activity (``hpsearch host:pid``), so
        # an operator sees which worker holds which connections.
        kwargs["connect_args"] = {
            "application_name": f"hpsearch {socket.gethostname()}:{os.getpid()}"[:63]
        }
    if read_only:
        if driver in (("postgresql", "psycopg"), ("postgresql", "psycopg2")):
            kwargs["connect_args"]["options"] = "-c default_transaction_read_only=on"
        elif driver in (("mysql", "mysqldb"), ("mysql", "pymysql")):
            kwargs["connect_args"] = {"init_command": "SET SESSION TRANSACTION READ ONLY"}
    return kwargs


def lock_on_begin(engine: sa.engine.Engine) -> None:
    """Begin every transaction on a writable SQLite store with ``BEGIN IMMEDIATE``, which
    takes the database's write lock (waiting for it up to the connect timeout).

    Optuna reads a row ``FOR UPDATE`` before it changes it (a queued trial before it marks
    it running, a trial before it finishes it) and relies on the row lock; SQLite ignores
    that clause, so two workers could both take the enqueued baseline and train it as one
    trial number (their epoch rows collided in CI). SQLite has no row locks, so the lock is
    the database's, taken when a transaction begins (SQLAlchemy's documented recipe for
    pysqlite's transactions; :func:`engine_kwargs` turns pysqlite's own handling off).
    Transactions are milliseconds long, and readers in other processes (the dashboard, the
    read-only commands) are not held up: the store is in WAL mode."""

    @sa.event.listens_for(engine, "begin")
    def begin(conn: sa.engine.Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def use_wal(url: str) -> None:
    """Put an SQLite store in write-ahead-log mode (readers never block the writer; the
    setting is kept in the file, so every later connection uses it)."""
    path = sqlite_path(url)
    if path is None:
        return
    with sqlite3.connect(path, timeout=LOCK_WAIT_S) as conn:
        conn.execute("PRAGMA journal_mode=WAL")


def absolute_url(url: str) -> str:
    """The URL with an SQLite file's path made absolute (processes started elsewhere, such as
    Slurm's tasks, open the same file); any other database's URL as it is."""
    path = sqlite_path(url)
    return url if path is None else f"sqlite:///{path.resolve()}"


def store_key(url: str) -> str:
    """What makes two URLs the same store here: an SQLite file by its absolute path (a
    relative URL names another file after a ``chdir``), any other database by its URL."""
    path = sqlite_path(url)
    return url if path is None else f"sqlite:{path.resolve()}"


@dataclass(frozen=True)
class Heartbeat:
    """Optuna's heartbeat for a worker's store: running trials beat every ``interval``
    seconds; one silent for ``grace_period`` seconds (its worker died) is failed by Optuna
    and passed to ``on_stale`` with the store."""

    interval: int
    grace_period: int
    on_stale: Callable[[Store, optuna.Study, optuna.trial.FrozenTrial], None] | None = None


@dataclass(frozen=True)
class StaleTrial:
    """Optuna's heartbeat found a trial whose worker died: free its slot, retry it once
    (the store calls this; see :class:`hpsearch.store.database.Heartbeat`)."""

    max_retry: int

    def __call__(self, store: Store, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        store.budget(study.study_name).release()
        optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=self.max_retry)(study, trial)


class Store:
    """One database in this process: Optuna's storage and hpsearch's tables on one engine.

    Get it with :meth:`open`, which hands every caller in the process the same object for the
    same database. Optuna's ``RDBStorage`` builds its engine from the URL (it takes no
    engine), so that engine is the store's: the epoch table, the budget, the re-evaluation
    runs and the test results use it too, and one pool of connections serves them all.
    """

    _open: ClassVar[dict[str, Store]] = {}

    def __init__(self, url: str, *, write: bool, create: bool, heartbeat: Heartbeat | None) -> None:
        """Use :meth:`open`: a store made here directly is not shared or closed for you."""
        check_storage(url, create=create)
        if not write and sqlite_path(url) is None:
            _check_remote_tables(url)
        self.url = url
        self.key = store_key(url)  # resolved once: after a chdir a relative URL names another file
        self.writable = write or create
        self.heartbeat = heartbeat
        self.closed = False
        on_stale = None if heartbeat is None or heartbeat.on_stale is None else self._stale
        try:
            if create:
                use_wal(url)
            self.storage = optuna.storages.RDBStorage(
                url,
                engine_kwargs=engine_kwargs(url, read_only=not self.writable),
                skip_table_creation=not self.writable,
                heartbeat_interval=None if heartbeat is None else heartbeat.interval,
                grace_period=None if heartbeat is None else heartbeat.grace_period,
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
        self.engine: sa.engine.Engine = self.storage.engine
        if self.writable and sqlite_path(url) is not None:
            lock_on_begin(self.engine)
        self.epochs = EpochLog(self.engine)
        self._budgets: dict[str, Budget] = {}

    @classmethod
    def open(
        cls,
        url: str,
        *,
        write: bool = False,
        create: bool = False,
        heartbeat: Heartbeat | None = None,
    ) -> Store:
        """This process's store for ``url``: read-only unless ``write`` (or ``create``, which
        may also make the database). A store already open is shared when it can serve the
        call (a writable one serves readers too); otherwise it is closed and opened again
        with what both need, so the process never holds two stores on one database."""
        key = store_key(url)
        have = cls._open.get(key)
        write = write or create
        serves = have is not None and (have.writable or not write)
        if have is not None and serves and heartbeat in (None, have.heartbeat):
            return have
        if have is not None:
            write = write or have.writable
            heartbeat = heartbeat or have.heartbeat
            _logger.debug("reopening store %s (writable %s, heartbeat %s)", url, write, heartbeat)
            have.close()
        store = cls(url, write=write, create=create, heartbeat=heartbeat)
        cls._open[store.key] = store
        return store

    @classmethod
    def opened(cls) -> list[Store]:
        """The stores open in this process."""
        return list(cls._open.values())

    def create_tables(self) -> None:
        """Create hpsearch's tables (see :meth:`EpochLog.create`)."""
        self.epochs.create()

    def budget(self, study: str) -> Budget:
        """The trial budget of ``study`` (see :mod:`hpsearch.store.budget`)."""
        if study not in self._budgets:
            self._budgets[study] = Budget(self.engine, study)
        return self._budgets[study]

    def close(self) -> None:
        """Dispose the engine (every pooled connection closes) and forget the store."""
        if self.closed:
            return
        self.closed = True
        if Store._open.get(self.key) is self:
            del Store._open[self.key]
        self.storage.remove_session()
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _stale(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        assert self.heartbeat is not None and self.heartbeat.on_stale is not None
        self.heartbeat.on_stale(self, study, trial)


def close_stores() -> None:
    """Close every store this process opened (the CLI calls it when a command ends)."""
    for store in Store.opened():
        store.close()


atexit.register(close_stores)


def open_storage(url: str, *, create: bool) -> optuna.storages.RDBStorage:
    """Optuna's storage of this process's store for ``url``: writable (and made if missing)
    with ``create``, else read-only; a missing/unusable database is one StorageError."""
    return Store.open(url, write=create, create=create).storage


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
    full = str(exc)
    if "remaining connection slots" in full or "too many clients" in full:
        # Say what to do before the driver's long text is cut.
        return (
            "the server has no connection left for this process (its max_connections is "
            "reached; each hpsearch worker holds up to 2): raise max_connections, put PgBouncer "
            "in front, or run fewer workers"
        )
    return text


def _check_remote_tables(url: str) -> None:
    """A reading command on a server database: refuse one without Optuna's tables (Optuna's
    storage would create them). Asked through a short-lived engine of its own, disposed at
    once, because the store's engine is made by Optuna's storage, which would write first."""
    try:
        engine = sa.create_engine(url, **engine_kwargs(url, read_only=True))
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
    """Reads and writes the ``hpsearch_epochs`` table (and the test results).

    Made by :class:`Store` on its engine. Given a URL instead, each call goes through this
    process's store for that URL (writes open it writable, and create the database).
    """

    def __init__(self, source: str | sa.engine.Engine) -> None:
        self._source = source
        self._present: dict[str, set[str]] = {}

    @property
    def engine(self) -> sa.engine.Engine:
        return self._engine(write=False)

    def _engine(self, *, write: bool) -> sa.engine.Engine:
        if isinstance(self._source, str):
            return Store.open(self._source, write=write, create=write).engine
        return self._source

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
        engine = self._engine(write=True)
        METADATA.create_all(engine, tables=list(METADATA.sorted_tables))
        self._present.clear()
        inspector = sa.inspect(engine)
        for table, columns in ADDED_COLUMNS.items():
            have = {c["name"] for c in inspector.get_columns(table)}
            with engine.begin() as conn:
                for column, kind in columns.items():
                    if column not in have:
                        conn.execute(sa.text(f"ALTER TABLE {table} ADD COLUMN {column} {kind}"))

    def record(
        self, study: str, trial_number: int, epoch: int, logs: dict[str, Any], seconds: float
    ) -> None:
        row = {m: _finite(logs.get(m)) for m in EPOCH_METRICS}
        with self._engine(write=True).begin() as conn:
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
        """Rows for a study (or one trial: its rows only, through the primary key), ordered
        by trial then epoch."""
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
        command: str = "hpsearch evaluate",
    ) -> None:
        """Store (or replace) one trial's test-split result, and record the read (one
        transaction: a result is never stored without its read)."""
        self.create()
        key = (TEST_RESULTS.c.study_name == study) & (TEST_RESULTS.c.trial_number == trial_number)
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        with self.engine.begin() as conn:
            conn.execute(
                TEST_READS.insert().values(
                    study_name=study, trial_number=trial_number, command=command, read_at=now
                )
            )
            conn.execute(TEST_RESULTS.delete().where(key))
            conn.execute(
                TEST_RESULTS.insert().values(
                    study_name=study,
                    trial_number=trial_number,
                    test_loss=_finite(loss),
                    test_accuracy=_finite(accuracy),
                    test_size=size,
                    evaluated_at=now,
                    test_macro_f1=_finite(macro_f1),
                    test_confusion=None if confusion is None else json.dumps(confusion),
                )
            )

    def test_reads(self, study: str) -> list[dict[str, Any]]:
        """Every recorded read of the study's test split, oldest first (a store from before
        reads were recorded: one per stored test result)."""
        query = (
            sa.select(TEST_READS).where(TEST_READS.c.study_name == study).order_by(TEST_READS.c.id)
        )
        try:
            with self.engine.connect() as conn:
                reads = [dict(r._mapping) for r in conn.execute(query)]
        except SQLAlchemyError:
            reads = []
        if not reads:
            reads = [
                {
                    "trial_number": n,
                    "command": "hpsearch evaluate",
                    "read_at": r.get("evaluated_at"),
                }
                for n, r in sorted(self.test_results(study).items())
            ]
        return reads

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
        """Nothing to release: the store's engine is closed with the store
        (:func:`close_stores`). Kept for callers written before the store was shared."""


def _finite(value: Any) -> float | None:
    """NaN/inf are stored as NULL: SQL has no portable NaN, and NULL reads honestly."""
    if value is None:
        return None
    v = float(value)
    return v if math.isfinite(v) else None
