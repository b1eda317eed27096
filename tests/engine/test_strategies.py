from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from hpsearch.config import StrategyConfig
from hpsearch.engine.strategies import PRUNERS, SAMPLERS, exercise, make_pruner, make_sampler
from hpsearch.errors import ConfigError
from tests.conftest import TINY_STUDY


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


def test_tpe_is_grouped_unless_the_table_says_otherwise() -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the defaults we chose raise no experimental notice
        default = make_sampler(StrategyConfig("tpe"), 0, "f.toml")
    # multivariate: Optuna's own choice (None: jointly for one objective), grouped by us
    assert default._multivariate is None and default._group  # type: ignore[attr-defined]
    off = make_sampler(StrategyConfig("tpe", {"multivariate": False}), 0, "f.toml")
    assert off._multivariate is False and not off._group  # type: ignore[attr-defined]
    ungrouped = make_sampler(StrategyConfig("tpe", {"group": False}), 0, "f.toml")
    assert not ungrouped._group  # type: ignore[attr-defined]


def _sampled(sampler: optuna.samplers.BaseSampler, dynamic: bool) -> list[dict[str, object]]:
    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", -3.0, 3.0)
        kind = trial.suggest_categorical("kind", ["a", "b", "c"])
        if dynamic and kind == "a":
            x += trial.suggest_float("momentum", 0.0, 1.0)
        return (x - 1.0) ** 2 + (kind == "b")

    study = optuna.create_study(sampler=sampler)
    study.optimize(objective, n_trials=25)
    return [t.params for t in study.trials]


def test_grouping_changes_nothing_where_every_trial_asks_the_same_knobs() -> None:
    """What strategies.py says of the default: on a space like `ngrams` (no knob depends on
    another) grouped and ungrouped TPE are the same search, trial for trial; they part only
    where a knob is asked by some trials."""
    optuna.logging.set_verbosity(optuna.logging.ERROR)

    def both(dynamic: bool) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
        grouped = make_sampler(StrategyConfig("tpe"), 3, "f.toml")
        ungrouped = make_sampler(StrategyConfig("tpe", {"group": False}), 3, "f.toml")
        return _sampled(grouped, dynamic), _sampled(ungrouped, dynamic)

    grouped, ungrouped = both(dynamic=False)
    assert grouped == ungrouped
    grouped, ungrouped = both(dynamic=True)
    assert grouped != ungrouped


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
        (
            "sampler",
            StrategyConfig("tpe", {"multivariate": "yes"}),
            "sampler.multivariate = 'yes' has the wrong type; allowed: true or false",
        ),
        (
            "sampler",
            StrategyConfig("tpe", {"group": 1}),
            "sampler.group = 1 has the wrong type; allowed: true or false",
        ),
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


@pytest.mark.parametrize(
    ("kind", "sampler", "pruner", "named"),
    [
        # Each passes its constructor, then fails at the first decision a study asks for.
        (
            "pruner",
            StrategyConfig("tpe"),
            StrategyConfig("hyperband", {"reduction_factor": 1}),
            "reduction_factor = 1",
        ),
        (
            "pruner",
            StrategyConfig("tpe"),
            StrategyConfig("hyperband", {"min_resource": 0}),
            "min_resource = 0",
        ),
        (
            "sampler",
            StrategyConfig("tpe", {"n_startup_trials": 1, "n_ei_candidates": 0}),
            StrategyConfig("median"),
            "n_ei_candidates = 0",
        ),
        (
            "sampler",
            StrategyConfig("random", {"seed": "x"}),
            StrategyConfig("median"),
            "seed = 'x'",
        ),
    ],
)
def test_options_that_fail_at_the_first_decision_are_refused_up_front(
    kind: str, sampler: StrategyConfig, pruner: StrategyConfig, named: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        exercise(sampler, pruner, 0, 10, "f.toml")
    message = str(refused.value)
    assert message.startswith(f"f.toml: [{kind}] ") and named in message
    assert "\n" not in message


@pytest.mark.parametrize("name", sorted(set(PRUNERS) - {"percentile"}))
def test_every_pruner_with_its_defaults_passes_the_exercise(name: str) -> None:
    exercise(StrategyConfig("tpe"), StrategyConfig(name), 0, 10, "f.toml")


def test_a_refused_strategy_writes_nothing(cli, study_file, tmp_path: Path) -> None:
    bad = '[pruner]\nname = "hyperband"\nreduction_factor = 1\n'
    median = '[pruner]\nname = "median"\nn_startup_trials = 1\nn_warmup_steps = 0\n'
    path = study_file(TINY_STUDY.replace(median, bad))
    r = cli("run", str(path))
    assert r.code == 2 and r.err.count("\n") == 1 and "reduction_factor = 1" in r.err
    assert not (tmp_path / "tiny.db").exists()
