"""Pick the generalization tradeoff: validation metric against the train/validation gap.

Everything here is computed from the stored per-epoch table (``hpsearch_epochs``) at each
trial's best epoch, so the numbers match a plain SQL query of that table. Only validation
numbers are used: test metrics (see :mod:`hpsearch.pick.evaluate`) never reach this module.

Optuna finds the Pareto front of a multi-objective *study*; here the second objective (the
gap) is computed after the fact for single-objective studies too, so the front is a few
lines of our own over plain candidates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import optuna

from hpsearch.config import GAP_MEASURES
from hpsearch.errors import ConfigError, StorageError
from hpsearch.pick.candidates import Candidate, below, candidates, floor_of
from hpsearch.pick.finalists import Finalist, rank, summarize
from hpsearch.pick.relative import relative_limit, tolerance
from hpsearch.store.database import EpochLog, Store
from hpsearch.store.queries import best_trial, load, trial_row
from hpsearch.store.runs import RunLog
from hpsearch.store.tags import StudyTags


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
    """Re-evaluated finalists (see :mod:`hpsearch.pick.finalists`); when there are any, the pick is
    the best of them by mean, not the best single search value."""
    floor: float | None = None
    """The baseline trial's value, which a pick must reach (:func:`floor_of`)."""
    floor_error: float = 0.0
    """One standard error of the floor (the baseline's own, re-evaluated; else the binomial
    error of an accuracy on the validation split): how far below it a model is within noise."""
    relative: bool = False
    """No ``max_gap`` was given: ``max_gap`` is the limit :mod:`hpsearch.pick.relative` derived
    from this study's best trials (a tie-break within the noise, not a hard limit)."""

    @property
    def chosen(self) -> Finalist | None:
        """The pick's re-evaluated numbers, when it was re-evaluated."""
        if self.pick is None:
            return None
        return next((f for f in self.finalists if f.number == self.pick.number), None)


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
    floor = floor_of(points)
    within = [c for c in points if c.gap <= max_gap and not below(c.value, floor, maximize)]
    if not within:
        smallest = min(points, key=lambda c: c.gap)
        if smallest.gap <= max_gap:  # only models worse than the baseline are within the gap
            return None, (
                f"no trial with a gap <= {max_gap:g} scores at least the baseline ({floor:.4f}): "
                "raise --max-gap or search more"
            )
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
    if max_gap is not None and (math.isnan(float(max_gap)) or float(max_gap) < 0):
        shown = float(max_gap)
        raise ConfigError(f"--max-gap {shown!r} is not a number >= 0; allowed: >= 0 (inf: none)")
    metric = tags.objective
    if not tags.by_hpsearch:
        raise StorageError(f"study {study.study_name!r} was not created by hpsearch")
    maximize = study.directions[0] == optuna.study.StudyDirection.MAXIMIZE
    points = candidates(study, log, metric, measure, include_pruned)
    runs = RunLog(log.engine).runs(study.study_name)
    size = tags.validation_size
    finalists = tuple(
        summarize(c, runs[c.number], measure, metric, size) for c in points if c.number in runs
    )
    floor = floor_of(points)
    # The re-evaluated finalists are held to the baseline re-evaluated on the same splits.
    again = next((f for f in finalists if f.mean is not None and _is_baseline(f, points)), None)
    if again is not None:
        floor = again.mean
    floor_error = (
        0.0
        if floor is None
        else tolerance(floor, metric, size, None if again is None else again.sem)
    )
    how = ""
    if max_gap is None:
        limit, how = _relative(points, finalists, floor, maximize, metric, size)
    else:
        limit = float(max_gap)
    chosen, reason = pick(points, limit, maximize)
    best, why = rank(list(finalists), limit, maximize, floor)
    if best is not None:
        chosen = next(c for c in points if c.number == best.number)
        reason = why
    if how and chosen is not None:
        reason = f"{reason}; {how}"
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
        floor=floor,
        floor_error=floor_error,
        relative=max_gap is None,
    )


def _is_baseline(f: Finalist, points: list[Candidate]) -> bool:
    return any(c.baseline and c.number == f.number for c in points)


def _relative(
    points: list[Candidate],
    finalists: tuple[Finalist, ...],
    floor: float | None,
    maximize: bool,
    metric: str,
    size: int | None,
) -> tuple[float, str]:
    """The default limit (:mod:`hpsearch.pick.relative`): over the re-evaluated finalists by
    mean where there are any, else over the search's trials; those below the baseline aside.
    ``size``: the validation split's texts, where the study recorded it."""
    scored = [
        f
        for f in finalists
        if f.mean is not None and f.gap is not None and not below(f.mean, floor, maximize)
    ]
    if scored:
        sign = -1.0 if maximize else 1.0
        top = min(scored, key=lambda f: (sign * (f.mean or 0.0), f.number))
        pairs = [(f.mean or 0.0, f.gap or 0.0) for f in scored]
        return relative_limit(pairs, maximize, metric, size, top.sem)
    pairs = [(c.value, c.gap) for c in points if not below(c.value, floor, maximize)]
    return relative_limit(pairs, maximize, metric, size)


def best_row(url: str, name: str) -> dict[str, Any]:
    """The best completed trial; once the finalists are re-evaluated (``hpsearch select``),
    the re-evaluated pick, with its mean and standard error under ``reevaluated``."""
    study = load(url, name)
    best = best_trial(study)
    if best is None:
        raise StorageError(f"study {name!r} has no completed trial yet")
    reevaluated = None
    tags = StudyTags.of(study)
    if tags.by_hpsearch:
        chosen = analyse(study, Store.open(url).epochs).chosen
        if chosen is not None:
            best = study.get_trials(deepcopy=False)[chosen.number]
            reevaluated = chosen.record()
    return {
        "study": name,
        "metric": tags.score,
        **trial_row(best),
        "reevaluated": reevaluated,
    }
