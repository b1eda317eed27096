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

from hpsearch.engine.spaces import Space
from hpsearch.errors import ConfigError, DataError, StorageError
from hpsearch.pick.tradeoff import analyse
from hpsearch.portable.scores import confusion_matrix, confusion_table, macro_f1_of
from hpsearch.store.database import EpochLog
from hpsearch.store.queries import load


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
    classes: tuple[str, ...] = ("0", "1")
    confusion: tuple[tuple[int, ...], ...] = ()
    """Counts by (true class, predicted class), in ``classes`` order."""
    macro_f1: float | None = None
    reads: int = 1
    """Reads of the study's test split so far, this one included: above 1 the number is no
    longer an unbiased estimate (the choice may have seen an earlier one)."""

    @property
    def unbiased(self) -> bool:
        return self.reads == 1

    def confusion_text(self) -> str:
        """The confusion matrix as an aligned text table (rows: true class)."""
        return confusion_table(self.classes, self.confusion)


def check_number(study: str, number: int, count: int) -> None:
    """A trial number given by the user names one of the study's ``count`` trials."""
    if not 0 <= number < count:
        held = f"trials 0..{count - 1}" if count else "no trials yet"
        # The user's argument is out of range: bad input (exit 2), not a fault of the store.
        raise ConfigError(f"trial {number} is out of range; study {study!r} has {held}")


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
    check_number(study.study_name, number, len(trials))
    trial = trials[number]
    if trial.state != TrialState.COMPLETE:
        raise StorageError(
            f"trial {number} of {study.study_name!r} is {trial.state.name.lower()}, not complete"
        )
    return trial


def chosen_params(space_suggest: Any, trial: FrozenTrial) -> dict[str, Any]:
    """The exact params dict the space built the trial from (suggest replayed on its values)."""
    return dict(space_suggest(optuna.trial.FixedTrial(trial.params, trial.number)))


def check_unread(log: EpochLog, name: str, again: bool) -> int:
    """The test split is read once per study. A study whose test split was read already is
    refused in one line, before anything trains, unless ``again``; returns the reads so far."""
    reads = log.test_reads(name)
    if reads and not again:
        first = reads[0]
        when = "" if first.get("read_at") is None else f" on {first['read_at']:%Y-%m-%d %H:%M}"
        raise ConfigError(
            f"study {name!r}: its test split was read already (trial {first['trial_number']}, "
            f"by `{first['command']}`{when}); a second read is no longer an unbiased "
            "estimate; allowed: `hpsearch evaluate --again` reads it anyway, recorded, and "
            "every report then says so"
        )
    return len(reads)


def evaluate(
    url: str,
    name: str,
    number: int | None = None,
    space: Space | None = None,
    again: bool = False,
    accept_changed_data: bool = False,
) -> Evaluation:
    from hpsearch.engine.runner import prepare_stored
    from hpsearch.engine.trial import build, settings_for
    from hpsearch.portable.training import early_stopping, fit, score_key, scoring

    study = load(url, name, write=True)  # writable: the test result goes to this store
    log = EpochLog(url)
    before = check_unread(log, name, again)
    trial = chosen_trial(study, log, number)
    # The study's own space, from wherever it was found (or given, checked against it).
    prep = prepare_stored(study, url, space=space, accept_changed_data=accept_changed_data)
    cfg = prep.cfg
    params = chosen_params(prep.space.suggest, trial)
    data = prep.data_for(params)
    if data.x_test is None or data.y_test is None:
        raise DataError(
            f"study {name!r}: its dataset has no test split; set dataset.test_path (csv), "
            "a test/ folder (directory) or dataset.test_samples (synthetic)"
        )
    settings = settings_for(cfg)
    model = build(params, prep.space, data, int(trial.user_attrs["seed"]), settings.monitor)
    stopper = early_stopping(settings)
    # The same callbacks as the trial: its inference-mode evaluation creates dataset ops, which
    # moves TensorFlow's per-op seeds, so without it the epochs would shuffle differently.
    history = fit(model, params, data, settings, [*scoring(settings, data, cfg.seed), stopper])
    values = history.history.get(score_key(settings), [])
    retrained = float(values[stopper.best_epoch]) if stopper.best_epoch < len(values) else None
    result = model.evaluate(data.x_test, data.y_test, batch_size=256, verbose=0, return_dict=True)
    loss, accuracy = float(result["loss"]), float(result["accuracy"])
    matrix = confusion_matrix(
        data.y_test, model.predict(data.x_test, batch_size=256, verbose=0), data.num_classes
    )
    macro_f1 = macro_f1_of(matrix)
    confusion = {"classes": list(data.classes), "matrix": matrix.tolist()}
    command = "hpsearch evaluate --again" if before else "hpsearch evaluate"
    log.record_test(
        name, trial.number, loss, accuracy, len(data.y_test), macro_f1, confusion, command
    )
    log.dispose()
    return Evaluation(
        study=name,
        trial=trial.number,
        params=params,
        test_loss=float(loss),
        test_accuracy=float(accuracy),
        test_size=len(data.y_test),
        metric=score_key(settings),
        search_value=trial.values[0] if trial.values else None,
        retrained_value=retrained,
        classes=data.classes,
        confusion=tuple(tuple(int(v) for v in row) for row in matrix),
        macro_f1=macro_f1,
        reads=before + 1,
    )
