"""Create or resume a study from a validated config and run what is left of its budget.

Order matters for "bad input writes nothing": the space, ranges, sampler, pruner, data and
storage are all checked in :func:`prepare` before :func:`run_study` creates anything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import optuna
from optuna.trial import TrialState

from search.config import StudyConfig
from search.data import Dataset, load_dataset
from search.errors import StorageError, TrialDiverged
from search.spaces import RangedTrial, Space, check_ranges, load_space, outside_ranges
from search.store import EpochLog, check_storage, open_storage
from search.strategies import make_pruner, make_sampler

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
"""Trial states that spend the budget: ``n_trials`` counts these, across every worker."""


class Reporter(Protocol):
    """What the runner tells a progress display (see :mod:`search.progress`)."""

    def start(self, study: optuna.Study, total: int, done: int) -> None: ...
    def epoch(self, trial_number: int, epoch: int, logs: dict[str, float]) -> None: ...
    def trial_done(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None: ...
    def stop(self) -> None: ...


class SilentReporter:
    """Reports nothing (library use, tests)."""

    def start(self, study: optuna.Study, total: int, done: int) -> None:
        pass

    def epoch(self, trial_number: int, epoch: int, logs: dict[str, float]) -> None:
        pass

    def trial_done(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        pass

    def stop(self) -> None:
        pass


@dataclass(frozen=True)
class Prepared:
    """Everything a run needs, all checked, nothing written yet."""

    cfg: StudyConfig
    space: Space
    sampler: optuna.samplers.BaseSampler
    pruner: optuna.pruners.BasePruner
    data: Dataset

    @property
    def baseline_note(self) -> str | None:
        """Why the tutorial's baseline will not be trial 0, or None when it will."""
        if not self.cfg.baseline:
            return "baseline off in the study file"
        outside = outside_ranges(self.space.baseline, self.cfg.ranges)
        if outside:
            return f"baseline not enqueued: [ranges] exclude {', '.join(outside)}"
        return None


def prepare(cfg: StudyConfig) -> Prepared:
    """Validate what needs libraries (space, ranges, sampler, pruner, data, storage)."""
    cfg = cfg.with_absolute_paths()
    where = cfg.source
    extra = [Path(where).resolve().parent.parent / "spaces"] if where.endswith(".toml") else []
    space = load_space(cfg.space, extra)
    check_ranges(space, cfg.ranges, where)
    sampler = make_sampler(cfg.sampler, cfg.seed, where, multi=cfg.objective.multi)
    pruner = make_pruner(cfg.pruner, cfg.budget.max_epochs, where)
    check_storage(cfg.storage, create=True)
    data = load_dataset(cfg.dataset, cfg.seed)
    return Prepared(cfg, space, sampler, pruner, data)


def run_study(prep: Prepared, reporter: Reporter | None = None) -> optuna.Study:
    """Create or resume the study, enqueue the baseline once, run the remaining budget."""
    cfg, reporter = prep.cfg, reporter or SilentReporter()
    storage = open_storage(cfg.storage, create=True)
    log = EpochLog(cfg.storage)
    log.create()
    study = optuna.create_study(
        study_name=cfg.name,
        storage=storage,
        sampler=prep.sampler,
        pruner=prep.pruner,
        directions=directions(cfg),
        load_if_exists=True,
    )
    _claim(study, prep)
    done = len(study.get_trials(deepcopy=False, states=FINISHED))
    remaining = cfg.budget.n_trials - done
    reporter.start(study, cfg.budget.n_trials, done)
    if remaining <= 0:
        reporter.stop()
        return study

    from search.trial import run_trial, settings_for  # imports TensorFlow

    settings = settings_for(cfg)
    gap_key = f"gap_{cfg.tradeoff.gap}"

    def objective(trial: optuna.Trial) -> float | tuple[float, float]:
        params = prep.space.suggest(RangedTrial(trial, cfg.ranges))
        value = run_trial(trial, params, prep.space, prep.data, settings, log, reporter.epoch)
        if cfg.objective.multi:
            return value, float(trial.user_attrs[gap_key])
        return value

    try:
        study.optimize(
            objective,
            n_trials=remaining,
            timeout=cfg.budget.timeout,
            catch=(TrialDiverged,),
            callbacks=[
                optuna.study.MaxTrialsCallback(cfg.budget.n_trials, states=FINISHED),
                reporter.trial_done,
            ],
            gc_after_trial=True,
        )
    finally:
        reporter.stop()
        log.dispose()
    return study


def directions(cfg: StudyConfig) -> list[optuna.study.StudyDirection]:
    """The study's direction(s): the metric's, plus "minimize the gap" for two objectives."""
    first = optuna.study.StudyDirection[cfg.objective.resolved_direction().upper()]
    return [first, optuna.study.StudyDirection.MINIMIZE] if cfg.objective.multi else [first]


def _claim(study: optuna.Study, prep: Prepared) -> None:
    """Tag a new study with its space and config; refuse to mix spaces in one study."""
    attrs = study.user_attrs
    cfg = prep.cfg
    if "hpsearch:space" in attrs:
        if attrs["hpsearch:space"] != prep.space.name:
            raise StorageError(
                f"study {cfg.name!r} in {cfg.storage} was created with space "
                f"{attrs['hpsearch:space']!r}, not {prep.space.name!r}; pick another study name"
            )
        return
    if study.trials:
        raise StorageError(
            f"study {cfg.name!r} in {cfg.storage} was not created by hpsearch; pick another name"
        )
    study.set_user_attr("hpsearch:space", prep.space.name)
    study.set_user_attr("hpsearch:metric", cfg.monitor)
    study.set_user_attr("hpsearch:config", json.loads(json.dumps(cfg.to_dict(), default=str)))
    study.set_user_attr("hpsearch:dataset", prep.data.summary())
    if prep.baseline_note is None:
        study.enqueue_trial(prep.space.baseline, user_attrs={"baseline": True})
