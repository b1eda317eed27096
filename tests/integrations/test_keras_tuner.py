"""The KerasTuner bridge: a space's own suggest() under KerasTuner, and its trials in the store."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import keras_tuner
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from hpsearch.config import DatasetConfig
from hpsearch.data import Dataset, load_dataset
from hpsearch.engine.spaces import load_space
from hpsearch.integrations.keras_tuner import (
    OptunaStyleHP,
    SpaceHyperModel,
    best_epoch,
    keras_tuner_study,
)
from tests.conftest import Result

REPO = Path(__file__).resolve().parents[2]


def test_each_optuna_suggestion_becomes_the_matching_keras_tuner_hyperparameter() -> None:
    hp = keras_tuner.HyperParameters()
    bridge = OptunaStyleHP(hp)
    lr = bridge.suggest_float("lr", 1e-4, 1e-1, log=True)
    units = bridge.suggest_int("units", 8, 64, step=8)
    opt = bridge.suggest_categorical("optimizer", ["adam", "sgd"])
    flag = bridge.suggest_categorical("flag", [True, False])
    words = bridge.suggest_int("num_words", 1000, 40000, log=True)  # a log-scale integer
    assert 1000 <= words <= 40000 and bridge.distributions["num_words"] == IntDistribution(
        1000, 40000, log=True
    )
    del bridge.distributions["num_words"]
    space = {p.name: p for p in hp.space}
    assert isinstance(space["lr"], keras_tuner.engine.hyperparameters.Float)
    assert space["lr"].sampling == "log" and (space["lr"].min_value, space["lr"].max_value) == (
        1e-4,
        1e-1,
    )
    assert isinstance(space["units"], keras_tuner.engine.hyperparameters.Int)
    assert (space["units"].min_value, space["units"].max_value, space["units"].step) == (8, 64, 8)
    assert list(space["optimizer"].values) == ["adam", "sgd"]
    assert isinstance(space["flag"], keras_tuner.engine.hyperparameters.Boolean)
    assert (lr, units, opt, flag) == (1e-4, 8, "adam", True)  # KerasTuner's defaults
    assert bridge.distributions == {
        "lr": FloatDistribution(1e-4, 1e-1, log=True),
        "units": IntDistribution(8, 64, step=8),
        "optimizer": CategoricalDistribution(["adam", "sgd"]),
        "flag": CategoricalDistribution([True, False]),
    }


def test_a_conditional_knob_is_registered_only_when_suggest_reaches_it() -> None:
    model = SpaceHyperModel(load_space("lstm_dropout"), data=None)  # type: ignore[arg-type]
    hp = keras_tuner.HyperParameters()
    params = model.params(hp)
    assert params["optimizer"] != "sgd" and "momentum" not in hp.values
    hp.values["optimizer"] = "sgd"
    params = model.params(hp)
    assert "momentum" in hp.values and params["momentum"] == hp.values["momentum"]


def tiny() -> tuple[SpaceHyperModel, Dataset]:
    """The tiny test space as a HyperModel, on a small synthetic dataset."""
    space = load_space(str(REPO / "tests" / "spaces" / "tiny.py"))
    data = load_dataset(
        DatasetConfig(kind="synthetic", samples=120, test_samples=20, num_words=80, maxlen=12),
        seed=0,
    )
    return SpaceHyperModel(space, data), data


@pytest.mark.slow
def test_keras_tuner_trials_land_in_a_study_the_cli_shows_beside_hpsearch_ones(
    tmp_path: Path, cli: Callable[..., Result]
) -> None:
    hypermodel, data = tiny()
    tuner = keras_tuner.RandomSearch(
        hypermodel,
        objective="val_accuracy",
        max_trials=3,
        seed=1,
        directory=str(tmp_path / "kt"),
        project_name="tiny",
    )
    tuner.search(
        data.x_train, data.y_train, validation_data=(data.x_val, data.y_val), epochs=3, verbose=0
    )
    url = f"sqlite:///{tmp_path / 'kt.db'}"
    keras_tuner_study(tuner, hypermodel, url, "kt-random")

    stored = optuna.load_study(study_name="kt-random", storage=url)
    trials = stored.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    assert len(trials) == 3
    for t in trials:
        kt = tuner.oracle.trials[t.user_attrs["keras_tuner_trial"]]
        assert t.value == pytest.approx(kt.metrics.get_best_value("val_accuracy"))
        assert t.user_attrs["best_epoch"] == kt.metrics.get_best_step("val_accuracy") + 1
        assert 1 <= t.user_attrs["best_epoch"] <= 3
        assert t.user_attrs["val_accuracy"] == pytest.approx(t.value)
        assert t.user_attrs["gap_accuracy"] == pytest.approx(
            t.user_attrs["train_accuracy"] - t.user_attrs["val_accuracy"]
        )
        assert set(t.params) == {"width", "learning_rate"}
        assert 2 <= t.params["width"] <= 8 and 1e-3 <= t.params["learning_rate"] <= 1e-1

    listed = cli("studies", "--storage", url)
    assert listed.code == 0 and "kt-random" in listed.out and "tiny" in listed.out
    best = cli("best", "kt-random", "--storage", url, "--json")
    assert best.code == 0
    assert json.loads(best.out)["value"] == pytest.approx(stored.best_value)


@pytest.mark.slow
def test_a_resumed_hyperband_trial_counts_the_epochs_its_model_trained_before(
    tmp_path: Path,
) -> None:
    """Hyperband's later rounds resume an earlier trial's model from ``tuner/initial_epoch``;
    KerasTuner's own step counts from there, a refit must train from epoch 0."""
    hypermodel, data = tiny()
    tuner = keras_tuner.Hyperband(
        hypermodel,
        objective="val_accuracy",
        max_epochs=4,
        factor=2,
        seed=1,
        directory=str(tmp_path / "kt"),
        project_name="tiny",
    )
    tuner.search(data.x_train, data.y_train, validation_data=(data.x_val, data.y_val), verbose=0)
    url = f"sqlite:///{tmp_path / 'kt.db'}"
    stored = keras_tuner_study(tuner, hypermodel, url, "kt-hyperband")
    resumed = 0
    for t in stored.get_trials(states=(optuna.trial.TrialState.COMPLETE,)):
        kt = tuner.oracle.trials[t.user_attrs["keras_tuner_trial"]]
        values = kt.hyperparameters.values
        first, last = values["tuner/initial_epoch"], values["tuner/epochs"]
        resumed += first > 0
        assert (
            t.user_attrs["best_epoch"]
            == best_epoch(kt)
            == (first + kt.metrics.get_best_step("val_accuracy") + 1)
        )
        assert first < t.user_attrs["best_epoch"] <= last
    assert resumed  # the run had trials that resumed an earlier one


def test_keras_tuner_searches_the_data_knobs_on_cut_arrays(tmp_path: Path) -> None:
    """KerasTuner's trials get the data at their own vocabulary size and length, and a
    study's [ranges] narrow its search as they narrow hpsearch's."""
    from hpsearch.config import RangeOverride

    space = load_space("bag_of_words")
    ranges = {
        "num_words": RangeOverride(choices=(60, 90)),
        "maxlen": RangeOverride(choices=(6, 12)),
        "bigram_buckets": RangeOverride(choices=(0, 50)),
        "hidden_units": RangeOverride(choices=(0,)),
        "optimizer": RangeOverride(choices=("adam",)),
    }
    data = load_dataset(DatasetConfig(kind="synthetic", samples=120, num_words=90, maxlen=12), 0)
    hypermodel = SpaceHyperModel(space, data, ranges)
    tuner = keras_tuner.RandomSearch(
        hypermodel,
        objective="val_accuracy",
        max_trials=4,
        seed=3,
        directory=str(tmp_path / "kt"),
        project_name="bag",
    )
    tuner.search(
        data.x_train, data.y_train, validation_data=(data.x_val, data.y_val), epochs=1, verbose=0
    )
    trials = list(tuner.oracle.trials.values())
    assert trials and all(t.status == "COMPLETED" for t in trials)
    for t in trials:
        params = hypermodel.params(t.hyperparameters)
        assert params["num_words"] in (60, 90) and params["maxlen"] in (6, 12)
        model = hypermodel.build(t.hyperparameters)
        assert model.input_shape == (None, params["maxlen"])


def test_a_log_scale_int_keras_tuner_rounds_past_its_maximum_reaches_the_model_in_range() -> None:
    """KerasTuner's BayesianOptimization rounded maxlen to 912 of 911 vectorized tokens."""
    hp = keras_tuner.HyperParameters()
    hp.values["maxlen"] = 912
    hp.values["floor"] = 9
    assert OptunaStyleHP(hp).suggest_int("maxlen", 175, 911, log=True) == 911
    assert OptunaStyleHP(hp).suggest_int("floor", 10, 20, log=True) == 10
