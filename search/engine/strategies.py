"""Samplers and pruners: a study file's ``[sampler]``/``[pruner]`` table -> an Optuna object.

Each name maps to Optuna's own class; the table's other keys are that class's keyword
arguments. Allowed keys are read from the class signature (not a hand-kept list), and
the class's own argument checks run here, before any storage is touched, so a bad value
becomes one ConfigError line.
"""

from __future__ import annotations

import importlib.util
import inspect
from collections.abc import Callable
from typing import Any

import optuna

from hpsearch.config import StrategyConfig
from hpsearch.errors import ConfigError

SAMPLERS: dict[str, Callable[..., optuna.samplers.BaseSampler]] = {
    "tpe": optuna.samplers.TPESampler,
    "random": optuna.samplers.RandomSampler,
    "cmaes": optuna.samplers.CmaEsSampler,
    "qmc": optuna.samplers.QMCSampler,
    "gp": optuna.samplers.GPSampler,
    "nsga2": optuna.samplers.NSGAIISampler,
}
MULTI_OBJECTIVE_SAMPLERS = ("tpe", "random", "nsga2", "gp")

PRUNERS: dict[str, Callable[..., optuna.pruners.BasePruner]] = {
    "median": optuna.pruners.MedianPruner,
    "percentile": optuna.pruners.PercentilePruner,
    "successive_halving": optuna.pruners.SuccessiveHalvingPruner,
    "hyperband": optuna.pruners.HyperbandPruner,
    "none": optuna.pruners.NopPruner,
}

# Python packages a sampler needs beyond Optuna's core, checked up front so the user gets
# one line instead of an ImportError on the first trial.
_SAMPLER_NEEDS = {"cmaes": ("cmaes",), "qmc": ("scipy",), "gp": ("torch", "scipy")}
_SAMPLER_EXTRAS = {"gp": "gp"}  # hpsearch's optional extra that installs what it needs


def make_sampler(
    cfg: StrategyConfig, seed: int, where: str, multi: bool = False
) -> optuna.samplers.BaseSampler:
    """The Optuna sampler a ``[sampler]`` table asks for, seeded with the study seed."""
    factory = _lookup(SAMPLERS, cfg, "sampler", where)
    if multi and cfg.name not in MULTI_OBJECTIVE_SAMPLERS:
        raise ConfigError(
            f"{where}: sampler.name = {cfg.name!r} cannot search two objectives "
            f"(objective.multi = true); allowed: {', '.join(MULTI_OBJECTIVE_SAMPLERS)}"
        )
    missing = [m for m in _SAMPLER_NEEDS.get(cfg.name, ()) if importlib.util.find_spec(m) is None]
    if missing:
        extra = _SAMPLER_EXTRAS.get(cfg.name)
        how = f'the {extra} extra: pip install "hpsearch[{extra}]"' if extra else "it"
        raise ConfigError(
            f"{where}: sampler.name = {cfg.name!r} needs {' and '.join(missing)}, which "
            f"is not installed; install {how}; or pick another of: {', '.join(SAMPLERS)}"
        )
    options = dict(cfg.options)
    if "seed" in inspect.signature(factory).parameters:
        options.setdefault("seed", seed)
    return _construct(factory, options, "sampler", where)


def make_pruner(cfg: StrategyConfig, max_epochs: int, where: str) -> optuna.pruners.BasePruner:
    """The Optuna pruner a ``[pruner]`` table asks for; Hyperband's budget is max_epochs."""
    factory = _lookup(PRUNERS, cfg, "pruner", where)
    options = dict(cfg.options)
    if cfg.name == "hyperband":
        options.setdefault("max_resource", max_epochs)
    if cfg.name == "percentile":
        options.setdefault("percentile", 25.0)  # Optuna has no default: prune the worst quarter
    return _construct(factory, options, "pruner", where)


def _lookup(
    table: dict[str, Callable[..., Any]], cfg: StrategyConfig, kind: str, where: str
) -> Any:
    if cfg.name not in table:
        raise ConfigError(
            f"{where}: {kind}.name = {cfg.name!r} is unknown; allowed: {', '.join(table)}"
        )
    factory = table[cfg.name]
    params = inspect.signature(factory).parameters
    allowed = [n for n, p in params.items() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    for key, value in cfg.options.items():
        if key not in allowed:
            raise ConfigError(
                f"{where}: unknown key '{kind}.{key}' for {kind} {cfg.name!r}; allowed: "
                f"{', '.join(['name', *allowed]) if allowed else 'name'}"
            )
        if isinstance(value, dict | list):
            raise ConfigError(
                f"{where}: {kind}.{key} = {value!r} has the wrong type; allowed: a number, "
                "string or boolean"
            )
    return factory


def _construct(factory: Callable[..., Any], options: dict[str, Any], kind: str, where: str) -> Any:
    try:
        return factory(**options)
    except (TypeError, ValueError) as exc:
        shown = ", ".join(f"{k} = {v!r}" for k, v in options.items())
        reason = " ".join(str(exc).split())
        raise ConfigError(f"{where}: [{kind}] {shown}: {reason}") from None
