"""Measure one configuration once on the test split, and keep that number apart.

``evaluate`` retrains the chosen trial's configuration with its own seed on the training
split (validation split for early stopping, exactly as in the search), then evaluates it
once on the test split. The result goes to ``hpsearch_test_results``, a table nothing that
ranks or picks trials reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from search.errors import DataError, StorageError
from search.queries import load, stored_config
from search.store import EpochLog
from search.tradeoff import analyse


@dataclass(frozen=True)
class Evaluation:
    """A trial's test-split result, with the retrained run's validation value beside it."""

    study: str
    trial: int
    params: dict[str, Any]
    test_loss: float
    test_accuracy: float
    test_size: int
    metric: str
    search_value: float | None
    retrained_value: float | None


def chosen_trial(study: optuna.Study, log: EpochLog, number: int | None) -> FrozenTrial:
    """Trial ``number``, or the tradeoff pick; it must have completed."""
    trials = study.get_trials(deepcopy=False)
    if number is None:
        result = analyse(study, log)
        if result.pick is None:
            raise StorageError(
                f"study {study.study_name!r} has no pick ({result.reason}); pass --trial N"
            )
        number = result.pick.number
    if not 0 <= number < len(trials):
        raise StorageError(
            f"trial {number} is out of range; study {study.study_name!r} has trials "
            f"0..{len(trials) - 1}"
        )
    trial = trials[number]
    if trial.state != TrialState.COMPLETE:
        raise StorageError(
            f"trial {number} of {study.study_name!r} is {trial.state.name.lower()}, not complete"
        )
    return trial


def chosen_params(space_suggest: Any, trial: FrozenTrial) -> dict[str, Any]:
    """The exact params dict the space built the trial from (suggest replayed on its values)."""
    return dict(space_suggest(optuna.trial.FixedTrial(trial.params, trial.number)))


def evaluate(url: str, name: str, number: int | None = None) -> Evaluation:
    from search.runner import prepare
    from search.trial import build, early_stopping, fit, settings_for, train_eval

    study = load(url, name, write=True)  # writable: the test result goes to this store
    log = EpochLog(url)
    trial = chosen_trial(study, log, number)
    cfg = stored_config(study, url)
    prep = prepare(cfg)
    params = chosen_params(prep.space.suggest, trial)
    data = prep.data_for(params)
    if data.x_test is None or data.y_test is None:
        raise DataError(
            f"study {name!r}: its dataset has no test split; set dataset.test_path (csv), "
            "a test/ folder (directory) or dataset.test_samples (synthetic)"
        )
    settings = settings_for(cfg)
    model = build(params, prep.space, data, int(trial.user_attrs["seed"]))
    stopper = early_stopping(settings)
    # The same callbacks as the trial: its inference-mode evaluation creates dataset ops, which
    # moves TensorFlow's per-op seeds, so without it the epochs would shuffle differently.
    history = fit(model, params, data, settings, [train_eval(data, cfg.seed), stopper]).history
    values = history.get(settings.monitor, [])
    retrained = float(values[stopper.best_epoch]) if stopper.best_epoch < len(values) else None
    loss, accuracy = model.evaluate(data.x_test, data.y_test, batch_size=256, verbose=0)
    log.record_test(name, trial.number, float(loss), float(accuracy), len(data.y_test))
    log.dispose()
    return Evaluation(
        study=name,
        trial=trial.number,
        params=params,
        test_loss=float(loss),
        test_accuracy=float(accuracy),
        test_size=len(data.y_test),
        metric=settings.monitor,
        search_value=trial.values[0] if trial.values else None,
        retrained_value=retrained,
    )
