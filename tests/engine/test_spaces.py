"""The space contract, run over every module in spaces/: suggest, build, compile, one batch."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution

from hpsearch.config import RangeOverride
from hpsearch.config.shipped import BUILTIN_SPACES
from hpsearch.engine.spaces import (
    RangedTrial,
    available_spaces,
    check_baseline,
    check_ranges,
    describe,
    load_space,
)
from hpsearch.errors import ConfigError, SpaceError
from hpsearch.portable.training import compile_model

SPACES = sorted(p.stem for p in BUILTIN_SPACES.glob("*.py") if not p.stem.startswith("_"))


def test_the_three_tutorial_spaces_are_shipped() -> None:
    assert {"lstm_dropout", "lstm_l1l2", "cnn_lstm"} <= set(SPACES)
    assert set(SPACES) <= set(available_spaces())


@pytest.mark.parametrize("name", SPACES)
@pytest.mark.parametrize("classes", [2, 4])
def test_contract_suggest_build_compile_one_batch(name: str, classes: int) -> None:
    space = load_space(name)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    x_train = np.random.default_rng(1).integers(0, 50, size=(20, 12))
    y_train = np.arange(20) % classes
    data = SimpleNamespace(
        vocab_size=50, maxlen=12, num_classes=classes, x_train=x_train, y_train=y_train
    )
    for _ in range(6):
        trial = study.ask()
        params = space.suggest(trial)
        assert isinstance(params, dict)
        # Every knob the model reads was asked of Optuna, so the store records it.
        assert set(trial.params) <= set(params)
        model = compile_model(space.build_model(params, data), params, "val_macro_f1")
        # Eagerly: the contract is the shapes, loss and metrics of one step; tracing each
        # model's graph (2-3 s for an LSTM) is what every study test does anyway.
        model.run_eagerly = True
        x = np.random.default_rng(0).integers(0, 50, size=(4, 12))
        logs = model.train_on_batch(x, np.array([0, 1, classes - 2, 1]), return_dict=True)
        assert np.isfinite(logs["loss"]) and 0.0 <= logs["macro_f1"] <= 1.0
        # A review with no words (all padding: "", "!!!") gets a prediction, not NaN.
        assert np.isfinite(model.predict_on_batch(np.zeros((1, 12), dtype="int64"))).all()
        # Two classes keep the tutorial's head and loss; more get softmax over k.
        assert model.output_shape == (None, 1 if classes == 2 else classes)
        assert model.loss == (
            "binary_crossentropy" if classes == 2 else "sparse_categorical_crossentropy"
        )
        study.tell(trial, 0.0)


@pytest.mark.parametrize("name", SPACES)
def test_baseline_is_a_point_of_the_space(name: str) -> None:
    space = load_space(name)
    params = space.suggest(optuna.trial.FixedTrial(space.baseline))
    assert params == space.baseline
    for p in describe(space):
        if p.name in space.baseline:
            dist = p.distribution
            assert dist._contains(dist.to_internal_repr(space.baseline[p.name])), p.name


@pytest.mark.parametrize(
    ("baseline", "expected"),
    [
        ('{"width": 99}', "BASELINE width = 99 lies outside what suggest() declares ([4, 16])"),
        ('{"widht": 8}', "BASELINE has 'widht', which suggest() never asks for; allowed: width, "),
    ],
)
def test_a_baseline_suggest_cannot_give_is_one_line(
    tmp_path: Path, baseline: str, expected: str
) -> None:
    # Optuna would run the out-of-range value, and ignore the misspelt key (trial 0 then
    # samples that knob), both in silence.
    (tmp_path / "sp.py").write_text(
        "from hpsearch.knobs import TRAINING_BASELINE, suggest_training\n"
        f"BASELINE = {{**{baseline}, **TRAINING_BASELINE}}\n"
        "def suggest(trial):\n"
        "    return {'width': trial.suggest_int('width', 4, 16), **suggest_training(trial)}\n"
        "def build_model(params, data):\n    return None\n"
    )
    with pytest.raises(SpaceError, match=re.escape(expected)):
        check_baseline(load_space(str(tmp_path / "sp.py")))


def test_tutorial_baseline_values() -> None:
    base = load_space("lstm_dropout").baseline
    assert (base["lstm_units"], base["dropout"], base["recurrent_dropout"]) == (100, 0.3, 0.1)
    assert (base["optimizer"], base["batch_size"], base["embedding_dim"]) == ("adam", 64, 32)
    cnn = load_space("cnn_lstm").baseline
    assert (cnn["filters"], cnn["kernel_size"], cnn["pool_size"]) == (64, 5, 4)


def test_describe_finds_conditional_knobs() -> None:
    params = {p.name: p for p in describe(load_space("lstm_l1l2"))}
    assert params["kernel_l2"].conditional and params["momentum"].conditional
    assert not params["lstm_units"].conditional
    assert isinstance(params["kernel_l2"].distribution, FloatDistribution)
    assert params["kernel_l2"].distribution.log
    assert "log" in params["kernel_l2"].range_text()
    assert isinstance(params["optimizer"].distribution, CategoricalDistribution)
    assert set(params["optimizer"].distribution.choices) >= {"adam", "rmsprop", "nadam", "sgd"}


def test_load_by_path_and_by_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = (BUILTIN_SPACES / "lstm_dropout.py").read_text()
    (tmp_path / "mine.py").write_text(source)
    assert load_space(str(tmp_path / "mine.py")).name == "mine"
    pkg = tmp_path / "userpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "myspace.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert load_space("userpkg.myspace").baseline["lstm_units"] == 100


def test_shipped_spaces_are_part_of_hpsearch_not_a_spaces_package(tmp_path: Path) -> None:
    import sys

    assert load_space("cnn_lstm").module.__name__ == "hpsearch.builtin_spaces.cnn_lstm"
    assert "spaces" not in sys.modules or not hasattr(sys.modules["spaces"], "cnn_lstm")
    (tmp_path / "mine.py").write_text((BUILTIN_SPACES / "cnn_lstm.py").read_text())
    load_space(str(tmp_path / "mine.py"))  # a user's file: loaded by path, privately named
    assert "hpsearch_spaces.mine" in sys.modules


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        (
            "lstm_dropuot",
            "space 'lstm_dropuot' is unknown; allowed: bag_of_words, cnn, cnn_lstm, lstm_dropout, "
            "lstm_l1l2, ngrams, pooled",
        ),
        ("nowhere/x.py", "no such file"),
        ("no_such_pkg.mod", "cannot import it"),
    ],
)
def test_unknown_spaces(ref: str, expected: str) -> None:
    with pytest.raises(SpaceError) as info:
        load_space(ref)
    assert expected in str(info.value)


def test_broken_space_module(tmp_path: Path) -> None:
    (tmp_path / "half.py").write_text("BASELINE = {}\ndef suggest(trial):\n    return {}\n")
    with pytest.raises(SpaceError, match="has no build_model"):
        load_space(str(tmp_path / "half.py"))


def test_ranges_narrow_what_suggest_asks() -> None:
    space = load_space("lstm_dropout")
    ranges = {
        "dropout": RangeOverride(low=0.1, high=0.2),
        "lstm_units": RangeOverride(low=8, high=9),
        "optimizer": RangeOverride(choices=("sgd",)),
    }
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(5):
        trial = study.ask()
        params = space.suggest(RangedTrial(trial, ranges))
        assert 0.1 <= params["dropout"] <= 0.2
        assert params["lstm_units"] in (8, 9)
        assert params["optimizer"] == "sgd" and "momentum" in params
        study.tell(trial, 0.0)


@pytest.mark.parametrize(
    ("ranges", "expected"),
    [
        ({"dropuot": RangeOverride(low=0, high=1)}, "has no parameter 'dropuot'"),
        ({"optimizer": RangeOverride(low=0, high=1)}, "is categorical"),
        ({"lstm_units": RangeOverride(low=16.5, high=20)}, "integer parameter"),
        ({"lstm_units": RangeOverride(low=2, high=20)}, "reaches outside what space"),
        ({"optimizer": RangeOverride(choices=("adamw",))}, "has choice 'adamw' outside"),
        ({"learning_rate": RangeOverride(low=0.0, high=0.1)}, "log scale"),
    ],
)
def test_bad_ranges(ranges: dict[str, RangeOverride], expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        check_ranges(load_space("lstm_dropout"), ranges, "f.toml")


@pytest.mark.parametrize("name", SPACES)
def test_every_space_exports_a_script_that_builds_its_model(name: str) -> None:
    from hpsearch.output.export import render_script

    space = load_space(name)
    config = {"study": "s", "trial": 0, "params": space.baseline, "output": "m.keras"}
    text = render_script(config, space.build_model)
    namespace: dict[str, object] = {"__name__": "exported"}
    exec(compile(text, f"{name}-export.py", "exec"), namespace)
    build = namespace["build_model"]
    rng = np.random.default_rng(0)
    for k in (2, 3):
        # A space may derive fixed weights from the training split (TF-IDF, word pairs).
        x = rng.integers(0, 40, size=(30, 10))
        data = SimpleNamespace(
            vocab_size=40, maxlen=10, num_classes=k, x_train=x, y_train=np.arange(30) % k
        )
        model = build(namespace["PARAMS"], data)  # type: ignore[operator]
        assert model.output_shape == (None, 1 if k == 2 else k)
    assert not any(
        s in text for s in ("import search", "from search", "import hpsearch", "from hpsearch")
    )


def test_a_fault_in_a_shipped_space_is_ours_to_fix_a_fault_in_the_users_theirs() -> None:
    """The one line tells a user whose code failed: their own space's, or hpsearch's."""
    import dataclasses

    from hpsearch.engine.spaces import check_build

    shipped = load_space("ngrams")
    assert shipped.origin == "hpsearch.builtin_spaces.ngrams"

    def broken(params: dict, data: object) -> None:
        raise ValueError("no columns")

    data = SimpleNamespace(vocab_size=5, maxlen=3, num_classes=2, x_train=np.ones((4, 3)))
    faulty = dataclasses.replace(shipped, build_model=broken)
    with pytest.raises(SpaceError, match="fault of hpsearch's shipped space on this data"):
        check_build(faulty, shipped.baseline, data)
    theirs = dataclasses.replace(faulty, name="mine", origin="/home/u/spaces/mine.py")
    with pytest.raises(SpaceError, match=r"ValueError: no columns; fix the space's code$"):
        check_build(theirs, shipped.baseline, data)
