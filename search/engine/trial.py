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
from optuna_integration import KerasPruningCallback

from hpsearch.config import StudyConfig
from hpsearch.data import Dataset
from hpsearch.engine.signals import deferred, raise_pending
from hpsearch.engine.spaces import Space
from hpsearch.errors import HpsearchError, TrialDiverged
from hpsearch.portable.scores import gaps_of
from hpsearch.portable.training import (
    compile_model,
    early_stopping,
    fit,
    score_key,
    scoring,
    seed_everything,
)
from hpsearch.records import StopReason, over_splits
from hpsearch.store.database import EpochLog

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


def trial_seed(study_seed: int, trial_number: int) -> int:
    """The seed of one trial: a fixed function of the study seed and the trial number."""
    return (study_seed * 1_000_003 + trial_number * 7_919 + 17) % (2**31 - 1)


class StopOnSignal(keras.callbacks.Callback):
    """Raises a Ctrl-C/SIGTERM that arrived during training at the next batch or epoch
    boundary (see :mod:`hpsearch.engine.signals`: raised where it lands, Keras may swallow it)."""

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        raise_pending()

    def on_test_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        raise_pending()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        raise_pending()


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


class Collect(keras.callbacks.Callback):
    """Keeps every epoch's logs; ends the run on a NaN/inf loss."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, float]] = []

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        row = {k: float(v) for k, v in (logs or {}).items()}
        self.rows.append(row)
        if not math.isfinite(row.get("loss", 0.0)):
            raise TrialDiverged(f"loss became {row.get('loss')} at epoch {epoch + 1}")


def train_split(
    params: dict[str, Any],
    space: Space,
    data: Dataset,
    settings: TrainSettings,
    split_seed: int,
    seed: int,
) -> tuple[dict[str, Any], int]:
    """Train ``params`` once on ``data`` (a validation split carved with ``split_seed``) as a
    trial trains, early stopping included, storing no epochs: its summary (``value``,
    ``best_epoch``, gaps; see :func:`summarize`) and the epochs it ran. A run whose loss
    diverged has ``diverged`` (why) in its summary. A trial's further validation splits
    (``[objective] splits``) and the finalists' re-evaluation runs train this way."""
    model = build(params, space, data, seed, settings.monitor)
    stopper, collect = early_stopping(settings), Collect()
    callbacks = [StopOnSignal(), *scoring(settings, data, split_seed), collect, stopper]
    diverged = None
    try:
        fit(model, params, data, settings, callbacks)
    except TrialDiverged as exc:
        diverged = str(exc)
    summary = summarize(collect.rows, stopper.best_epoch, settings.monitor, score_key(settings))
    if diverged is not None:
        summary["diverged"] = diverged
    return summary, len(collect.rows)


def more_splits(
    trial: optuna.Trial,
    params: dict[str, Any],
    space: Space,
    first: dict[str, Any],
    more: list[tuple[int, Dataset]],
    settings: TrainSettings,
) -> float:
    """Score a trial that finished on its first split on the study's further splits
    (``[objective] splits``) and return the mean of its scores over all of them. Each split's
    numbers go to the trial's ``splits`` attribute (the first split's also stay where they
    were: its epochs are the stored ones, the ones an exported script reproduces)."""
    keys = ("value", "score", "best_epoch", "epochs", "gap_accuracy", "gap_loss")
    rows = [{"seed": settings.study_seed, **{k: first[k] for k in keys if k in first}}]
    for split_seed, data in more:
        with deferred():
            summary, _ = train_split(
                params, space, data, settings, split_seed, trial_seed(split_seed, trial.number)
            )
        if "diverged" in summary:
            raise TrialDiverged(f"{summary['diverged']} (validation split of seed {split_seed})")
        rows.append({"seed": split_seed, **{k: summary[k] for k in keys if k in summary}})
    trial.set_user_attr("splits", rows)
    scores = [float(s) for r in rows if (s := r.get("score", r.get("value"))) is not None]
    return sum(scores) / len(scores) if len(scores) == len(rows) else math.nan


def run_trial(
    trial: optuna.Trial,
    params: dict[str, Any],
    space: Space,
    data: Dataset,
    settings: TrainSettings,
    log: EpochLog,
    hook: EpochHook | None = None,
    more: list[tuple[int, Dataset]] | None = None,
) -> float:
    """Train one configuration; return the monitored metric at the best epoch (with ``more``
    validation splits, ``(split seed, data)``, its mean over this split and those: see
    :func:`more_splits`; pruning and the stored epochs follow the first split).

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
    judged = score_key(settings)
    value = None
    try:
        with deferred():
            fit(model, params, data, settings, callbacks)
        reason = StopReason.EARLY_STOPPED if stopper.stopped_epoch > 0 else StopReason.FINISHED
        if more:  # a divergence or Ctrl-C there ends the trial as one here does
            first = summarize(recorder.rows, stopper.best_epoch, settings.monitor, judged)
            value = more_splits(trial, params, space, first, more, settings)
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
        summary = summarize(recorder.rows, stopper.best_epoch, settings.monitor, judged)
        summary.update(
            stop_reason=reason.value, wall_seconds=round(time.perf_counter() - started, 3)
        )
        for key, attr in summary.items():
            trial.set_user_attr(key, attr)
    constrain(trial, recorder.rows, stopper.best_epoch, settings)
    return float(summary.get("score", summary["value"]) if value is None else value)


def constrain(
    trial: optuna.Trial, rows: list[dict[str, float]], best: int, settings: TrainSettings
) -> None:
    """With ``[tradeoff] constrain``, tell Optuna whether the trial's gap at its best epoch is
    within the limit (``Trial.set_constraint``: feasible at <= 0), so samplers that handle
    constraints (TPE, NSGA-II, GP) steer toward configurations the tradeoff can pick."""
    if settings.gap_limit is None:
        return
    measure, limit = settings.gap_limit
    key = f"gap_{measure}"
    attrs = trial.user_attrs
    if "splits" in attrs:  # scored on several splits: their mean gap
        gap = over_splits(attrs, key)
    else:
        gap = summarize(rows, best, settings.monitor, score_key(settings)).get(key)
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
