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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import optuna

from hpsearch.config import StudyConfig
from hpsearch.store.runs import Run, RunLog

if TYPE_CHECKING:
    from rich.console import Console

    from hpsearch.engine.runner import Prepared, Reporter
    from hpsearch.engine.spaces import Space
    from hpsearch.integrations.slurm import JobSpec
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
    gpus: list[str] | None = None,
) -> optuna.Study:
    """Create or resume the study and run the rest of its budget: in this process, or in
    ``workers`` local worker processes (``console`` shows their progress). With ``gpus``
    (checked by :func:`hpsearch.engine.devices.parse_gpus`) the search always runs in worker
    processes, each placed on its GPU(s) before TensorFlow starts in it."""
    from hpsearch.engine.runner import run_study
    from hpsearch.output.dashboard import Publisher

    if workers == 1 and not gpus:
        return run_study(prep, reporter, observe=Publisher)
    from rich.console import Console

    from hpsearch.engine.workers import run_workers

    quiet = console or Console(quiet=True)
    return run_workers(prep, workers, quiet, observe=Publisher, gpus=gpus)


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
    gpus: list[str] | None = None,
) -> optuna.Study:
    """``hpsearch run`` and :func:`hpsearch.run`: check and load everything, search the rest of
    the budget, then (``select``) re-evaluate the finalists as ``[selection]`` says. A study
    resumed on changed data is refused unless ``accept_changed_data`` (then recorded).
    ``gpus``: place the workers on these GPUs (see :func:`search`)."""
    from hpsearch.engine.runner import prepare, require_a_completed_trial

    events = events or RunEvents()
    prep = prepare(cfg, space=space, accept_changed_data=accept_changed_data)
    events.prepared(prep)
    with guard():
        study = search(prep, reporter, workers, console, gpus)
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


@dataclass(frozen=True)
class Submitted:
    """What ``hpsearch submit`` did: the job script, and the job id (None on a dry run)."""

    script: str
    path: Path | None
    job: str | None


def submit(cfg: StudyConfig, spec: JobSpec, folder: Path, dry_run: bool = False) -> Submitted:
    """``hpsearch submit``: check the study (as ``run`` does) and the job's options, then
    create the study, write the job script into ``folder`` and submit it with ``sbatch``.
    A dry run checks everything, writes nothing and returns the script."""
    from hpsearch.engine.runner import prepare, start_study
    from hpsearch.integrations.slurm import sbatch, script
    from hpsearch.integrations.slurm import submit as send
    from hpsearch.output.dashboard import Publisher
    from hpsearch.output.files import check_folder, check_output

    spec.check()
    text = script(spec)
    path = folder / f"{cfg.name}.sbatch"
    command = None if dry_run else sbatch()  # no Slurm: one line, nothing written
    prep = prepare(cfg)
    if command is None:
        return Submitted(text, None, None)
    check_folder(folder, "--dir")
    check_folder(spec.logs, "--dir")
    check_output(path, flag="--dir")
    start_study(prep, observe=Publisher)
    path.write_text(text, encoding="utf-8")
    return Submitted(text, path, send(path, command))


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
