"""What the ``hpsearch`` commands share: the output console, common options, quieting
TensorFlow, and the tables more than one command prints.

Kept apart from :mod:`hpsearch.cli.main` (the group and the error edge) so the command modules
(:mod:`hpsearch.cli.run`, :mod:`hpsearch.cli.read`, :mod:`hpsearch.cli.export`) need not import
the module that registers them. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from hpsearch.output.tables import TRIAL_COLUMNS, fmt, trial_cells

DEFAULT_STORAGE = "sqlite:///hpsearch.db"
# Off a terminal (pipes, CI logs) rich would wrap tables at 80 columns; give them room.
# markup=False: study names, params and reasons are the user's text, and "[x]" in them must
# print as written (rich would take it for a style, or fail on "[/]").
out = Console(highlight=False, markup=False, width=None if sys.stdout.isatty() else 200)

_debug = False


def set_debug(on: bool) -> None:
    """Set by :func:`hpsearch.cli.main` from ``--debug`` or ``HPSEARCH_DEBUG``."""
    global _debug
    _debug = on


def debug_option(f: Callable[..., Any]) -> Callable[..., Any]:
    # Accepted anywhere on the line; main() reads it before click runs.
    return click.option(
        "--debug", is_flag=True, expose_value=False, help="Show tracebacks and TensorFlow logs."
    )(f)


def accept_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--accept-changed-data",
        is_flag=True,
        help="Go on although a data file changed since the study was created (recorded).",
    )(f)


def storage_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--storage",
        default=lambda: os.environ.get("HPSEARCH_STORAGE", DEFAULT_STORAGE),
        show_default=DEFAULT_STORAGE,
        help="Database URL of the store (env HPSEARCH_STORAGE).",
    )(f)


def nonempty(flag: str, value: str | None, allowed: str | None = None) -> None:
    """A path option given as the empty string names no file: refused as the API refuses it
    (a shell variable that was never set, say), not read as the current folder."""
    if value is not None and not value.strip():
        from hpsearch.errors import ConfigError

        what = allowed or ("a name or a file path" if flag.isupper() else "a file path")
        raise ConfigError(f"{flag} {value!r} is empty; allowed: {what}")


def quiet_tensorflow() -> None:
    """Call before a command imports TensorFlow: thread counts set, its logs off unless
    ``--debug``."""
    from hpsearch.engine.devices import use_memory_growth
    from hpsearch.engine.threads import use_threads

    use_threads()  # before TensorFlow starts its runtime; a worker's env already holds its share
    use_memory_growth()
    if not _debug:
        from hpsearch.engine.quiet import quiet_tensorflow as quiet

        quiet()


def print_trials(rows: list[dict[str, Any]], title: str) -> None:
    table = Table(*TRIAL_COLUMNS, title=title)
    for r in rows:
        table.add_row(*trial_cells(r))
    out.print(table)


def print_finalists(result: Any) -> None:
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
    baseline = {c.number for c in result.candidates if c.baseline}
    for f in result.finalists:
        mark = " ← pick" if result.pick and f.number == result.pick.number else ""
        mark = (" (baseline)" if f.number in baseline else "") + mark
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
