"""Run a space's own ``suggest()`` under KerasTuner, and copy KerasTuner's trials into the store.

:class:`OptunaStyleHP` answers Optuna's ``suggest_float/int/categorical`` with KerasTuner's
``hp.Float/Int/Choice``, so KerasTuner searches exactly the space hpsearch searches (conditional
knobs included: KerasTuner registers a hyperparameter when ``suggest`` first reaches it). It also
records each parameter's Optuna distribution, so :func:`copy_to_store` can add KerasTuner's trials
to an Optuna study (``optuna.trial.create_trial``) that the CLI and the dashboard show side by side.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from hpsearch.config import RangeOverride
from hpsearch.data import Dataset
from hpsearch.engine import setting
from hpsearch.engine.spaces import RangedTrial, Space
from hpsearch.errors import MissingExtraError
from hpsearch.store.tags import StudyTags

try:  # the kt extra: KerasTuner (and TensorBoard, which it imports on TensorFlow)
    import keras_tuner
except ImportError as exc:
    raise MissingExtraError("KerasTuner (for the KerasTuner bridge)", "kt", str(exc)) from None


class OptunaStyleHP:
    """Optuna's trial API on top of KerasTuner's ``HyperParameters``."""

    def __init__(self, hp: keras_tuner.HyperParameters) -> None:
        self.hp = hp
        self.distributions: dict[str, BaseDistribution] = {}

    def suggest_float(
        self, name: str, low: float, high: float, *, step: float | None = None, log: bool = False
    ) -> float:
        self.distributions[name] = FloatDistribution(low, high, step=step, log=log)
        sampling = "log" if log else "linear"
        value = float(self.hp.Float(name, low, high, step=step, sampling=sampling))
        return min(max(value, low), high)  # as suggest_int: KerasTuner may round past a bound

    def suggest_int(
        self, name: str, low: int, high: int, *, step: int = 1, log: bool = False
    ) -> int:
        self.distributions[name] = IntDistribution(low, high, step=step, log=log)
        # KerasTuner reads a log-scale step as a multiplier, and wants none to mean "any".
        sampling = "log" if log else "linear"
        value = int(self.hp.Int(name, low, high, step=None if log else step, sampling=sampling))
        # KerasTuner's BayesianOptimization can round a log-scale Int to one past its maximum
        # (seen: maxlen 912 of 911 vectorized tokens); the model gets the range's own bound.
        return min(max(value, low), high)

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        self.distributions[name] = CategoricalDistribution(list(choices))
        if all(isinstance(c, bool) for c in choices):
            return bool(self.hp.Boolean(name, default=bool(choices[0])))
        return self.hp.Choice(name, list(choices), ordered=False)


class SpaceHyperModel(keras_tuner.HyperModel):
    """A KerasTuner HyperModel built from a space module, compiled as hpsearch compiles."""

    def __init__(
        self, space: Space, data: Dataset, ranges: dict[str, RangeOverride] | None = None
    ) -> None:
        super().__init__(name=space.name)
        self.space = space
        self.data = data
        self.ranges = ranges or {}
        self.distributions: dict[str, BaseDistribution] = {}

    def params(self, hp: keras_tuner.HyperParameters) -> dict[str, Any]:
        bridge = OptunaStyleHP(hp)
        # A study's [ranges] (and pinned data knobs) narrow KerasTuner's search the same way.
        params = self.space.suggest(RangedTrial(bridge, self.ranges))  # type: ignore[arg-type]
        self.distributions.update(bridge.distributions)
        return params

    def build(self, hp: keras_tuner.HyperParameters) -> Any:
        from hpsearch.portable.training import compile_model

        params = self.params(hp)
        return compile_model(self.space.build_model(params, self.data_for(params)), params)

    def data_for(self, params: dict[str, Any]) -> Dataset:
        """The data at the trial's vocabulary size and length (its data knobs, if any)."""
        return self.data.restrict(*setting.of(params))

    def fit(self, hp: keras_tuner.HyperParameters, model: Any, *args: Any, **kwargs: Any) -> Any:
        """Fit on the data at the trial's setting: KerasTuner passes the study's full arrays,
        which only fit a model built for the largest vocabulary and length."""
        params = self.params(hp)
        data = self.data_for(params)
        kwargs.pop("x", None), kwargs.pop("y", None), kwargs.pop("validation_data", None)
        return model.fit(
            data.x_train,
            data.y_train,
            *args[2:],
            batch_size=params["batch_size"],
            validation_data=(data.x_val, data.y_val),
            **kwargs,
        )


def copy_to_store(
    tuner: keras_tuner.Tuner,
    hypermodel: SpaceHyperModel,
    study: optuna.Study,
    metric: str = "val_accuracy",
) -> int:
    """Add the tuner's finished trials to ``study`` (values = best ``metric``); returns count.

    Each trial also gets the user attributes an hpsearch trial has (best epoch, the train
    and validation numbers there, both gaps), so ``hpsearch trials`` shows them in the same
    columns.
    """
    added = 0
    for kt_trial in tuner.oracle.trials.values():
        if kt_trial.status != "COMPLETED":
            continue
        best = kt_trial.metrics.get_best_value(metric)
        if best is None:
            continue
        params = hypermodel.params(kt_trial.hyperparameters)
        asked = {k: v for k, v in params.items() if k in hypermodel.distributions}
        study.add_trial(
            optuna.trial.create_trial(
                params=asked,
                distributions={k: hypermodel.distributions[k] for k in asked},
                value=float(best),
                user_attrs={
                    "keras_tuner_trial": kt_trial.trial_id,
                    "source": "keras-tuner",
                    **_summary(kt_trial, metric),
                },
            )
        )
        added += 1
    return added


def keras_tuner_study(
    tuner: keras_tuner.Tuner,
    hypermodel: SpaceHyperModel,
    storage: str,
    name: str,
    metric: str = "val_accuracy",
) -> optuna.Study:
    """A new study in ``storage`` holding the tuner's finished trials, tagged like an hpsearch
    study (space, metric), so ``hpsearch studies``/``trials``/``best`` and optuna-dashboard
    show it beside hpsearch's own."""
    study = optuna.create_study(
        study_name=name,
        storage=storage,
        direction="minimize" if metric.endswith("loss") else "maximize",
    )
    source = f"keras-tuner {type(tuner).__name__}"
    StudyTags(space=hypermodel.space.name, metric=metric, source=source).write(study)
    copy_to_store(tuner, hypermodel, study, metric)
    return study


def _summary(kt_trial: Any, metric: str) -> dict[str, Any]:
    """The best epoch and the train/validation metrics there, with the gaps.

    KerasTuner keeps only the best epoch of each trial (its ``step``), not the whole curve,
    so the number of epochs a trial ran is not known here.
    """
    from hpsearch.engine.trial import summarize

    tracked = kt_trial.metrics
    step = int(tracked.get_best_step(metric))  # within this trial's own fit (see best_epoch)
    row = {
        name: float(o.mean())
        for name in ("loss", "accuracy", "val_loss", "val_accuracy")
        if tracked.exists(name)
        for o in tracked.get_history(name)
        if o.step == step
    }
    out = summarize([row], 0, metric)
    del out["epochs"], out["value"]  # unknown; the trial's value already
    return {**out, "best_epoch": best_epoch(kt_trial, metric)}


def best_epoch(kt_trial: Any, metric: str = "val_accuracy") -> int:
    """The 1-based epoch, counted from a fresh model, at which the trial's ``metric`` was best:
    how many epochs a refit of its hyperparameters should train.

    KerasTuner records the best step within the trial's own ``fit``, counted from 0. A Hyperband
    trial of a later round resumes an earlier trial's model and fits from epoch
    ``tuner/initial_epoch``, so its own count misses the epochs the model had already trained
    (a refit for the short count undertrains: seen as 0.66 against 0.80 on SST-2).
    """
    step = int(kt_trial.metrics.get_best_step(metric))
    return int(kt_trial.hyperparameters.values.get("tuner/initial_epoch", 0)) + step + 1
