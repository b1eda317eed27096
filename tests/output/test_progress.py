"""The run command's live display (hpsearch.output.progress): the best so far, to the last trial."""

from __future__ import annotations

import io

import optuna
from rich.console import Console

from hpsearch.output.progress import RichReporter


def test_the_final_line_shows_the_best_including_the_last_trial() -> None:
    buffer = io.StringIO()
    reporter = RichReporter(Console(file=buffer, width=200), "val_accuracy")
    study = optuna.create_study(direction="maximize")
    reporter.start(study, total=2, done=0)
    for number, value in enumerate((0.35, 0.4667)):
        trial = study.ask()
        reporter.epoch(number, 1, {"val_accuracy": value})
        study.tell(trial, value)
        reporter.trial_done(study, study.trials[number])
    reporter.stop()
    final = buffer.getvalue().rstrip().splitlines()[-1]
    assert "2/2" in final and "best 0.4667 (trial 1)" in final, final
