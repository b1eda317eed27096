"""Study files: TOML reading, key and type checks, one-line errors, and overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from hpsearch.config.study import parse
from hpsearch.config.studyfile import apply_overrides, load_study_file
from hpsearch.errors import ConfigError


def _error(study_file, text: str) -> str:
    with pytest.raises(ConfigError) as info:
        load_study_file(study_file(text))
    message = str(info.value)
    assert "\n" not in message
    assert info.value.exit_code == 2
    return message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('name="a"\nspace="s"\nbudgett = 1', "unknown key 'budgett'"),
        (
            'name="a"\nspace="s"\n[budget]\nn_trails = 3',
            "unknown key 'budget.n_trails'; allowed: max_epochs, n_trials, timeout",
        ),
        (
            'name="a"\nspace="s"\n[budget]\nn_trials = "ten"',
            "budget.n_trials = 'ten' has the wrong type; allowed: int",
        ),
        ('name="a"\nspace="s"\n[budget]\nn_trials = 0', "budget.n_trials = 0 is too small"),
        (
            'name="a"\nspace="s"\n[ranges]\ndropout = {low = 0.5, high = 0.1}',
            "ranges.dropout has low = 0.5 > high = 0.1",
        ),
        (
            'name="a"\nspace="s"\n[dataset]\nvalidation_split = 1.5',
            "dataset.validation_split = 1.5 is out of range",
        ),
        (
            'name="a"\nspace="s"\n[dataset]\nkind = "parquet"',
            "dataset.kind = 'parquet' is unknown; allowed: imdb, csv, directory, synthetic",
        ),
        ('name="a"\nspace="s"\n[dataset]\nkind = "csv"', "dataset.path is required"),
        (
            'name="a"\nspace="s"\n[dataset]\nkind = "imdb"\ntext_column = "t"',
            "dataset.text_column does not apply",
        ),
        (
            'name="a"\nspace="s"\n[objective]\nmetric = "val_auc"',
            "objective.metric = 'val_auc' is unknown",
        ),
        (
            'name="a"\nspace="s"\n[objective]\nmetric = "val_loss"\ndirection = "maximize"',
            "does not fit metric 'val_loss'",
        ),
        (
            'name="a"\nspace="s"\n[early_stopping]\nmonitor = "loss"',
            "early_stopping.monitor = 'loss' differs",
        ),
        ('name="a"\nspace="s"\nstorage = "hpsearch.db"', "is not a database URL"),
        ('space="s"', "key 'name' is missing"),
        ('name="a"\nspace="s"\n[budget', "not valid TOML"),
    ],
)
def test_bad_study_files_give_one_line(study_file, text: str, expected: str) -> None:
    message = _error(study_file, text)
    assert expected in message
    assert "study.toml" in message


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such study file"):
        load_study_file(tmp_path / "nope.toml")


def test_a_study_file_saved_with_a_byte_order_mark_loads(tmp_path: Path) -> None:
    text = 'name = "bom"\nspace = "lstm_dropout"\n[budget]\nn_trials = 3\n'
    (tmp_path / "s.toml").write_text(text, encoding="utf-8-sig")  # what Notepad writes
    cfg = load_study_file(tmp_path / "s.toml")
    assert cfg.name == "bom" and cfg.budget.n_trials == 3


def test_overrides_win_and_data_picks_the_kind(study_file, tmp_path: Path) -> None:
    cfg = load_study_file(study_file())
    csv = tmp_path / "r.csv"
    csv.write_text("text,label\n")
    new = apply_overrides(
        cfg, n_trials=9, max_epochs=2, storage="sqlite:///o.db", data=str(csv), maxlen=50
    )
    assert (new.budget.n_trials, new.budget.max_epochs, new.storage) == (9, 2, "sqlite:///o.db")
    assert (new.dataset.kind, new.dataset.path, new.dataset.maxlen) == ("csv", str(csv), 50)
    assert apply_overrides(cfg, data=str(tmp_path)).dataset.kind == "directory"
    with pytest.raises(ConfigError, match="--data"):
        apply_overrides(cfg, data=str(tmp_path / "x.parquet"))


def test_parse_checks_like_a_file_and_names_the_source() -> None:
    cfg = parse({"name": "a", "space": "s", "ranges": {"units": [8, 16]}}, "mem")
    assert cfg.source == "mem" and cfg.ranges["units"].choices == (8, 16)
    with pytest.raises(ConfigError) as info:
        parse({"name": "a", "space": "s", "budget": {"timeout": -1}}, "mem")
    assert str(info.value) == "mem: budget.timeout = -1.0; allowed: > 0 seconds"


def test_multi_objective_defaults_to_no_pruner() -> None:
    cfg = parse({"name": "a", "space": "s", "objective": {"multi": True}}, "mem")
    assert cfg.pruner.name == "none"
    with pytest.raises(ConfigError, match="cannot prune multi-objective studies"):
        parse(
            {"name": "a", "space": "s", "objective": {"multi": True}, "pruner": {"name": "median"}},
            "mem",
        )


def test_shipped_example_by_name() -> None:
    assert load_study_file("quickstart").name == "quickstart"
    assert load_study_file("studies/quickstart.toml").name == "quickstart"
