"""Checks on files a command writes (exported scripts, reports, plots), before any work.

One :class:`~hpsearch.errors.ConfigError` line names the path and what is wrong: a folder that
does not exist or cannot be written, a path that is a folder, a file that exists without
``--force``. What can still go wrong while writing (a full disk) is an ``OSError`` that the
command line reports as a fault of the disk.
"""

from __future__ import annotations

import os
from pathlib import Path

from hpsearch.errors import ConfigError


def check_output(path: Path, *, force: bool = True, flag: str = "-o") -> None:
    """Refuse, with one line, an output file that cannot be written where it is asked."""
    if path.is_dir():
        raise ConfigError(f"{flag} {path}: is a folder; allowed: a file path")
    if path.exists() and not force:
        raise ConfigError(f"{path} exists; pass --force to overwrite it")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ConfigError(f"{flag} {path}: folder {folder} does not exist; create it first")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(f"{flag} {path}: folder {folder} is not writable")


def check_folder(path: Path, flag: str) -> None:
    """Refuse an output folder that is a file, or that cannot be created."""
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{flag} {path}: is a file; allowed: a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{flag} {path}: cannot create it ({exc.strerror})") from None
