"""One trial end to end: seeded, recorded per epoch, summarized; NaN fails the trial only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import optuna
import pytest

import hpsearch
from hpsearch.config.studyfile import load_study_file
from hpsearch.engine.runner import prepare, run_study
from hpsearch.engine.trial import trial_seed
from hpsearch.store.database import EpochLog

NAN_SPACE = '''
"""A space whose model outputs NaN, to test divergence handling."""
from __future__ import annotations
import keras
from hpsearch.knobs import TRAINING_BASELINE

BASELINE = {"scale": 1.0, **TRAINING_BASELINE}

def suggest(trial):
    return {"scale": trial.suggest_float("scale", 0.5, 2.0), **TRAINING_BASELINE}

def build_model(params, data):
    return keras.Sequential([
        keras.Input(shape=(data.maxlen,), dtype="int32"),
        keras.layers.Embedding(data.vocab_size, 4),
        keras.layers.GlobalAveragePooling1D(),
        keras.layers.Dense(1, activation="sigmoid"),
        keras.layers.Lambda(lambda x: x * float("nan") if params["scale"] > 1.5 else x),
    ])
'''


def test_trial_seeds_are_fixed_and_distinct() -> None:
    assert trial_seed(3, 0) == trial_seed(3, 0)
    assert len({trial_seed(3, n) for n in range(100)}) == 100
    assert trial_seed(3, 1) != trial_seed(4, 1)


@pytest.mark.slow
def test_a_study_records_every_epoch_and_each_trial_summary(study_file) -> None:
    cfg = load_study_file(study_file())
    study = run_study(prepare(cfg))
    trials = study.get_trials()
    assert len(trials) == 4
    assert trials[0].user_attrs["baseline"] is True
    assert trials[0].params["lstm_units"] == 100  # the tutorial's LSTM(100), not the narrowed range
    history = EpochLog(cfg.storage).history("tiny")
    for t in trials:
        a = t.user_attrs
        rows = [r for r in history if r["trial_number"] == t.number]
        assert len(rows) == a["epochs"] >= 1
        assert a["stop_reason"] in {"finished", "early-stopped", "pruned"}
        best = rows[a["best_epoch"] - 1]
        assert a["val_accuracy"] == pytest.approx(best["val_accuracy"])
        # The gap's training side is measured in inference mode, stored beside Keras' own.
        assert best["train_eval_loss"] is not None and best["train_eval_accuracy"] is not None
        assert a["train_eval_accuracy"] == pytest.approx(best["train_eval_accuracy"])
        assert a["gap_loss"] == pytest.approx(best["val_loss"] - best["train_eval_loss"])
        assert a["gap_accuracy"] == pytest.approx(
            best["train_eval_accuracy"] - best["val_accuracy"]
        )
        assert a["params_count"] > 0 and a["wall_seconds"] > 0
        if t.state == optuna.trial.TrialState.COMPLETE:
            assert t.value == pytest.approx(best["val_accuracy"])
            if a["stop_reason"] == "finished":
                assert a["epochs"] == 3


@pytest.mark.slow
def test_same_seed_same_numbers(study_file, tmp_path: Path) -> None:
    runs = []
    for name in ("a", "b"):
        cfg = load_study_file(study_file()).replace(storage=f"sqlite:///{tmp_path / name}.db")
        cfg = cfg.replace(budget=cfg.budget.__class__(n_trials=2, max_epochs=2))
        run_study(prepare(cfg))
        runs.append(
            [
                (r["trial_number"], r["epoch"], r["val_loss"])
                for r in EpochLog(cfg.storage).history("tiny")
            ]
        )
    assert runs[0] == runs[1]


def test_nan_fails_that_trial_and_the_study_goes_on(study_file, tmp_path: Path) -> None:
    (tmp_path / "nanspace.py").write_text(NAN_SPACE)
    text = f'name = "nan"\nspace = "{tmp_path / "nanspace.py"}"\nstorage = "sqlite:///nan.db"\n'
    text += "[dataset]\nsamples = 100\nnum_words = 60\nmaxlen = 8\n"
    text += "[selection]\nfinalists = 0\n[budget]\nn_trials = 6\nmax_epochs = 2\n"
    text += '[sampler]\nname = "random"\n[ranges]\nscale = [1.0, 2.0]\n'
    study = run_study(prepare(load_study_file(study_file(text))))
    states = [t.state for t in study.trials]
    assert len(states) == 6
    failed = [t for t in study.trials if t.state == optuna.trial.TrialState.FAIL]
    assert failed and any(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    for t in failed:
        assert t.user_attrs["stop_reason"] == "nan"
        assert t.user_attrs["fail_reason"] == "loss became nan at epoch 1"
        assert t.params["scale"] == 2.0


def test_baseline_outside_ranges_is_not_enqueued(study_file) -> None:
    cfg = load_study_file(study_file(extra=""))
    narrowed = cfg.replace(
        ranges={**cfg.ranges, "batch_size": cfg.ranges["batch_size"].__class__(choices=(32,))}
    )
    prep = prepare(narrowed.replace(budget=cfg.budget.__class__(n_trials=1, max_epochs=1)))
    assert prep.baseline_note == "baseline not enqueued: [ranges] exclude batch_size=64"
    study = run_study(prep)
    assert "baseline" not in study.trials[0].user_attrs
    assert study.trials[0].params["batch_size"] == 32


def test_the_gap_uses_inference_mode_training_accuracy(study_file) -> None:
    """With dropout 0.9, Keras' training-mode accuracy is far below what the model scores on
    the same rows with dropout off; the stored gap uses the latter."""
    text = (
        'name = "drop"\nspace = "bag_of_words"\nseed = 1\nbaseline = false\n'
        "[dataset]\nsamples = 300\nnum_words = 1000\nmaxlen = 50\n"
        '[sampler]\nname = "random"\n[pruner]\nname = "none"\n[selection]\nfinalists = 0\n'
        "[budget]\nn_trials = 1\nmax_epochs = 4\n"
        "[ranges]\ndropout = [0.9]\nbigram_buckets = [0]\nhidden_units = [0]\n"
        'optimizer = ["adam"]\nlearning_rate = [0.03]\nl2 = [1e-6]\nbatch_size = [32]\n'
    )
    cfg = load_study_file(study_file(text))
    study = run_study(prepare(cfg))
    rows = EpochLog(cfg.storage).history("drop")
    assert all(r["train_eval_accuracy"] is not None for r in rows)
    assert max(abs(r["train_eval_accuracy"] - r["accuracy"]) for r in rows) > 0.05
    (t,) = study.get_trials()
    best = rows[t.user_attrs["best_epoch"] - 1]
    assert t.user_attrs["gap_accuracy"] == pytest.approx(
        best["train_eval_accuracy"] - best["val_accuracy"]
    )
    assert t.user_attrs["gap_accuracy"] != pytest.approx(best["accuracy"] - best["val_accuracy"])


@pytest.mark.parametrize("k", [2, 3])
def test_macro_f1_metric_matches_the_confusion_matrix(k: int) -> None:
    from hpsearch.portable.scores import confusion_matrix, macro_f1_of
    from hpsearch.portable.training import MacroF1

    rng = np.random.default_rng(k)
    y = rng.integers(0, k, size=200)
    if k == 2:
        p = rng.random((200, 1)).astype("float32")  # a sigmoid head: P(class 1)
    else:
        p = rng.dirichlet(np.ones(k), size=200).astype("float32")
    metric = MacroF1()
    for start in range(0, 200, 64):  # accumulated over batches, as in an epoch
        metric.update_state(y[start : start + 64], p[start : start + 64])
    expected = macro_f1_of(confusion_matrix(y, p, k))
    assert float(metric.result()) == pytest.approx(expected, abs=1e-6)
    # Macro, not accuracy: a model that always says class 0 scores 1/k of a perfect F1 at best.
    always = np.zeros((200, k), dtype="float32") if k > 2 else np.zeros((200, 1), "float32")
    if k > 2:
        always[:, 0] = 1.0
    metric.reset_state()
    metric.update_state(y, always)
    assert float(metric.result()) < 1.0 / k + 1e-6


def test_gap_penalty_subtracts_only_the_excess_gap() -> None:
    from hpsearch.portable.training import GapPenalty

    def score(logs: dict[str, float], maximize: bool = True, measure: str = "accuracy") -> float:
        metric = "val_accuracy" if measure == "accuracy" else "val_loss"
        GapPenalty(metric, maximize, measure, 0.05).on_epoch_end(0, logs)
        return logs[f"{metric}_penalized"]

    assert score({"val_accuracy": 0.87, "train_eval_accuracy": 0.96}) == pytest.approx(0.83)
    assert score({"val_accuracy": 0.85, "train_eval_accuracy": 0.9}) == pytest.approx(0.85)
    assert score({"val_accuracy": 0.85, "train_eval_accuracy": 0.8}) == pytest.approx(0.85)
    # Without the inference-mode side, Keras' own training accuracy is the gap's train side.
    assert score({"val_accuracy": 0.8, "accuracy": 0.95}) == pytest.approx(0.7)
    # A loss to minimize gets the excess added.
    logs = {"val_loss": 0.5, "train_eval_loss": 0.3}
    assert score(logs, maximize=False, measure="loss") == pytest.approx(0.65)


def test_a_penalized_study_judges_each_epoch_by_the_score(study_file) -> None:
    """With ``[tradeoff] penalize``, a trial's best epoch is the one with the highest
    validation accuracy less the gap's excess over max_gap, and its value is that score."""
    text = (
        'name = "pen"\nspace = "bag_of_words"\nseed = 3\nbaseline = false\n'
        "[dataset]\nsamples = 300\nnum_words = 1000\nmaxlen = 50\n"
        '[sampler]\nname = "random"\n[pruner]\nname = "none"\n[selection]\nfinalists = 0\n'
        "[early_stopping]\npatience = 2\n[tradeoff]\nmax_gap = 0.0\npenalize = true\n"
        "[budget]\nn_trials = 3\nmax_epochs = 6\n"
        '[ranges]\nbigram_buckets = [0]\nhidden_units = [0]\noptimizer = ["adam"]\n'
        "learning_rate = [0.01, 0.03]\nl2 = [1e-6]\nbatch_size = [32]\n"
    )
    cfg = load_study_file(study_file(text))
    study = run_study(prepare(cfg))
    rows = EpochLog(cfg.storage).history("pen")
    penalized = 0
    for t in study.get_trials():
        mine = [r for r in rows if r["trial_number"] == t.number]
        scores = [
            r["val_accuracy"] - max(0.0, r["train_eval_accuracy"] - r["val_accuracy"]) for r in mine
        ]
        best = t.user_attrs["best_epoch"]
        assert scores[best - 1] == pytest.approx(max(scores))
        assert best == 1 + scores.index(max(scores))
        assert t.value == pytest.approx(scores[best - 1])
        assert t.user_attrs["val_accuracy"] == pytest.approx(mine[best - 1]["val_accuracy"])
        penalized += t.value < mine[best - 1]["val_accuracy"] - 1e-9
    assert penalized >= 1  # the penalty took effect somewhere, so the test can tell


def test_a_run_where_every_trial_diverged_fails_in_one_line(
    cli, study_file, tmp_path: Path
) -> None:
    (tmp_path / "nanspace.py").write_text(NAN_SPACE)
    text = f'name = "allnan"\nspace = "{tmp_path / "nanspace.py"}"\nstorage = "sqlite:///n.db"\n'
    text += "[dataset]\nsamples = 60\nnum_words = 60\nmaxlen = 8\n"
    text += "[selection]\nfinalists = 0\n[budget]\nn_trials = 2\nmax_epochs = 1\n"
    text += '[sampler]\nname = "random"\n[ranges]\nscale = [2.0]\n'
    r = cli("run", str(study_file(text)))
    # It printed an empty "best trials" table and exited 0.
    assert r.code == 1 and r.err.count("\n") == 1, r.err
    assert "no trial of 'allnan' completed (2 nan): nothing to pick from" in r.err
    assert "best trials" not in r.out
    assert len(hpsearch.open_study("allnan", "sqlite:///n.db").trials()) == 2  # kept
    with pytest.raises(hpsearch.SearchError, match=r"completed \(3 nan\)"):
        hpsearch.run(study_file(text), n_trials=3)  # the API raises the same, one trial on


def test_a_trial_scored_on_three_splits_is_their_mean_and_each_split_reproduces(
    study_file,
) -> None:
    """``[objective] splits = 3``: each trial trains on the study's split and two more; its
    value is the mean of the three, each split's numbers are stored, the first split's epochs
    are the trial's, and retraining a further split with its seed gives its stored value."""
    from hpsearch.data import load_dataset
    from hpsearch.engine import setting
    from hpsearch.engine.trial import settings_for, train_split
    from hpsearch.pick.candidates import candidates
    from hpsearch.pick.evaluate import chosen_params

    text = (
        'name = "three"\nspace = "bag_of_words"\nseed = 4\nstorage = "sqlite:///three.db"\n'
        "[dataset]\nsamples = 300\nnum_words = 500\nmaxlen = 30\n"
        "[objective]\nsplits = 3\n"
        '[sampler]\nname = "random"\n[pruner]\nname = "none"\n[selection]\nfinalists = 0\n'
        "[budget]\nn_trials = 2\nmax_epochs = 3\n"
        "[ranges]\nbigram_buckets = [0]\nhidden_units = [0]\nbatch_size = [64]\n"
    )
    cfg = load_study_file(study_file(text))
    prep = prepare(cfg)
    assert setting.split_seeds(prep.cfg) == (4, 1004, 2004)
    study = run_study(prep)
    history = EpochLog(cfg.storage).history("three")
    for t in study.get_trials():
        assert t.state == optuna.trial.TrialState.COMPLETE
        a = t.user_attrs
        splits = a["splits"]
        assert [s["seed"] for s in splits] == [4, 1004, 2004]
        assert splits[0]["value"] == a["value"]
        assert len([r for r in history if r["trial_number"] == t.number]) == a["epochs"]
        values = [s["value"] for s in splits]
        assert len(set(values)) > 1  # three splits, three numbers
        assert t.value == pytest.approx(sum(values) / 3)
    # The tradeoff and the finalists read the same means.
    points = candidates(study, EpochLog(cfg.storage), "val_accuracy", "accuracy", False)
    for point, t in zip(points, study.get_trials(), strict=True):
        assert point.value == pytest.approx(t.value)
        gaps = [s["gap_accuracy"] for s in t.user_attrs["splits"]]
        assert point.gap == pytest.approx(sum(gaps) / 3)
    # A further split, trained again on its own data with its seed, gives what was stored.
    t = study.get_trials()[1]
    data = load_dataset(setting.ceiling(prep.cfg, prep.space).dataset, 1004)
    params = chosen_params(prep.space.suggest, t)
    summary, _ = train_split(
        params,
        prep.space,
        data.restrict(*setting.of(params)),
        settings_for(prep.cfg),
        1004,
        trial_seed(1004, t.number),
    )
    assert summary["value"] == pytest.approx(t.user_attrs["splits"][1]["value"])
