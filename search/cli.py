"""The ``hpsearch`` command line: thin commands over the library.

Each command parses its options, calls one library function and prints. Errors from the
library (:class:`~hpsearch.errors.HpsearchError`) and from click's parsing become one line on
stderr and an exit status here, and only here; ``--debug`` shows the traceback instead.
TensorFlow is imported only by commands that train or build models, so ``--help``,
``studies``, ``trials`` and ``best`` answer quickly.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import textwrap
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from hpsearch.errors import HpsearchError, HpsearchWarning
from hpsearch.queries import TRIAL_COLUMNS, fmt, short, trial_cells
from hpsearch.signals import INTERRUPTED, interruptible
from hpsearch.store import close_stores

DEFAULT_STORAGE = "sqlite:///hpsearch.db"
# Off a terminal (pipes, CI logs) rich would wrap tables at 80 columns; give them room.
# markup=False: study names, params and reasons are the user's text, and "[x]" in them must
# print as written (rich would take it for a style, or fail on "[/]").
out = Console(highlight=False, markup=False, width=None if sys.stdout.isatty() else 200)


def _debug_option(f: Callable[..., Any]) -> Callable[..., Any]:
    # Accepted anywhere on the line; main() reads it before click runs.
    return click.option(
        "--debug", is_flag=True, expose_value=False, help="Show tracebacks and TensorFlow logs."
    )(f)


def _storage_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--storage",
        default=lambda: os.environ.get("HPSEARCH_STORAGE", DEFAULT_STORAGE),
        show_default=DEFAULT_STORAGE,
        help="Database URL of the store (env HPSEARCH_STORAGE).",
    )(f)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@_debug_option
def cli() -> None:
    """Hyperparameter search for Keras sequence classifiers, driven by Optuna.

    \b
    Example:
      hpsearch run studies/quickstart.toml
      hpsearch trials quickstart
    """
    click.get_current_context().call_on_close(close_stores)  # the store closes with the command


@cli.command()
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
@_debug_option
def run(
    study_file: str,
    n_trials: int | None,
    timeout: float | None,
    max_epochs: int | None,
    storage: str | None,
    data: str | None,
    maxlen: int | None,
    workers: int,
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
    from hpsearch.progress import RichReporter
    from hpsearch.queries import trial_row
    from hpsearch.runner import prepare, run_study
    from hpsearch.studyfile import apply_overrides, load_study_file

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
    _quiet_tensorflow()
    prep = prepare(cfg)
    summary = prep.data.summary()
    out.print(
        f"study {cfg.name} · space {prep.space.name} · {summary['description']} "
        f"({summary['train']} train / {summary['validation']} validation) · {cfg.storage}"
    )
    if prep.baseline_note:
        out.print(prep.baseline_note)
    with interruptible():
        if workers == 1:
            study = run_study(prep, RichReporter(out, cfg.monitor))
        else:
            from hpsearch.workers import run_workers

            study = run_workers(prep, workers, out)
    rows = [r for r in map(trial_row, study.get_trials(deepcopy=False)) if r["value"] is not None]
    reverse = cfg.objective.resolved_direction() == "maximize"
    rows.sort(key=lambda r: r["value"], reverse=reverse)
    _print_trials(rows[:5], title=f"best trials of {cfg.name} ({cfg.monitor})")
    if cfg.selection.finalists:
        with interruptible():
            _reevaluate(prep, study)


def _reevaluate(prep: Any, study: Any) -> None:
    """Re-evaluate the finalists (what is not stored yet), then print them and the pick."""
    from hpsearch.reevaluate import finalists, reevaluate
    from hpsearch.selection import Selection

    cfg = prep.cfg
    chosen = finalists(prep, study)
    if not chosen:
        return
    store = Selection(cfg.storage)
    try:
        stored = store.runs(cfg.name)
    finally:
        store.dispose()
    have = sum(
        len([r for r in stored.get(n, []) if r.repeat <= cfg.selection.repeats]) for n in chosen
    )
    if have < len(chosen) * cfg.selection.repeats:
        out.print(
            f"re-evaluating finalists {', '.join(map(str, chosen))}: {cfg.selection.repeats} "
            "more runs each, on other validation splits with other seeds"
        )

    def line(run: Any) -> None:
        out.print(
            f"  trial {run.trial_number} run {run.repeat}: {cfg.monitor} {fmt(run.value)}, "
            f"best epoch {run.best_epoch} of {run.epochs}, {run.seconds:.0f} s"
        )

    reevaluate(prep, study, line)
    _print_selection(cfg.storage, cfg.name)


def _print_selection(storage: str, study: str) -> None:
    from hpsearch.queries import load
    from hpsearch.store import EpochLog
    from hpsearch.tradeoff import analyse

    log = EpochLog(storage)
    try:
        result = analyse(load(storage, study), log)
    finally:
        log.dispose()
    _print_finalists(result)


def _print_finalists(result: Any) -> None:
    if not result.finalists:
        return
    table = Table(
        "#",
        f"search {result.metric}",
        "re-evaluated mean ± SE",
        f"{result.gap_measure} gap (mean)",
        "best epochs",
        "extra epochs",
        "extra s",
        title=f"finalists of {result.study}, re-evaluated",
    )
    for f in result.finalists:
        mark = " ← pick" if result.pick and f.number == result.pick.number else ""
        table.add_row(
            f"{f.number}{mark}",
            fmt(f.search_value),
            f.text,
            fmt(f.gap),
            ", ".join(str(r.best_epoch) for r in f.runs),
            str(sum(r.epochs for r in f.runs)),
            f"{sum(r.seconds for r in f.runs):.0f}",
        )
    out.print(table)
    chosen = result.chosen
    if chosen is not None:
        out.print(
            f"pick: trial {chosen.number}, {result.metric} {chosen.text} "
            f"(search run {chosen.search_value:.4f}): {result.reason}"
        )


@cli.command()
@click.argument("study")
@_storage_option
@_debug_option
def select(study: str, storage: str) -> None:
    """Re-evaluate the finalists of STUDY: train each again on other validation splits
    with other seeds, and rank them by the mean (the study file's [selection]).

    What is already stored is kept, so after a run with workers, or an interrupted
    re-evaluation, this trains only what is missing.

    \b
    Example:
      hpsearch select imdb-sample-best
    """
    _quiet_tensorflow()
    from hpsearch.queries import load
    from hpsearch.runner import prepare_stored

    opened = load(storage, study)
    prep = prepare_stored(opened, storage)
    if prep.cfg.selection.finalists == 0:
        out.print(f"study {study}: [selection] finalists = 0, nothing to re-evaluate")
        return
    _reevaluate(prep, opened)


@cli.command()
@click.argument("study_file")
@click.option("--trials", "n_trials", type=click.IntRange(min=1), help="Override budget.n_trials.")
@click.option("--storage", default=None, help="Override the study file's storage URL.")
@_debug_option
def create(study_file: str, n_trials: int | None, storage: str | None) -> None:
    """Create (or update the budget of) the study in STUDY_FILE without running trials.

    Then start workers on it, here or on other machines.

    \b
    Example:
      hpsearch create studies/imdb-cnn-lstm.toml --storage postgresql+psycopg://me@db/hpsearch
      hpsearch worker imdb-cnn-lstm --storage postgresql+psycopg://me@db/hpsearch
    """
    from hpsearch.runner import prepare, start_study
    from hpsearch.studyfile import apply_overrides, load_study_file

    cfg = apply_overrides(load_study_file(study_file), n_trials=n_trials, storage=storage)
    _quiet_tensorflow()
    study, budget = start_study(prepare(cfg))
    claimed, total = budget.state()
    out.print(f"study {study.study_name} in {cfg.storage}: budget {total} trials, {claimed} taken")


@cli.command()
@click.argument("study")
@_storage_option
@click.option("--quiet", is_flag=True, help="No progress display (for scripts and job arrays).")
@_debug_option
def worker(study: str, storage: str, quiet: bool) -> None:
    """Join STUDY in a shared store and run trials until its budget is spent.

    Start as many as you like, on one machine or many (PostgreSQL for many machines):
    the budget is for the whole study, and a dead worker's trial is retried by another.

    \b
    Example:
      hpsearch worker imdb-cnn-lstm --storage postgresql+psycopg://me@db/hpsearch
    """
    _quiet_tensorflow()
    from hpsearch.progress import RichReporter
    from hpsearch.runner import SilentReporter, join_study, work

    prep, opened, budget = join_study(storage, study)
    reporter = SilentReporter() if quiet else RichReporter(out, prep.cfg.monitor)
    with interruptible():
        ran = work(prep, opened, budget, reporter)
    if not quiet:
        out.print(f"worker done: ran {ran} trials of {study}")


@cli.command()
@_storage_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=8080, show_default=True, help="Port to listen on.")
@click.option("--allow-remote", is_flag=True, help="Allow a non-loopback --host (no auth!).")
@_debug_option
def dashboard(storage: str, host: str, port: int, allow_remote: bool) -> None:
    """Watch the studies of a store in optuna-dashboard (loopback only by default).

    Notes, objective names and the tradeoff figure written by running studies show there.

    \b
    Example:
      hpsearch dashboard --storage sqlite:///hpsearch.db --port 8080
    """
    from hpsearch.dashboard import serve

    try:
        serve(storage, host, port, allow_remote)
    except KeyboardInterrupt:
        out.print("dashboard stopped")


@cli.command()
@_storage_option
@_debug_option
def studies(storage: str) -> None:
    """List the studies in a store, with trial counts by state and the best value.

    \b
    Example:
      hpsearch studies --storage sqlite:///hpsearch.db
    """
    from hpsearch.queries import SHOWN_STATES, list_studies

    table = Table("study", "space", "trials", *SHOWN_STATES, "best", "metric", "best trial")
    for s in list_studies(storage):
        table.add_row(
            s["name"],
            s["space"],
            str(s["trials"]),
            *(str(s["counts"][k]) for k in SHOWN_STATES),
            fmt(s["best_value"]),
            s["metric"],
            fmt(s["best_trial"]),
        )
    out.print(table)


@cli.command()
@click.argument("study")
@_storage_option
@_debug_option
def trials(study: str, storage: str) -> None:
    """Show every trial of STUDY: state, value, params, epochs, why it stopped, gap.

    \b
    Example:
      hpsearch trials quickstart
    """
    from hpsearch.queries import trial_rows

    _print_trials(trial_rows(storage, study), title=study)


@cli.command()
@click.argument("study")
@_storage_option
@click.option("--json", "as_json", is_flag=True, help="Print the best trial as JSON.")
@_debug_option
def best(study: str, storage: str, as_json: bool) -> None:
    """Show the best completed trial of STUDY (by validation metric); once its finalists
    are re-evaluated, the re-evaluated pick with its mean and standard error.

    \b
    Example:
      hpsearch best quickstart --json
    """
    from hpsearch.queries import best_row

    row = best_row(storage, study)
    if as_json:
        click.echo(json.dumps(row, indent=2, sort_keys=True))
        return
    out.print(f"best trial of {study}: #{row['number']}, {row['metric']} = {fmt(row['value'])}")
    again = row["reevaluated"]
    if again is not None:
        sem = "" if again["standard_error"] is None else f" ± {again['standard_error']:.4f}"
        out.print(
            f"  re-evaluated: {row['metric']} {again['mean']:.4f}{sem} over {again['runs']} runs "
            f"on other splits and seeds (mean gap {fmt(again['gap'])}): the pick among finalists"
        )
    for key, value in row["params"].items():
        out.print(f"  {key} = {value!r}")
    out.print(
        f"  best epoch {row['best_epoch']} of {row['epochs']} ({row['stop_reason']}), "
        f"loss gap {fmt(row['gap_loss'])}, accuracy gap {fmt(row['gap_accuracy'])}"
    )


@cli.command()
@click.argument("name", required=False)
@_debug_option
def spaces(name: str | None) -> None:
    """List search spaces and their parameters, derived by running each space's suggest().

    \b
    Example:
      hpsearch spaces
      hpsearch spaces cnn_lstm
    """
    _quiet_tensorflow()
    from hpsearch.spaces import available_spaces, describe, load_space

    for space_name in [name] if name else available_spaces():
        space = load_space(space_name)
        doc = (space.module.__doc__ or "").strip().splitlines()
        table = Table(
            "parameter",
            "range",
            "conditional",
            "baseline",
            title=space.name,
            caption=doc[0] if doc else None,
        )
        for p in describe(space):
            table.add_row(p.name, p.range_text(), "yes" if p.conditional else "", repr(p.baseline))
        out.print(table)


@cli.command()
@click.argument("study")
@_storage_option
@click.option("--max-gap", type=float, help="Largest accepted gap (default: the study file's).")
@click.option(
    "--gap",
    type=click.Choice(["accuracy", "loss"]),
    help="Gap measure: accuracy (train - val) or loss (val - train).",
)
@click.option("--include-pruned", is_flag=True, help="Also rank pruned trials (not comparable).")
@click.option(
    "--plots", "plot_dir", type=click.Path(file_okay=False), help="Write HTML plots here."
)
@_debug_option
def tradeoff(
    study: str,
    storage: str,
    max_gap: float | None,
    gap: str | None,
    include_pruned: bool,
    plot_dir: str | None,
) -> None:
    """Pick the generalization tradeoff of STUDY: validation metric against overfitting gap.

    Lists the Pareto front of completed trials (better validation metric, smaller gap at
    the best epoch) and picks the best validation metric among trials within --max-gap.

    \b
    Example:
      hpsearch tradeoff quickstart --max-gap 0.05 --plots plots/
    """
    from hpsearch.queries import load
    from hpsearch.store import EpochLog
    from hpsearch.tradeoff import analyse

    log = EpochLog(storage)
    result = analyse(
        load(storage, study), log, gap=gap, max_gap=max_gap, include_pruned=include_pruned
    )
    table = Table(
        "#",
        "state",
        result.metric,
        f"{result.gap_measure} gap",
        "best epoch",
        "why stopped",
        "params",
        title=f"Pareto front of {study} ({len(result.candidates)} trials)",
    )
    for c in result.front:
        mark = " ← pick" if result.pick and c.number == result.pick.number else ""
        table.add_row(
            f"{c.number}{' (baseline)' if c.baseline else ''}{mark}",
            c.state,
            fmt(c.value),
            fmt(c.gap),
            str(c.best_epoch),
            c.stop_reason,
            ", ".join(f"{k}={short(v)}" for k, v in c.params.items()),
        )
    out.print(table)
    _print_finalists(result)
    if result.pick is None:
        out.print(f"no pick: {result.reason}")
    elif result.chosen is None:
        p = result.pick
        out.print(
            f"pick: trial {p.number}, {result.metric} {p.value:.4f}, "
            f"{result.gap_measure} gap {p.gap:.4f} <= {result.max_gap:g}: {result.reason}"
        )
    if plot_dir:
        from pathlib import Path

        from hpsearch.outputs import check_folder
        from hpsearch.plots import curves_figure, scatter_figure, write_html

        folder = Path(plot_dir)
        check_folder(folder, "--plots")
        for fig, name in (
            (scatter_figure(result), "tradeoff.html"),
            (curves_figure(result, log.history(study)), "curves.html"),
        ):
            out.print(f"wrote {write_html(fig, folder / name)}")


@cli.command()
@click.argument("study")
@_storage_option
@click.option("-o", "--output", default="report.html", show_default=True, help="HTML file.")
@_debug_option
def report(study: str, storage: str, output: str) -> None:
    """Write one self-contained HTML report of STUDY: summary, tradeoff, Optuna plots, trials.

    \b
    Example:
      hpsearch report quickstart -o report.html
    """
    from pathlib import Path

    from hpsearch.report import write_report

    out.print(f"wrote {write_report(storage, study, Path(output))}")


@cli.command()
@click.argument("study")
@_storage_option
@click.option("--trial", "number", type=int, help="Trial number (default: the tradeoff pick).")
@_debug_option
def evaluate(study: str, storage: str, number: int | None) -> None:
    """Retrain one trial of STUDY with its seed and measure it once on the TEST split.

    The test number is stored apart from validation numbers and never used to pick.

    \b
    Example:
      hpsearch evaluate imdb-sample-cnn-lstm
    """
    _quiet_tensorflow()
    from hpsearch.evaluate import evaluate as run_evaluation

    e = run_evaluation(storage, study, number)
    params = ", ".join(f"{k}={short(v)}" for k, v in e.params.items())
    out.print(f"trial {e.trial} of {e.study}: {params}")
    out.print(
        f"  validation {e.metric}: search {fmt(e.search_value)}, retrained {fmt(e.retrained_value)}"
    )
    out.print(
        f"  TEST (measured once, {e.test_size} reviews): accuracy {e.test_accuracy:.4f}, "
        f"macro F1 {fmt(e.macro_f1)}, loss {e.test_loss:.4f}"
    )
    out.print(textwrap.indent(e.confusion_text(), "    "))


@cli.command()
@click.argument("study")
@_storage_option
@click.option("--trial", "number", type=int, help="Trial number (default: the tradeoff pick).")
@click.option("-o", "--output", help="File to write (default train_best.py / train_best.json).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["script", "json"]),
    default="script",
    show_default=True,
    help="A training script, or the configuration alone.",
)
@click.option("--force", is_flag=True, help="Overwrite the output file.")
@_debug_option
def export(
    study: str, storage: str, number: int | None, output: str | None, fmt: str, force: bool
) -> None:
    """Export a trial of STUDY as a standalone training script (Keras/TensorFlow/NumPy only).

    The script trains the chosen configuration with the trial's seed, prints validation and
    test metrics, and saves a .keras model (raw review strings in, for text datasets).

    \b
    Example:
      hpsearch export quickstart -o train_best.py
      python train_best.py --epochs 5
    """
    from pathlib import Path

    from hpsearch.export import export as run_export

    _quiet_tensorflow()
    default = "train_best.py" if fmt == "script" else "train_best.json"
    path, config = run_export(storage, study, number, Path(output or default), fmt, force)
    out.print(f"wrote {path}: trial {config['trial']} of {config['study']} ({config['space']})")
    again = config.get("reevaluated")
    if again:
        sem = "" if again["standard_error"] is None else f" ± {again['standard_error']:.4f}"
        out.print(
            f"  {config['metric']} {again['mean']:.4f}{sem} over {again['runs']} re-evaluation "
            f"runs (search run {config['value']:.4f}); --refit trains "
            f"{config['refit_epochs']} epochs on training + validation data"
        )


def _print_trials(rows: list[dict[str, Any]], title: str) -> None:
    table = Table(*TRIAL_COLUMNS, title=title)
    for r in rows:
        table.add_row(*trial_cells(r))
    out.print(table)


def _quiet_tensorflow() -> None:
    from hpsearch.threads import use_threads

    use_threads()  # before TensorFlow starts its runtime; a worker's env already holds its share
    if not _DEBUG:
        from hpsearch.quiet import quiet_tensorflow

        quiet_tensorflow()


_DEBUG = False


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run the CLI, turn every user error into one line and an exit status."""
    global _DEBUG
    args = list(sys.argv[1:] if argv is None else argv)
    _DEBUG = "--debug" in args or bool(os.environ.get("HPSEARCH_DEBUG"))
    import optuna

    optuna.logging.set_verbosity(optuna.logging.INFO if _DEBUG else optuna.logging.ERROR)
    if not _DEBUG:
        # Heartbeats and stale-trial retry are marked experimental by Optuna; say it once
        # in the docs rather than on every start.
        warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    try:
        with _warnings_as_lines():
            cli.main(args=args, prog_name="hpsearch", standalone_mode=False)
        return 0
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except (click.ClickException, HpsearchError) as exc:
        if _DEBUG:
            raise
        message = exc.format_message() if isinstance(exc, click.ClickException) else str(exc)
        click.echo(f"hpsearch: error: {' '.join(message.split())}", err=True)
        return exc.exit_code
    except (KeyboardInterrupt, click.exceptions.Abort):
        click.echo("hpsearch: interrupted; the store is consistent, run again to resume", err=True)
        return INTERRUPTED
    except Exception as exc:  # the edge: no traceback escapes, whatever raised it
        if _DEBUG:
            raise
        click.echo(f"hpsearch: error: {unexpected(exc)}", err=True)
        return 1


@contextlib.contextmanager
def _warnings_as_lines() -> Iterator[None]:
    """hpsearch's own warnings (:class:`~hpsearch.errors.HpsearchWarning`) print as one
    ``hpsearch: warning:`` line each, once per command; other warnings are left as they are."""
    shown: set[str] = set()
    with warnings.catch_warnings():
        warnings.simplefilter("always", HpsearchWarning)
        previous = warnings.showwarning

        def show(message: Any, category: Any, *args: Any, **kwargs: Any) -> None:
            if not issubclass(category, HpsearchWarning):
                previous(message, category, *args, **kwargs)
                return
            line = " ".join(str(message).split())
            if line not in shown:
                shown.add(line)
                click.echo(f"hpsearch: warning: {line}", err=True)

        warnings.showwarning = show
        yield


def root_fault(exc: BaseException) -> BaseException:
    """The fault behind an exception: libraries re-raise their own errors while handling a
    disk or database failure (Optuna's trial bookkeeping, for one), so the chain of causes is
    searched for an ``OSError`` or a database error first."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    for e in seen:
        module = type(e).__module__.split(".")[0]
        if isinstance(e, OSError) or module in ("sqlalchemy", "sqlite3", "psycopg"):
            return e
    return exc


def unexpected(exc: BaseException) -> str:
    """One line for an exception no check anticipated, naming whose fault it is."""
    import errno

    exc = root_fault(exc)
    reason = " ".join(str(exc).split())[:300] or type(exc).__name__
    if isinstance(exc, OSError):
        what = {
            errno.ENOSPC: "the disk is full",
            errno.EROFS: "the file system is read-only",
            errno.EACCES: "permission denied",
            errno.EDQUOT: "the disk quota is exceeded",
        }.get(exc.errno or 0, "a fault of the disk or the operating system")
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        return f"{what}{where}: {reason}; free space or fix permissions, then run again"
    module = type(exc).__module__.split(".")[0]
    if module == "sqlalchemy" or "sqlite" in module or "psycopg" in module:
        return (
            f"storage fault ({type(exc).__name__}): {reason}; the store keeps what was "
            "committed, run again once the database is reachable and writable"
        )
    return (
        f"unexpected {type(exc).__name__}: {reason} (run with --debug for the traceback; "
        "if it comes from your space code, fix it there)"
    )


def entry_point() -> None:
    """The ``hpsearch`` console script."""
    sys.exit(main())
