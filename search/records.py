"""The typed vocabulary shared by the engine and its readers: why a trial stopped, what a
trial and an epoch look like to a reader.

Stop reasons are stored in Optuna's trial user attributes as the enum's value (a plain
string, so stores stay readable by plain Optuna and by older versions).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from optuna.trial import FrozenTrial, TrialState


class StopReason(StrEnum):
    """Why a trial's training ended (the trial's ``stop_reason`` attribute)."""

    FINISHED = "finished"
    """Ran every epoch of the budget."""
    EARLY_STOPPED = "early-stopped"
    """Keras' EarlyStopping ended it: the objective stopped improving."""
    PRUNED = "pruned"
    """The study's pruner ended it: hopeless next to the trials before it."""
    DIVERGED = "nan"
    """Its loss or objective became NaN/inf; it counts against the budget."""
    INTERRUPTED = "interrupted"
    """Ctrl-C or SIGTERM; its budget slot goes back to the study."""
    WORKER_LOST = "worker lost"
    """Its process died (heartbeat or a dead local pid); the slot goes back."""
    ERROR = "error"
    """Any other exception while training."""

    @classmethod
    def read(cls, value: object) -> StopReason | None:
        """The reason stored in a trial's attributes, or None when absent or unknown."""
        try:
            return cls(str(value)) if value is not None else None
        except ValueError:
            return None


def over_splits(attrs: dict[str, Any], key: str) -> float | None:
    """A trial's number ``key`` (``value``, ``gap_accuracy``, ``gap_loss``) as its objective
    counts it: the mean over the validation splits the trial was scored on (its ``splits``
    attribute, ``[objective] splits``), else its one split's (the attribute ``key``)."""
    splits = attrs.get("splits")
    if not splits:
        value = attrs.get(key)
        return None if value is None else float(value)
    values = [s.get(key) for s in splits]
    if any(v is None or not math.isfinite(v) for v in values):
        return None
    return sum(values) / len(values)


@dataclass(frozen=True)
class TrialSummary:
    """One trial as hpsearch reports it: state, value, params and the numbers at its best
    epoch (what ``hpsearch trials`` and ``best`` print, and what the Python API returns)."""

    number: int
    state: TrialState
    value: float | None
    params: dict[str, Any]
    baseline: bool = False
    epochs: int | None = None
    best_epoch: int | None = None
    stop_reason: StopReason | None = None
    fail_reason: str | None = None
    train_loss: float | None = None
    val_loss: float | None = None
    train_accuracy: float | None = None
    val_accuracy: float | None = None
    gap_loss: float | None = None
    gap_accuracy: float | None = None
    params_count: int | None = None
    wall_seconds: float | None = None
    seed: int | None = None
    host: str | None = None
    """The machine the trial ran on (from its ``worker`` attribute, ``host:pid``)."""
    devices: str | None = None
    """What it trained on: ``cpu``, or ``gpu:`` and its ``CUDA_VISIBLE_DEVICES``."""

    @classmethod
    def of(cls, t: FrozenTrial) -> TrialSummary:
        """The summary of an Optuna trial, from its values and the attributes a trial run
        leaves (see :func:`hpsearch.engine.trial.run_trial`)."""
        a = t.user_attrs
        reason = StopReason.read(a.get("stop_reason"))
        if reason is None and t.state == TrialState.FAIL and "stop_reason" not in a:
            reason = StopReason.WORKER_LOST  # failed by the heartbeat: its worker died
        value = t.values[0] if t.values else None
        return cls(
            number=t.number,
            state=t.state,
            value=None if value is None or not math.isfinite(value) else float(value),
            params=dict(t.params),
            baseline=bool(a.get("baseline", False)),
            epochs=a.get("epochs"),
            best_epoch=a.get("best_epoch"),
            stop_reason=reason,
            fail_reason=a.get("fail_reason"),
            **{k: a.get(k) for k in _MEASURED},
            host=str(a["worker"]).rpartition(":")[0] or None if a.get("worker") else None,
            devices=a.get("devices"),
        )

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-able values (state and stop reason as their names/strings)."""
        out = dataclasses.asdict(self)
        out["state"] = self.state.name.lower()
        out["stop_reason"] = None if self.stop_reason is None else self.stop_reason.value
        return out


_MEASURED = (
    "train_loss",
    "val_loss",
    "train_accuracy",
    "val_accuracy",
    "gap_loss",
    "gap_accuracy",
    "params_count",
    "wall_seconds",
    "seed",
)


@dataclass(frozen=True)
class EpochRecord:
    """One epoch of one trial as the store keeps it (``hpsearch_epochs``); ``train_eval_*``
    are the inference-mode numbers on the training subsample, ``None`` where not measured."""

    trial: int
    epoch: int
    loss: float | None
    accuracy: float | None
    val_loss: float | None
    val_accuracy: float | None
    train_eval_loss: float | None = None
    train_eval_accuracy: float | None = None
    macro_f1: float | None = None
    val_macro_f1: float | None = None
    train_eval_macro_f1: float | None = None
    seconds: float | None = None

    @classmethod
    def of(cls, row: dict[str, Any]) -> EpochRecord:
        """From a row of the epoch table (missing columns of older stores read as None)."""
        names = {f.name for f in dataclasses.fields(cls)} - {"trial", "epoch"}
        values: dict[str, Any] = {k: row.get(k) for k in names}
        return cls(trial=int(row["trial_number"]), epoch=int(row["epoch"]), **values)
