"""``python -m hpsearch``: the command line, as the ``hpsearch`` script runs it."""

from __future__ import annotations

from hpsearch.cli.main import entry_point

if __name__ == "__main__":
    entry_point()
