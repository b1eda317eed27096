"""``hpsearch`` commands that take one trial out of the search: ``evaluate`` measures it
once on the test split, ``export`` writes it as a standalone training script or JSON.
"""

from __future__ import annotations

import textwrap

import click

from hpsearch.cli.shared import (
    accept_option,
    debug_option,
    nonempty,
    out,
    quiet_tensorflow,
    storage_option,
)
from hpsearch.output.tables import fmt, short
from hpsearch.portable.data import counted


@click.command()
@click.argument("study")
@storage_option
@click.option("--trial", "number", type=int, help="Trial number (default: the tradeoff pick).")
@click.option(
    "--again",
    is_flag=True,
    help="Read the test split although it was read before (recorded; no longer unbiased).",
)
@accept_option
@debug_option
def evaluate(
    study: str, storage: str, number: int | None, again: bool, accept_changed_data: bool
) -> None:
    """Retrain one trial of STUDY with its seed and measure it once on the TEST split.

    The test number is stored apart from validation numbers and never used to pick.

    \b
    Example:
      hpsearch evaluate imdb-sample-cnn-lstm
    """
    quiet_tensorflow()
    from hpsearch.pick.evaluate import evaluate as run_evaluation

    e = run_evaluation(storage, study, number, again=again, accept_changed_data=accept_changed_data)
    params = ", ".join(f"{k}={short(v)}" for k, v in e.params.items())
    out.print(f"trial {e.trial} of {e.study}: {params}")
    out.print(
        f"  validation {e.metric}: search {fmt(e.search_value)}, retrained {fmt(e.retrained_value)}"
    )
    once = "measured once" if e.unbiased else f"read {e.reads} times: NOT an unbiased estimate"
    out.print(
        f"  TEST ({once}, {e.test_size} reviews): accuracy {e.test_accuracy:.4f}, "
        f"macro F1 {fmt(e.macro_f1)}, loss {e.test_loss:.4f}"
    )
    out.print(textwrap.indent(e.confusion_text(), "    "))


@click.command()
@click.argument("study")
@storage_option
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
@click.option(
    "--ensemble",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="The script's --refit averages up to this many models: the pick and the next "
    "re-evaluated finalists that reach the baseline (text datasets).",
)
@click.option("--force", is_flag=True, help="Overwrite the output file.")
@debug_option
def export(
    study: str,
    storage: str,
    number: int | None,
    output: str | None,
    fmt: str,
    ensemble: int,
    force: bool,
) -> None:
    """Export a trial of STUDY as a standalone training script (Keras/TensorFlow/NumPy only).

    The script trains the chosen configuration with the trial's seed, prints validation and
    test metrics, and saves a .keras model (raw review strings in, for text datasets). Its
    --refit trains the final model on training + validation data; with --ensemble N it
    trains up to N best re-evaluated finalists so and saves one model averaging them.

    \b
    Example:
      hpsearch export quickstart -o train_best.py
      python train_best.py --epochs 5
      hpsearch export imdb-sample-best --ensemble 3 && python train_best.py --refit
    """
    from pathlib import Path

    from hpsearch.output.export import export as run_export

    quiet_tensorflow()
    nonempty("-o", output)
    default = "train_best.py" if fmt == "script" else "train_best.json"
    path, config = run_export(
        storage, study, number, Path(output or default), fmt, force, ensemble=ensemble
    )
    out.print(f"wrote {path}: trial {config['trial']} of {config['study']} ({config['space']})")
    if config["members"]:
        trials = ", ".join(str(m["trial"]) for m in config["members"])
        out.print(f"  --refit averages it with trials {trials} (each refit on its own epochs)")
    if len(config["members"]) + 1 < ensemble:
        out.print(
            f"  --ensemble {ensemble}: {len(config['members']) + 1} re-evaluated finalist(s) "
            "reach the baseline, so --refit averages those (more with [selection] finalists "
            "and `hpsearch select`)"
        )
    again = config.get("reevaluated")
    if again:
        error = again.get("error", again["standard_error"])  # "error": since 2026-12
        sem = "" if error is None else f" ± {error:.4f}"
        out.print(
            f"  {config['metric']} {again['mean']:.4f}{sem} over {again['runs']} re-evaluation "
            f"runs (search value {config['value']:.4f}); --refit trains "
            f"{counted(config['refit_epochs'], 'epoch')} on "
            "training + validation data"
        )
