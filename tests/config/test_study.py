"""The config dataclasses: round trips through to_dict/from_dict, and their checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from hpsearch.config import BudgetConfig, RangeOverride, StudyConfig
from hpsearch.config.studyfile import load_study_file
from hpsearch.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "path",
    sorted((REPO / "studies").glob("*.toml"))
    + sorted((REPO / "benchmarks/studies").glob("*.toml")),
    ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}/{p.name}",
)
def test_shipped_and_benchmark_study_files_load_and_round_trip(path: Path) -> None:
    cfg = load_study_file(path)
    again = StudyConfig.from_dict(cfg.to_dict(), source=str(path))
    assert again == cfg


def test_round_trip_keeps_every_section(study_file) -> None:
    cfg = load_study_file(study_file())
    d = cfg.to_dict()
    assert d["ranges"]["lstm_units"] == {"low": 16.0, "high": 100.0}
    assert d["ranges"]["batch_size"] == {"choices": [32, 64]}
    assert d["pruner"] == {"name": "median", "n_startup_trials": 1, "n_warmup_steps": 0}
    assert StudyConfig.from_dict(d, source=cfg.source) == cfg


def test_selection_constraint_and_unset_data_knobs_round_trip(study_file) -> None:
    text = (
        'name = "r"\nspace = "bag_of_words"\n[dataset]\nsamples = 50\n'
        "[tradeoff]\nmax_gap = 0.04\nconstrain = true\n[selection]\nfinalists = 5\nrepeats = 3\n"
    )
    cfg = load_study_file(study_file(text))
    assert (cfg.selection.finalists, cfg.selection.repeats) == (5, 3)
    assert cfg.tradeoff.constrain and cfg.tradeoff.limit() == 0.04
    assert (cfg.dataset.num_words, cfg.dataset.maxlen) == (None, None)  # searched or defaults
    assert cfg.dataset.size() == (5000, 500)
    d = cfg.to_dict()
    assert "num_words" not in d["dataset"] and d["selection"] == {"finalists": 5, "repeats": 3}
    assert StudyConfig.from_dict(d, source=cfg.source) == cfg


def test_replace_checks_again() -> None:
    cfg = StudyConfig(name="a", space="s", source="here")
    assert cfg.replace(seed=7).seed == 7
    with pytest.raises(ConfigError, match=r"^here: storage = 'x' is not a database URL"):
        cfg.replace(storage="x")


def test_check_names_the_first_problem_in_section_order() -> None:
    cfg = StudyConfig(
        name="a",
        space="s",
        budget=BudgetConfig(n_trials=0),
        ranges={"dropout": RangeOverride(low=0.5)},
        source="f.toml",
    )
    with pytest.raises(ConfigError) as info:
        cfg.check()
    assert str(info.value) == "f.toml: budget.n_trials = 0 is too small; allowed: >= 1"


def test_range_override_checks() -> None:
    with pytest.raises(ConfigError, match=r"ranges\.x mixes low/high with choices"):
        RangeOverride(low=1, high=2, choices=(1,)).check("f", "ranges.x")
    with pytest.raises(ConfigError, match=r"ranges\.x needs low and high, or a non-empty choices"):
        RangeOverride(choices=()).check("f", "ranges.x")
    RangeOverride(low=1, high=1).check("f", "ranges.x")


def test_a_study_name_longer_than_a_store_holds_is_one_line() -> None:
    from hpsearch.config import StudyConfig
    from hpsearch.errors import ConfigError

    with pytest.raises(ConfigError, match="name is 513 characters long; allowed: at most 512"):
        StudyConfig(name="n" * 513, space="pooled").check()
    StudyConfig(name="n" * 512, space="pooled").check()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "objective.splits = 0 is out of range; allowed: 1 to 10"),
        ("11", "objective.splits = 11 is out of range; allowed: 1 to 10"),
        ("true", "objective.splits = True has the wrong type; allowed: int"),
        ('"3"', "objective.splits = '3' has the wrong type; allowed: int"),
        ("2.5", "objective.splits = 2.5 has the wrong type; allowed: int"),
    ],
)
def test_objective_splits_is_a_whole_number_from_1_to_10(study_file, value, message) -> None:
    text = f'name = "k"\nspace = "ngrams"\n[dataset]\nsamples = 50\n[objective]\nsplits = {value}\n'
    with pytest.raises(ConfigError, match=message.replace(".", r"\.").replace("(", r"\(")):
        load_study_file(study_file(text))
    ok = load_study_file(study_file(text.replace(f"splits = {value}", "splits = 3")))
    assert ok.objective.splits == 3 and ok.to_dict()["objective"]["splits"] == 3
    assert StudyConfig.from_dict(ok.to_dict(), source=ok.source) == ok
