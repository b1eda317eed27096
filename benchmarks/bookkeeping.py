"""Bookkeeping per trial against the trials stored: does a worker's overhead stay flat?

Builds stores like a long study leaves them (Optuna trials made with ``create_trial`` and
``add_trials``, carrying the user attributes a trial writes; every epoch's row in
``hpsearch_epochs``; each trial's dashboard note; the study's note and tradeoff figure), with
100, 1,000 and 10,000 trials. Then, for each, a fresh process joins the study as a worker does
and runs trials through the runner's own loop (:func:`hpsearch.engine.runner.trial_loop`: the
budget's claim, Optuna's ask/tell and heartbeat, the epoch rows, the trial's note, the dashboard's
redraws on their schedule), with the training replaced by the writes a trial makes around
``fit`` (its user attributes and one row per epoch), so what is timed is everything but
``fit``. Random sampler, no pruner: their own cost is the search's, not bookkeeping.

Per size it reports the time per trial outside the redraws (median and mean over the timed
trials), one redraw of the study's note and figure (the runner's :meth:`Publisher.refresh`,
timed at the end), how many trials the schedule spreads a redraw over there, and their sum:
the amortized bookkeeping per trial. The ratio printed is that amortized time at the largest
size over the smallest (goal: under 1.5).

    python benchmarks/bookkeeping.py               # 100 / 1,000 / 10,000 trials (~25 min, 2 cores)
    python benchmarks/bookkeeping.py --keep DIR    # build the stores into DIR once, reuse them
    python benchmarks/bookkeeping.py --smoke       # seconds: the harness works

Results: ``benchmarks/results/bookkeeping.json`` and ``bookkeeping.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

STUDY = "bookkeeping"
EPOCHS = 10
CONFIG = {
    "tradeoff": {"gap": "accuracy", "max_gap": 0.05},
    "budget": {"n_trials": 1_000_000, "max_epochs": EPOCHS},
    "sampler": {"name": "random"},
    "pruner": {"name": "none"},
}


def epoch_logs(rng: random.Random, epoch: int) -> dict[str, float]:
    """One epoch's numbers, as Keras and the trial's inference-mode pass log them."""
    val = min(0.95, 0.55 + 0.03 * epoch + rng.uniform(-0.05, 0.05))
    train = min(0.99, val + rng.uniform(0.0, 0.08))
    return {
        "loss": 0.7 - 0.04 * epoch,
        "accuracy": train,
        "val_loss": 0.72 - 0.03 * epoch,
        "val_accuracy": val,
        "train_eval_loss": 0.68 - 0.04 * epoch,
        "train_eval_accuracy": train,
    }


def trial_attrs(seed: int, rows: list[dict[str, float]]) -> dict[str, Any]:
    """The user attributes :func:`hpsearch.engine.trial.run_trial` leaves on a trial."""
    best = max(range(len(rows)), key=lambda i: rows[i]["val_accuracy"])
    r = rows[best]
    return {
        "seed": seed,
        "worker": f"{platform.node()}:{os.getpid()}",
        "params_count": 321,
        "threads": {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"},
        "epochs": len(rows),
        "best_epoch": best + 1,
        "value": r["val_accuracy"],
        "train_loss": r["loss"],
        "train_accuracy": r["accuracy"],
        "train_eval_loss": r["train_eval_loss"],
        "train_eval_accuracy": r["train_eval_accuracy"],
        "val_loss": r["val_loss"],
        "val_accuracy": r["val_accuracy"],
        "gap_accuracy": r["train_eval_accuracy"] - r["val_accuracy"],
        "gap_loss": r["val_loss"] - r["train_eval_loss"],
        "stop_reason": "finished",
        "wall_seconds": 1.0,
    }


def suggest(trial: Any) -> dict[str, Any]:
    """The tiny test space's knobs (tests/spaces/tiny.py)."""
    return {
        "width": trial.suggest_int("width", 2, 8),
        "learning_rate": trial.suggest_float("learning_rate", 1e-3, 1e-1, log=True),
    }


def build(folder: Path, sizes: list[int]) -> dict[int, Path]:
    """One store grown to each size in turn, copied at each: ``store-<size>.db``; copies
    already in ``folder`` are kept."""
    made = {n: folder / f"store-{n}.db" for n in sizes}
    if all(p.is_file() for p in made.values()):
        print(f"reusing the stores in {folder}", flush=True)
        return made
    for p in folder.glob("growing.db*"):
        p.unlink()
    import optuna

    from hpsearch.output.dashboard import publish, save_trial_note, trial_note
    from hpsearch.store.database import Store
    from hpsearch.store.schema import EPOCHS as EPOCH_TABLE

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    work = folder / "growing.db"
    store = Store.open(f"sqlite:///{work}", create=True)
    store.create_tables()
    study = optuna.create_study(study_name=STUDY, storage=store.storage, direction="maximize")
    study.set_user_attr("hpsearch:space", "tiny")
    study.set_user_attr("hpsearch:metric", "val_accuracy")
    study.set_user_attr("hpsearch:config", CONFIG)
    study.set_user_attr("hpsearch:dataset", {"description": "none (bookkeeping benchmark)"})
    study_id = store.storage.get_study_id_from_name(STUDY)
    rng = random.Random(0)
    have = 0
    for size in sorted(sizes):
        started = time.perf_counter()
        trials, rows = [], []
        for number in range(have, size):
            logs = [epoch_logs(rng, e) for e in range(1, EPOCHS + 1)]
            attrs = trial_attrs(number, logs)
            trials.append(
                optuna.trial.create_trial(
                    value=attrs["value"],
                    params={"width": rng.randint(2, 8), "learning_rate": 0.01},
                    distributions=_distributions(),
                    user_attrs=attrs,
                )
            )
            for e, row in enumerate(logs, start=1):
                rows.append({"study_name": STUDY, "trial_number": number, "epoch": e, **row})
        study.add_trials(trials)
        with store.engine.begin() as conn:  # setup only: the runner writes one row per epoch
            conn.execute(EPOCH_TABLE.insert(), [{**r, "seconds": 0.1} for r in rows])
        for t in study.get_trials(deepcopy=False)[have:size]:
            save_trial_note(store, study_id, t, trial_note(t))
        publish(study, store)
        have = size
        with sqlite3.connect(work) as src, sqlite3.connect(made[size]) as dst:
            src.backup(dst)
        print(f"built {size} trials ({time.perf_counter() - started:.0f} s)", flush=True)
    store.close()
    return made


def _distributions() -> dict[str, Any]:
    from optuna.distributions import FloatDistribution, IntDistribution

    return {
        "width": IntDistribution(2, 8),
        "learning_rate": FloatDistribution(1e-3, 1e-1, log=True),
    }


def child(spec: dict[str, Any]) -> dict[str, Any]:
    """In a fresh process: join the study as a worker does, time trials through the runner's
    loop, then one redraw; returns the timings."""
    import optuna

    from hpsearch.engine.runner import SilentReporter, trial_loop
    from hpsearch.output.dashboard import Publisher
    from hpsearch.store.database import Heartbeat, StaleTrial, Store, close_stores

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    url = f"sqlite:///{spec['path']}"
    opened = time.perf_counter()
    # As hpsearch.engine.runner.open_study opens a worker's store.
    store = Store.open(url, write=True, heartbeat=Heartbeat(10, 30, StaleTrial(1)))
    study = optuna.load_study(
        study_name=STUDY,
        storage=store.storage,
        sampler=optuna.samplers.RandomSampler(seed=0),
        pruner=optuna.pruners.NopPruner(),
    )
    budget = store.budget(STUDY)
    budget.set_total(10_000_000, claimed=0)
    loop, publisher = trial_loop(store, study, budget, SilentReporter(), Publisher)
    assert isinstance(publisher, Publisher)
    open_seconds = time.perf_counter() - opened
    rng = random.Random(1)
    epochs = store.epochs

    def objective(trial: optuna.Trial) -> float:
        """What run_trial writes around fit: its attributes, one row per epoch."""
        suggest(trial)
        logs = []
        for e in range(1, EPOCHS + 1):
            logs.append(epoch_logs(rng, e))
            epochs.record(STUDY, trial.number, e, logs[-1], 0.1)
        attrs = trial_attrs(trial.number, logs)
        for key, value in attrs.items():
            trial.set_user_attr(key, value)
        return float(attrs["value"])

    for _ in range(spec["warmup"]):
        loop.run_one(objective)
    redraws_before = len(publisher.redraws)
    times = []
    for _ in range(spec["trials"]):
        began = time.perf_counter()
        loop.run_one(objective)
        times.append(time.perf_counter() - began)
    in_window = publisher.redraws[redraws_before:]
    # Trials that did not redraw: the steady per-trial cost.
    steady = sorted(times)[: len(times) - len(in_window)]
    began = time.perf_counter()
    publisher.refresh(study)  # what a worker does when it ends
    redraw = time.perf_counter() - began
    stored = len(study.get_trials(deepcopy=False))
    close_stores()
    return {
        "open_seconds": open_seconds,
        "trials_stored_at_start": stored - spec["warmup"] - spec["trials"],
        "trials_stored_at_end": stored,
        "times": times,
        "redraws_in_window": in_window,
        "steady_median": statistics.median(steady),
        "steady_mean": statistics.fmean(steady),
        "window_mean": statistics.fmean(times),
        "redraw_seconds": redraw,
        "redraw_every": max(1, int(publisher.share * publisher.finished)),
    }


def measure(path: Path, trials: int, warmup: int) -> dict[str, Any]:
    work = path.with_name(f"work-{path.name}")  # the trials run here are not kept
    for p in path.parent.glob(f"{work.name}*"):
        p.unlink()
    with sqlite3.connect(path) as src, sqlite3.connect(work) as dst:
        src.backup(dst)
    spec = {"path": str(work), "trials": trials, "warmup": warmup}
    out = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(spec)],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"a bookkeeping child failed:\n{out.stderr[-3000:]}")
    for p in path.parent.glob(f"{work.name}*"):
        p.unlink()
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    result["amortized"] = result["steady_mean"] + result["redraw_seconds"] / result["redraw_every"]
    return result


def report(results: dict[int, dict[str, Any]], args: argparse.Namespace) -> str:
    sizes = sorted(results)
    small, large = results[sizes[0]], results[sizes[-1]]
    ratio = large["amortized"] / small["amortized"]
    lines = [
        f"Bookkeeping per trial (everything a worker does per trial but `fit`), {EPOCHS} epochs "
        f"per trial, {args.trials} timed trials after {args.warmup} untimed, one fresh worker "
        f"process per size; SQLite; {platform.machine()}, {os.cpu_count()} cores, no GPU. "
        "Trials stored: at the start → at the end of the timing. "
        "Amortized = steady mean + one redraw / trials per redraw.",
        "",
        "| trials stored | steady median ms | steady mean ms | redraw s | trials per redraw "
        "| amortized ms | window mean ms | worker open s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for n in sizes:
        r = results[n]
        lines.append(
            f"| {r['trials_stored_at_start']:,} → {r['trials_stored_at_end']:,} "
            f"| {1e3 * r['steady_median']:.1f} | {1e3 * r['steady_mean']:.1f} | "
            f"{r['redraw_seconds']:.2f} | {r['redraw_every']} | {1e3 * r['amortized']:.1f} | "
            f"{1e3 * r['window_mean']:.1f} | {r['open_seconds']:.2f} |"
        )
    lines += [
        "",
        f"Ratio {sizes[-1]:,} / {sizes[0]:,} trials stored, amortized: **{ratio:.2f}** "
        "(goal: under 1.5).",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--sizes", default="100,1000,10000", help="trials stored, comma-separated")
    parser.add_argument("--trials", type=int, default=200, help="timed trials per size")
    parser.add_argument("--warmup", type=int, default=5, help="untimed trials first")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: the harness runs")
    parser.add_argument("--keep", type=Path, help="build the stores here, or reuse them")
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return
    if args.smoke:
        args.sizes, args.trials, args.warmup = "20,60", 10, 2
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="bookkeeping-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        stores = build(folder, sizes)
        results = {}
        for n in sizes:
            results[n] = measure(stores[n], args.trials, args.warmup)
            shown = {k: v for k, v in results[n].items() if k != "times"}
            print(f"{n} trials stored: {json.dumps(shown)}", flush=True)
    text = report(results, args)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / ("bookkeeping-smoke" if args.smoke else "bookkeeping")
    stem.with_suffix(".json").write_text(
        json.dumps({"sizes": sizes, "epochs": EPOCHS, "results": results}, indent=2)
    )
    stem.with_suffix(".md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
