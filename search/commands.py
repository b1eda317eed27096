"""What a command does, as plain functions: the ``hpsearch`` CLI and the Python API both call
these (as Alembic's commands serve its CLI and its API), so a run is orchestrated once.

Each function takes a validated config or a stored study and returns what it made; the caller
shows it. What happens along the way reaches the caller through :class:`RunEvents` (the CLI
prints, the API stays silent). Here, and only here, the engine's loop is handed the dashboard's
publisher (:class:`hpsearch.output.dashboard.Publisher`): the engine imports no display code.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

import optuna

from hpsearch.config import StudyConfig
from hpsearch.store.runs import Run, RunLog

if TYPE_CHECKING:
    from rich.console import Console

    from hpsearch.engine.runner import Prepared, Reporter
    from hpsearch.engine.spaces import Space
    from hpsearch.store.budget import Budget

Guard = Callable[[], AbstractContextManager[object]]
"""Wraps each stretch of training (the CLI's :func:`hpsearch.engine.signals.interruptible`)."""


class RunEvents:
    """What a run tells whoever started it, step by step; each method does nothing here."""

    def prepared(self, prep: Prepared) -> None:
        """Everything checked and loaded; nothing written yet."""

    def searched(self, study: optuna.Study) -> None:
        """The search's budget is spent and at least one trial completed."""

    def reevaluating(self, trials: list[int], missing: bool) -> None:
        """The finalists to re-evaluate; ``missing``: some of their runs are not stored yet."""

    def reevaluated(self, run: Run) -> None:
        """One re-evaluation run, stored."""

    def selected(self, cfg: StudyConfig) -> None:
        """Every finalist's runs are stored: the pick is final."""


def search(
    prep: Prepared,
    reporter: Reporter | None = None,
    workers: int = 1,
    console: Console | None = None,
) -> optuna.Study:
    """Create or resume the study and run the rest of its budget: in this process, or in
    ``workers`` local worker processes (``console`` shows their progress)."""
    from hpsearch.engine.runner import run_study
    from hpsearch.output.dashboard import Publisher

    if workers == 1:
        return run_study(prep, reporter, observe=Publisher)
    from rich.console import Console

    from hpsearch.engine.workers import run_workers

    return run_workers(prep, workers, console or Console(quiet=True), observe=Publisher)


def run(
    cfg: StudyConfig,
    *,
    space: Space | None = None,
    reporter: Reporter | None = None,
    workers: int = 1,
    console: Console | None = None,
    select: bool = True,
    events: RunEvents | None = None,
    guard: Guard = contextlib.nullcontext,
    accept_changed_data: bool = False,
) -> optuna.Study:
    """``hpsearch run`` and :func:`hpsearch.run`: check and load everything, search the rest of
    the budget, then (``select``) re-evaluate the finalists as ``[selection]`` says. A study
    resumed on changed data is refused unless ``accept_changed_data`` (then recorded)."""
    from hpsearch.engine.runner import prepare, require_a_completed_trial

    events = events or RunEvents()
    prep = prepare(cfg, space=space, accept_changed_data=accept_changed_data)
    events.prepared(prep)
    with guard():
        study = search(prep, reporter, workers, console)
    require_a_completed_trial(study)
    events.searched(study)
    if select and cfg.selection.finalists:
        with guard():
            reevaluate(prep, study, events)
    return study


def reevaluate(prep: Prepared, study: optuna.Study, events: RunEvents | None = None) -> None:
    """``hpsearch select``: train the finalists again, as much as is not stored yet."""
    from hpsearch.pick.reevaluate import finalists
    from hpsearch.pick.reevaluate import reevaluate as train_finalists

    events = events or RunEvents()
    cfg = prep.cfg
    chosen = finalists(prep, study)
    if not chosen:
        return
    stored = RunLog(cfg.storage).runs(cfg.name)
    repeats = cfg.selection.repeats
    have = sum(len([r for r in stored.get(n, []) if r.repeat <= repeats]) for n in chosen)
    events.reevaluating(chosen, have < len(chosen) * repeats)
    train_finalists(prep, study, events.reevaluated)
    events.selected(cfg)


def create(cfg: StudyConfig) -> tuple[optuna.Study, Budget]:
    """``hpsearch create``: the study created (or its budget updated), no trial run."""
    from hpsearch.engine.runner import prepare, start_study
    from hpsearch.output.dashboard import Publisher

    return start_study(prepare(cfg), observe=Publisher)


def delete(url: str, name: str) -> dict[str, int]:
    """``hpsearch delete``: the study and every row hpsearch keeps for it; rows per table."""
    from hpsearch.store.delete import delete_study

    return delete_study(url, name)


def work(
    url: str,
    name: str,
    reporter: Callable[[Prepared], Reporter] | None = None,
    guard: Guard = contextlib.nullcontext,
    accept_changed_data: bool = False,
) -> int:
    """``hpsearch worker``: join a stored study and run trials while its budget lasts; returns
    how many this worker ran. ``reporter`` makes the progress display once the study's config
    is read."""
    from hpsearch.engine.runner import join_study
    from hpsearch.engine.runner import work as run_trials
    from hpsearch.output.dashboard import Publisher

    prep, study, budget = join_study(url, name, accept_changed_data)
    shown = None if reporter is None else reporter(prep)
    with guard():
        return run_trials(prep, study, budget, shown, observe=Publisher)
