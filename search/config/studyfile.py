"""Study files: a TOML file read into a :class:`~hpsearch.config.study.StudyConfig`, and the
command line's overrides laid over it.

:func:`load_study_file` reads a file (or an example shipped with hpsearch) with
:mod:`tomllib` and hands it to :func:`~hpsearch.config.study.parse`; :func:`apply_overrides`
lays command-line flags over a config. Every problem becomes one
:class:`~hpsearch.errors.ConfigError` line naming the file, the key, the value and what is
allowed.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from pathlib import Path

from hpsearch.config.sections import KIND_KEYS, KIND_ONLY_KEYS, DatasetConfig
from hpsearch.config.shipped import example_studies, example_study
from hpsearch.config.study import StudyConfig, parse, typed
from hpsearch.errors import ConfigError


def load_study_file(path: str | Path) -> StudyConfig:
    """Read and validate a study file; every problem is one ConfigError line.

    A path that is not a file here may name an example study shipped with hpsearch
    (``quickstart``, ``quickstart.toml`` or ``studies/quickstart.toml``), so the examples run
    from any folder; a file of that name here always wins.
    """
    p = Path(path)
    if not p.is_file():
        name = str(path).removeprefix(f"studies{os.sep}").removeprefix("studies/")
        shipped = example_study(name)
        if shipped is None:
            raise ConfigError(
                f"{p}: no such study file; examples shipped with hpsearch: "
                f"{', '.join(example_studies())}"
            )
        p = shipped
    try:
        # utf-8-sig: an editor's byte-order mark (Windows Notepad writes one) is not TOML
        raw = tomllib.loads(p.read_text(encoding="utf-8-sig"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: not a UTF-8 text file") from None
    return parse(raw, str(p))


def apply_overrides(
    cfg: StudyConfig,
    *,
    n_trials: int | None = None,
    timeout: float | None = None,
    max_epochs: int | None = None,
    storage: str | None = None,
    data: str | None = None,
    maxlen: int | None = None,
) -> StudyConfig:
    """Command-line flags win over the file. ``data`` points any study at a local dataset:
    a directory (aclImdb layout), a ``.csv`` file, or an ``imdb.npz``."""
    # Typed like a study file's values: the Python API passes these unparsed.
    n_trials = typed("override", "n_trials", n_trials, int | None)
    timeout = typed("override", "timeout", timeout, float | None)
    max_epochs = typed("override", "max_epochs", max_epochs, int | None)
    storage = typed("override", "storage", storage, str | None)
    data = typed("override", "data", data, str | None)
    maxlen = typed("override", "maxlen", maxlen, int | None)
    budget = dataclasses.replace(
        cfg.budget,
        n_trials=cfg.budget.n_trials if n_trials is None else n_trials,
        timeout=cfg.budget.timeout if timeout is None else timeout,
        max_epochs=cfg.budget.max_epochs if max_epochs is None else max_epochs,
    )
    dataset = cfg.dataset
    if data is not None:
        if not data.strip():
            raise ConfigError(
                f"--data {data!r} is empty; allowed: a CSV, an aclImdb folder or imdb.npz"
            )
        p = Path(data)
        if p.is_dir():
            kind = "directory"
        elif p.suffix.lower() == ".csv":
            kind = "csv"
        elif p.suffix.lower() == ".npz":
            kind = "imdb"
        else:
            raise ConfigError(
                f"--data {data!r}: not a directory, .csv or .npz file; allowed: an aclImdb "
                "folder, a CSV with text,label columns, or a local imdb.npz"
            )
        # Settings of the file's own kind that the new kind does not take go back to defaults.
        kept = {
            k: v
            for k, v in dataclasses.asdict(dataset).items()
            if k not in KIND_ONLY_KEYS or k in KIND_KEYS[kind]
        }
        dataset = DatasetConfig(**{**kept, "kind": kind, "path": str(p), "test_path": None})
    if maxlen is not None:
        dataset = dataclasses.replace(dataset, maxlen=maxlen)
    cfg = dataclasses.replace(
        cfg, budget=budget, dataset=dataset, storage=cfg.storage if storage is None else storage
    )
    cfg.check()
    return cfg
