"""One trial: a fresh, seeded Keras session that builds, compiles and fits one configuration.

Keras' ``EarlyStopping`` ends a trial that stopped improving; optuna-integration's
``KerasPruningCallback`` reports the monitored metric every epoch and prunes a hopeless
trial. :class:`EpochRecorder` (ours: neither library writes training *and* validation
metrics per epoch to a database) stores every epoch and fails a trial whose loss diverges.
"""

from __future__ import annotations

import math
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import keras
import optuna
import tensorflow as tf
from optuna_integration import KerasPruningCallback

from hpsearch.config import StudyConfig
from hpsearch.data import Dataset
from hpsearch.data.base import subsample
from hpsearch.errors import HpsearchError, TrialDiverged
from hpsearch.knobs import make_optimizer
from hpsearch.records import StopReason
from hpsearch.signals import deferred, raise_pending
from hpsearch.spaces import Space
from hpsearch.store import EpochLog
from hpsearch.tradeoff import gaps_of

EpochHook = Callable[[int, int, dict[str, float]], None]
WORKER = f"{socket.gethostname()}:{os.getpid()}"
"""Which process ran a trial (host:pid), stored on each trial."""


@dataclass(frozen=True)
class TrainSettings:
    """What a trial needs from the study file."""

    study_name: str
    monitor: str
    direction: str
    max_epochs: int
    patience: int
    min_delta: float
    restore_best_weights: bool
    study_seed: int
    prune: bool = True
    gap_limit: tuple[str, float] | None = None
    """``([tradeoff] gap, max_gap)`` when the study constrains the search to that gap."""
    penalty: tuple[str, float] | None = None
    """``([tradeoff] gap, max_gap)`` when the study scores epochs by :class:`GapPenalty`."""


def settings_for(cfg: StudyConfig) -> TrainSettings:
    """A trial's training settings, from the study file."""
    es = cfg.early_stopping
    return TrainSettings(
        study_name=cfg.name,
        monitor=cfg.monitor,
        direction=cfg.objective.resolved_direction(),
        max_epochs=cfg.budget.max_epochs,
        patience=es.patience,
        min_delta=es.min_delta,
        restore_best_weights=es.restore_best_weights,
        study_seed=cfg.seed,
        prune=not cfg.objective.multi,
        gap_limit=(cfg.tradeoff.gap, cfg.tradeoff.limit()) if cfg.tradeoff.constrain else None,
        penalty=(cfg.tradeoff.gap, cfg.tradeoff.limit()) if cfg.tradeoff.penalize else None,
    )


def score_key(settings: Any) -> str:
    """The log key a run is judged by: early stopping, pruning, its best epoch and value.
    The study's metric, or with ``[tradeoff] penalize`` that metric less the excess gap
    (:class:`GapPenalty`). ``settings`` is a :class:`TrainSettings` or an exported script's
    namespace of the same fields."""
    penalized = getattr(settings, "penalty", None) is not None
    return f"{settings.monitor}_penalized" if penalized else str(settings.monitor)


def trial_seed(study_seed: int, trial_number: int) -> int:
    """The seed of one trial: a fixed function of the study seed and the trial number."""
    return (study_seed * 1_000_003 + trial_number * 7_919 + 17) % (2**31 - 1)


def seed_everything(seed: int) -> None:
    """Fresh Keras session, every RNG seeded, deterministic TensorFlow ops (CPU repeats exactly)."""
    keras.backend.clear_session(free_memory=False)  # Optuna's gc_after_trial collects
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


class MacroF1(keras.metrics.F1Score):
    """Macro-averaged F1 over the classes, from sparse labels: each class's F1 from the
    epoch's true/false positive and false negative counts, then their plain mean (a rare
    class counts as much as a common one). A row's prediction is its most probable class.

    Keras' ``F1Score`` keeps those counts but wants one-hot labels and, on a one-unit sigmoid
    head, scores the positive class alone; this feeds it one-hot labels and, for a sigmoid
    head, the two columns ``[1 - p, p]``, so two classes get a true macro F1 too.
    """

    def __init__(self, name: str = "macro_f1", dtype: Any = None) -> None:
        super().__init__(average="macro", threshold=None, name=name, dtype=dtype)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        from keras import ops

        y_pred = ops.convert_to_tensor(y_pred, dtype=self.dtype)
        if y_pred.shape[-1] == 1:
            y_pred = ops.concatenate([1.0 - y_pred, y_pred], axis=-1)
        labels = ops.cast(ops.reshape(y_true, (-1,)), "int32")
        super().update_state(ops.one_hot(labels, y_pred.shape[-1]), y_pred, sample_weight)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype}


def compile_model(
    model: keras.Model, params: dict[str, Any], monitor: str = "val_accuracy"
) -> keras.Model:
    """Compile with the chosen optimizer. The loss follows the model's head: one sigmoid unit
    is binary cross-entropy, k softmax units sparse categorical cross-entropy (labels are
    class indices). Accuracy always; macro F1 too when the study watches it."""
    binary = model.output_shape[-1] == 1
    metrics: list[Any] = ["accuracy"]
    if monitor.endswith("macro_f1"):
        metrics.append(MacroF1())
    model.compile(
        optimizer=make_optimizer(params),
        loss="binary_crossentropy" if binary else "sparse_categorical_crossentropy",
        metrics=metrics,
    )
    return model


class StopOnSignal(keras.callbacks.Callback):
    """Raises a Ctrl-C/SIGTERM that arrived during training at the next batch or epoch
    boundary (see :mod:`hpsearch.signals`: raised where it lands, Keras may swallow it)."""

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        raise_pending()

    def on_test_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        raise_pending()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        raise_pending()


class TrainEval(keras.callbacks.Callback):
    """Training loss and accuracy (and macro F1 when compiled) in inference mode, every
    epoch: ``train_eval_loss``, ``train_eval_accuracy`` (``train_eval_macro_f1``) in the logs.

    Keras' own ``loss``/``accuracy`` are averaged over the epoch with dropout active, so a
    heavily regularized model looks as if it did not overfit. This evaluates the model as it
    stands at the epoch's end, dropout off, on a fixed training subsample as large as the
    validation split, which makes the train/validation gap honest. Runs before the callbacks
    that read the logs (early stopping, the epoch store).
    """

    def __init__(self, x: Any, y: Any) -> None:
        super().__init__()
        # Batched and cached once: handed arrays, every evaluate() call would convert them to
        # a new tf.data pipeline first, 0.1 s of fixed cost per epoch that dwarfs the pass
        # itself on small models (`benchmarks/compare.py --overhead-only`). Same numbers.
        self.data = tf.data.Dataset.from_tensor_slices((x, y)).batch(256).cache()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if logs is None:
            return
        result = self.model.evaluate(self.data, verbose=0, return_dict=True)
        for key in ("loss", "accuracy", "macro_f1"):
            if key in result:
                logs[f"train_eval_{key}"] = float(result[key])


def train_eval(data: Any, seed: int) -> TrainEval:
    """The :class:`TrainEval` callback on a stratified, seeded sample of the training split
    with as many rows as the validation split."""
    rows = subsample(data.y_train, len(data.y_val), seed)
    return TrainEval(data.x_train[rows], data.y_train[rows])


class GapPenalty(keras.callbacks.Callback):
    """Scores each epoch by the validation metric less how far its train/validation gap
    exceeds the limit: ``<metric>_penalized`` in the logs (``[tradeoff] penalize``).

    With ``max_gap = 0.05``, an epoch at 0.87 validation accuracy with a gap of 0.09 scores
    0.83, one at 0.85 with a gap of 0.05 scores 0.85. Early stopping, pruning, the best epoch
    and the trial's value then all follow the score, so the sampler climbs toward models the
    tradeoff can pick, and every trial still has a value it can learn from (Optuna's
    constraints only say feasible or not, and TPE then learnt that feasible means
    chance-level). Neither Keras nor Optuna scores an epoch by two logged numbers, hence ours.
    Runs after :class:`TrainEval` (the honest training side) and before the callbacks that
    read the logs.
    """

    def __init__(self, monitor: str, maximize: bool, measure: str, limit: float) -> None:
        super().__init__()
        self.monitor, self.maximize, self.measure, self.limit = monitor, maximize, measure, limit

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if logs is None or self.monitor not in logs:
            return
        gap = gaps_of(logs)[self.measure]
        excess = 0.0 if gap is None else max(0.0, gap - self.limit)
        value = float(logs[self.monitor])
        logs[f"{self.monitor}_penalized"] = value - excess if self.maximize else value + excess


def scoring(settings: Any, data: Any, seed: int) -> list[keras.callbacks.Callback]:
    """The callbacks that put a run's judged numbers in the logs before anything reads them:
    :class:`TrainEval` on a training subsample chosen by ``seed``, then :class:`GapPenalty`
    when the study penalizes the gap."""
    out: list[keras.callbacks.Callback] = [train_eval(data, seed)]
    penalty = getattr(settings, "penalty", None)
    if penalty is not None:
        maximize = settings.direction != "minimize"
        out.append(GapPenalty(settings.monitor, maximize, penalty[0], float(penalty[1])))
    return out


class EpochRecorder(keras.callbacks.Callback):
    """Stores each epoch's metrics and time; raises TrialDiverged on a NaN/inf loss."""

    def __init__(
        self, log: EpochLog, study: str, trial_number: int, monitor: str, hook: EpochHook | None
    ) -> None:
        super().__init__()
        self.log, self.study, self.trial_number = log, study, trial_number
        self.monitor, self.hook = monitor, hook
        self.rows: list[dict[str, float]] = []
        self._started = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        seconds = time.perf_counter() - self._started
        logs = {k: float(v) for k, v in (logs or {}).items()}
        self.rows.append(logs)
        self.log.record(self.study, self.trial_number, epoch + 1, logs, seconds)
        if self.hook is not None:
            self.hook(self.trial_number, epoch + 1, logs)
        for key in ("loss", self.monitor):
            value = logs.get(key, 0.0)
            if not math.isfinite(value):
                raise TrialDiverged(f"{key} became {value} at epoch {epoch + 1}")
        if self.monitor not in logs:
            raise HpsearchError(
                f"the model does not log {self.monitor!r}; it logs: {', '.join(sorted(logs))}"
            )


def build(
    params: dict[str, Any], space: Space, data: Dataset, seed: int, monitor: str = "val_accuracy"
) -> keras.Model:
    """A fresh, seeded session and the space's model, compiled with the chosen optimizer."""
    seed_everything(seed)
    return compile_model(space.build_model(params, data), params, monitor)


def early_stopping(settings: TrainSettings) -> keras.callbacks.EarlyStopping:
    return keras.callbacks.EarlyStopping(
        monitor=score_key(settings),
        mode="min" if settings.direction == "minimize" else "max",
        patience=settings.patience,
        min_delta=settings.min_delta,
        restore_best_weights=settings.restore_best_weights,
    )


def fit(
    model: keras.Model,
    params: dict[str, Any],
    data: Dataset,
    settings: TrainSettings,
    callbacks: list[keras.callbacks.Callback],
) -> keras.callbacks.History:
    """The one ``model.fit`` call of a trial (and of its retraining for evaluation)."""
    return model.fit(
        data.x_train,
        data.y_train,
        batch_size=params["batch_size"],
        epochs=settings.max_epochs,
        validation_data=(data.x_val, data.y_val),
        callbacks=callbacks,
        verbose=0,
    )


def run_trial(
    trial: optuna.Trial,
    params: dict[str, Any],
    space: Space,
    data: Dataset,
    settings: TrainSettings,
    log: EpochLog,
    hook: EpochHook | None = None,
) -> float:
    """Train one configuration; return the monitored metric at the best epoch.

    Every outcome leaves the trial's summary in its user attributes: best epoch, train and
    validation metrics there, the gaps, epochs run, why it stopped, size and wall time.
    """
    started = time.perf_counter()
    seed = trial_seed(settings.study_seed, trial.number)
    trial.set_user_attr("seed", seed)
    model = build(params, space, data, seed, settings.monitor)
    trial.set_user_attr("params_count", int(model.count_params()))
    trial.set_user_attr("threads", thread_settings())
    recorder = EpochRecorder(log, settings.study_name, trial.number, settings.monitor, hook)
    stopper = early_stopping(settings)
    callbacks: list[keras.callbacks.Callback] = [
        StopOnSignal(),
        *scoring(settings, data, settings.study_seed),
        recorder,
        stopper,
    ]
    if settings.prune:  # Optuna cannot prune multi-objective studies
        callbacks.append(KerasPruningCallback(trial, score_key(settings)))
    reason = StopReason.ERROR
    try:
        with deferred():
            fit(model, params, data, settings, callbacks)
        reason = StopReason.EARLY_STOPPED if stopper.stopped_epoch > 0 else StopReason.FINISHED
    except optuna.TrialPruned:
        reason = StopReason.PRUNED
        constrain(trial, recorder.rows, stopper.best_epoch, settings)
        raise
    except TrialDiverged as exc:
        reason = StopReason.DIVERGED
        trial.set_user_attr("fail_reason", str(exc))
        raise
    except KeyboardInterrupt:
        reason = StopReason.INTERRUPTED
        trial.set_user_attr("fail_reason", "interrupted")
        raise
    finally:
        judged = score_key(settings)
        summary = summarize(recorder.rows, stopper.best_epoch, settings.monitor, judged)
        summary.update(
            stop_reason=reason.value, wall_seconds=round(time.perf_counter() - started, 3)
        )
        for key, value in summary.items():
            trial.set_user_attr(key, value)
    constrain(trial, recorder.rows, stopper.best_epoch, settings)
    return float(summary.get("score", summary["value"]))


def constrain(
    trial: optuna.Trial, rows: list[dict[str, float]], best: int, settings: TrainSettings
) -> None:
    """With ``[tradeoff] constrain``, tell Optuna whether the trial's gap at its best epoch is
    within the limit (``Trial.set_constraint``: feasible at <= 0), so samplers that handle
    constraints (TPE, NSGA-II, GP) steer toward configurations the tradeoff can pick."""
    if settings.gap_limit is None:
        return
    measure, limit = settings.gap_limit
    gap = summarize(rows, best, settings.monitor, score_key(settings)).get(f"gap_{measure}")
    trial.set_constraint(f"gap_{measure}", 1.0 if gap is None else float(gap) - limit)


def summarize(
    rows: list[dict[str, float]], best_index: int, monitor: str, key: str | None = None
) -> dict[str, Any]:
    """The trial's numbers at its best epoch (``best_index`` is 0-based; the summary's
    ``best_epoch`` 1-based), and the train/validation gaps. ``value`` is the study's metric
    there, ``score`` what the run is judged by (``key``, see :func:`score_key`; the metric
    itself unless the study penalizes the gap; only then is ``score`` in the summary)."""
    key = key or monitor
    out: dict[str, Any] = {"epochs": len(rows)}
    if not rows:
        return out
    finite = [i for i, r in enumerate(rows) if math.isfinite(r.get(key, math.nan))]
    if best_index >= len(rows) or best_index not in finite:
        best_index = finite[-1] if finite else len(rows) - 1
    best = rows[best_index]

    def get(key: str) -> float | None:
        v = best.get(key)
        return v if v is not None and math.isfinite(v) else None

    out.update(
        best_epoch=best_index + 1,
        value=get(monitor),
        train_loss=get("loss"),
        train_accuracy=get("accuracy"),
        train_eval_loss=get("train_eval_loss"),
        train_eval_accuracy=get("train_eval_accuracy"),
        val_loss=get("val_loss"),
        val_accuracy=get("val_accuracy"),
    )
    if key != monitor:
        out["score"] = get(key)
    gaps = gaps_of(best)
    out.update({f"gap_{measure}": gap for measure, gap in gaps.items() if gap is not None})
    return out


def thread_settings() -> dict[str, str]:
    """TensorFlow's thread-pool variables in effect: a trial's numbers depend on them (how
    reductions are split), so they travel with the trial into its exported script."""
    keys = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")
    return {k: os.environ[k] for k in keys if k in os.environ}
