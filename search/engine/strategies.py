"""Samplers and pruners: a study file's ``[sampler]``/``[pruner]`` table -> an Optuna object.

Each name maps to Optuna's own class; the table's other keys are that class's keyword
arguments. Allowed keys are read from the class signature (not a hand-kept list), and
the class's own argument checks run here, before any storage is touched, so a bad value
becomes one ConfigError line. Some options pass the constructor and fail only when the
strategy first decides (Hyperband's resources at its first pruning decision, say), so
:func:`exercise` runs a fresh copy of each through a throwaway in-memory study first.
"""

from __future__ import annotations

import importlib.util
import inspect
import math
import warnings
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
    if cfg.name == "tpe" and options.get("multivariate") is not False:
        # Optuna's TPE models the knobs jointly (multivariate, for one objective) over the knobs
        # every trial asked; a knob only some trials ask (SGD's momentum, say) falls back to
        # independent sampling, and Optuna warns each time: "`multivariate=True,group=False` does
        # not support dynamic search space (but `multivariate=True,group=True` works)". With group
        # it splits the space where the knobs asked differ and models each part jointly. Where
        # every trial asks the same knobs (the `ngrams` space) both are the same search, trial for
        # trial: the four-class study at seed 12, grouped and not, ran the same 51 trials with the
        # same values. On SST-2's `cnn` space the README path's final model scored +1.0, +1.4,
        # +0.4 points over the ungrouped rows of benchmarks/headtohead.py, which ran a day earlier
        # in another environment and to other trial counts: no worse, not a measured gain.
        options.setdefault("group", True)
    return _construct(factory, options, "sampler", where)


WARMUP_EPOCHS = 3
"""The median and percentile pruners' default ``n_warmup_steps`` (see :func:`make_pruner`)."""


def make_pruner(cfg: StrategyConfig, max_epochs: int, where: str) -> optuna.pruners.BasePruner:
    """The Optuna pruner a ``[pruner]`` table asks for; Hyperband's budget is max_epochs."""
    factory = _lookup(PRUNERS, cfg, "pruner", where)
    options = dict(cfg.options)
    if cfg.name == "hyperband":
        options.setdefault("max_resource", max_epochs)
    if cfg.name == "percentile":
        options.setdefault("percentile", 25.0)  # Optuna has no default: prune the worst quarter
    if cfg.name in ("median", "percentile"):
        # Optuna compares from the first epoch. Measured with pruning off
        # (benchmarks/warmup.py), the rank correlation between a trial's validation accuracy
        # at epoch k and its best was, for k = 1..4, 0.75, 0.78, 0.84, 0.86 on the IMDB sample
        # (19 trials, bag of words) and 0.83, 0.80, 0.80, 0.88 on TREC (9 trials, CNN): slow
        # learning rates climb late, and cut at epoch 1 they never show it. So the first
        # comparison is at the 4th epoch (n_warmup_steps counts reports from 0), after
        # Optuna's 5 start-up trials.
        options.setdefault("n_warmup_steps", WARMUP_EPOCHS)
        options.setdefault("n_startup_trials", 5)
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
        # Optuna takes any truthy value for a switch ("yes" turned grouping on), so a switch,
        # known by its annotation in the class signature, must be true or false.
        switch = str(params[key].annotation) in ("bool", "bool | None", "<class 'bool'>")
        if switch and not isinstance(value, bool):
            raise ConfigError(
                f"{where}: {kind}.{key} = {value!r} has the wrong type; allowed: true or false"
            )
    return factory


def _construct(factory: Callable[..., Any], options: dict[str, Any], kind: str, where: str) -> Any:
    try:
        with warnings.catch_warnings():  # Optuna's "experimental" notice for TPE's defaults
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return factory(**options)
    except (TypeError, ValueError) as exc:
        shown = ", ".join(f"{k} = {v!r}" for k, v in options.items())
        reason = " ".join(str(exc).split())
        raise ConfigError(f"{where}: [{kind}] {shown}: {reason}") from None


def exercise(
    sampler_cfg: StrategyConfig,
    pruner_cfg: StrategyConfig,
    seed: int,
    max_epochs: int,
    where: str,
    multi: bool = False,
) -> None:
    """Run fresh copies of the sampler and the pruner through a throwaway in-memory study:
    a few trials over a float, an int and a categorical knob, each reporting one value per
    epoch and asking the pruner every time, as a study does. Whatever fails there (an option
    the constructor took but the first decision cannot use) is one ConfigError naming the
    option, before anything is written. Optuna's own strategies only; nothing is stored."""
    sampler = make_sampler(sampler_cfg, seed, where, multi=multi)
    pruner = make_pruner(pruner_cfg, max_epochs, where)
    startup = sampler_cfg.options.get("n_startup_trials", 10)
    trials = 4 if sampler_cfg.name == "gp" else min(max(int(startup), 0) + 3, 24)
    # The first decisions are where options fail; reporting every one of 20,000 epochs of a
    # long study would make this check cost more than it saves.
    steps = min(max_epochs, 50)
    for kind, cfg in (("sampler", sampler_cfg), ("pruner", pruner_cfg)):
        level = optuna.logging.get_verbosity()
        optuna.logging.set_verbosity(optuna.logging.ERROR)  # its per-trial notes, not ours
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # Optuna's experimental and startup notices
                _trials(sampler, pruner if kind == "pruner" else None, trials, steps, multi)
        except Exception as exc:
            shown = ", ".join(f"{k} = {v!r}" for k, v in cfg.options.items()) or "its defaults"
            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise ConfigError(
                f"{where}: [{kind}] {cfg.name} with {shown} fails when it first decides "
                f"({type(exc).__name__}: {reason}); allowed: options {cfg.name!r} can run with"
            ) from None
        finally:
            optuna.logging.set_verbosity(level)


def _trials(
    sampler: optuna.samplers.BaseSampler,
    pruner: optuna.pruners.BasePruner | None,
    n: int,
    max_epochs: int,
    multi: bool,
) -> None:
    """``n`` trials of a stand-in objective on a fresh in-memory study."""
    study = optuna.create_study(
        sampler=sampler,
        pruner=pruner or optuna.pruners.NopPruner(),
        directions=["maximize", "minimize"] if multi else ["maximize"],
    )
    for number in range(n):
        trial = study.ask()
        x = trial.suggest_float("x", 1e-4, 1.0, log=True)
        k = trial.suggest_int("k", 1, 8)
        c = trial.suggest_categorical("c", ["a", "b"])
        value = math.sin(number) * x + k / 8 + (c == "a") * 0.1
        if multi:
            study.tell(trial, [value, x])
            continue
        for step in range(max_epochs):
            trial.report(value + step / max_epochs, step)
            if pruner is not None and trial.should_prune():
                break
        study.tell(trial, value)
