"""The re-evaluation runs of a study's finalists, as stored (``hpsearch_selection``).

Each finalist trained again on another validation split with another seed
(:mod:`hpsearch.pick.reevaluate`); ranked by :mod:`hpsearch.pick.finalists`. Validation numbers
only: nothing here reads test data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from hpsearch.store.database import Store
from hpsearch.store.schema import SELECTION


@dataclass(frozen=True)
class Run:
    """One re-evaluation run of a finalist."""

    trial_number: int
    repeat: int
    split_seed: int
    seed: int
    value: float | None
    best_epoch: int
    epochs: int
    gap_accuracy: float | None
    gap_loss: float | None
    seconds: float

    def gap(self, measure: str) -> float | None:
        return self.gap_accuracy if measure == "accuracy" else self.gap_loss


class RunLog:
    """Reads and writes the ``hpsearch_selection`` table.

    Built on a store's engine (``RunLog(store.engine)``). Given a URL instead, each call goes
    through this process's store for that URL (writes open it writable).
    """

    def __init__(self, source: str | sa.engine.Engine) -> None:
        self._source = source

    def _engine(self, *, write: bool) -> sa.engine.Engine:
        if isinstance(self._source, str):
            return Store.open(self._source, write=write).engine
        return self._source

    def record(self, study: str, run: Run) -> None:
        key = (
            (SELECTION.c.study_name == study)
            & (SELECTION.c.trial_number == run.trial_number)
            & (SELECTION.c.repeat == run.repeat)
        )
        with self._engine(write=True).begin() as conn:
            conn.execute(SELECTION.delete().where(key))
            conn.execute(
                SELECTION.insert().values(
                    study_name=study,
                    recorded_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
                    **run.__dict__,
                )
            )

    def runs(self, study: str) -> dict[int, list[Run]]:
        """Re-evaluation runs by trial number (empty for a study never re-evaluated)."""
        query = (
            sa.select(SELECTION)
            .where(SELECTION.c.study_name == study)
            .order_by(SELECTION.c.trial_number, SELECTION.c.repeat)
        )
        fields = Run.__dataclass_fields__
        try:
            with self._engine(write=False).connect() as conn:
                rows = [dict(r._mapping) for r in conn.execute(query)]
        except SQLAlchemyError:
            return {}  # a store from before re-evaluation existed has no such table
        out: dict[int, list[Run]] = {}
        for r in rows:
            out.setdefault(r["trial_number"], []).append(Run(**{k: r[k] for k in fields}))
        return out

    def dispose(self) -> None:
        """Nothing to release: the store's engine is closed with the store
        (:func:`hpsearch.store.database.close_stores`). Kept for callers written before the
        store was shared."""
