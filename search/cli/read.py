"""``hpsearch`` commands that read a store: ``studies``, ``trials``, ``best``, ``spaces``,
``tradeoff``, ``report`` and ``dashboard``.

They train nothing and write no trials; ``studies``, ``trials`` and ``best`` import no
TensorFlow, so they answer quickly.
"""

from __future__ import annotations

import json

import click
from rich.table import Table

from hpsearch.cli.shared import (
    debug_option,
    nonempty,
    out,
    print_finalists,
    print_trials,
    quiet_tensorflow,
    storage_option,
)
from hpsearch.output.tables import fmt, short


@click.command()
@storage_option
@debug_option
def studies(storage: str) -> None:
    """List the studies in a store, with trial counts by state and the best value.

    \b
    Example:
      hpsearch studies --storage sqlite:///hpsearch.db
    """
    from hpsearch.store.queries import SHOWN_STATES, list_studies

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


@click.command()
@click.argument("study")
@storage_option
@debug_option
def trials(study: str, storage: str) -> None:
    """Show every trial of STUDY: state, value, params, epochs, why it stopped, gap.

    \b
    Example:
      hpsearch trials quickstart
    """
    from hpsearch.store.queries import trial_rows

    print_trials(trial_rows(storage, study), title=study)


@click.command()
@click.argument("study")
@storage_option
@click.option("--json", "as_json", is_flag=True, help="Print the best trial as JSON.")
@debug_option
def best(study: str, storage: str, as_json: bool) -> None:
    """Show the best completed trial of STUDY (by validation metric); once its finalists
    are re-evaluated, the re-evaluated pick with its mean and standard error.

    \b
    Example:
      hpsearch best quickstart --json
    """
    from hpsearch.pick.tradeoff import best_row

    row = best_row(storage, study)
    if as_json:
        click.echo(json.dumps(row, indent=2, sort_keys=True))
        return
    out.print(f"best trial of {study}: #{row['number']}, {row['metric']} = {fmt(row['value'])}")
    again = row["reevaluated"]
    if again is not None:
        error = again.get("error", again["standard_error"])  # "error": since 2026-12
        sem = "" if error is None else f" ± {error:.4f}"
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


@click.command()
@click.argument("name", required=False)
@debug_option
def spaces(name: str | None) -> None:
    """List search spaces and their parameters, derived by running each space's suggest().

    \b
    Example:
      hpsearch spaces
      hpsearch spaces cnn_lstm
    """
    nonempty("NAME", name)
    quiet_tensorflow()
    from hpsearch.engine.spaces import available_spaces, describe, load_space

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


@click.command()
@click.argument("study")
@storage_option
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
@debug_option
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
    from hpsearch.pick.tradeoff import analyse
    from hpsearch.store.database import EpochLog
    from hpsearch.store.queries import load

    nonempty("--plots", plot_dir, "a folder path")
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
    print_finalists(result)
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

        from hpsearch.output.files import check_folder
        from hpsearch.output.plots import curves_figure, scatter_figure, write_html

        folder = Path(plot_dir)
        check_folder(folder, "--plots")
        for fig, name in (
            (scatter_figure(result), "tradeoff.html"),
            (curves_figure(result, log.history(study)), "curves.html"),
        ):
            out.print(f"wrote {write_html(fig, folder / name)}")


@click.command()
@click.argument("study")
@storage_option
@click.option("-o", "--output", default="report.html", show_default=True, help="HTML file.")
@debug_option
def report(study: str, storage: str, output: str) -> None:
    """Write one self-contained HTML report of STUDY: summary, tradeoff, Optuna plots, trials.

    \b
    Example:
      hpsearch report quickstart -o report.html
    """
    from pathlib import Path

    from hpsearch.output.report import write_report

    nonempty("-o", output)
    out.print(f"wrote {write_report(storage, study, Path(output))}")


@click.command()
@storage_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=8080, show_default=True, help="Port to listen on.")
@click.option("--allow-remote", is_flag=True, help="Allow a non-loopback --host (no auth!).")
@debug_option
def dashboard(storage: str, host: str, port: int, allow_remote: bool) -> None:
    """Watch the studies of a store in optuna-dashboard (loopback only by default).

    Notes, objective names and the tradeoff figure written by running studies show there.

    \b
    Example:
      hpsearch dashboard --storage sqlite:///hpsearch.db --port 8080
    """
    from hpsearch.output.dashboard import serve

    try:
        serve(storage, host, port, allow_remote)
    except KeyboardInterrupt:
        out.print("dashboard stopped")
