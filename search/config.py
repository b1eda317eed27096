"""Study files: frozen dataclasses loaded from TOML, validated before anything runs.

A study file (``studies/*.toml``) names the study, its storage, search space, dataset,
objective, sampler, pruner, early stopping and budget. :func:`load_study_file` reads it
with :mod:`tomllib` and returns a :class:`StudyConfig`; every problem becomes one
:class:`~hpsearch.errors.ConfigError` line naming the file, the key, the value and what is
allowed. ``StudyConfig.to_dict()`` / ``StudyConfig.from_dict()`` round-trip.

Checks that need a library (sampler and pruner options, space parameter names) live
with those pieces (:mod:`hpsearch.strategies`, :mod:`hpsearch.spaces`); this module only
checks shapes, types and ranges.
"""

from __future__ import annotations

import dataclasses
import math
import os
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from hpsearch.errors import ConfigError

METRICS = ("val_loss", "val_accuracy", "loss", "accuracy", "val_macro_f1", "macro_f1")
"""What a trial's ``fit`` logs: loss and accuracy always, macro F1 when the objective is it
(see :class:`hpsearch.trial.MacroF1`)."""

DATASET_KINDS = ("imdb", "csv", "directory", "synthetic")
# Keys that only make sense for some dataset kinds; the rest apply to all.
_KIND_KEYS = {
    "imdb": {"path"},
    "csv": {"path", "test_path", "text_column", "label_column"},
    "directory": {"path"},
    "synthetic": {"samples", "test_samples"},
}
_KIND_ONLY_KEYS = set().union(*_KIND_KEYS.values())
DEFAULT_NUM_WORDS = 5000
DEFAULT_MAXLEN = 500
"""The tutorial's data settings, used when neither the study file nor the space sets them."""


@dataclass(frozen=True)
class DatasetConfig:
    """Where the reviews come from and how they become integer sequences."""

    kind: str = "synthetic"
    path: str | None = None
    test_path: str | None = None
    text_column: str = "text"
    label_column: str = "label"
    num_words: int | None = None  # None: 5000, or searched when the space suggests it
    maxlen: int | None = None  # None: 500, or searched when the space suggests it
    validation_split: float = 0.2
    max_samples: int | None = None
    samples: int = 2000
    test_samples: int = 500

    def filled(self) -> DatasetConfig:
        """A copy with the tutorial's vocabulary size and length where none is set."""
        return dataclasses.replace(
            self,
            num_words=DEFAULT_NUM_WORDS if self.num_words is None else self.num_words,
            maxlen=DEFAULT_MAXLEN if self.maxlen is None else self.maxlen,
        )

    def size(self) -> tuple[int, int]:
        """(vocabulary size, sequence length), the tutorial's where unset."""
        filled = self.filled()
        assert filled.num_words is not None and filled.maxlen is not None
        return filled.num_words, filled.maxlen

    def check(self, where: str) -> None:
        _one_of(where, "dataset.kind", self.kind, DATASET_KINDS)
        if self.num_words is not None:
            _at_least(where, "dataset.num_words", self.num_words, 3)
        if self.maxlen is not None:
            _at_least(where, "dataset.maxlen", self.maxlen, 1)
        _between(where, "dataset.validation_split", self.validation_split, 0.0, 1.0)
        if self.max_samples is not None:
            _at_least(where, "dataset.max_samples", self.max_samples, 10)
        _at_least(where, "dataset.samples", self.samples, 10)
        _at_least(where, "dataset.test_samples", self.test_samples, 0)
        if self.kind in ("csv", "directory") and not self.path:
            raise ConfigError(f"{where}: dataset.path is required for dataset.kind = {self.kind!r}")


@dataclass(frozen=True)
class ObjectiveConfig:
    """The metric a trial is scored on; it is also what early stopping and pruning watch.

    ``multi = true`` makes a two-objective study: the metric and the overfitting gap
    (``[tradeoff] gap``, minimized), searched with NSGA-II or multi-objective TPE.
    """

    metric: str = "val_accuracy"
    direction: str = ""
    multi: bool = False

    def resolved_direction(self) -> str:
        return self.direction or ("minimize" if self.metric.endswith("loss") else "maximize")

    def check(self, where: str) -> None:
        _one_of(where, "objective.metric", self.metric, METRICS)
        if self.direction:
            _one_of(where, "objective.direction", self.direction, ("minimize", "maximize"))
            natural = "minimize" if self.metric.endswith("loss") else "maximize"
            if self.direction != natural:
                raise ConfigError(
                    f"{where}: objective.direction = {self.direction!r} does not fit "
                    f"metric {self.metric!r}; allowed: {natural!r}"
                )


@dataclass(frozen=True)
class StrategyConfig:
    """A sampler or pruner: its name plus keyword options for its Optuna class."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)


GAP_MEASURES = ("accuracy", "loss")
DEFAULT_MAX_GAP = {"accuracy": 0.05, "loss": 0.10}


@dataclass(frozen=True)
class TradeoffConfig:
    """How ``hpsearch tradeoff`` measures overfitting and how much of it the pick accepts.

    The accuracy gap is train accuracy - validation accuracy; the loss gap is
    validation loss - train loss; both at the trial's best epoch.
    """

    gap: str = "accuracy"
    max_gap: float | None = None
    constrain: bool = False
    """Steer the sampler toward trials within ``max_gap`` (Optuna's ``constraints_func``)."""

    def limit(self) -> float:
        return DEFAULT_MAX_GAP[self.gap] if self.max_gap is None else self.max_gap

    def check(self, where: str) -> None:
        _one_of(where, "tradeoff.gap", self.gap, GAP_MEASURES)
        if self.max_gap is not None:
            _at_least(where, "tradeoff.max_gap", self.max_gap, 0.0)


@dataclass(frozen=True)
class SelectionConfig:
    """Re-evaluation of the search's finalists before one is picked (``[selection]``).

    The top ``finalists`` trials are each trained ``repeats`` more times, every time on
    another validation split carved from the training data and with another seed, and
    ranked by the mean of those runs. ``finalists = 0`` turns it off.
    """

    finalists: int = 3
    repeats: int = 2

    def check(self, where: str) -> None:
        _at_least(where, "selection.finalists", self.finalists, 0)
        _at_least(where, "selection.repeats", self.repeats, 1)


@dataclass(frozen=True)
class EarlyStoppingConfig:
    """Keras ``EarlyStopping`` settings; ``monitor`` defaults to the objective metric."""

    monitor: str = ""
    patience: int = 3
    min_delta: float = 0.0
    restore_best_weights: bool = True

    def check(self, where: str, objective: ObjectiveConfig) -> None:
        _at_least(where, "early_stopping.patience", self.patience, 0)
        _at_least(where, "early_stopping.min_delta", self.min_delta, 0.0)
        if self.monitor:
            _one_of(where, "early_stopping.monitor", self.monitor, METRICS)
            if self.monitor != objective.metric:
                raise ConfigError(
                    f"{where}: early_stopping.monitor = {self.monitor!r} differs from "
                    f"objective.metric = {objective.metric!r}; pruning and early stopping "
                    "watch the objective metric, so allowed: "
                    f"{objective.metric!r} (or leave it out)"
                )


@dataclass(frozen=True)
class BudgetConfig:
    """How much the whole study may spend (``n_trials`` counts finished trials)."""

    n_trials: int = 20
    timeout: float | None = None
    max_epochs: int = 10

    def check(self, where: str) -> None:
        _at_least(where, "budget.n_trials", self.n_trials, 1)
        _at_least(where, "budget.max_epochs", self.max_epochs, 1)
        if self.timeout is not None and not self.timeout > 0:
            raise ConfigError(f"{where}: budget.timeout = {self.timeout!r}; allowed: > 0 seconds")


@dataclass(frozen=True)
class WorkersConfig:
    """Fault handling for workers: heartbeats find a dead worker's trial, which is retried."""

    heartbeat_interval: int = 10
    grace_period: int = 30
    max_retry: int = 1

    def check(self, where: str) -> None:
        _at_least(where, "workers.heartbeat_interval", self.heartbeat_interval, 1)
        _at_least(where, "workers.max_retry", self.max_retry, 0)
        if self.grace_period <= self.heartbeat_interval:
            raise ConfigError(
                f"{where}: workers.grace_period = {self.grace_period!r} must exceed "
                f"workers.heartbeat_interval = {self.heartbeat_interval!r}; allowed: a larger "
                "grace period (e.g. 3 heartbeats)"
            )


@dataclass(frozen=True)
class RangeOverride:
    """Narrows one parameter of the space: ``low``/``high`` for numbers, or ``choices``."""

    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] | None = None

    def check(self, where: str, key: str) -> None:
        numeric = self.low is not None or self.high is not None
        if numeric and self.choices is not None:
            raise ConfigError(f"{where}: {key} mixes low/high with choices; allowed: one of them")
        if numeric:
            if self.low is None or self.high is None:
                raise ConfigError(f"{where}: {key} needs both low and high")
            if self.low > self.high:
                raise ConfigError(
                    f"{where}: {key} has low = {self.low!r} > high = {self.high!r}; "
                    "allowed: low <= high"
                )
        elif not self.choices:
            raise ConfigError(f"{where}: {key} needs low and high, or a non-empty choices list")


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
        return _parse(raw, source)

    def with_absolute_paths(self) -> StudyConfig:
        """Data paths made absolute, so a stored config works from any directory."""
        d = self.dataset

        def absolute(p: str | None) -> str | None:
            # abspath, not resolve(): keep the user's own spelling through symlinks
            return os.path.abspath(os.path.expanduser(p)) if p else None

        dataset = dataclasses.replace(d, path=absolute(d.path), test_path=absolute(d.test_path))
        return dataclasses.replace(self, dataset=dataset)

    def replace(self, **changes: Any) -> StudyConfig:
        """A copy with top-level fields changed, validated again."""
        return _validated(dataclasses.replace(self, **changes))


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
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: not a UTF-8 text file") from None
    return _parse(raw, str(p))


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
            if k not in _KIND_ONLY_KEYS or k in _KIND_KEYS[kind]
        }
        dataset = DatasetConfig(**{**kept, "kind": kind, "path": str(p), "test_path": None})
    if maxlen is not None:
        dataset = dataclasses.replace(dataset, maxlen=maxlen)
    cfg = dataclasses.replace(cfg, budget=budget, dataset=dataset, storage=storage or cfg.storage)
    return _validated(cfg)


# --- parsing helpers -------------------------------------------------------------------


def _parse(raw: dict[str, Any], where: str) -> StudyConfig:
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
    return _validated(StudyConfig(source=where, **kwargs))


def _validated(cfg: StudyConfig) -> StudyConfig:
    where = cfg.source
    if not cfg.name.strip():
        raise ConfigError(f"{where}: name is empty; allowed: a non-empty study name")
    if not cfg.space.strip():
        raise ConfigError(f"{where}: space is empty; allowed: a space name, file or module")
    if "://" not in cfg.storage:
        raise ConfigError(
            f"{where}: storage = {cfg.storage!r} is not a database URL; allowed: e.g. "
            "'sqlite:///hpsearch.db' or 'postgresql+psycopg://user@host/db'"
        )
    cfg.dataset.check(where)
    cfg.objective.check(where)
    cfg.early_stopping.check(where, cfg.objective)
    cfg.budget.check(where)
    cfg.tradeoff.check(where)
    cfg.selection.check(where)
    cfg.workers.check(where)
    if cfg.objective.multi and cfg.pruner.name != "none":
        raise ConfigError(
            f"{where}: pruner.name = {cfg.pruner.name!r} with objective.multi = true: Optuna "
            "cannot prune multi-objective studies (a trial reports one value per epoch, not "
            "two); allowed: pruner.name = 'none', or objective.multi = false"
        )
    for pname, override in cfg.ranges.items():
        override.check(where, f"ranges.{pname}")
    extra = {k for k, v in dataclasses.asdict(cfg.dataset).items() if v is not None}
    extra &= _KIND_ONLY_KEYS - _KIND_KEYS[cfg.dataset.kind]
    defaults = dataclasses.asdict(DatasetConfig())
    extra = {k for k in extra if getattr(cfg.dataset, k) != defaults[k]}
    if extra:
        key = sorted(extra)[0]
        raise ConfigError(
            f"{where}: dataset.{key} does not apply to dataset.kind = {cfg.dataset.kind!r}; "
            f"allowed there: {', '.join(sorted(_KIND_KEYS[cfg.dataset.kind]))}"
        )
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
    elif origin is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if ok:
            value = float(value)
            ok = math.isfinite(value)
    elif origin is str:
        ok = isinstance(value, str)
    elif origin in (tuple, list):
        ok = isinstance(value, list | tuple)
    else:
        ok = True
    if not ok:
        allowed = getattr(origin, "__name__", str(origin))
        raise ConfigError(f"{where}: {key} = {value!r} has the wrong type; allowed: {allowed}")
    return value


def _one_of(where: str, key: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(f"{where}: {key} = {value!r} is unknown; allowed: {', '.join(allowed)}")


def _at_least(where: str, key: str, value: float, low: float) -> None:
    if value < low:
        raise ConfigError(f"{where}: {key} = {value!r} is too small; allowed: >= {low}")


def _between(where: str, key: str, value: float, low: float, high: float) -> None:
    if not low < value < high:
        raise ConfigError(
            f"{where}: {key} = {value!r} is out of range; allowed: {low} < value < {high}"
        )


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}
