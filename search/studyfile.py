"""Study files: TOML read, parsed into a :class:`~hpsearch.config.StudyConfig`, validated.

A study file (``studies/*.toml``) names the study, its storage, search space, dataset,
objective, sampler, pruner, early stopping and budget. :func:`load_study_file` reads it
with :mod:`tomllib`; :func:`parse` turns a TOML-shaped dict into a config, checking every
key's name and type; :func:`apply_overrides` lays command-line flags over it. Every problem
becomes one :class:`~hpsearch.errors.ConfigError` line naming the file, the key, the value and
what is allowed. The sections' own checks (ranges, allowed values) are in
:mod:`hpsearch.config`.
"""

from __future__ import annotations

import dataclasses
import math
import os
import tomllib
import types
import typing
from pathlib import Path
from typing import Any, Union

from hpsearch.config import (
    KIND_KEYS,
    KIND_ONLY_KEYS,
    BudgetConfig,
    DatasetConfig,
    EarlyStoppingConfig,
    ObjectiveConfig,
    RangeOverride,
    SelectionConfig,
    StrategyConfig,
    StudyConfig,
    TradeoffConfig,
    WorkersConfig,
)
from hpsearch.errors import ConfigError

MAX_INT = 2**31 - 1  # an INTEGER column on every store (PostgreSQL's is 32-bit)


def load_study_file(path: str | Path) -> StudyConfig:
    """Read and validate a study file; every problem is one ConfigError line.

    A path that is not a file here may name an example study shipped with hpsearch
    (``quickstart``, ``quickstart.toml`` or ``studies/quickstart.toml``), so the examples run
    from any folder; a file of that name here always wins.
    """
    from hpsearch.shipped import example_studies, example_study

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
    n_trials = _typed("override", "n_trials", n_trials, int | None)
    timeout = _typed("override", "timeout", timeout, float | None)
    max_epochs = _typed("override", "max_epochs", max_epochs, int | None)
    storage = _typed("override", "storage", storage, str | None)
    data = _typed("override", "data", data, str | None)
    maxlen = _typed("override", "maxlen", maxlen, int | None)
    budget = dataclasses.replace(
        cfg.budget,
        n_trials=cfg.budget.n_trials if n_trials is None else n_trials,
        timeout=cfg.budget.timeout if timeout is None else timeout,
        max_epochs=cfg.budget.max_epochs if max_epochs is None else max_epochs,
    )
    dataset = cfg.dataset
    if data is not None:
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


# --- parsing helpers -------------------------------------------------------------------


def parse(raw: dict[str, Any], where: str) -> StudyConfig:
    """Build and check a config from a TOML-shaped dict read from ``where``."""
    top_fields = {f.name for f in dataclasses.fields(StudyConfig)} - {"source"}
    _known_keys(where, "", raw, top_fields)
    for required in ("name", "space"):
        if required not in raw:
            raise ConfigError(f"{where}: key {required!r} is missing")
    kwargs: dict[str, Any] = {}
    for key in ("name", "space", "storage", "seed", "baseline"):
        if key in raw:
            kwargs[key] = _typed(where, key, raw[key], _hint(StudyConfig, key))
    for key, klass in (
        ("dataset", DatasetConfig),
        ("objective", ObjectiveConfig),
        ("early_stopping", EarlyStoppingConfig),
        ("budget", BudgetConfig),
        ("tradeoff", TradeoffConfig),
        ("selection", SelectionConfig),
        ("workers", WorkersConfig),
    ):
        if key in raw:
            kwargs[key] = _section(where, key, raw[key], klass)
    for key in ("sampler", "pruner"):
        if key in raw:
            table = _table(where, key, raw[key])
            name = _typed(where, f"{key}.name", table.get("name", ""), str)
            options = {k: v for k, v in table.items() if k != "name"}
            kwargs[key] = StrategyConfig(name=name, options=options)
    objective = raw.get("objective")
    if isinstance(objective, dict) and objective.get("multi") is True:
        # Optuna cannot prune multi-objective studies, so their default pruner is none.
        kwargs.setdefault("pruner", StrategyConfig("none"))
    if "ranges" in raw:
        ranges = {}
        for pname, spec in _table(where, "ranges", raw["ranges"]).items():
            key = f"ranges.{pname}"
            if isinstance(spec, list):
                spec = {"choices": spec}
            override = _section(where, key, spec, RangeOverride)
            if override.choices is not None:
                override = dataclasses.replace(override, choices=tuple(override.choices))
            ranges[pname] = override
        kwargs["ranges"] = ranges
    cfg = StudyConfig(source=where, **kwargs)
    cfg.check()
    return cfg


def _section(where: str, name: str, raw: Any, klass: type) -> Any:
    table = _table(where, name, raw)
    names = {f.name for f in dataclasses.fields(klass)}
    _known_keys(where, name, table, names)
    values = {k: _typed(where, f"{name}.{k}", v, _hint(klass, k)) for k, v in table.items()}
    return klass(**values)


def _table(where: str, key: str, raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: {key} = {raw!r} should be a table ([{key}])")
    return raw


def _known_keys(where: str, section: str, table: dict[str, Any], allowed: set[str]) -> None:
    for key in table:
        if key not in allowed:
            full = f"{section}.{key}" if section else key
            raise ConfigError(
                f"{where}: unknown key {full!r}; allowed: {', '.join(sorted(allowed))}"
            )


def _hint(klass: type, name: str) -> Any:
    return typing.get_type_hints(klass)[name]


def _typed(where: str, key: str, value: Any, hint: Any) -> Any:
    """Check ``value`` against a dataclass field type (str, int, float, bool, X | None)."""
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (Union, types.UnionType):
        if value is None:
            return None
        hint = next(a for a in args if a is not type(None))
    origin = typing.get_origin(hint) or hint
    ok: bool
    if origin is bool:
        ok = isinstance(value, bool)
    elif origin is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        if ok and abs(value) > MAX_INT:  # a store's INTEGER column could not hold it
            raise ConfigError(
                f"{where}: {key} = {value!r} is out of range; allowed: at most {MAX_INT}"
            )
    elif origin is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if ok:
            try:
                value = float(value)
            except OverflowError:  # an integer too large for a float
                value = math.inf
            ok = math.isfinite(value)
    elif origin is str:
        ok = isinstance(value, str)
    elif origin in (tuple, list):
        ok = isinstance(value, list | tuple)
    else:
        ok = True
    if not ok and origin is float and isinstance(value, float):
        raise ConfigError(f"{where}: {key} = {value!r} is not a finite number; allowed: a float")
    if not ok:
        allowed = getattr(origin, "__name__", str(origin))
        raise ConfigError(f"{where}: {key} = {value!r} has the wrong type; allowed: {allowed}")
    return value
