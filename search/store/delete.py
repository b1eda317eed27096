"""Deleting a study, and every row hpsearch keeps for it, so a name can be used again.

Optuna deletes its own rows (``optuna.delete_study``, the dashboard's delete button, ``optuna
delete-study``) but knows nothing of hpsearch's tables (:mod:`hpsearch.store.schema`). Their
rows for a name whose Optuna study is gone are leftovers: :func:`clear_leftovers` removes them,
in one transaction, when the name is created again; :func:`delete_study` removes both.
"""

from __future__ import annotations

import optuna
import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from hpsearch.errors import StorageError
from hpsearch.store.database import Store
from hpsearch.store.schema import METADATA


def _tables(conn: sa.engine.Connection) -> list[sa.Table]:
    """hpsearch's tables this store has (a store written by an older version lacks some),
    read on the connection that deletes: on SQLite a second connection would wait for the
    write lock this one holds (:func:`hpsearch.store.database.lock_on_begin`)."""
    have = set(sa.inspect(conn).get_table_names())
    return [t for t in METADATA.sorted_tables if t.name in have and "study_name" in t.c]


def drop_rows(engine: sa.engine.Engine, name: str) -> dict[str, int]:
    """Delete every hpsearch row of study ``name``, in one transaction; rows per table."""
    counts = {}
    with engine.begin() as conn:
        for table in _tables(conn):
            result = conn.execute(table.delete().where(table.c.study_name == name))
            counts[table.name] = result.rowcount
    return counts


def clear_leftovers(store: Store, name: str) -> dict[str, int]:
    """Before a study ``name`` is created: rows that a study of that name, deleted through
    Optuna, left in hpsearch's tables (they would collide with the new study's epochs, or be
    read as its own). Nothing when the Optuna study exists."""
    names = {s.study_name for s in optuna.get_all_study_summaries(store.storage, False)}
    if name in names:
        return {}
    return drop_rows(store.engine, name)


def delete_study(url: str, name: str) -> dict[str, int]:
    """``hpsearch delete``: the Optuna study and every hpsearch row of it. Optuna's rows go
    first; a crash between the two leaves only leftovers, cleared when the name is reused."""
    store = Store.open(url, write=True)
    names = [s.study_name for s in optuna.get_all_study_summaries(store.storage, False)]
    if name not in names:
        raise StorageError(
            f"no study {name!r} in {url}; studies there: {', '.join(names) or 'none'}"
        )
    trials = len(optuna.load_study(study_name=name, storage=store.storage).trials)
    try:
        optuna.delete_study(study_name=name, storage=store.storage)
        counts = drop_rows(store.engine, name)
    except SQLAlchemyError as exc:
        reason = " ".join(str(exc).split())[:200]
        raise StorageError(f"study {name!r} not fully deleted from {url}: {reason}") from None
    return {"trials": trials, **counts}
