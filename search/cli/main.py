"""The ``hpsearch`` command line: thin commands over the library.

Each command parses its options, calls one library function and prints. Errors from the
library (:class:`~hpsearch.errors.HpsearchError`) and from click's parsing become one line on
stderr and an exit status here, and only here; ``--debug`` shows the traceback instead.
TensorFlow is imported only by commands that train or build models, so ``--help``,
``studies``, ``trials`` and ``best`` answer quickly.

This module holds the command group and that edge (:func:`main`); the commands live by job
in :mod:`hpsearch.cli.run` (run, create, worker, select), :mod:`hpsearch.cli.read` (studies,
trials, best, spaces, tradeoff, report, dashboard) and :mod:`hpsearch.cli.export` (evaluate,
export), and what they share in :mod:`hpsearch.cli.shared`.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import click

from hpsearch.cli.export import evaluate, export
from hpsearch.cli.read import best, dashboard, report, spaces, studies, tradeoff, trials
from hpsearch.cli.run import create, run, select, submit, worker
from hpsearch.cli.shared import debug_option, set_debug
from hpsearch.cli.store import delete
from hpsearch.engine.signals import INTERRUPTED, Interrupted
from hpsearch.errors import HpsearchError, HpsearchWarning
from hpsearch.store.database import LOCK_WAIT_S, close_stores


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@debug_option
def cli() -> None:
    """Hyperparameter search for Keras sequence classifiers, driven by Optuna.

    \b
    Example:
      hpsearch run studies/quickstart.toml
      hpsearch trials quickstart
    """
    click.get_current_context().call_on_close(close_stores)  # the store closes with the command


for command in (
    run,
    select,
    create,
    worker,
    submit,
    dashboard,
    studies,
    trials,
    best,
    spaces,
    tradeoff,
    report,
    evaluate,
    export,
    delete,
):
    cli.add_command(command)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run the CLI, turn every user error into one line and an exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or bool(os.environ.get("HPSEARCH_DEBUG"))
    set_debug(debug)
    import optuna

    optuna.logging.set_verbosity(optuna.logging.INFO if debug else optuna.logging.ERROR)
    if not debug:
        # Heartbeats and stale-trial retry are marked experimental by Optuna; say it once
        # in the docs rather than on every start.
        warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    try:
        with _warnings_as_lines(), _thread_errors_as_lines(debug):
            cli.main(args=args, prog_name="hpsearch", standalone_mode=False)
        return 0
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except (click.ClickException, HpsearchError) as exc:
        if debug:
            raise
        message = exc.format_message() if isinstance(exc, click.ClickException) else str(exc)
        click.echo(f"hpsearch: error: {' '.join(message.split())}", err=True)
        return exc.exit_code
    except (Interrupted, KeyboardInterrupt, click.exceptions.Abort) as exc:
        if isinstance(exc, Interrupted) and sys.stderr.isatty():
            click.echo(err=True)  # ends the terminal's ^C echo, as click does for its own
        click.echo("hpsearch: interrupted; the store is consistent, run again to resume", err=True)
        return INTERRUPTED
    except Exception as exc:  # the edge: no traceback escapes, whatever raised it
        if debug:
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


@contextlib.contextmanager
def _thread_errors_as_lines(debug: bool) -> Iterator[None]:
    """An exception that ends a background thread (Optuna's heartbeat, when the store stops
    answering) prints one ``hpsearch: warning:`` line instead of Python's traceback; the
    command's own thread meets the same fault and ends with its own line. ``--debug`` keeps
    the traceback."""
    import threading

    previous = threading.excepthook

    def hook(args: threading.ExceptHookArgs) -> None:
        if debug or args.exc_value is None:
            previous(args)
            return
        name = args.thread.name if args.thread is not None else "a thread"
        what = "the trial's heartbeat" if "heartbeat" in name else f"thread {name!r}"
        click.echo(f"hpsearch: warning: {what} stopped: {unexpected(args.exc_value)}", err=True)

    threading.excepthook = hook
    try:
        yield
    finally:
        threading.excepthook = previous


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
    if type(exc).__name__ == "IntegrityError":  # rows in the way: running again cannot help
        return (
            f"storage conflict (IntegrityError): {reason}; the store holds rows that collide "
            "with this run's: `hpsearch studies` shows what is there, `hpsearch delete STUDY` "
            "removes a study"
        )
    if "database is locked" in reason:
        return (
            f"the SQLite store stayed locked by another process for {LOCK_WAIT_S} s: a worker "
            "suspended (Ctrl-Z) or stopped in a debugger holds its lock; resume it (`fg`) or "
            "end it, then run again"
        )
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
