"""The Python API's edge: whatever a caller passes (extremes, NaN, inf, huge ints, empty or odd
strings, the wrong types), a call either works or raises an HpsearchError subclass: never a
bare OverflowError, TypeError or ValueError from deep inside. Hypothesis drives the numeric
and string arguments of the public calls, and the study file's strategy options."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import hpsearch
from tests.conftest import REPO, TINY_STUDY

TINY = REPO / "tests" / "spaces" / "tiny.py"
ODD = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, 10**400, -(10**30), 0, -1, 2**63]),
    st.text(max_size=12),
    st.sampled_from(["", " ", "\n", "accuracy", "loss", "json", "script", "\x00"]),
    st.lists(st.integers(), max_size=2),
)
EDGE = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> hpsearch.Study:
    """One tiny finished study, read by every example (reading calls write nothing)."""
    folder = tmp_path_factory.mktemp("edge")
    url = f"sqlite:///{folder / 'edge.db'}"
    text = TINY_STUDY.replace('"lstm_dropout"', f'"{TINY}"').split("[ranges]")[0]
    path = folder / "edge.toml"
    path.write_text(text.replace('storage = "sqlite:///tiny.db"', f'storage = "{url}"'))
    hpsearch.run(path, n_trials=2, max_epochs=1)
    return hpsearch.open_study("tiny", url)


def _edge(call: Any, *args: Any, **kwargs: Any) -> None:
    try:
        call(*args, **kwargs)
    except hpsearch.HpsearchError as exc:
        assert "\n" not in str(exc), str(exc)


@EDGE
@given(
    key=st.sampled_from(["n_trials", "timeout", "max_epochs", "maxlen", "storage", "data"]),
    value=ODD,
)
def test_overrides(key: str, value: Any) -> None:
    _edge(hpsearch.load_config, "quickstart", **{key: value})


@EDGE
@given(gap=ODD, max_gap=ODD, include_pruned=ODD)
@example(gap=None, max_gap=10**400, include_pruned=False)  # int(float()) overflowed
@example(gap="", max_gap=None, include_pruned=False)  # an empty string was the default
def test_tradeoff(stored: hpsearch.Study, gap: Any, max_gap: Any, include_pruned: Any) -> None:
    _edge(stored.tradeoff, gap=gap, max_gap=max_gap, include_pruned=include_pruned)
    if gap == "":
        with pytest.raises(hpsearch.ConfigError):
            stored.tradeoff(gap=gap)


@EDGE
@given(trial=ODD)
def test_epochs(stored: hpsearch.Study, trial: Any) -> None:
    _edge(stored.epochs, trial)


@EDGE
@given(path=ODD, trial=ODD, fmt=ODD, ensemble=ODD)
def test_export(
    stored: hpsearch.Study, tmp_path: Path, path: Any, trial: Any, fmt: Any, ensemble: Any
) -> None:
    if isinstance(path, str) and path.strip() and "\x00" not in path:
        path = tmp_path / Path(path).name if Path(path).name else path
    _edge(stored.export, path, trial=trial, fmt=fmt, force=True, ensemble=ensemble)


@EDGE
@given(name=ODD, storage=ODD)
def test_open_study(stored: hpsearch.Study, name: Any, storage: Any) -> None:
    _edge(hpsearch.open_study, name, storage if storage is not None else stored.storage)


@EDGE
@given(
    kind=st.sampled_from(["sampler", "pruner"]),
    name=st.sampled_from(
        [
            "tpe",
            "random",
            "qmc",
            "nsga2",
            "median",
            "percentile",
            "successive_halving",
            "hyperband",
            "none",
        ]
    ),
    option=st.sampled_from(
        [
            "n_startup_trials",
            "seed",
            "n_warmup_steps",
            "min_resource",
            "reduction_factor",
            "percentile",
            "interval_steps",
            "n_ei_candidates",
            "multivariate",
            "population_size",
            "bootstrap_count",
            "max_resource",
            "n_min_trials",
        ]
    ),
    value=ODD,
)
def test_strategy_options(kind: str, name: str, option: str, value: Any) -> None:
    if isinstance(value, list) or value is None:
        value = 0
    study = {
        "name": "s",
        "space": str(TINY),
        "storage": "sqlite:////nonexistent/never.db",
        "dataset": {"kind": "synthetic", "samples": 60, "num_words": 60, "maxlen": 6},
        kind: {"name": name, option: value},
    }
    # load_config parses and checks; prepare (below the API's run) builds and exercises them.
    try:
        cfg = hpsearch.load_config(study)
        from hpsearch.engine.strategies import exercise

        exercise(cfg.sampler, cfg.pruner, 0, 3, "s")
    except hpsearch.HpsearchError as exc:
        assert "\n" not in str(exc)
