"""Head to head at the user's budget: hpsearch against KerasTuner, plain Optuna and the tutorial.

Every contender gets the same space, the same split (validation carved from ``train.csv`` with
the seed) and the same **wall-clock budget**: the time hpsearch's README path takes to choose
(``hpsearch run`` of the task's shipped study: data, search, re-evaluation of the finalists),
measured on this machine for that seed. Each goes from nothing to a final model by its own
documented path, and every final model is scored on data its choice never saw (test.csv; for
the binary IMDB sample also the 2,147 reviews of ``benchmarks/unseen.py``):

- ``hpsearch``: the README's path, ``hpsearch run``, ``export --ensemble 3``, ``--refit``; as
  ablations, from the same study: the pick alone refit, the best single trial by search value
  (no re-evaluation) refit, and the pick trained on the training split only (no refit);
- ``kt-hyperband``, ``kt-bayesian``: ``tuner.search`` (no new trial after the budget), then
  ``get_best_models(1)`` as KerasTuner's documentation does, and as a second row its best
  hyperparameters refit by hand on training + validation data for the best trial's epochs;
- ``optuna``: plain Optuna as a careful user writes it (TPE, median pruner, optuna-integration's
  ``KerasPruningCallback``, EarlyStopping, ``timeout``), the best parameters refit likewise;
- ``tutorial``: the tutorial's own settings (``spaces/lstm_dropout.py``'s ``BASELINE``: 5,000
  words, 500 tokens, Embedding(32), LSTM(100) with dropout) on the same split, EarlyStopping;
- ``baseline``: the task space's ``BASELINE`` (Kim's CNN-rand for ``cnn``, a TF-IDF logistic
  regression for ``ngrams``), trained with EarlyStopping: what a user gets without any search.

    python benchmarks/headtohead.py --task imdb --seeds 1 2 3   # resumes from recorded runs
    python benchmarks/headtohead.py --report                    # table + anytime plot
    python benchmarks/headtohead.py --repeat --task sst2 --contender optuna --seeds 1
                                   # a recorded row again, for its recorded number of trials
    python benchmarks/headtohead.py --smoke                     # minutes: the harness works

The two tasks can run side by side, one core each, every contender on the same one core
(``taskset -c 0 ... --task sst2`` beside ``taskset -c 1 ... --task imdb``; the result records
the cores it had): half the series' wall-clock, and still the same hardware for every contender.

Each contender and seed runs in a process of its own and is written to
``benchmarks/results/headtohead/TASK-CONTENDER-sSEED.json`` when it finishes; a rerun skips what
is recorded (``--force`` reruns), so an interrupted series resumes. ``--report`` writes
``headtohead.md`` (means over seeds, paired differences from hpsearch's README path with their
standard errors) and ``headtohead.svg`` (best-so-far validation accuracy against wall-clock time,
median and range over seeds).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import fcntl
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "benchmarks" / "results" / "headtohead"
WORK = REPO / "benchmarks" / "work" / "headtohead"
BIN = Path(sys.executable).parent
TASKS = {"sst2": "benchmarks/studies/sst2-cnn.toml", "imdb": "studies/imdb-sample-best.toml"}
CONTENDERS = ("hpsearch", "kt-hyperband", "optuna", "baseline", "tutorial", "kt-bayesian")
"""In the order each seed runs them: hpsearch first (it sets the budget)."""
VARIANTS: dict[str, tuple[str, str]] = {
    "hpsearch-ungrouped": (
        "TPE ungrouped (the default before 2026-12-07)",
        '[sampler]\nname = "tpe"\ngroup = false\n',
    ),
    "hpsearch-hyperband": (
        "TPE ungrouped with Optuna's Hyperband pruner",
        '[sampler]\nname = "tpe"\ngroup = false\n\n[pruner]\nname = "hyperband"\n',
    ),
}
"""Candidate and earlier defaults (issue 25): hpsearch on the task's shipped study with these
tables added, searched for its own timeout and finished by the README path like hpsearch. Not in
a default series: ``--contender hpsearch-hyperband``. Grouped TPE (``group = true``) was one
until it became the default: its runs are the ``hpsearch`` rows, the earlier default's (Optuna's
TPE defaults: multivariate for one objective, ungrouped) ``hpsearch-ungrouped`` (the notes in
each result say so)."""
ALL = (*CONTENDERS, *VARIANTS)
TEST_LINE = re.compile(r"^test(?: \(average of \d+ models\))?:.*?\baccuracy=([0-9.eE+-]+)", re.M)

sys.path.insert(0, str(REPO / "benchmarks"))


class BudgetSpent(BaseException):
    """The wall-clock budget is spent: start no new trial (KerasTuner has no timeout)."""


# ---------------------------------------------------------------------------------------------
# Scoring: every final model on the same held-out texts


def unseen_of(task: str, model_path: Path) -> float | None:
    """A saved raw-text model's accuracy on the unseen IMDB reviews (binary IMDB only)."""
    if task != "imdb":
        return None
    import unseen

    texts, labels = unseen.unseen_reviews(unseen.SHARED / "imdb", unseen.SHARED / "imdb-ratings")
    return float(unseen.correct(model_path, texts, labels).mean())


def save_raw(model: Any, data: Any, path: Path) -> Path:
    """Save an in-process model as the exported scripts do: raw strings in, class names beside."""
    from hpsearch.portable.data import raw_text_model

    raw = raw_text_model(model, list(data.vocabulary), data.maxlen)
    raw.save(path)
    Path(f"{path}.classes.json").write_text(json.dumps({"classes": list(data.classes)}))
    return path


def curve_of(trials: list[Any], started: float) -> list[tuple[float, float]]:
    """(seconds since the contender started, value) of every finished Optuna trial."""
    return sorted(
        (t.datetime_complete.timestamp() - started, float(t.value))
        for t in trials
        if t.value is not None and t.datetime_complete is not None
    )


# ---------------------------------------------------------------------------------------------
# hpsearch: the README's path, through the CLI, as a user runs it


def sh(cmd: list[str], cwd: Path, log: Path) -> str:
    with log.open("a") as out:
        out.write(f"$ {' '.join(cmd)}\n")
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    with log.open("a") as out:
        out.write(done.stdout + done.stderr)
    if done.returncode != 0:
        raise SystemExit(
            f"headtohead.py: error: {' '.join(cmd[:3])} exited {done.returncode}: "
            + " | ".join((done.stdout + done.stderr).splitlines()[-4:])
        )
    return done.stdout


def with_budget(text: str, **budget: float | int) -> str:
    """A study file's text with its ``[budget]`` table's keys set to ``budget`` (others kept)."""
    kept = tomllib.loads(text).get("budget", {}) | budget
    text = re.sub(r"(?ms)^\[budget\].*?(?=^\[|\Z)", "", text)
    return text + "\n[budget]\n" + "".join(f"{k} = {v!r}\n" for k, v in kept.items())


def smoke_budget(text: str) -> str:
    """A study file's text with a seconds-scale budget."""
    return with_budget(text, n_trials=3, timeout=20, max_epochs=2)


def run_hpsearch(
    task: str,
    seed: int,
    folder: Path,
    smoke: bool,
    variant: str | None = None,
    trials: int | None = None,
) -> dict[str, Any]:
    import optuna
    from readme_path import study_copy

    name = f"{task}-s{seed}"
    study = study_copy(REPO / TASKS[task], folder, name, seed)
    label = "hpsearch"
    if variant is not None:  # the shipped studies set no [sampler] or [pruner] table
        description, table = VARIANTS[variant]
        study.write_text(study.read_text() + "\n" + table)
        label = f"hpsearch, {description}"
    if smoke:
        study.write_text(smoke_budget(study.read_text()))
    if trials is not None:  # a repeat: the recorded run's trials, whatever the clock says
        study.write_text(with_budget(study.read_text(), n_trials=trials, timeout=86400))
    store = ["--storage", f"sqlite:///{folder / 'store.db'}"]
    hp, log = str(BIN / "hpsearch"), folder / "log.txt"
    started = time.time()
    sh([hp, "run", str(study), *store], folder, log)
    budget = time.time() - started
    loaded = optuna.load_study(study_name=name, storage=store[1])
    return {
        "budget_seconds": round(budget, 1),
        "trials": len(loaded.trials),
        "curve": curve_of(loaded.trials, started),
        **finals(task, name, folder, smoke, label),
    }


def finals(
    task: str, name: str, folder: Path, smoke: bool, label: str = "hpsearch"
) -> dict[str, Any]:
    """hpsearch's final models from the study in ``folder``: the README path and ablations
    (rows named after ``label``)."""
    import optuna

    store = ["--storage", f"sqlite:///{folder / 'store.db'}"]
    hp, py, log = str(BIN / "hpsearch"), str(BIN / "python"), folder / "log.txt"
    loaded = optuna.load_study(study_name=name, storage=store[1])
    done = [t for t in loaded.trials if t.value is not None]
    by_value = max(done, key=lambda t: float(t.value or 0.0)).number
    pick = json.loads(sh([hp, "best", name, "--json", *store], folder, log))
    rows: dict[str, dict[str, Any]] = {}
    ensemble = 1 if smoke else 3
    paths = {
        f"{label}: README path (export --ensemble 3, --refit)": (
            ["--ensemble", str(ensemble)],
            True,
        ),
        f"{label}: the pick alone, refit": ([], True),
        f"{label}: best trial by search value (no re-evaluation), refit": (
            ["--trial", str(by_value)],
            True,
        ),
        f"{label}: the pick, trained on the training split (no refit)": ([], False),
    }
    for i, (row, (flags, refit)) in enumerate(paths.items()):
        script, model = f"train{i}.py", folder / f"final{i}.keras"
        begin = time.time()
        try:  # a path that fails is a result too: recorded with its one line, the others go on
            sh([hp, "export", name, *flags, "-o", script, "--force", *store], folder, log)
            out = sh(
                [py, script, *(["--refit"] if refit else []), "--output", str(model)], folder, log
            )
        except SystemExit as failed:
            rows[row] = {"error": str(failed), "test_accuracy": None, "unseen_accuracy": None}
            continue
        rows[row] = {
            "test_accuracy": float(TEST_LINE.findall(out)[-1]),
            "unseen_accuracy": unseen_of(task, model),
            "final_seconds": round(time.time() - begin, 1),
        }
    return {
        "rows": rows,
        "pick": pick.get("number"),
        "estimate": (pick.get("reevaluated") or {}).get("mean"),
        "estimate_error": (pick.get("reevaluated") or {}).get("standard_error"),
    }


def refinal(task: str, seed: int) -> None:
    """hpsearch's final rows again from a recorded run's store (after a change to export or
    the exported script), its search and budget kept; the change is noted in the result."""
    from hpsearch.engine.quiet import quiet_tensorflow

    quiet_tensorflow()
    out = result_path(task, "hpsearch", seed)
    folder = WORK / f"{task}-hpsearch-s{seed}"
    if not out.exists() or not (folder / "store.db").exists():
        raise SystemExit(f"headtohead.py: error: no recorded hpsearch run with its store: {out}")
    result = json.loads(out.read_text())
    result |= finals(task, f"{task}-s{seed}", folder, smoke=False)
    result.setdefault("notes", []).append(
        f"final rows redone {time.strftime('%Y-%m-%d')} from the same store (--refinal)"
    )
    out.write_text(json.dumps(result, indent=1, default=str) + "\n")
    print(json.dumps(result["rows"], indent=1))


# ---------------------------------------------------------------------------------------------
# The other contenders, in process, on hpsearch's split and vectorized arrays


def task_data(
    task: str, seed: int, smoke: bool, space_name: str | None = None
) -> tuple[Any, Any, Any, dict[str, Any]]:
    """The space (the study's, or ``space_name``), the study config (seeded), the data at its
    largest setting, and the ranges the study searches (the data knobs following the texts, as
    ``hpsearch run`` derives them)."""
    from hpsearch.config.studyfile import load_study_file
    from hpsearch.data import load_dataset
    from hpsearch.engine import setting
    from hpsearch.engine.spaces import load_space

    with tempfile.TemporaryDirectory() as tmp:
        from readme_path import study_copy

        cfg = load_study_file(study_copy(REPO / TASKS[task], Path(tmp), f"{task}-s{seed}", seed))
    if smoke:
        cfg = cfg.replace(budget=dataclasses.replace(cfg.budget, max_epochs=2))
    if space_name:
        cfg = cfg.replace(space=space_name)
    space = load_space(cfg.space)
    cfg = setting.follow_data(setting.pin(cfg, space), space)[0]
    data = load_dataset(setting.ceiling(cfg, space).dataset, cfg.seed)
    return space, cfg, data, dict(cfg.ranges)


def joined(data: Any) -> Any:
    """Training + validation rows as one training split (a refit), the vocabulary unchanged."""
    import numpy as np

    return dataclasses.replace(
        data,
        x_train=np.concatenate([data.x_train, data.x_val]),
        y_train=np.concatenate([data.y_train, data.y_val]),
    )


def final_row(task: str, model: Any, data: Any, path: Path, began: float) -> dict[str, Any]:
    test = float(model.evaluate(data.x_test, data.y_test, batch_size=256, verbose=0)[1])
    return {
        "test_accuracy": test,
        "unseen_accuracy": unseen_of(task, save_raw(model, data, path)),
        "final_seconds": round(time.time() - began, 1),
    }


def refit(
    task: str, space: Any, cfg: Any, data: Any, params: dict, epochs: int, seed: int, path: Path
) -> dict[str, Any]:
    """The chosen parameters trained on training + validation for ``epochs``, tested once."""
    from hpsearch.engine import setting
    from hpsearch.engine.trial import build

    began = time.time()
    at = data.restrict(*setting.of(params))
    full = joined(at)
    model = build(params, space, full, seed)
    model.fit(full.x_train, full.y_train, batch_size=params["batch_size"], epochs=epochs, verbose=0)
    return final_row(task, model, at, path, began)


def run_keras_tuner(
    task: str,
    seed: int,
    folder: Path,
    budget: float,
    which: str,
    smoke: bool,
    trials: int | None = None,
) -> dict[str, Any]:
    import keras
    import keras_tuner

    from hpsearch.integrations.keras_tuner import SpaceHyperModel, best_epoch

    started = time.time()
    space, cfg, data, ranges = task_data(task, seed, smoke)
    hypermodel = SpaceHyperModel(space, data, ranges)
    common: dict[str, Any] = {
        "objective": "val_accuracy",
        "seed": seed,
        "overwrite": True,
        "directory": str(folder / "kt"),
        "project_name": which,
    }
    max_epochs = cfg.budget.max_epochs
    if which == "kt-hyperband":
        tuner: Any = keras_tuner.Hyperband(
            hypermodel, max_epochs=max_epochs, factor=3, hyperband_iterations=1000, **common
        )
    else:
        tuner = keras_tuner.BayesianOptimization(hypermodel, max_trials=100_000, **common)
    curve: list[tuple[float, float]] = []

    def completed() -> int:
        return sum(1 for t in tuner.oracle.trials.values() if t.status == "COMPLETED")

    class Clock(keras.callbacks.Callback):
        """No new trial once the budget is spent (Optuna's ``timeout`` does the same), or in a
        repeat once the recorded run's trials are complete; each finished trial's best
        validation accuracy onto the anytime curve."""

        best = 0.0

        def on_train_begin(self, logs: Any = None) -> None:
            if trials is None and time.time() - started > budget:
                raise BudgetSpent
            if trials is not None and completed() >= trials:
                raise BudgetSpent
            Clock.best = 0.0

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            Clock.best = max(Clock.best, float((logs or {}).get("val_accuracy", 0.0)))

        def on_train_end(self, logs: Any = None) -> None:
            curve.append((time.time() - started, Clock.best))

    stop = keras.callbacks.EarlyStopping(
        monitor="val_accuracy", mode="max", patience=cfg.early_stopping.patience
    )
    keras.utils.set_random_seed(seed)
    with contextlib.suppress(BudgetSpent):
        tuner.search(
            data.x_train,
            data.y_train,
            validation_data=(data.x_val, data.y_val),
            epochs=max_epochs,
            callbacks=[Clock(), stop],
            verbose=0,
        )
    searched = time.time() - started
    best_trial = tuner.oracle.get_best_trials(1)[0]
    params = hypermodel.params(best_trial.hyperparameters)
    began = time.time()
    model = tuner.get_best_models(1)[0]  # as KerasTuner's documentation does
    at = hypermodel.data_for(params)
    label = "KerasTuner Hyperband" if which == "kt-hyperband" else "KerasTuner BayesianOptimization"
    rows = {
        f"{label}: get_best_models(1)": final_row(task, model, at, folder / "best.keras", began)
    }
    epochs = best_epoch(best_trial, "val_accuracy")  # Hyperband's resumed trials counted whole
    rows[f"{label}: best hyperparameters refit"] = refit(
        task, space, cfg, data, params, epochs, seed, folder / "refit.keras"
    )
    return {
        "budget_seconds": round(searched, 1),
        "trials": completed(),
        "curve": curve,
        "rows": rows,
        "params": params,
        "refit_epochs": epochs,
    }


def fit_stopped(model: Any, at: Any, params: dict, cfg: Any, *more: Any) -> list[float]:
    """``model.fit`` as a careful user writes it: EarlyStopping on validation accuracy with the
    study's patience, the best weights restored; returns each epoch's validation accuracy."""
    import keras

    stop = keras.callbacks.EarlyStopping(
        monitor="val_accuracy",
        mode="max",
        patience=cfg.early_stopping.patience,
        restore_best_weights=True,
    )
    return list(
        model.fit(
            at.x_train,
            at.y_train,
            batch_size=params["batch_size"],
            epochs=cfg.budget.max_epochs,
            validation_data=(at.x_val, at.y_val),
            verbose=0,
            callbacks=[stop, *more],
        ).history["val_accuracy"]
    )


def run_optuna(
    task: str, seed: int, folder: Path, budget: float, smoke: bool, trials: int | None = None
) -> dict[str, Any]:
    import numpy as np
    import optuna
    from optuna_integration import KerasPruningCallback

    from hpsearch.engine import setting
    from hpsearch.engine.trial import build

    started = time.time()
    space, cfg, data, ranges = task_data(task, seed, smoke)
    from hpsearch.engine.spaces import RangedTrial

    def objective(trial: optuna.Trial) -> float:
        params = space.suggest(RangedTrial(trial, ranges))  # the same ranges hpsearch searches
        at = data.restrict(*setting.of(params))
        model = build(params, space, at, seed + trial.number)
        history = fit_stopped(model, at, params, cfg, KerasPruningCallback(trial, "val_accuracy"))
        trial.set_user_attr("epochs", int(np.argmax(history)) + 1)
        trial.set_user_attr("params", params)
        return float(max(history))

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner(),
    )
    if trials is not None:  # a repeat: the recorded run's trials
        study.optimize(objective, n_trials=trials)
    else:
        study.optimize(objective, timeout=max(budget - (time.time() - started), 1.0))
    searched = time.time() - started
    curve = curve_of(study.trials, started)
    best = study.best_trial
    rows = {
        "plain Optuna (TPE, median pruner), best parameters refit": refit(
            task,
            space,
            cfg,
            data,
            best.user_attrs["params"],
            best.user_attrs["epochs"],
            seed,
            folder / "refit.keras",
        )
    }
    return {
        "budget_seconds": round(searched, 1),
        "trials": len(study.trials),
        "curve": curve,
        "rows": rows,
        "params": best.user_attrs["params"],
    }


def run_baseline(
    task: str, seed: int, folder: Path, smoke: bool, space_name: str | None, row: str
) -> dict[str, Any]:
    """One model, no search: a space's ``BASELINE`` trained with EarlyStopping."""
    from hpsearch.engine import setting
    from hpsearch.engine.trial import build

    started = time.time()
    space, cfg, data, ranges = task_data(task, seed, smoke, space_name)
    params = dict(space.baseline)
    for knob in ("num_words", "maxlen"):  # as hpsearch's trial 0: the size nearest the data's
        if knob in params and knob in ranges:
            params[knob] = min(
                max(int(params[knob]), int(ranges[knob].low)), int(ranges[knob].high)
            )
    at = data.restrict(*setting.of(params))
    model = build(params, space, at, seed)
    history = fit_stopped(model, at, params, cfg)
    searched = time.time() - started
    rows = {row: final_row(task, model, at, folder / "final.keras", time.time())}
    return {
        "budget_seconds": round(searched, 1),
        "trials": 1,
        "curve": [(searched, float(max(history)))],
        "rows": rows,
        "params": params,
    }


# ---------------------------------------------------------------------------------------------
# The series: one process per contender and seed, results written as each finishes


def environment() -> dict[str, str]:
    """What a result's numbers depend on beyond the code and the seed: the libraries' versions
    and the CPU (oneDNN and Eigen pick kernels by its instruction sets, and their sums round
    differently: a trial's accuracy then moves in its third decimal, and the search with it)."""
    from importlib.metadata import version

    found: dict[str, str] = {
        name: version(name) for name in ("tensorflow", "keras", "optuna", "keras-tuner", "numpy")
    }
    with contextlib.suppress(OSError):
        info = Path("/proc/cpuinfo").read_text()
        model = re.search(r"^model name\s*:\s*(.*)$", info, re.M)
        flags = re.search(r"^flags\s*:\s*(.*)$", info, re.M)
        found["cpu"] = model[1] if model else platform.processor()
        wide = ("avx2", "avx512f", "avx512_bf16", "avx512_fp16", "amx_tile", "fma")
        have = set(flags[1].split()) if flags else set()
        found["cpu_flags"] = " ".join(f for f in wide if f in have)
    return found


def result_path(task: str, contender: str, seed: int) -> Path:
    return OUT / f"{task}-{contender}-s{seed}.json"


def one(
    task: str,
    contender: str,
    seed: int,
    budget: float,
    smoke: bool,
    out: Path,
    trials: int | None = None,
) -> None:
    """Run one contender for one seed (in this process) and write its result; with ``trials``,
    a repeat: the search runs that many trials instead of for ``budget`` seconds."""
    from hpsearch.engine.quiet import quiet_tensorflow
    from hpsearch.engine.threads import cores, use_threads

    use_threads()
    quiet_tensorflow()
    work = Path(tempfile.mkdtemp()) if smoke else WORK / ("repeat" if trials else "")
    folder = work / f"{task}-{contender}-s{seed}"
    # Two runs of one contender and seed would share (and delete) one work folder: KerasTuner's
    # checkpoints vanished under a run when a second started. The lock is held until exit.
    folder.parent.mkdir(parents=True, exist_ok=True)
    lock = (folder.parent / f"{folder.name}.lock").open("w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise SystemExit(f"headtohead.py: error: {folder.name} is running already") from None
    if folder.exists():
        import shutil

        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    began = time.time()
    if contender == "hpsearch" or contender in VARIANTS:
        variant = contender if contender in VARIANTS else None
        result = run_hpsearch(task, seed, folder, smoke, variant, trials)
    elif contender.startswith("kt-"):
        result = run_keras_tuner(task, seed, folder, budget, contender, smoke, trials)
    elif contender == "optuna":
        result = run_optuna(task, seed, folder, budget, smoke, trials)
    elif contender == "tutorial":
        row = "the tutorial's settings (LSTM(100), 5,000 words, 500 tokens), EarlyStopping"
        result = run_baseline(task, seed, folder, smoke, "lstm_dropout", row)
    else:
        row = "the space's BASELINE, no search, EarlyStopping"
        result = run_baseline(task, seed, folder, smoke, None, row)
    result |= {
        "task": task,
        "contender": contender,
        "seed": seed,
        "budget_given": budget,
        "wall_seconds": round(time.time() - began, 1),
        "cpu_seconds": round(time.process_time(), 1),
        "loadavg": os.getloadavg()[0],
        "machine": f"{platform.machine()}, {cores()} of {os.cpu_count()} cores, no GPU, "
        f"Python {platform.python_version()}",
        "environment": environment(),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1, default=str) + "\n")


def run_one(
    task: str,
    contender: str,
    seed: int,
    budget: float,
    out: Path,
    smoke: bool,
    trials: int | None = None,
) -> None:
    """``one`` in a process of its own (TensorFlow's state and memory go with it)."""
    spent = f"budget {budget:.0f} s" if trials is None else f"{trials} trials, as recorded"
    print(f"{task} seed {seed}: {contender} ({spent})", flush=True)
    subprocess.run(
        [
            sys.executable,
            __file__,
            "--one",
            contender,
            "--task",
            task,
            "--seed",
            str(seed),
            "--budget",
            str(budget),
            "--out",
            str(out),
            *(["--smoke"] if smoke else []),
            *([] if trials is None else ["--trials", str(trials)]),
        ],
        check=True,
    )


def series(
    tasks: list[str], seeds: list[int], contenders: list[str], force: bool, smoke: bool
) -> dict[tuple[str, str, int], Path]:
    """Every contender of every task and seed not yet recorded; returns where each result is."""
    written: dict[tuple[str, str, int], Path] = {}
    for seed in seeds:  # seed by seed across the tasks, so a partial series covers both
        for task in tasks:
            for contender in ["hpsearch", *[c for c in contenders if c != "hpsearch"]]:
                out = result_path(task, contender, seed)
                if smoke:
                    out = Path(tempfile.mkdtemp()) / out.name
                elif out.exists() and not (force and contender in contenders):
                    continue  # --force reruns the contenders named, not the budget's hpsearch
                hp = result_path(task, "hpsearch", seed)
                if contender != "hpsearch" and not smoke and not hp.exists():
                    raise SystemExit(f"headtohead.py: error: no {hp}: hpsearch sets the budget")
                budget = (
                    20.0
                    if smoke
                    else (
                        json.loads(hp.read_text())["budget_seconds"]
                        if contender != "hpsearch"
                        else 0.0
                    )
                )
                run_one(task, contender, seed, budget, out, smoke)
                print(json.dumps(json.loads(out.read_text())["rows"], indent=1), flush=True)
                written[task, contender, seed] = out
    return written


def repeat(task: str, contender: str, seed: int, recorded: Path, smoke: bool) -> bool:
    """Run a recorded contender and seed again for the trials it ran (the budget is wall-clock,
    so a rerun for the same seconds runs as many trials as the machine allows, and differs as
    far as they do) and set each final row beside the recorded one; True when all are equal."""
    from hpsearch.engine.threads import cores

    was = json.loads(recorded.read_text())
    had = re.search(r"(\d+) of \d+ cores", str(was.get("machine", "")))
    if had and int(had[1]) != cores():
        print(
            f"note: recorded with {had[1]} core(s), this run has {cores()}: pin it to as many "
            f"(taskset -c 0 for one); TensorFlow may split its sums differently",
            flush=True,
        )
    out = Path(tempfile.mkdtemp()) / recorded.name
    budget = float(was.get("budget_given") or 0.0)
    run_one(task, contender, seed, budget, out, smoke, trials=int(was["trials"]))
    now = json.loads(out.read_text())
    same = now["trials"] == was["trials"]
    print(f"{task} seed {seed}, {contender}: {now['trials']} trials, recorded {was['trials']}")
    for row, then in was["rows"].items():
        again = now["rows"].get(row, {})
        for key in ("test_accuracy", "unseen_accuracy"):
            a, b = then.get(key), again.get(key)
            same = same and a == b
            print(f"  {row}: {key} {b} (recorded {a}){'' if a == b else '  DIFFERS'}")
    if not same:
        then_env, now_env = was.get("environment"), now.get("environment", {})
        moved = (
            "not recorded with the result (before 2026-12-07)"
            if then_env is None
            else ", ".join(
                f"{k} {then_env.get(k)} -> {v}" for k, v in now_env.items() if then_env.get(k) != v
            )
            or "none"
        )
        print(f"environment changes since the recording: {moved}")
    print("reproduced: every row equal" if same else "not reproduced: see DIFFERS above")
    return same


# ---------------------------------------------------------------------------------------------
# The report


def report() -> str:
    runs = [json.loads(p.read_text()) for p in sorted(OUT.glob("*.json"))]
    lines: list[str] = []
    for task in dict.fromkeys(r["task"] for r in runs):
        mine = sorted(
            (r for r in runs if r["task"] == task),
            key=lambda r: (ALL.index(r["contender"]), r["seed"]),
        )
        seeds = sorted({r["seed"] for r in mine})
        measure = "unseen_accuracy" if task == "imdb" else "test_accuracy"
        held = "the 2,147 unseen reviews" if task == "imdb" else "test.csv"
        rows: dict[str, dict[int, dict[str, Any]]] = {}
        meta: dict[str, dict[int, dict[str, Any]]] = {}
        for r in mine:
            for row, score in r["rows"].items():
                rows.setdefault(row, {})[r["seed"]] = score
                meta.setdefault(row, {})[r["seed"]] = r
        reference = next((k for k in rows if k.startswith("hpsearch: README")), None)
        # What the peers were given: the run of hpsearch's default of that day (the variants
        # and hpsearch itself search for the study's own timeout and re-evaluate after it).
        peers = [r for r in mine if r["contender"] in ("kt-hyperband", "kt-bayesian", "optuna")]
        budgets = [r["budget_given"] for r in peers] or [
            r["budget_seconds"] for r in mine if r["contender"] == "hpsearch"
        ]
        also = " test.csv (mean) |" if measure != "test_accuracy" else ""
        lines += [
            f"### {task}: accuracy on {held}, seeds {', '.join(map(str, seeds))}",
            "",
            "Budget per contender and seed: the time hpsearch's `run` took (its study's "
            "timeout, then the re-evaluation), "
            f"{statistics.mean(budgets) / 60:.1f} min on average "
            f"({min(budgets) / 60:.1f}-{max(budgets) / 60:.1f}); "
            f"{mine[0].get('machine', '')}.",
            "",
            f"| contender, final model | {held} (mean) |{also} minus README path "
            "± SE (paired, over seeds) | seeds | trials | search s |",
            "|---|---|---|---|---|---|" + ("---|" if also else ""),
        ]
        for row, per_seed in rows.items():
            failed = [s for s in per_seed.values() if s.get("error")]
            if failed:
                lines.append(f"| {row} | failed in {len(failed)} seed(s): {failed[0]['error']} |")
                per_seed = {k: v for k, v in per_seed.items() if not v.get("error")}
                if not per_seed:
                    continue
            values = [s[measure] for s in per_seed.values()]
            tests = [s["test_accuracy"] for s in per_seed.values()]
            diffs = [
                per_seed[s][measure] - rows[reference][s][measure]
                for s in per_seed
                if reference and s in rows[reference] and not rows[reference][s].get("error")
            ]
            diff = "-"
            if row != reference and diffs:
                se = (
                    f"{statistics.stdev(diffs) / math.sqrt(len(diffs)):.4f}"
                    if len(diffs) > 1
                    else "n/a (1 seed)"
                )
                diff = f"{statistics.mean(diffs):+.4f} ± {se}"
            trials = statistics.mean(m["trials"] for m in meta[row].values())
            secs = statistics.mean(m["budget_seconds"] for m in meta[row].values())
            test_cell = f" {statistics.mean(tests):.4f} |" if also else ""
            lines.append(
                f"| {row} | {statistics.mean(values):.4f} |{test_cell} {diff} | {len(values)} "
                f"| {trials:.0f} | {secs:.0f} |"
            )
        lines.append("")
    text = "\n".join(lines)
    (OUT.parent / "headtohead.md").write_text(text + "\n")
    plot(runs)
    return text


def plot(runs: list[dict[str, Any]]) -> None:
    """Best-so-far validation accuracy against wall-clock time, median and range over seeds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = list(dict.fromkeys(r["task"] for r in runs))
    fig, axes = plt.subplots(1, len(tasks), figsize=(6 * len(tasks), 4), squeeze=False)
    for ax, task in zip(axes[0], tasks, strict=True):
        for contender in ALL:
            mine = [r for r in runs if r["task"] == task and r["contender"] == contender]
            if not mine:
                continue
            end = max(r["budget_seconds"] for r in mine)
            grid = [end * i / 100 for i in range(101)]
            curves = []
            for r in mine:
                best, points, k = math.nan, [], 0
                pts = sorted(r["curve"])
                for t in grid:
                    while k < len(pts) and pts[k][0] <= t:
                        best = pts[k][1] if math.isnan(best) else max(best, pts[k][1])
                        k += 1
                    points.append(best)
                curves.append(points)
            cols = list(zip(*curves, strict=True))
            med = [statistics.median(c) if not any(map(math.isnan, c)) else math.nan for c in cols]
            low = [min(c) for c in cols]
            high = [max(c) for c in cols]
            minutes = [t / 60 for t in grid]
            ax.plot(minutes, med, label=contender)
            ax.fill_between(minutes, low, high, alpha=0.15)
        ax.set_title(f"{task}: best validation accuracy so far")
        ax.set_xlabel("minutes")
        ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(OUT.parent / "headtohead.svg")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", action="append", choices=list(TASKS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--contender", action="append", choices=ALL)
    parser.add_argument("--force", action="store_true", help="rerun recorded results")
    parser.add_argument("--report", action="store_true", help="the table and the plot")
    parser.add_argument(
        "--refinal", action="store_true", help="hpsearch's final rows again from its stores"
    )
    parser.add_argument(
        "--repeat",
        action="store_true",
        help="run recorded contenders and seeds again for their recorded trials; compare rows",
    )
    parser.add_argument("--smoke", action="store_true", help="seconds-scale: the harness works")
    parser.add_argument("--one", choices=ALL, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--budget", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--trials", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one(args.task[0], args.one, args.seed, args.budget, args.smoke, args.out, args.trials)
    elif args.report:
        print(report())
    elif args.refinal:
        for task in args.task or list(TASKS):
            for seed in args.seeds:
                refinal(task, seed)
    elif args.repeat and not args.smoke:
        if not args.task or not args.contender:
            parser.error("--repeat needs --task and --contender (and --seeds)")
        missing = [
            str(path.relative_to(REPO))
            for task in args.task
            for contender in args.contender
            for seed in args.seeds
            if not (path := result_path(task, contender, seed)).exists()
        ]
        if missing:  # before anything runs, as every check here
            parser.error(f"nothing recorded to repeat: {', '.join(missing)}")
        equal = [
            repeat(task, contender, seed, result_path(task, contender, seed), smoke=False)
            for task in args.task
            for contender in args.contender
            for seed in args.seeds
        ]
        sys.exit(0 if all(equal) else 1)
    else:
        written = series(
            args.task or ["sst2"] if args.smoke else args.task or list(TASKS),
            [1] if args.smoke else args.seeds,
            args.contender or list(CONTENDERS),
            args.force,
            args.smoke,
        )
        if args.smoke:  # a repeat gives a run's rows again: hpsearch's, and KerasTuner's
            for (task, contender, seed), out in written.items():  # stopped by trial count
                if contender in ("hpsearch", "kt-hyperband") and not repeat(
                    task, contender, seed, out, smoke=True
                ):
                    raise SystemExit(f"headtohead.py: error: {contender} did not repeat")


if __name__ == "__main__":
    main()
