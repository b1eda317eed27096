"""The one exception family hpsearch raises for problems a user can cause.

Every error a user can trigger derives from :class:`HpsearchError`; the CLI turns it
into one line on stderr and the exception's ``exit_code``. Nothing below the CLI prints.
"""

from __future__ import annotations


class HpsearchError(Exception):
    """Base class: a user-facing problem with a one-line message."""

    exit_code: int = 1


class ConfigError(HpsearchError):
    """A study file or command-line value is invalid (exit status 2)."""

    exit_code = 2


class SpaceError(HpsearchError):
    """A search-space module cannot be found or breaks the space contract."""

    exit_code = 2


class SearchError(HpsearchError):
    """A run ended and no trial of its study completed: there is nothing to pick from."""

    exit_code = 1


class DataError(HpsearchError):
    """A dataset cannot be read or does not have the expected shape."""

    exit_code = 2


class StorageError(HpsearchError):
    """The store cannot be opened, or a study in it is missing or incompatible."""

    exit_code = 1


class MissingExtraError(HpsearchError):
    """A feature needs a package from one of hpsearch's optional extras (``hpsearch[kt]``)."""

    exit_code = 1

    def __init__(self, what: str, extra: str, reason: str = "") -> None:
        why = f" ({reason})" if reason else ""
        super().__init__(
            f"{what} is not installed{why}; install the {extra} extra: "
            f'pip install "hpsearch[{extra}]"'
        )


class HpsearchWarning(UserWarning):
    """Something a user should know that does not stop the command (the CLI prints it once,
    as one ``hpsearch: warning:`` line)."""


class TrialDiverged(Exception):  # noqa: N818 - reads as an event, like optuna.TrialPruned
    """A trial's loss became NaN or infinite; the trial fails, the study goes on."""


class TrialTakenOver(Exception):  # noqa: N818 - reads as an event, like optuna.TrialPruned
    """Another worker's heartbeat check found this worker's trial silent for longer than
    the grace period (a starved or paused process, not a dead one), failed it and queued a
    retry; this worker's result for it no longer counts, and its slot was already freed."""
