"""Re-evaluation: finalists trained again on other splits and seeds, the pick ranked by mean."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import optuna
import pytest
from optuna.distributions import FloatDistribution

from hpsearch.pick.finalists import Finalist, finalists_of, rank, ranked, summarize
from hpsearch.pick.tradeoff import Candidate, analyse
from hpsearch.store.database import EpochLog
from hpsearch.store.runs import Run, RunLog
from tests.conftest import REPO


def _run(number: int, repeat: int, value: float, gap: float = 0.01, epoch: int = 2) -> Run:
    return Run(number, repeat, 100 + repeat, 7, value, epoch, epoch + 2, gap, gap * 2, 1.5)


def _candidate(number: int, value: float, gap: float) -> Candidate:
    return Candidate(number, "complete", value, gap, 2, 4, "finished", {}, False)


def test_finalists_are_within_the_gap_first_then_by_value() -> None:
    points = [_candidate(0, 0.90, 0.20), _candidate(1, 0.85, 0.01), _candidate(2, 0.86, 0.04)]
    assert finalists_of(points, 2, max_gap=0.05, maximize=True) == [2, 1]
    assert finalists_of(points, 3, max_gap=0.05, maximize=True) == [2, 1, 0]


def test_mean_and_standard_error_over_the_runs() -> None:
    f = summarize(_candidate(3, 0.9, 0.02), [_run(3, 1, 0.80), _run(3, 2, 0.84)], "accuracy")
    assert f.mean == pytest.approx(0.82) and f.sem == pytest.approx(0.02)
    assert f.gap == pytest.approx(0.01) and f.text == "0.8200 ± 0.0200 (2 runs)"
    single = summarize(_candidate(3, 0.9, 0.02), [_run(3, 1, 0.80)], "accuracy")
    assert single.sem is None and single.text == "0.8000 (1 runs)"


def test_an_accuracys_error_adds_one_validation_splits_binomial_error() -> None:
    """The runs' spread leaves out how far the labelled texts sit from new ones."""
    runs = [_run(3, 1, 0.80), _run(3, 2, 0.84)]
    f = summarize(_candidate(3, 0.9, 0.02), runs, "accuracy", "val_accuracy", 800)
    split = (0.82 * 0.18 / 800) ** 0.5
    assert f.sem == pytest.approx(0.02) and f.split_error == pytest.approx(split)
    assert f.error == pytest.approx((0.02**2 + split**2) ** 0.5)
    assert f.text == f"0.8200 ± {f.error:.4f} (2 runs)" and f.record()["error"] == f.error
    assert f.record()["standard_error"] == pytest.approx(0.02)  # the runs' own, kept
    # Two runs that agree exactly (seen on TREC: 937 of 1,090 twice) still carry the split's.
    same = summarize(_candidate(3, 0.9, 0.02), [_run(3, 1, 0.8), _run(3, 2, 0.8)], "accuracy")
    assert same.sem == 0.0 and same.error == 0.0  # no size, no accuracy: nothing to add
    same = summarize(
        _candidate(3, 0.9, 0.02),
        [_run(3, 1, 0.8), _run(3, 2, 0.8)],
        "accuracy",
        "val_accuracy",
        1090,
    )
    assert same.error == pytest.approx((0.8 * 0.2 / 1090) ** 0.5)
    loss = summarize(_candidate(3, 0.9, 0.02), runs, "loss", "val_loss", 800)
    assert loss.split_error is None and loss.error == pytest.approx(0.02)


def test_rank_takes_the_best_mean_within_the_gap() -> None:
    lucky = Finalist(0, 0.90, 0.01, (_run(0, 1, 0.80), _run(0, 2, 0.81)), 0.805, 0.005, 0.01)
    steady = Finalist(1, 0.86, 0.01, (_run(1, 1, 0.85), _run(1, 2, 0.86)), 0.855, 0.005, 0.02)
    loose = Finalist(2, 0.88, 0.30, (_run(2, 1, 0.90), _run(2, 2, 0.90)), 0.90, 0.0, 0.30)
    best, reason = rank([lucky, steady, loose], max_gap=0.05, maximize=True)
    assert best is steady and "2 of 3 finalists whose mean gap is <= 0.05" in reason
    best, reason = rank([loose], max_gap=0.05, maximize=True)
    assert best is loose and "none has a mean gap <= 0.05" in reason
    # The whole order (what an ensemble export averages): within the gap by mean, then the rest.
    assert ranked([lucky, loose, steady], max_gap=0.05, maximize=True) == [steady, lucky, loose]
    assert ranked([lucky, loose, steady], max_gap=0.5, maximize=True) == [loose, steady, lucky]


def _stored_study(url: str) -> optuna.Study:
    """Two completed trials with epoch rows: trial 0 the luckier search value."""
    study = optuna.create_study(study_name="s", storage=url, direction="maximize")
    study.set_user_attr("hpsearch:metric", "val_accuracy")
    study.set_user_attr("hpsearch:config", {"tradeoff": {"gap": "accuracy", "max_gap": 0.05}})
    log = EpochLog(url)
    log.create()
    for number, value in ((0, 0.90), (1, 0.86)):
        study.add_trial(
            optuna.trial.create_trial(
                params={"x": float(number)},
                distributions={"x": FloatDistribution(0, 1)},
                value=value,
                user_attrs={"best_epoch": 1, "epochs": 1, "stop_reason": "finished"},
            )
        )
        row = {"loss": 0.3, "accuracy": 0.9, "val_loss": 0.35, "val_accuracy": value}
        row |= {"train_eval_loss": 0.3, "train_eval_accuracy": value + 0.01}
        log.record("s", number, 1, row, 1.0)
    log.dispose()
    return study


def test_when_the_finalists_seeds_disagree_the_pick_is_ranked_by_mean(tmp_path: Path, cli) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    study = _stored_study(url)
    log = EpochLog(url)
    assert analyse(study, log).pick.number == 0  # type: ignore[union-attr]  # search value
    store = RunLog(url)
    # Trial 0 scored 0.90 once; on other splits and seeds it scores 0.80 and 0.82.
    for run in (_run(0, 1, 0.80), _run(0, 2, 0.82), _run(1, 1, 0.85), _run(1, 2, 0.87)):
        store.record("s", run)
    store.record("s", _run(1, 2, 0.87))  # recording a run again replaces it
    store.dispose()
    result = analyse(study, log)
    log.dispose()
    assert result.pick is not None and result.pick.number == 1
    assert result.chosen is not None and result.chosen.mean == pytest.approx(0.86)
    assert "best mean over 2 re-evaluation runs" in result.reason

    shown = cli("tradeoff", "s", "--storage", url)
    assert shown.code == 0, shown.err
    assert "1 ← pick" in shown.out and "0.8600 ± 0.0100 (2 runs)" in shown.out
    assert "pick: trial 1, val_accuracy 0.8600 ± 0.0100 (2 runs)" in shown.out
    nan = cli("tradeoff", "s", "--storage", url, "--max-gap", "nan")  # printed a table before
    assert nan.code == 2 and nan.err.count("\n") == 1 and "--max-gap nan is not a number" in nan.err
    best = json.loads(cli("best", "s", "--storage", url, "--json").out)
    assert best["number"] == 1 and best["reevaluated"]["mean"] == pytest.approx(0.86)
    assert best["reevaluated"]["values"] == [0.85, 0.87]
    # With the split's size on record, the printed error adds the split's binomial error.
    study.set_user_attr("hpsearch:dataset", {"validation": 800})
    best = json.loads(cli("best", "s", "--storage", url, "--json").out)
    error = (0.01**2 + 0.86 * 0.14 / 800) ** 0.5
    assert best["reevaluated"]["error"] == pytest.approx(error)
    assert best["reevaluated"]["standard_error"] == pytest.approx(0.01)
    assert f"0.8600 ± {error:.4f} over 2 runs" in cli("best", "s", "--storage", url).out
    with sqlite3.connect(tmp_path / "s.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM hpsearch_selection").fetchone() == (4,)


STUDY = f"""
name = "sel"
space = "{REPO / "tests" / "spaces" / "tiny.py"}"
seed = 6
[dataset]
samples = 120
num_words = 60
maxlen = 8
[sampler]
name = "random"
[pruner]
name = "none"
[selection]
finalists = 2
repeats = 2
[budget]
n_trials = 3
max_epochs = 2
"""


def test_run_reevaluates_finalists_on_other_splits_and_resumes(cli, study_file) -> None:
    r = cli("run", str(study_file(STUDY)))
    assert r.code == 0, r.err
    assert "re-evaluating finalists" in r.out and "← pick" in r.out
    with sqlite3.connect("hpsearch.db") as conn:
        rows = conn.execute(
            "SELECT trial_number, repeat, split_seed, epochs FROM hpsearch_selection"
        ).fetchall()
    assert len(rows) == 4 and {r[2] for r in rows} == {7, 8}  # study seed + 1, + 2
    assert all(1 <= r[3] <= 2 for r in rows)
    # Nothing is missing, so `select` trains nothing more and shows the same finalists.
    again = cli("select", "sel")
    assert again.code == 0 and "← pick" in again.out and "re-evaluating" not in again.out
    note = cli("report", "sel", "-o", "r.html")
    assert note.code == 0 and "finalist" in Path("r.html").read_text()
