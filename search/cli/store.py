"""``hpsearch`` commands that change a store without training: ``delete``."""

from __future__ import annotations

import click

from hpsearch.cli.shared import debug_option, out, storage_option


@click.command()
@click.argument("study")
@storage_option
@debug_option
def delete(study: str, storage: str) -> None:
    """Delete STUDY from the store: its Optuna trials and every row hpsearch keeps for it
    (epochs, budget, re-evaluation runs, test results), so the name can be used again.

    \b
    Example:
      hpsearch delete quickstart --storage sqlite:///hpsearch.db
    """
    from hpsearch import commands

    counts = commands.delete(storage, study)
    rows = ", ".join(f"{n} {table.removeprefix('hpsearch_')}" for table, n in counts.items() if n)
    out.print(f"deleted study {study} from {storage}: {rows or 'no rows'}")
