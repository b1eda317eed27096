"""hpsearch against KerasTuner and plain Keras, side by side on the real IMDB sample.

Every contender searches the same space (a space module's own ``suggest()``; KerasTuner runs it
through :mod:`hpsearch.integrations.keras_tuner`) on the same split (validation carved from
``train.csv``) with the same budget in training epochs, counted epoch by epoch across all of its
trials. Each reports its best validation accuracy, the test accuracy of its picked configuration
(the best completed trial, retrained once with the run's seed, measured once on ``test.csv``),
epochs spent, wall time, and the epochs it needed to first beat the article's baseline. The
overhead section sets one hpsearch trial's epoch time against a plain ``model.fit`` of the same
model on the same arrays, measured side by side in the same run.

    python benchmarks/compare.py                  # the full run (docs/benchmarks.md)
    python benchmarks/compare.py --only "re-evaluation"   # rerun some, keep the others
    python benchmarks/compare.py --smoke          # a seconds-scale run: the harness works

The contender "hpsearch TPE + median pruner + re-evaluation" picks as ``hpsearch run`` does:
its finalists trained again on another validation split with another seed, ranked by the
mean; the epochs that costs are reserved from its budget and counted in its total.

Results: ``benchmarks/results/compare.json`` and ``compare.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import re
import statistics
import sys
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent

from hpsearch.engine.quiet import quiet_tensorflow  # noqa: E402
from hpsearch.engine.threads import use_threads  # noqa: E402
from hpsearch.errors import MissingExtraError  # noqa: E402

use_threads()  # as `hpsearch run` does
quiet_tensorflow()

try:  # KerasTuner comes with hpsearch's kt extra; without it, one line says so
    import hpsearch.integrations.keras_tuner  # noqa: F401
except MissingExtraError as _missing:
    sys.exit(f"compare.py: error: {_missing}")

import keras  # noqa: E402
import keras_tuner  # noqa: E402
import optuna  # noqa: E402

from hpsearch.commands import search  # noqa: E402
from hpsearch.config import (  # noqa: E402
    BudgetConfig,
    DatasetConfig,
    EarlyStoppingConfig,
    SelectionConfig,
    StrategyConfig,
    StudyConfig,
    TradeoffConfig,
)
from hpsearch.data import Dataset, load_dataset  # noqa: E402
from hpsearch.engine import setting  # noqa: E402
from hpsearch.engine.runner import prepare  # noqa: E402
from hpsearch.engine.spaces import Space, load_space  # noqa: E402
from hpsearch.engine.trial import build, settings_for  # noqa: E402
from hpsearch.integrations.keras_tuner import SpaceHyperModel, keras_tuner_study  # noqa: E402
from hpsearch.pick.evaluate import chosen_params  # noqa: E402
from hpsearch.pick.reevaluate import reevaluate  # noqa: E402
from hpsearch.pick.tradeoff import analyse  # noqa: E402
from hpsearch.portable.training import early_stopping, fit, train_eval  # noqa: E402
from hpsearch.store.database import EpochLog  # noqa: E402
from hpsearch.store.queries import best_trial  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.ERROR)
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


HPSEARCH_CONTENDERS = (
    ("hpsearch TPE + median pruner", "tpe", "median"),
    ("hpsearch random, no pruning", "random", "none"),
    ("hpsearch TPE + median pruner + re-evaluation", "tpe", "median"),
)
REEVALUATION = SelectionConfig(finalists=2, repeats=1)
"""What the re-evaluating contender spends on its pick (``[selection]``): its 2 finalists
trained once more each, on another validation split with another seed. The epochs for that
(at most ``finalists * repeats * max_epochs``) come out of its search budget beforehand, and
the epochs it actually trains are counted in its total, so it spends no more than the rest."""
KERAS_TUNER_CONTENDERS = (
    "KerasTuner Hyperband",
    "KerasTuner BayesianOptimization",
    "KerasTuner RandomSearch",
)


class BudgetSpent(BaseException):
    """The contender's epoch budget is used up: stop its search where it stands."""


@dataclass
class Ledger:
    """Epochs spent by one contender across all its trials, and each epoch's val_accuracy."""

    budget: int
    curve: list[float] = field(default_factory=list)
    trial_of_epoch: list[int] = field(default_factory=list)
    trials: int = 0

    def new_trial(self) -> None:
        self.trials += 1

    def epoch(self, val_accuracy: float) -> None:
        self.curve.append(float(val_accuracy))
        self.trial_of_epoch.append(max(1, self.trials))
        if len(self.curve) >= self.budget:
            raise BudgetSpent

    def first_beat(self, bar: float) -> int | None:
        """Epochs spent until one scored above ``bar`` (that epoch included), or None."""
        return next((i + 1 for i, v in enumerate(self.curve) if v > bar), None)

    def beat_in_trial(self, bar: float) -> int | None:
        """Which of the contender's trials (1 = its first) first scored above ``bar``."""
        first = self.first_beat(bar)
        return None if first is None else self.trial_of_epoch[first - 1]


class LedgerCallback(keras.callbacks.Callback):
    """Feeds the ledger; the ledger is a class attribute because KerasTuner deep-copies
    callbacks for every trial."""

    ledger: Ledger | None = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        assert LedgerCallback.ledger is not None
        LedgerCallback.ledger.new_trial()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        assert LedgerCallback.ledger is not None
        LedgerCallback.ledger.epoch((logs or {})["val_accuracy"])


class LedgerReporter:
    """hpsearch's progress hooks, feeding the ledger."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def start(self, study: optuna.Study, total: int, done: int) -> None:
        pass

    def epoch(self, trial_number: int, epoch: int, logs: dict[str, float]) -> None:
        if epoch == 1:
            self.ledger.new_trial()
        self.ledger.epoch(logs["val_accuracy"])

    def trial_done(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        pass

    def stop(self) -> None:
        pass


@dataclass
class Result:
    contender: str
    seed: int
    best_val_accuracy: float
    test_accuracy: float
    epochs: int
    seconds: float
    epochs_to_beat_baseline: int | None
    picked: dict[str, Any]
    beat_in_trial: int | None = None


def slug(label: str, seed: int) -> str:
    """A contender's study name: ``KerasTuner Hyperband``, seed 0 -> ``kerastuner-hyperband-s0``."""
    return "-".join(re.findall(r"[a-z0-9]+", label.lower())) + f"-s{seed}"


def reevaluates(label: str) -> bool:
    return label.endswith("re-evaluation")


def study_config(
    args: argparse.Namespace,
    name: str,
    seed: int,
    storage: str,
    sampler: str,
    pruner: str,
    selection: SelectionConfig | None = None,
) -> StudyConfig:
    # A budget of a few dozen epochs buys only a handful of trials: TPE models after 3 of them
    # and the median pruner compares from the third trial on.
    options = {"n_startup_trials": 3} if sampler == "tpe" else {}
    return StudyConfig(
        name=name,
        space=args.space,
        dataset=dataset_config(args),
        sampler=StrategyConfig(sampler, options),
        pruner=StrategyConfig(
            pruner, {"n_startup_trials": 2, "n_warmup_steps": 1} if pruner == "median" else {}
        ),
        early_stopping=EarlyStoppingConfig(patience=args.patience),
        budget=BudgetConfig(n_trials=100_000, max_epochs=args.max_epochs),
        storage=storage,
        seed=seed,
        source="benchmark",
        # Picks by the re-evaluated mean alone, as the other contenders pick by validation
        # accuracy alone: no gap limit (an accuracy gap never exceeds 1).
        selection=selection or SelectionConfig(finalists=0),
        tradeoff=TradeoffConfig(max_gap=1.0),
    )


def dataset_config(args: argparse.Namespace) -> DatasetConfig:
    return DatasetConfig(
        kind="csv",
        path=str(args.data / "train.csv"),
        test_path=str(args.data / "test.csv"),
        num_words=args.num_words,
        maxlen=args.maxlen,
        max_samples=args.max_samples,
    )


def baseline_params(args: argparse.Namespace, space: Space) -> dict[str, Any]:
    """The article's settings, with a vocabulary size or length fixed on the command line."""
    params = dict(space.baseline)
    for knob, value in (("num_words", args.num_words), ("maxlen", args.maxlen)):
        if value is not None and knob in params:
            params[knob] = value
    return params


def setting_data(data: Dataset, params: dict[str, Any]) -> Dataset:
    """The benchmark's arrays cut to a configuration's vocabulary size and length."""
    return data.restrict(*setting.of(params))


def retrain_and_test(
    cfg: StudyConfig, space: Space, data: Dataset, params: dict[str, Any], seed: int
) -> float:
    """The picked configuration, trained once more with the run's seed, measured once on test."""
    settings = settings_for(cfg)
    data = setting_data(data, params)
    model = build(params, space, data, seed)
    fit(model, params, data, settings, [early_stopping(settings)])
    assert data.x_test is not None
    return float(model.evaluate(data.x_test, data.y_test, batch_size=256, verbose=0)[1])


def outcome(
    label: str,
    seed: int,
    cfg: StudyConfig,
    space: Space,
    data: Dataset,
    params: dict[str, Any],
    ledger: Ledger,
    seconds: float,
    bar: float,
    extra_epochs: int = 0,
) -> Result:
    """A contender's result: its search as the ledger saw it (plus the epochs it spent on
    re-evaluating finalists), and its pick's test accuracy."""
    test = retrain_and_test(cfg, space, data, params, seed)
    return Result(
        label,
        seed,
        max(ledger.curve),
        test,
        len(ledger.curve) + extra_epochs,
        seconds,
        ledger.first_beat(bar),
        params,
        ledger.beat_in_trial(bar),
    )


def run_hpsearch(
    args: argparse.Namespace,
    label: str,
    sampler: str,
    pruner: str,
    seed: int,
    bar: float,
    space: Space,
    data: Dataset,
) -> Result:
    selection = REEVALUATION if reevaluates(label) else None
    cfg = study_config(args, slug(label, seed), seed, args.storage, sampler, pruner, selection)
    reserve = cfg.selection.finalists * cfg.selection.repeats * args.max_epochs
    ledger = Ledger(args.epoch_budget - reserve)
    started = time.perf_counter()
    prep = prepare(cfg)
    with contextlib.suppress(BudgetSpent):
        search(prep, LedgerReporter(ledger))
    study = optuna.load_study(study_name=cfg.name, storage=cfg.storage)
    for cut in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        trial = optuna.Trial(study, cut._trial_id)  # the trial the budget cut short
        trial.set_user_attr("stop_reason", "budget spent")
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
    extra = sum(run.epochs for run in reevaluate(prep, study))  # [] without [selection]
    seconds = time.perf_counter() - started
    best: optuna.trial.FrozenTrial | None
    if cfg.selection.finalists:  # hpsearch's own pick: the best re-evaluated mean
        log = EpochLog(cfg.storage)
        picked = analyse(study, log).pick
        log.dispose()
        assert picked is not None, "no finalist to pick"
        best = study.get_trials(deepcopy=False)[picked.number]
    else:
        best = best_trial(study)
    assert best is not None, "no trial completed within the budget"
    params = chosen_params(space.suggest, best)
    return outcome(label, seed, cfg, space, data, params, ledger, seconds, bar, extra)


def run_keras_tuner(
    args: argparse.Namespace,
    label: str,
    seed: int,
    bar: float,
    space: Space,
    data: Dataset,
    workdir: Path,
) -> Result:
    # The ranges hpsearch's own study searches: pinned knobs, the rest following the data.
    pinned = setting.pin(study_config(args, "kt", seed, "sqlite://", "random", "none"), space)
    ranges = setting.follow_data(pinned, space)[0].ranges
    hypermodel = SpaceHyperModel(space, data, ranges)
    common: dict[str, Any] = {
        "objective": "val_accuracy",
        "seed": seed,
        "overwrite": True,
        "directory": str(workdir),
        "project_name": slug(label, seed),
    }
    if label == "KerasTuner Hyperband":
        tuner: keras_tuner.Tuner = keras_tuner.Hyperband(
            hypermodel, max_epochs=args.max_epochs, factor=3, hyperband_iterations=1000, **common
        )
    elif label == "KerasTuner BayesianOptimization":
        tuner = keras_tuner.BayesianOptimization(hypermodel, max_trials=100_000, **common)
    else:
        tuner = keras_tuner.RandomSearch(hypermodel, max_trials=100_000, **common)
    ledger = Ledger(args.epoch_budget)
    LedgerCallback.ledger = ledger
    keras.utils.set_random_seed(seed)
    started = time.perf_counter()
    stop = keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max", patience=args.patience)
    with contextlib.suppress(BudgetSpent):
        tuner.search(
            data.x_train,
            data.y_train,
            validation_data=(data.x_val, data.y_val),
            epochs=args.max_epochs,
            callbacks=[LedgerCallback(), stop],
            verbose=0,
        )
    seconds = time.perf_counter() - started
    best = tuner.oracle.get_best_trials(1)
    assert best, "no KerasTuner trial completed within the budget"
    params = hypermodel.params(best[0].hyperparameters)
    keras_tuner_study(tuner, hypermodel, args.storage, slug(label, seed))
    cfg = study_config(args, slug(label, seed), seed, args.storage, "random", "none")
    return outcome(label, seed, cfg, space, data, params, ledger, seconds, bar)


def run_baseline(args: argparse.Namespace, seed: int, space: Space, data: Dataset) -> Result:
    """The article's settings alone, trained once with early stopping."""
    cfg = study_config(args, f"baseline-s{seed}", seed, args.storage, "random", "none")
    settings = settings_for(cfg)
    ledger = Ledger(10**9)
    started = time.perf_counter()
    params = baseline_params(args, space)
    data = setting_data(data, params)
    model = build(params, space, data, seed)
    stopper = early_stopping(settings)
    history = fit(model, params, data, settings, [stopper]).history
    for v in history["val_accuracy"]:
        ledger.epoch(v)
    seconds = time.perf_counter() - started
    assert data.x_test is not None
    test = float(model.evaluate(data.x_test, data.y_test, batch_size=256, verbose=0)[1])
    return Result(
        "article's baseline alone",
        seed,
        max(ledger.curve),
        test,
        len(ledger.curve),
        seconds,
        None,
        params,
    )


class EpochClock(keras.callbacks.Callback):
    """Times full epoch cycles: from one epoch's end to the next (every callback included)."""

    def __init__(self) -> None:
        super().__init__()
        self.ends: list[float] = []
        self.began = 0.0

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.began = time.perf_counter()

    def warmup(self) -> float:
        """How much longer the first epoch took than a later one (graph tracing, mostly)."""
        return (self.ends[0] - self.began) - statistics.median(self.cycles())

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.ends.append(time.perf_counter())

    def cycles(self) -> list[float]:
        return [b - a for a, b in zip(self.ends, self.ends[1:], strict=False)]


class ClockReporter(LedgerReporter):
    """hpsearch's epoch hook (called after the epoch is stored) as an epoch clock."""

    def __init__(self) -> None:
        self.clock = EpochClock()

    def epoch(self, trial_number: int, epoch: int, logs: dict[str, float]) -> None:
        self.clock.on_epoch_end(epoch)


def overhead(
    args: argparse.Namespace, space: Space, data: Dataset, workdir: Path
) -> dict[str, Any]:
    """The baseline trained through hpsearch and by a plain model.fit, same arrays, alternating
    which goes first. An epoch is timed end to end, so hpsearch's own per-epoch work (storing
    the epoch, reporting to the pruner, heartbeats) is inside its number."""
    epochs = args.overhead_epochs
    cfg = study_config(
        args, "overhead", 0, f"sqlite:///{workdir / 'overhead.db'}", "random", "none"
    )
    cfg = cfg.replace(
        budget=BudgetConfig(n_trials=1, max_epochs=epochs),
        early_stopping=EarlyStoppingConfig(patience=epochs),
    )
    params = baseline_params(args, space)
    data = setting_data(data, params)
    plain_runs: list[float] = []
    eval_runs: list[float] = []
    hp_runs: list[float] = []
    outside: list[float] = []
    plain_trials: list[float] = []
    hp_trials: list[float] = []
    warmups: list[float] = []
    order = ("plain", "plain+eval", "hpsearch")
    for repeat in range(args.overhead_repeats):
        for which in order if repeat % 2 == 0 else order[::-1]:
            if which == "plain+eval":
                # The honest gap's cost alone: the same fit plus the inference-mode pass over
                # a training subsample as large as the validation split, every epoch.
                clock = EpochClock()
                model = build(params, space, data, 0)
                fit(model, params, data, settings_for(cfg), [train_eval(data, 0), clock])
                eval_runs.append(statistics.median(clock.cycles()))
                continue
            if which == "plain":
                clock = EpochClock()
                settings = settings_for(cfg)
                started = time.perf_counter()
                model = build(params, space, data, 0)
                fit(model, params, data, settings, [clock])
                plain_trials.append(time.perf_counter() - started)
                plain_runs.append(statistics.median(clock.cycles()))
                warmups.append(clock.warmup() / plain_trials[-1])
                continue
            name = f"overhead-{repeat}"
            reporter = ClockReporter()
            search(prepare(cfg.replace(name=name)), reporter)
            hp_runs.append(statistics.median(reporter.clock.cycles()))
            secs = [r["seconds"] for r in EpochLog(cfg.storage).history(name)]
            trial = optuna.load_study(study_name=name, storage=cfg.storage).trials[0]
            wall = trial.user_attrs["wall_seconds"]
            hp_trials.append(wall)
            outside.append((wall - sum(secs)) / wall)
    plain, hp = statistics.median(plain_runs), statistics.median(hp_runs)
    return {
        "epochs": epochs,
        "repeats": args.overhead_repeats,
        "plain_fit_epoch_seconds": plain,
        "hpsearch_epoch_seconds": hp,
        "epoch_time_ratio": hp / plain,
        "train_eval_epoch_seconds": statistics.median(eval_runs),
        "train_eval_epoch_ratio": statistics.median(eval_runs) / plain,
        "outside_fit_share_of_trial": statistics.median(outside),
        "plain_fit_trial_seconds": statistics.median(plain_trials),
        "hpsearch_trial_seconds": statistics.median(hp_trials),
        "trial_time_ratio": statistics.median(hp_trials) / statistics.median(plain_trials),
        "first_epoch_warmup_share": statistics.median(warmups),
    }


def summarize(results: list[Result]) -> list[dict[str, Any]]:
    rows = []
    for label in dict.fromkeys(r.contender for r in results):
        rs = [r for r in results if r.contender == label]

        def med(key: str, rs: list[Result] = rs) -> tuple[float, float, float]:
            vals = [getattr(r, key) for r in rs]
            return statistics.median(vals), min(vals), max(vals)

        beats = [r.epochs_to_beat_baseline for r in rs]
        beat_trials = [r.beat_in_trial for r in rs]
        rows.append(
            {
                "contender": label,
                "best_val_accuracy": med("best_val_accuracy"),
                "test_accuracy": med("test_accuracy"),
                "epochs": med("epochs"),
                "seconds": med("seconds"),
                "epochs_to_beat_baseline": beats,
                "beat_in_trial": beat_trials,
            }
        )
    return rows


def median_epochs(beats: list[int | None]) -> str:
    """Median epochs to beat the bar, a seed that never beat it counting as infinitely many."""
    m = statistics.median(math.inf if b is None else b for b in beats)
    return "never" if math.isinf(m) else f"{m:g}"


def markdown(rows: list[dict[str, Any]], over: dict[str, Any] | None, meta: dict[str, Any]) -> str:
    def cell(t: tuple[float, float, float], fmt: str) -> str:
        return f"{t[0]:{fmt}} ({t[1]:{fmt}}–{t[2]:{fmt}})"

    out = [
        f"Seeds {meta['seeds']}; budget {meta['epoch_budget']} training epochs per contender per "
        f"seed (at most {meta['max_epochs']} per trial); space `{meta['space']}`; "
        f"{meta['data']}; machine: {meta['machine']}. Median (min–max) over seeds.",
        "",
        f"The bar: the baseline's best validation accuracy, median over seeds = "
        f"**{meta['bar']:.4f}**. Per seed: epochs spent until the first epoch above the bar, and "
        "in which of the contender's trials (t1 = its first; hpsearch's first trial is the "
        "baseline itself, with the trial's own seed).",
        "",
        "| contender | best val accuracy | picked config's TEST accuracy | epochs spent | wall s | "
        "epochs to beat the bar: median (per seed) |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        beats = r["epochs_to_beat_baseline"]
        per_seed = ", ".join(
            "never" if b is None else f"{b} t{t}"
            for b, t in zip(beats, r.get("beat_in_trial", [None] * len(beats)), strict=True)
        )
        to_beat = "-" if "baseline" in r["contender"] else f"{median_epochs(beats)} ({per_seed})"
        out.append(
            f"| {r['contender']} | {cell(r['best_val_accuracy'], '.4f')} | "
            f"{cell(r['test_accuracy'], '.4f')} | {cell(r['epochs'], '.0f')} | "
            f"{cell(r['seconds'], '.0f')} | {to_beat} |"
        )
    if over is not None:
        out += ["", overhead_text(over)]
    return "\n".join(out) + "\n"


def overhead_text(over: dict[str, Any]) -> str:
    return (
        f"Overhead ({over['repeats']} runs each of the baseline, {over['epochs']} epochs, side by "
        "side): median epoch cycle from epoch 2, end to end, hpsearch "
        f"{over['hpsearch_epoch_seconds']:.3f} s vs plain `model.fit` "
        f"{over['plain_fit_epoch_seconds']:.3f} s, ratio **{over['epoch_time_ratio']:.3f}**; "
        f"whole trial (build + fit) {over['hpsearch_trial_seconds']:.2f} s vs "
        f"{over['plain_fit_trial_seconds']:.2f} s, ratio **{over['trial_time_ratio']:.3f}**; "
        f"time outside `fit` (sampling, storage, build) is "
        f"{100 * over['outside_fit_share_of_trial']:.1f}% of a trial. The first epoch's "
        "warm-up (Keras traces a new model's graphs; plain `fit` pays it too) is "
        f"{100 * over['first_epoch_warmup_share']:.0f}% of a {over['epochs']}-epoch fit. "
        "The honest gap's inference-mode pass over a training subsample (as large as the "
        f"validation split) alone: {over['train_eval_epoch_seconds']:.3f} s per epoch vs "
        f"{over['plain_fit_epoch_seconds']:.3f} s, ratio "
        f"**{over['train_eval_epoch_ratio']:.3f}**."
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "imdb")
    parser.add_argument("--space", default="bag_of_words")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epoch-budget", type=int, default=60)
    parser.add_argument("--max-epochs", type=int, default=12)
    parser.add_argument("--patience", type=int, default=3)
    parser.add_argument("--max-samples", type=int, default=4000)
    parser.add_argument(
        "--maxlen", type=int, help="fix the length (default: searched if the space does)"
    )
    parser.add_argument(
        "--num-words", type=int, help="fix the vocabulary (default: searched if the space does)"
    )
    parser.add_argument("--overhead-epochs", type=int, default=5)
    parser.add_argument("--overhead-repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    parser.add_argument(
        "--storage",
        help="where every contender's study goes (KerasTuner's copied in), for `hpsearch "
        "studies`/`trials` and the dashboard; default: a SQLite file beside the results, "
        "rewritten each run",
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="TEXT",
        help="run only the contenders whose label contains TEXT (the baseline always runs: it "
        "sets the bar); the others' results are kept from the last run with the same settings "
        "(every number repeats exactly on the same machine)",
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: the harness runs")
    parser.add_argument(
        "--overhead-only",
        action="store_true",
        help="re-measure only the overhead and update it in the existing results",
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.seeds, args.epoch_budget, args.max_epochs, args.max_samples = 1, 4, 1, 120
        args.maxlen, args.num_words, args.overhead_epochs, args.overhead_repeats = 50, 1000, 2, 1
    space = load_space(args.space)
    probe = setting.pin(study_config(args, "probe", 0, "sqlite://", "random", "none"), space)
    probe = setting.follow_data(probe, space)[0]
    data = load_dataset(setting.ceiling(probe, space).dataset, seed=0)
    stem = "smoke" if args.smoke else "compare"
    if args.storage is None and not args.overhead_only:
        args.out.mkdir(parents=True, exist_ok=True)
        db = args.out / f"{stem}.db"
        for leftover in args.out.glob(f"{stem}.db*"):  # the last run's store and WAL files
            if not args.only:
                leftover.unlink()
        args.storage = f"sqlite:///{db}"
    if args.overhead_only:
        saved = json.loads((args.out / f"{stem}.json").read_text())
        with tempfile.TemporaryDirectory() as tmp:
            saved["overhead"] = overhead(args, space, data, Path(tmp))
        print(write(args.out / stem, saved))
        return
    meta = {
        "seeds": args.seeds,
        "epoch_budget": args.epoch_budget,
        "max_epochs": args.max_epochs,
        "space": args.space,
        "data": f"{len(data.y_train)} train / {len(data.y_val)} validation reviews from "
        f"train.csv, {0 if data.y_test is None else len(data.y_test)} test reviews, "
        + (
            f"vocabulary and length searched (up to {data.vocab_size} words, {data.maxlen} tokens)"
            if setting.searched(space, probe.ranges)
            else f"vocabulary {data.vocab_size}, length {data.maxlen}"
        ),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, no GPU, "
        f"Python {platform.python_version()}, Keras {keras.__version__}, "
        f"KerasTuner {keras_tuner.__version__}, Optuna {optuna.__version__}",
        "command": "python benchmarks/compare.py " + " ".join(argv or sys.argv[1:]),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    labels = [c[0] for c in HPSEARCH_CONTENDERS] + list(KERAS_TUNER_CONTENDERS)
    chosen = [x for x in labels if not args.only or any(t in x for t in args.only)]
    if not chosen:
        sys.exit(f"compare.py: error: --only {args.only} matches no contender of {labels}")
    kept = kept_results(args.out / f"{stem}.json", meta, chosen) if args.only else []
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        # The bar is the baseline's typical score, not one seed's luck: the median over seeds
        # of its best validation accuracy, measured before any search starts.
        results += [run_baseline(args, seed, space, data) for seed in range(args.seeds)]
        bar = statistics.median(r.best_val_accuracy for r in results)
        meta["bar"] = bar
        for seed in range(args.seeds):
            for label, sampler, pruner in HPSEARCH_CONTENDERS:
                if label in chosen:
                    forget(args.storage, slug(label, seed))
                    results.append(
                        run_hpsearch(args, label, sampler, pruner, seed, bar, space, data)
                    )
            for label in KERAS_TUNER_CONTENDERS:
                if label in chosen:
                    results.append(run_keras_tuner(args, label, seed, bar, space, data, workdir))
            save(args.out / stem, meta, results + kept, None)  # a crash keeps finished seeds
            print(f"seed {seed} done", flush=True)
        over = overhead(args, space, data, workdir)
    print(save(args.out / stem, meta, in_table_order(results + kept, labels), over))


def kept_results(path: Path, meta: dict[str, Any], chosen: list[str]) -> list[Result]:
    """The last run's results of the contenders not rerun, when it had the same settings."""
    if not path.is_file():
        sys.exit(f"compare.py: error: --only needs the results of a full run: no {path}")
    last = json.loads(path.read_text())
    same = ("seeds", "epoch_budget", "max_epochs", "space", "data", "machine")
    differ = [k for k in same if last["meta"].get(k) != meta[k]]
    if differ:
        sys.exit(
            f"compare.py: error: --only: {path} was measured with other settings "
            f"({', '.join(differ)}); allowed: a full run first"
        )
    return [
        Result(**r)
        for r in last["runs"]
        if r["contender"] not in chosen and r["contender"] != "article's baseline alone"
    ]


def forget(storage: str, name: str) -> None:
    """Drop a contender's study from an earlier run before it runs again (--only): Optuna's
    rows, and hpsearch's own tables beside them (Optuna's delete_study knows only its own)."""
    import sqlalchemy as sa

    from hpsearch.store.schema import EPOCHS, SELECTION, TEST_RESULTS

    with contextlib.suppress(KeyError):
        optuna.delete_study(study_name=name, storage=storage)
    engine = sa.create_engine(storage)
    try:
        with engine.begin() as conn:
            for table in (EPOCHS, SELECTION, TEST_RESULTS):
                if sa.inspect(conn).has_table(table.name):
                    conn.execute(table.delete().where(table.c.study_name == name))
    finally:
        engine.dispose()


def in_table_order(results: list[Result], labels: list[str]) -> list[Result]:
    order = {label: i for i, label in enumerate(["article's baseline alone", *labels])}
    return sorted(results, key=lambda r: (order.get(r.contender, len(order)), r.seed))


def save(
    stem: Path, meta: dict[str, Any], results: list[Result], over: dict[str, Any] | None
) -> str:
    """Write this run's results (see :func:`write`); returns the Markdown."""
    runs = [asdict(r) for r in results]
    record = {"meta": meta, "summary": summarize(results), "runs": runs, "overhead": over}
    return write(stem, record)


def write(stem: Path, record: dict[str, Any]) -> str:
    """Write ``<stem>.json`` (the whole record) and ``<stem>.md``; returns the Markdown."""
    stem.with_suffix(".json").write_text(json.dumps(record, indent=2, default=str))
    text = markdown(record["summary"], record["overhead"], record["meta"])
    stem.with_suffix(".md").write_text(text)
    return text


if __name__ == "__main__":
    main()
