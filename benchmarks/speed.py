"""Training speed of one worker and of several, before and after hpsearch's speed settings.

Every configuration trains the article's baseline (a space's ``BASELINE``) through the
engine's own ``build()`` and ``fit()``, in fresh processes started the way ``hpsearch run``
and ``hpsearch run --workers N`` start them, on the real IMDB sample. "Before" is how the
engine ran as of commit 414ae4f: TensorFlow's default thread pools for one worker, one
inter-op thread per worker for several. "After" is :func:`hpsearch.engine.threads.thread_env`, what
``hpsearch run`` and its workers use now.
Rounds alternate which setting goes first; the machine's noise shows as the spread.

    python benchmarks/speed.py               # docs/benchmarks.md (about 10 minutes on 2 cores)
    python benchmarks/speed.py --smoke       # seconds: the harness works

Results: ``benchmarks/results/speed.json`` and ``speed.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def child(spec: dict[str, Any]) -> dict[str, Any]:
    """Train ``spec['models']`` fresh baseline models; time each epoch and each whole trial."""
    from hpsearch.engine.quiet import quiet_tensorflow

    quiet_tensorflow()
    import keras

    from hpsearch.config import BudgetConfig, DatasetConfig, EarlyStoppingConfig, StudyConfig
    from hpsearch.data import load_dataset
    from hpsearch.engine.spaces import load_space
    from hpsearch.engine.trial import build, settings_for
    from hpsearch.portable.training import fit

    started = time.perf_counter()
    cfg = StudyConfig(
        name="speed",
        space=spec["space"],
        dataset=DatasetConfig(**spec["dataset"]),
        budget=BudgetConfig(n_trials=1, max_epochs=spec["epochs"]),
        early_stopping=EarlyStoppingConfig(patience=spec["epochs"]),
    )
    data = load_dataset(cfg.dataset, seed=0)
    load_seconds = time.perf_counter() - started
    space = load_space(cfg.space)
    settings = settings_for(cfg)

    class Clock(keras.callbacks.Callback):
        def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
            self.marks = [time.perf_counter()]

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            self.marks.append(time.perf_counter())

    trials = []
    for i in range(spec["models"]):
        began = time.perf_counter()
        model = build(space.baseline, space, data, seed=i)
        clock = Clock()
        fit(model, space.baseline, data, settings, [clock])
        epochs = [b - a for a, b in zip(clock.marks, clock.marks[1:], strict=False)]
        trials.append({"trial": time.perf_counter() - began, "epochs": epochs})
    return {"load_seconds": load_seconds, "trials": trials}


def launch(spec: dict[str, Any], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, __file__, "--child", json.dumps(spec)],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        text=True,
    )


def measure(spec: dict[str, Any], envs: list[dict[str, str]]) -> dict[str, float]:
    """Run one process per env at once; per-epoch and per-trial medians, epochs per second."""
    began = time.perf_counter()
    procs = [launch(spec, env) for env in envs]
    outs = []
    for p in procs:
        stdout, _ = p.communicate()
        if p.returncode != 0:
            raise SystemExit(f"a speed child exited with {p.returncode}")
        outs.append(json.loads(stdout.strip().splitlines()[-1]))
    wall = time.perf_counter() - began
    trials = [t for o in outs for t in o["trials"]]
    later = [e for t in trials for e in t["epochs"][1:]]
    return {
        "epoch_seconds": statistics.median(later),
        "first_epoch_seconds": statistics.median(t["epochs"][0] for t in trials),
        "trial_seconds": statistics.median(t["trial"] for t in trials),
        "epochs_per_second": sum(len(t["epochs"]) for t in trials)
        / max(sum(t["trial"] for t in o["trials"]) for o in outs),
        "load_seconds": statistics.median(o["load_seconds"] for o in outs),
        "wall_seconds": wall,
    }


def before_env(n_workers: int) -> dict[str, str]:
    """The thread settings as of commit 414ae4f (TensorFlow's defaults for one worker)."""
    from hpsearch.engine.threads import cores

    if n_workers == 1:
        return {}
    share = max(1, cores() // n_workers)
    return {"TF_NUM_INTRAOP_THREADS": str(share), "TF_NUM_INTEROP_THREADS": "1"}


def after_env(n_workers: int) -> dict[str, str]:
    from hpsearch.engine.threads import thread_env

    return thread_env(n_workers)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "imdb")
    parser.add_argument("--space", default="cnn_lstm")
    parser.add_argument("--workers", type=int, default=2, help="the several-workers scenario")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--models", type=int, default=2, help="trials per process")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--max-samples", type=int, default=2000)
    parser.add_argument("--maxlen", type=int, default=150)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: the harness runs")
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return
    if args.smoke:
        args.rounds, args.models, args.epochs, args.max_samples, args.maxlen = 1, 1, 2, 120, 24
    spec = {
        "space": args.space,
        "epochs": args.epochs,
        "models": args.models,
        "dataset": {
            "kind": "csv",
            "path": str(args.data / "train.csv"),
            "test_path": str(args.data / "test.csv"),
            "num_words": 5000,
            "maxlen": args.maxlen,
            "max_samples": args.max_samples,
        },
    }
    runs: dict[str, list[dict[str, float]]] = {}
    for r in range(args.rounds):
        for n in (1, args.workers):
            order = ("before", "after") if r % 2 == 0 else ("after", "before")
            for which in order:
                make = before_env if which == "before" else after_env
                result = measure(spec, [make(n) for _ in range(n)])
                runs.setdefault(f"{n}/{which}", []).append(result)
                print(f"round {r + 1}: {n} worker(s), {which}: {result}", flush=True)
    text = report(runs, args)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / ("speed-smoke" if args.smoke else "speed")
    stem.with_suffix(".json").write_text(json.dumps({"spec": spec, "runs": runs}, indent=2))
    stem.with_suffix(".md").write_text(text)
    print(text)


def report(runs: dict[str, list[dict[str, float]]], args: argparse.Namespace) -> str:
    def med(key: str, which: str) -> float:
        return statistics.median(r[key] for r in runs[which])

    lines = [
        f"{args.rounds} rounds, {args.models} trials of {args.epochs} epochs per process, "
        f"baseline of `{args.space}`, {args.max_samples} reviews (80% train), length "
        f"{args.maxlen}; {platform.machine()}, {os.cpu_count()} cores, no GPU. "
        "Medians over rounds; ratio = after / before.",
        "",
        "| workers | measure | before | after | ratio |",
        "|---|---|---|---|---|",
    ]
    for n in (1, args.workers):
        for key, label in (
            ("epoch_seconds", "s per epoch (from epoch 2)"),
            ("first_epoch_seconds", "s first epoch"),
            ("trial_seconds", "s per trial (build + fit)"),
            ("epochs_per_second", "epochs per second, all workers"),
        ):
            b, a = med(key, f"{n}/before"), med(key, f"{n}/after")
            lines.append(f"| {n} | {label} | {b:.3f} | {a:.3f} | **{a / b:.3f}** |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
