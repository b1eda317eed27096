"""The study's trial budget, shared exactly by every worker on every machine.

Optuna's ``MaxTrialsCallback`` stops a worker only after a trial ends, so parallel workers
overshoot ``n_trials``. Here a worker claims a slot *before* each trial with one atomic
conditional UPDATE (atomic on SQLite and PostgreSQL alike), and gives it back when its trial
does not count: interrupted (Ctrl-C, SIGTERM) or lost (worker killed; found stale by
Optuna's heartbeat, then retried once in the freed slot:
:class:`hpsearch.store.database.StaleTrial`).
"""

from __future__ import annotations

import sqlalchemy as sa

from hpsearch.store.schema import BUDGET, METADATA


class Budget:
    """Slots of one study: ``claimed`` never exceeds ``n_trials``. Made by the store
    (:meth:`hpsearch.store.database.Store.budget`), on its engine."""

    def __init__(self, engine: sa.engine.Engine, study: str) -> None:
        self.engine = engine
        self.study = study

    def set_total(self, n_trials: int, claimed: int | None = None) -> None:
        """Create the study's row, or change its total (``run --trials``); optionally
        reset ``claimed`` to the trials that already count (resuming after a crash)."""
        METADATA.create_all(self.engine, tables=[BUDGET])
        row = BUDGET.c.study_name == self.study
        with self.engine.begin() as conn:
            values: dict[str, int] = {"n_trials": n_trials}
            if claimed is not None:
                values["claimed"] = claimed
            if conn.execute(BUDGET.update().where(row).values(**values)).rowcount == 0:
                conn.execute(
                    BUDGET.insert().values(
                        study_name=self.study, n_trials=n_trials, claimed=claimed or 0
                    )
                )

    def claim(self) -> bool:
        """Take one slot; False when the budget is spent."""
        stmt = (
            BUDGET.update()
            .where((BUDGET.c.study_name == self.study) & (BUDGET.c.claimed < BUDGET.c.n_trials))
            .values(claimed=BUDGET.c.claimed + 1)
        )
        with self.engine.begin() as conn:
            return conn.execute(stmt).rowcount == 1

    def release(self) -> None:
        """Give back a slot whose trial will not count."""
        stmt = (
            BUDGET.update()
            .where((BUDGET.c.study_name == self.study) & (BUDGET.c.claimed > 0))
            .values(claimed=BUDGET.c.claimed - 1)
        )
        with self.engine.begin() as conn:
            conn.execute(stmt)

    def state(self) -> tuple[int, int]:
        """(claimed, n_trials)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(BUDGET.c.claimed, BUDGET.c.n_trials).where(
                    BUDGET.c.study_name == self.study
                )
            ).one()
        return int(row[0]), int(row[1])
