from __future__ import annotations

import optuna
import pytest

from hpsearch.config import StrategyConfig
from hpsearch.engine.strategies import PRUNERS, SAMPLERS, make_pruner, make_sampler
from hpsearch.errors import ConfigError


@pytest.mark.parametrize("name", [n for n in SAMPLERS if n != "gp"])
def test_every_sampler_builds_seeded(name: str) -> None:
    sampler = make_sampler(StrategyConfig(name), seed=5, where="f.toml")
    assert isinstance(sampler, optuna.samplers.BaseSampler)


@pytest.mark.parametrize("name", list(PRUNERS))
def test_every_pruner_builds(name: str) -> None:
    assert isinstance(make_pruner(StrategyConfig(name), 10, "f.toml"), optuna.pruners.BasePruner)


def test_sampler_options_pass_through() -> None:
    sampler = make_sampler(StrategyConfig("tpe", {"n_startup_trials": 3}), 0, "f.toml")
    assert sampler._n_startup_trials == 3  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("kind", "cfg", "expected"),
    [
        (
            "sampler",
            StrategyConfig("bayes"),
            "sampler.name = 'bayes' is unknown; allowed: tpe, random, cmaes, qmc, gp",
        ),
        (
            "sampler",
            StrategyConfig("tpe", {"n_startup": 3}),
            "unknown key 'sampler.n_startup' for sampler 'tpe'",
        ),
        (
            "pruner",
            StrategyConfig("median", {"n_startup_trials": -1}),
            "[pruner] n_startup_trials = -1",
        ),
        ("pruner", StrategyConfig("percentile", {"percentile": 150.0}), "percentile = 150.0"),
        ("pruner", StrategyConfig("asha"), "pruner.name = 'asha' is unknown"),
    ],
)
def test_bad_strategies_name_the_value(kind: str, cfg: StrategyConfig, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        if kind == "sampler":
            make_sampler(cfg, 0, "f.toml")
        else:
            make_pruner(cfg, 10, "f.toml")
    assert expected in str(info.value)
    assert str(info.value).startswith("f.toml: ")
    assert "\n" not in str(info.value)


def test_hyperband_budget_defaults_to_max_epochs() -> None:
    pruner = make_pruner(StrategyConfig("hyperband"), 7, "f.toml")
    assert pruner._max_resource == 7  # type: ignore[attr-defined]
