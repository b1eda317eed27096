"""Pick the generalization tradeoff: validation metric against the train/validation gap.

Everything here is computed from the stored per-epoch table (``hpsearch_epochs``) at each
trial's best epoch, so the numbers match a plain SQL query of that table. Only validation
numbers are used: test metrics (see :mod:`hpsearch.evaluate`) never reach this module.

Optuna finds the Pareto front of a multi-objective *study*; here the second objective (the
gap) is computed after the fact for single-objective studies too, so the front is a few
lines of our own over plain candidates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.trial import TrialState

from hpsearch.config import DEFAULT_MAX_GAP, GAP_MEASURES
from hpsearch.errors import ConfigError, StorageError
from hpsearch.selection import Finalist, Selection, rank, summarize
from hpsearch.store import EpochLog
from hpsearch.tags import StudyTags


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


@dataclass(frozen=True)
class Tradeoff:
    """The candidates, their Pareto front, and the pick with the reason for it."""

    study: str
    metric: str
    maximize: bool
    gap_measure: str
    max_gap: float
    candidates: list[Candidate]
    front: list[Candidate]
    pick: Candidate | None
    reason: str
    finalists: tuple[Finalist, ...] = ()
    """Re-evaluated finalists (see :mod:`hpsearch.selection`); when there are any, the pick is
    the best of them by mean, not the best single search value."""

    @property
    def chosen(self) -> Finalist | None:
        """The pick's re-evaluated numbers, when it was re-evaluated."""
        if self.pick is None:
            return None
        return next((f for f in self.finalists if f.number == self.pick.number), None)


def gaps_of(row: dict[str, Any]) -> dict[str, float | None]:
    """The overfitting gaps of one epoch's numbers: accuracy gap = training accuracy -
    validation accuracy, loss gap = validation loss - training loss. The training side is
    the inference-mode measurement (``train_eval_*``) where there is one, else Keras'
    training-mode average (stores written before it was measured, KerasTuner's trials)."""

    def side(key: str) -> float | None:
        for k in (f"train_eval_{key}", key):
            v = row.get(k)
            if v is not None and math.isfinite(v):
                return float(v)
        return None

    def finite(key: str) -> float | None:
        v = row.get(key)
        return float(v) if v is not None and math.isfinite(v) else None

    train_acc, val_acc = side("accuracy"), finite("val_accuracy")
    train_loss, val_loss = side("loss"), finite("val_loss")
    return {
        "accuracy": None if train_acc is None or val_acc is None else train_acc - val_acc,
        "loss": None if train_loss is None or val_loss is None else val_loss - train_loss,
    }


def gap_of(row: dict[str, Any], measure: str) -> float | None:
    """One gap (``accuracy`` or ``loss``) of an epoch row; see :func:`gaps_of`."""
    return gaps_of(row)[measure]


def candidates(
    study: optuna.Study, log: EpochLog, metric: str, measure: str, include_pruned: bool
) -> list[Candidate]:
    """Completed (and optionally pruned) trials with a recorded best epoch."""
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
        gap = gap_of(row, measure)
        if gap is None:
            continue
        out.append(
            Candidate(
                number=t.number,
                state=t.state.name.lower(),
                value=float(row[metric]),
                gap=gap,
                best_epoch=best_epoch,
                epochs=len(by_trial[t.number]),
                stop_reason=str(t.user_attrs.get("stop_reason", "")),
                params=dict(t.params),
                baseline=bool(t.user_attrs.get("baseline", False)),
            )
        )
    return out


def pareto_front(points: list[Candidate], maximize: bool) -> list[Candidate]:
    """Candidates no other candidate beats on both value and gap, by increasing gap."""

    def better_or_equal(a: Candidate, b: Candidate) -> bool:
        value_ok = a.value >= b.value if maximize else a.value <= b.value
        return value_ok and a.gap <= b.gap

    def dominates(a: Candidate, b: Candidate) -> bool:
        return better_or_equal(a, b) and (a.value != b.value or a.gap != b.gap)

    front = [p for p in points if not any(dominates(q, p) for q in points)]
    return sorted(front, key=lambda c: (c.gap, c.number))


def pick(points: list[Candidate], max_gap: float, maximize: bool) -> tuple[Candidate | None, str]:
    """Best validation metric among candidates whose gap is at most ``max_gap``."""
    if not points:
        return None, "no completed trial with a recorded best epoch"
    within = [c for c in points if c.gap <= max_gap]
    if not within:
        smallest = min(points, key=lambda c: c.gap)
        return None, (
            f"no trial has a gap <= {max_gap:g}; the smallest is {smallest.gap:.4f} "
            f"(trial {smallest.number}): raise --max-gap or search more"
        )
    sign = -1.0 if maximize else 1.0
    chosen = min(within, key=lambda c: (sign * c.value, c.gap, c.number))
    overall = min(points, key=lambda c: (sign * c.value, c.gap, c.number))
    reason = (
        f"best validation value among the {len(within)} of {len(points)} trials whose gap "
        f"is <= {max_gap:g}"
    )
    if overall.number != chosen.number:
        reason += (
            f"; trial {overall.number} scores higher ({overall.value:.4f}) but overfits "
            f"more (gap {overall.gap:.4f})"
        )
    return chosen, reason


def analyse(
    study: optuna.Study,
    log: EpochLog,
    *,
    gap: str | None = None,
    max_gap: float | None = None,
    include_pruned: bool = False,
) -> Tradeoff:
    """The tradeoff of a stored study; defaults come from the study file's ``[tradeoff]``."""
    tags = StudyTags.of(study)
    settings = tags.tradeoff
    measure = gap or settings.get("gap", "accuracy")
    if measure not in GAP_MEASURES:
        raise ConfigError(f"--gap {measure!r} is unknown; allowed: {', '.join(GAP_MEASURES)}")
    if max_gap is None:
        same = settings.get("gap", "accuracy") == measure
        max_gap = settings.get("max_gap") if same else None
    limit = DEFAULT_MAX_GAP[measure] if max_gap is None else float(max_gap)
    if math.isnan(limit) or limit < 0:
        raise ConfigError(f"--max-gap {limit!r} is not a number >= 0; allowed: >= 0 (inf: none)")
    metric = tags.objective
    if not tags.by_hpsearch:
        raise StorageError(f"study {study.study_name!r} was not created by hpsearch")
    maximize = study.directions[0] == optuna.study.StudyDirection.MAXIMIZE
    points = candidates(study, log, metric, measure, include_pruned)
    chosen, reason = pick(points, limit, maximize)
    runs = Selection(log.engine).runs(study.study_name)
    finalists = tuple(summarize(c, runs[c.number], measure) for c in points if c.number in runs)
    best, why = rank(list(finalists), limit, maximize)
    if best is not None:
        chosen = next(c for c in points if c.number == best.number)
        reason = why
    return Tradeoff(
        study=study.study_name,
        metric=metric,
        maximize=maximize,
        gap_measure=measure,
        max_gap=limit,
        candidates=points,
        front=pareto_front(points, maximize),
        pick=chosen,
        reason=reason,
        finalists=finalists,
    )
