"""The trials as points of the tradeoff: each trial's validation metric and its
train/validation gap at its best epoch, read from the stored per-epoch table.

Only validation numbers are read: test metrics (see :mod:`hpsearch.pick.evaluate`) never
reach this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import optuna
from optuna.trial import TrialState

from hpsearch.portable.scores import gaps_of
from hpsearch.records import over_splits
from hpsearch.store.database import EpochLog


@dataclass(frozen=True)
class Candidate:
    """One trial's point in the tradeoff: its metric and gap at its best epoch."""

    number: int
    state: str
    value: float
    gap: float
    best_epoch: int
    epochs: int
    stop_reason: str
    params: dict[str, Any]
    baseline: bool


def gap_of(row: dict[str, Any], measure: str) -> float | None:
    """One gap (``accuracy`` or ``loss``) of an epoch row; see :func:`gaps_of`."""
    return gaps_of(row)[measure]


def candidates(
    study: optuna.Study, log: EpochLog, metric: str, measure: str, include_pruned: bool
) -> list[Candidate]:
    """Completed (and optionally pruned) trials with a recorded best epoch: the metric and gap
    there, or their means over the validation splits a trial was scored on (``[objective]
    splits``)."""
    states = (TrialState.COMPLETE, TrialState.PRUNED) if include_pruned else (TrialState.COMPLETE,)
    rows = log.history(study.study_name)
    by_trial: dict[int, dict[int, dict[str, Any]]] = {}
    for r in rows:
        by_trial.setdefault(r["trial_number"], {})[r["epoch"]] = r
    out = []
    for t in study.get_trials(deepcopy=False, states=states):
        best_epoch = int(t.user_attrs.get("best_epoch", 0))
        row = by_trial.get(t.number, {}).get(best_epoch)
        if row is None or row.get(metric) is None:
            continue
        value: float | None = float(row[metric])
        gap = gap_of(row, measure)
        if "splits" in t.user_attrs:  # scored on several validation splits: their means
            value = over_splits(t.user_attrs, "value")
            gap = over_splits(t.user_attrs, f"gap_{measure}")
        if value is None or gap is None:
            continue
        out.append(
            Candidate(
                number=t.number,
                state=t.state.name.lower(),
                value=value,
                gap=gap,
                best_epoch=best_epoch,
                epochs=len(by_trial[t.number]),
                stop_reason=str(t.user_attrs.get("stop_reason", "")),
                params=dict(t.params),
                baseline=bool(t.user_attrs.get("baseline", False)),
            )
        )
    return out


def floor_of(points: list[Candidate]) -> float | None:
    """The value a pick must reach: the baseline trial's (the tutorial's settings), where the
    study ran it. A model that scores below it is no answer, however small its gap: a model at
    chance level does not overfit (its gap is about 0), and a gap limit alone would prefer it."""
    return next((c.value for c in points if c.baseline), None)


def below(value: float, floor: float | None, maximize: bool) -> bool:
    """Whether ``value`` is worse than the floor (never, without one)."""
    return floor is not None and (value < floor if maximize else value > floor)
