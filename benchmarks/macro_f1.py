"""What optimizing macro F1 costs: per-epoch time with and without the MacroF1 metric.

A study whose objective is ``val_macro_f1`` compiles :class:`hpsearch.portable.training.MacroF1`
beside accuracy (see ``compile_model``); every other study does not. This trains the same model
(the ``bag_of_words`` space's BASELINE on the 4-class ratings sample, or the synthetic data with
--smoke or without the sample) both ways, side by side in one process, alternating which goes
first, and prints the ratio of median epoch times (epochs after the first, which includes tracing).
The same engine ``build()``/``fit()`` and inference-mode callback as a trial.

    python benchmarks/macro_f1.py            # docs/studies.md numbers (a few minutes on 2 cores)
    python benchmarks/macro_f1.py --smoke    # seconds: the harness works

Results: ``benchmarks/results/macro_f1.json`` and ``macro_f1.md``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
RATINGS = REPO.parent / "shared" / "data" / "imdb-ratings" / "train.csv"


def measure(rounds: int, epochs: int, smoke: bool) -> dict[str, Any]:
    from hpsearch.engine.quiet import quiet_tensorflow

    quiet_tensorflow()
    import keras

    from hpsearch.config import BudgetConfig, DatasetConfig, EarlyStoppingConfig, StudyConfig
    from hpsearch.data import load_dataset
    from hpsearch.engine.spaces import load_space
    from hpsearch.engine.trial import build, settings_for
    from hpsearch.portable.training import fit, train_eval

    if smoke or not RATINGS.is_file():
        dataset = DatasetConfig(kind="synthetic", samples=200, num_words=1000, maxlen=50)
    else:
        dataset = DatasetConfig(kind="csv", path=str(RATINGS))
    cfg = StudyConfig(
        name="macro-f1",
        space="bag_of_words",
        dataset=dataset,
        budget=BudgetConfig(n_trials=1, max_epochs=epochs),
        early_stopping=EarlyStoppingConfig(patience=epochs),
    )
    data = load_dataset(cfg.dataset, seed=0)
    space = load_space(cfg.space)
    settings = settings_for(cfg)

    class Clock(keras.callbacks.Callback):
        def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
            self.marks = [time.perf_counter()]

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            self.marks.append(time.perf_counter())

    times: dict[str, list[float]] = {"accuracy": [], "accuracy + macro F1": []}
    monitors = {"accuracy": "val_accuracy", "accuracy + macro F1": "val_macro_f1"}
    for r in range(rounds):
        order = list(times) if r % 2 == 0 else list(reversed(times))
        for label in order:
            model = build(space.baseline, space, data, seed=r, monitor=monitors[label])
            clock = Clock()
            fit(model, space.baseline, data, settings, [train_eval(data, 0), clock])
            marks = clock.marks
            times[label] += [b - a for a, b in itertools.pairwise(marks[1:])]
    medians = {k: statistics.median(v) for k, v in times.items()}
    return {
        "data": data.description,
        "classes": data.num_classes,
        "rounds": rounds,
        "epochs": epochs,
        "median_epoch_seconds": medians,
        "ratio": medians["accuracy + macro F1"] / medians["accuracy"],
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}, "
        f"{__import__('os').cpu_count()} cores",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny data, one round")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results"))
    args = parser.parse_args()
    result = measure(1 if args.smoke else 4, 3 if args.smoke else 6, args.smoke)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "macro_f1.json").write_text(json.dumps(result, indent=1) + "\n")
    m = result["median_epoch_seconds"]
    text = (
        f"# Macro F1's cost per epoch\n\n{result['data']}, {result['classes']} classes, "
        f"bag_of_words BASELINE, {result['rounds']} rounds x {result['epochs']} epochs "
        f"(first epoch of each left out), {result['machine']}.\n\n"
        "| metrics compiled | median epoch (s) |\n|---|---|\n"
        + "".join(f"| {k} | {v:.3f} |\n" for k, v in m.items())
        + f"\nratio: **{result['ratio']:.3f}**\n"
    )
    (out / "macro_f1.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
