"""The whole study: :class:`StudyConfig`, and its two directions, a TOML-shaped dict in
(:func:`parse`, ``StudyConfig.from_dict``) and out (``StudyConfig.to_dict``).

A :class:`StudyConfig` names the study, its storage, search space, dataset, objective,
sampler, pruner, early stopping, budget, tradeoff, selection and worker settings.
``StudyConfig.check()`` checks how the sections fit together; :func:`parse` checks every
key's name and type first. Both directions live here, so they round-trip by construction.
"""

from __future__ import annotations

import dataclasses
import math
import os
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Union

from hpsearch.config.sections import (
    KIND_KEYS,
    KIND_ONLY_KEYS,
    MAX_SEED,
    BudgetConfig,
    DatasetConfig,
    EarlyStoppingConfig,
    ObjectiveConfig,
    RangeOverride,
    SelectionConfig,
    StrategyConfig,
    TradeoffConfig,
    WorkersConfig,
    score_name,
)
from hpsearch.errors import ConfigError

MAX_INT = 2**31 - 1  # an INTEGER column on every store (PostgreSQL's is 32-bit)
MAX_NAME = 512  # Optuna's study_name column, and hpsearch's, is VARCHAR(512)


@dataclass(frozen=True)
class StudyConfig:
    """One study file, validated."""

    name: str
    space: str
    dataset: DatasetConfig = field(default_factory=DatasetConfig)
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)
    sampler: StrategyConfig = field(default_factory=lambda: StrategyConfig("tpe"))
    pruner: StrategyConfig = field(default_factory=lambda: StrategyConfig("median"))
    early_stopping: EarlyStoppingConfig = field(default_factory=EarlyStoppingConfig)
    budget: BudgetConfig = field(default_factory=BudgetConfig)
    tradeoff: TradeoffConfig = field(default_factory=TradeoffConfig)
    selection: SelectionConfig = field(default_factory=SelectionConfig)
    workers: WorkersConfig = field(default_factory=WorkersConfig)
    ranges: dict[str, RangeOverride] = field(default_factory=dict)
    storage: str = "sqlite:///hpsearch.db"
    seed: int = 0
    baseline: bool = True
    source: str = "<study>"

    @property
    def monitor(self) -> str:
        return self.objective.metric

    @property
    def score(self) -> str:
        """What a trial's value is: see :func:`score_name`."""
        return score_name(self.monitor, self.tradeoff.penalize)

    def to_dict(self) -> dict[str, Any]:
        """A TOML-shaped dict (no ``None`` values, no ``source``) that ``from_dict`` reads."""
        out: dict[str, Any] = {
            "name": self.name,
            "space": self.space,
            "storage": self.storage,
            "seed": self.seed,
            "baseline": self.baseline,
        }
        for section in (
            "dataset",
            "objective",
            "early_stopping",
            "budget",
            "tradeoff",
            "selection",
            "workers",
        ):
            out[section] = _drop_none(dataclasses.asdict(getattr(self, section)))
        for section in ("sampler", "pruner"):
            strategy: StrategyConfig = getattr(self, section)
            out[section] = {"name": strategy.name, **strategy.options}
        if self.ranges:
            out["ranges"] = {
                k: _drop_none(
                    {
                        "low": r.low,
                        "high": r.high,
                        "choices": list(r.choices) if r.choices else None,
                    }
                )
                for k, r in self.ranges.items()
            }
        return out

    @classmethod
    def from_dict(cls, raw: dict[str, Any], source: str = "<study>") -> StudyConfig:
        """Build and validate a config from a TOML-shaped dict; raises ConfigError."""
        return parse(raw, source)

    def with_absolute_paths(self) -> StudyConfig:
        """Data paths made absolute, so a stored config works from any directory."""
        d = self.dataset

        def absolute(p: str | None) -> str | None:
            # abspath, not resolve(): keep the user's own spelling through symlinks
            return os.path.abspath(os.path.expanduser(p)) if p else None

        dataset = dataclasses.replace(d, path=absolute(d.path), test_path=absolute(d.test_path))
        return dataclasses.replace(self, dataset=dataset)

    def check(self) -> None:
        """Check every section and how they fit together; raises ConfigError."""
        where = self.source
        if not self.name.strip():
            raise ConfigError(f"{where}: name is empty; allowed: a non-empty study name")
        if len(self.name) > MAX_NAME:
            raise ConfigError(
                f"{where}: name is {len(self.name)} characters long; allowed: at most "
                f"{MAX_NAME} (a store's study-name column holds no more)"
            )
        if any(not c.isprintable() for c in self.name):
            raise ConfigError(
                f"{where}: name = {self.name!r} holds a control character (a newline, tab, ...); "
                "allowed: printable characters, so every command can name the study"
            )
        if not 0 <= self.seed <= MAX_SEED:
            raise ConfigError(
                f"{where}: seed = {self.seed!r} is out of range; allowed: 0 to {MAX_SEED}"
            )
        if not self.space.strip():
            raise ConfigError(f"{where}: space is empty; allowed: a space name, file or module")
        if "://" not in self.storage:
            raise ConfigError(
                f"{where}: storage = {self.storage!r} is not a database URL; allowed: e.g. "
                "'sqlite:///hpsearch.db' or 'postgresql+psycopg://user@host/db'"
            )
        self.dataset.check(where)
        self.objective.check(where)
        self.early_stopping.check(where, self.objective)
        self.budget.check(where)
        self.tradeoff.check(where)
        self.selection.check(where)
        self.workers.check(where)
        if self.objective.multi and self.pruner.name != "none":
            raise ConfigError(
                f"{where}: pruner.name = {self.pruner.name!r} with objective.multi = true: Optuna "
                "cannot prune multi-objective studies (a trial reports one value per epoch, not "
                "two); allowed: pruner.name = 'none', or objective.multi = false"
            )
        if self.objective.multi and self.tradeoff.penalize:
            raise ConfigError(
                f"{where}: tradeoff.penalize = true with objective.multi = true: the gap is "
                "already the study's second objective; allowed: one of them"
            )
        for pname, override in self.ranges.items():
            override.check(where, f"ranges.{pname}")
        extra = {k for k, v in dataclasses.asdict(self.dataset).items() if v is not None}
        extra &= KIND_ONLY_KEYS - KIND_KEYS[self.dataset.kind]
        defaults = dataclasses.asdict(DatasetConfig())
        extra = {k for k in extra if getattr(self.dataset, k) != defaults[k]}
        if extra:
            key = sorted(extra)[0]
            raise ConfigError(
                f"{where}: dataset.{key} does not apply to dataset.kind = {self.dataset.kind!r}; "
                f"allowed there: {', '.join(sorted(KIND_KEYS[self.dataset.kind]))}"
            )

    def replace(self, **changes: Any) -> StudyConfig:
        """A copy with top-level fields changed, validated again."""
        cfg = dataclasses.replace(self, **changes)
        cfg.check()
        return cfg


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


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
            kwargs[key] = typed(where, key, raw[key], _hint(StudyConfig, key))
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
            name = typed(where, f"{key}.name", table.get("name", ""), str)
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
    values = {k: typed(where, f"{name}.{k}", v, _hint(klass, k)) for k, v in table.items()}
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


def typed(where: str, key: str, value: Any, hint: Any) -> Any:
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
