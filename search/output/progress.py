"""The ``run`` command's live display: trial n of N, current epoch, best so far (rich).

The best so far is read from the store once, at the start, then kept from each trial this
process finishes, so a trial's update costs the same however many trials the store holds.
"""

from __future__ import annotations

import optuna
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from hpsearch.store.queries import best_trial


class RichReporter:
    """A rich progress bar over the study's budget, updated every epoch and every trial."""

    def __init__(self, console: Console, metric: str) -> None:
        self.console = console
        self.metric = metric
        self.progress = Progress(
            TextColumn("{task.description}", style="bold", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[status]}", markup=False),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.task = self.progress.add_task("trials", total=1, status="")
        self.best = "-"
        self._best: optuna.trial.FrozenTrial | None = None
        self._trial = -1
        self._last = ""

    def start(self, study: optuna.Study, total: int, done: int) -> None:
        self.progress.update(self.task, total=total, completed=done, description=study.study_name)
        self._best = best_trial(study)  # every trial, once; then each finished trial
        self._show_best()
        self.progress.start()

    def epoch(self, trial_number: int, epoch: int, logs: dict[str, float]) -> None:
        value = logs.get(self.metric)
        shown = "-" if value is None else f"{value:.4f}"
        self._last = f"trial {trial_number} epoch {epoch} {self.metric} {shown}"
        self._refresh()

    def _refresh(self) -> None:
        self.progress.update(self.task, status=f"{self._last} | best {self.best}")

    def trial_done(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        self.progress.advance(self.task)
        if trial.state == optuna.trial.TrialState.COMPLETE and trial.values:
            sign = -1.0 if study.directions[0] == optuna.study.StudyDirection.MAXIMIZE else 1.0
            best = self._best
            if best is None or sign * trial.values[0] < sign * best.values[0]:
                self._best = trial
                self._show_best()
                self._refresh()  # the last trial's best shows on the final line too
        reason = trial.user_attrs.get("stop_reason", trial.state.name.lower())
        value = "-" if not trial.values else f"{trial.values[0]:.4f}"
        self.console.print(
            f"trial {trial.number}: {trial.state.name.lower()} ({reason}), "
            f"{self.metric} {value}, epochs {trial.user_attrs.get('epochs', 0)}"
        )

    def stop(self) -> None:
        self.progress.stop()

    def _show_best(self) -> None:
        if self._best is not None:
            self.best = f"{self._best.values[0]:.4f} (trial {self._best.number})"
