"""The typed vocabulary shared by the engine and its readers: why a trial stopped.

Stored in Optuna's trial user attributes as the enum's value (a plain string, so stores
stay readable by plain Optuna and by older versions).
"""

from __future__ import annotations

from enum import StrEnum


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
