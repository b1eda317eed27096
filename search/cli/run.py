"""``hpsearch`` commands that train: ``run``, ``create``, ``worker`` and ``select``.

They load a study file or a stored study, quiet TensorFlow before it starts, run trials or
re-evaluate finalists, and print progress, the best trials and the pick.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING

import click
import optuna

from hpsearch.cli.shared import (
    accept_option,
    debug_option,
    nonempty,
    out,
    print_finalists,
    print_trials,
    quiet_tensorflow,
    storage_option,
)
from hpsearch.commands import RunEvents
from hpsearch.config import StudyConfig
from hpsearch.engine.signals import interruptible
from hpsearch.store.runs import Run

if TYPE_CHECKING:
    from hpsearch.engine.runner import Prepared, Reporter
from hpsearch.output.tables import fmt


@click.command()
@click.argument("study_file")
@click.option("--trials", "n_trials", type=click.IntRange(min=1), help="Override budget.n_trials.")
@click.option(
    "--timeout", type=click.FloatRange(min=0, min_open=True), help="Override budget.timeout (s)."
)
@click.option("--max-epochs", type=click.IntRange(min=1), help="Override budget.max_epochs.")
@click.option("--storage", default=None, help="Override the study file's storage URL.")
@click.option(
    "--data", default=None, help="Point the study at a CSV, an aclImdb folder or imdb.npz."
)
@click.option("--maxlen", type=click.IntRange(min=1), help="Override dataset.maxlen (tokens).")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Local worker processes sharing the study's budget.",
)
@click.option(
    "--gpus",
    default=None,
    metavar="all|0,1,...",
    help="Place the workers on these GPUs, round-robin (CUDA_VISIBLE_DEVICES), memory growth on.",
)
@accept_option
@debug_option
def run(
    study_file: str,
    n_trials: int | None,
    timeout: float | None,
    max_epochs: int | None,
    storage: str | None,
    data: str | None,
    maxlen: int | None,
    workers: int,
    gpus: str | None,
    accept_changed_data: bool,
) -> None:
    """Create or resume the study in STUDY_FILE and run the rest of its budget.

    STUDY_FILE may also name an example shipped with hpsearch (quickstart, imdb-cnn-lstm, ...),
    when no such file is here.

    \b
    Example:
      hpsearch run studies/quickstart.toml
      hpsearch run quickstart
      hpsearch run studies/imdb-cnn-lstm.toml --data ../shared/data/imdb/train.csv \\
          --maxlen 200 --trials 12
    """
    from hpsearch import commands
    from hpsearch.config.studyfile import apply_overrides, load_study_file
    from hpsearch.engine.workers import check_workers
    from hpsearch.output.progress import RichReporter

    nonempty("STUDY_FILE", study_file)
    check_workers(workers)
    placed = None
    if gpus is not None:
        from hpsearch.engine.devices import machine_gpus, parse_gpus

        placed = parse_gpus(gpus, machine_gpus())
    cfg = load_study_file(study_file)
    cfg = apply_overrides(
        cfg,
        n_trials=n_trials,
        timeout=timeout,
        max_epochs=max_epochs,
        storage=storage,
        data=data,
        maxlen=maxlen,
    )
    quiet_tensorflow()
    commands.run(
        cfg,
        reporter=RichReporter(out, cfg.score),
        workers=workers,
        console=out,
        events=Printed(cfg),
        guard=interruptible,
        accept_changed_data=accept_changed_data,
        gpus=placed,
    )


class Printed(RunEvents):
    """A run's steps as ``hpsearch run`` and ``hpsearch select`` print them."""

    def __init__(self, cfg: StudyConfig) -> None:
        self.cfg = cfg

    def prepared(self, prep: Prepared) -> None:
        cfg, summary = prep.cfg, prep.data.summary()
        out.print(
            f"study {cfg.name} · space {prep.space.name} · {summary['description']} "
            f"({summary['train']} train / {summary['validation']} validation) · {cfg.storage}"
        )
        if prep.range_note:
            out.print(prep.range_note)
        if prep.baseline_note:
            out.print(prep.baseline_note)

    def searched(self, study: optuna.Study) -> None:
        from hpsearch.store.queries import trial_row

        cfg = self.cfg
        trials = study.get_trials(deepcopy=False)
        rows = [r for r in map(trial_row, trials) if r["value"] is not None]
        reverse = cfg.objective.resolved_direction() == "maximize"
        rows.sort(key=lambda r: r["value"], reverse=reverse)
        print_trials(rows[:5], title=f"best trials of {cfg.name} ({cfg.score})")

    def reevaluating(self, trials: list[int], missing: bool) -> None:
        if missing:
            out.print(
                f"re-evaluating finalists {', '.join(map(str, trials))}: "
                f"{self.cfg.selection.repeats} more runs each, on other validation splits with "
                "other seeds"
            )

    def reevaluated(self, run: Run) -> None:
        out.print(
            f"  trial {run.trial_number} run {run.repeat}: {self.cfg.monitor} {fmt(run.value)}, "
            f"best epoch {run.best_epoch} of {run.epochs}, {run.seconds:.0f} s"
        )

    def selected(self, cfg: StudyConfig) -> None:
        from hpsearch.pick.tradeoff import analyse
        from hpsearch.store.database import EpochLog
        from hpsearch.store.queries import load

        log = EpochLog(cfg.storage)
        try:
            result = analyse(load(cfg.storage, cfg.name), log)
        finally:
            log.dispose()
        print_finalists(result)


@click.command()
@click.argument("study")
@storage_option
@accept_option
@debug_option
def select(study: str, storage: str, accept_changed_data: bool) -> None:
    """Re-evaluate the finalists of STUDY: train each again on other validation splits
    with other seeds, and rank them by the mean (the study file's [selection]).

    What is already stored is kept, so after a run with workers, or an interrupted
    re-evaluation, this trains only what is missing.

    \b
    Example:
      hpsearch select imdb-sample-best
    """
    quiet_tensorflow()
    from hpsearch import commands
    from hpsearch.engine.runner import prepare_stored
    from hpsearch.store.queries import load

    opened = load(storage, study)
    prep = prepare_stored(opened, storage, accept_changed_data=accept_changed_data)
    if prep.cfg.selection.finalists == 0:
        out.print(f"study {study}: [selection] finalists = 0, nothing to re-evaluate")
        return
    with interruptible():
        commands.reevaluate(prep, opened, Printed(prep.cfg))


@click.command()
@click.argument("study_file")
@click.option("--trials", "n_trials", type=click.IntRange(min=1), help="Override budget.n_trials.")
@click.option("--storage", default=None, help="Override the study file's storage URL.")
@debug_option
def create(study_file: str, n_trials: int | None, storage: str | None) -> None:
    """Create (or update the budget of) the study in STUDY_FILE without running trials.

    Then start workers on it, here or on other machines.

    \b
    Example:
      hpsearch create studies/imdb-cnn-lstm.toml --storage postgresql+psycopg://me@db/hpsearch
      hpsearch worker imdb-cnn-lstm --storage postgresql+psycopg://me@db/hpsearch
    """
    from hpsearch import commands
    from hpsearch.config.studyfile import apply_overrides, load_study_file

    nonempty("STUDY_FILE", study_file)
    cfg = apply_overrides(load_study_file(study_file), n_trials=n_trials, storage=storage)
    quiet_tensorflow()
    study, budget = commands.create(cfg)
    claimed, total = budget.state()
    out.print(f"study {study.study_name} in {cfg.storage}: budget {total} trials, {claimed} taken")


@click.command()
@click.argument("study")
@storage_option
@click.option("--quiet", is_flag=True, help="No progress display (for scripts and job arrays).")
@accept_option
@debug_option
def worker(study: str, storage: str, quiet: bool, accept_changed_data: bool) -> None:
    """Join STUDY in a shared store and run trials until its budget is spent.

    Start as many as you like, on one machine or many (PostgreSQL for many machines):
    the budget is for the whole study, and a dead worker's trial is retried by another.

    \b
    Example:
      hpsearch worker imdb-cnn-lstm --storage postgresql+psycopg://me@db/hpsearch
    """
    quiet_tensorflow()
    from hpsearch import commands
    from hpsearch.engine.runner import SilentReporter
    from hpsearch.engine.workers import stop_with_parent
    from hpsearch.output.progress import RichReporter

    stop_with_parent()

    def reporter(prep: Prepared) -> Reporter:
        return SilentReporter() if quiet else RichReporter(out, prep.cfg.score)

    ran = commands.work(
        storage, study, reporter, guard=interruptible, accept_changed_data=accept_changed_data
    )
    if not quiet:
        out.print(f"worker done: ran {ran} trials of {study}")


@click.command()
@click.argument("study_file")
@click.option(
    "--array", type=click.IntRange(1, 10000), required=True, help="Array tasks: one worker each."
)
@click.option("--cpus-per-task", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--gpus-per-task", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--partition", default=None, help="Slurm partition (default: the cluster's).")
@click.option("--time", "time_limit", default=None, help="Time limit per task (Slurm's formats).")
@click.option("--storage", default=None, help="Override the study file's storage URL.")
@click.option(
    "--dir",
    "folder",
    default="hpsearch-slurm",
    show_default=True,
    help="Where the job script and the tasks' logs go.",
)
@click.option("--dry-run", is_flag=True, help="Check everything and print the job script only.")
@debug_option
def submit(
    study_file: str,
    array: int,
    cpus_per_task: int,
    gpus_per_task: int,
    partition: str | None,
    time_limit: str | None,
    storage: str | None,
    folder: str,
    dry_run: bool,
) -> None:
    """Create the study in STUDY_FILE and run its workers on a Slurm cluster as a job array.

    Every array task runs `hpsearch worker` on the study's store (PostgreSQL, or SQLite on a
    shared file system) until the budget is spent; a task whose node fails is requeued, and
    the trial it held is retried elsewhere.

    \b
    Example:
      hpsearch submit studies/imdb-sample-best.toml --array 8 --cpus-per-task 2 \\
          --storage postgresql+psycopg://me@db/hpsearch
      hpsearch submit studies/quickstart.toml --array 2 --dry-run
    """
    from hpsearch import commands
    from hpsearch.config.studyfile import apply_overrides, load_study_file
    from hpsearch.integrations.slurm import JobSpec
    from hpsearch.store.database import absolute_url

    nonempty("STUDY_FILE", study_file)
    nonempty("--dir", folder)
    cfg = apply_overrides(load_study_file(study_file), storage=storage)
    cfg = cfg.replace(storage=absolute_url(cfg.storage))
    where = Path(folder)
    spec = JobSpec(
        study=cfg.name,
        storage=cfg.storage,
        array=array,
        cpus_per_task=cpus_per_task,
        gpus_per_task=gpus_per_task,
        partition=partition,
        time=time_limit,
        logs=where / "logs",
    )
    quiet_tensorflow()
    done = commands.submit(cfg, spec, where, dry_run=dry_run)
    if done.job is None:
        click.echo(done.script, nl=False)
        return
    url = shlex.quote(cfg.storage)
    out.print(
        f"submitted job {done.job}: {array} workers for study {cfg.name} on {cfg.storage}\n"
        f"  job script: {done.path}\n"
        f"  task logs:  {spec.logs.resolve()}/hpsearch-{cfg.name[:40]}-{done.job}_*.log\n"
        f"  watch:      squeue -j {done.job}; hpsearch trials {shlex.quote(cfg.name)} "
        f"--storage {url}; hpsearch dashboard --storage {url}",
        markup=False,
        highlight=False,
    )
