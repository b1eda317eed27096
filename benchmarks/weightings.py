"""The ``ngrams`` space's weightings side by side: each alone, the three averaged, and ``all``.

Why ``all`` exists (``spaces/ngrams.py``): the finalists of an IMDB search were near copies
(TF-IDF, about 13k words, 20k pairs), so averaging them (``export --ensemble 3``) added little,
while models that weigh the same columns differently make different errors. Averaging three
linear models is one linear model over their columns side by side; ``all`` trains that model.

For each task this trains, on the split its shipped study uses (validation carved from
``train.csv`` with the study's seed; test data is never read), one setting of the other knobs
with each weighting (seed 1, EarlyStopping on validation accuracy with patience 3, the best
epoch's weights restored), and reports each model's validation accuracy, the accuracy of the
three single weightings' probabilities averaged, and ``all``'s:

    python benchmarks/weightings.py            # four splits, about 10 minutes on one core
    python benchmarks/weightings.py --smoke    # seconds: the harness works (CI)

Results go to ``benchmarks/results/weightings.json`` and ``weightings.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from hpsearch.builtin_spaces.ngrams import WEIGHTINGS

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"
sys.path.insert(0, str(REPO / "benchmarks"))

IMDB_PICK = {  # the pick of the IMDB README-path run (readme_path.json, imdb-ngrams/s1)
    "batch_size": 64,
    "dropout": 0.2419,
    "l2": 3.37e-06,
    "learning_rate": 0.0216,
    "maxlen": 642,
    "num_words": 13480,
    "pairs": 20000,
}
RATINGS_PICK = {  # the pick of the four-class README-path run (imdb-ratings/s11)
    "batch_size": 64,
    "dropout": 0.434,
    "l2": 1.416e-07,
    "learning_rate": 0.003686,
    "maxlen": 278,
    "num_words": 10446,
    "pairs": 20000,
}
SHORT = {"batch_size": 32, "dropout": 0.3, "l2": 1e-6, "learning_rate": 0.01, "pairs": 50000}
"""Short sentences: every word, the longest length, 50,000 pairs, moderate dropout."""

SPLITS: list[tuple[str, str, int, dict[str, Any]]] = [
    ("imdb", "benchmarks/studies/imdb-ngrams.toml", 1, IMDB_PICK),
    ("imdb-ratings", "studies/imdb-ratings.toml", 11, RATINGS_PICK),
    ("sst2", "studies/sst2.toml", 7, SHORT),
    ("sst2", "studies/sst2.toml", 5, SHORT),
]
"""(task, study file, split seed, the other knobs). Each study is read with space ``ngrams``."""


def split_data(study: str, seed: int, smoke: bool) -> Any:
    """The study's data at its largest setting, validation carved with ``seed``."""
    from readme_path import study_copy

    from hpsearch.config.studyfile import load_study_file
    from hpsearch.engine.runner import prepare

    with tempfile.TemporaryDirectory() as tmp:
        copy = study_copy(REPO / study, Path(tmp), "weightings", seed)
        cfg = load_study_file(copy).replace(space="ngrams", storage=f"sqlite:///{tmp}/s.db")
        if smoke:
            dataset = dataclasses.replace(cfg.dataset, max_samples=400)
            cfg = cfg.replace(dataset=dataset)
        return prepare(cfg).data


def train(params: dict[str, Any], data: Any, max_epochs: int) -> tuple[float, np.ndarray]:
    """One model: its best validation accuracy and its validation probabilities."""
    import keras

    from hpsearch.builtin_spaces import ngrams
    from hpsearch.portable.training import compile_model, seed_everything

    seed_everything(1)
    model = compile_model(ngrams.build_model(params, data), params, "val_accuracy")
    stop = keras.callbacks.EarlyStopping(
        "val_accuracy", patience=3, mode="max", restore_best_weights=True
    )
    history = model.fit(
        data.x_train,
        data.y_train,
        batch_size=params["batch_size"],
        epochs=max_epochs,
        validation_data=(data.x_val, data.y_val),
        verbose=0,
        callbacks=[stop],
    )
    return max(history.history["val_accuracy"]), model.predict(data.x_val, verbose=0)


def accuracy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    if probabilities.shape[1] == 1:
        return float(((probabilities[:, 0] > 0.5) == labels.reshape(-1)).mean())
    return float((probabilities.argmax(axis=1) == labels.reshape(-1)).mean())


def one_split(study: str, seed: int, knobs: dict[str, Any], smoke: bool) -> dict[str, Any]:
    from hpsearch.builtin_spaces import ngrams

    data = split_data(study, seed, smoke)
    base = {**ngrams.BASELINE, "num_words": data.vocab_size, "maxlen": data.maxlen, **knobs}
    at = data.restrict(base["num_words"], base["maxlen"])
    scores: dict[str, float] = {}
    probabilities: dict[str, np.ndarray] = {}
    for weighting in WEIGHTINGS:
        began = time.time()
        scores[weighting], probabilities[weighting] = train(
            {**base, "weighting": weighting}, at, 2 if smoke else 30
        )
        print(f"  {weighting}: {scores[weighting]:.4f} ({time.time() - began:.0f} s)", flush=True)
    three = np.mean([probabilities[w] for w in WEIGHTINGS[:3]], axis=0)
    scores["three averaged"] = accuracy(three, np.asarray(at.y_val))
    return {"validation": len(at.y_val), "knobs": knobs, "accuracy": scores}


def table(results: list[dict[str, Any]]) -> str:
    columns = [*WEIGHTINGS[:3], "three averaged", "all"]
    lines = [
        "| task | split seed | validation texts | " + " | ".join(columns) + " |",
        "|---|---|---|" + "---|" * len(columns),
    ]
    for r in results:
        cells = " | ".join(f"{r['accuracy'][c]:.4f}" for c in columns)
        lines.append(f"| {r['task']} | {r['seed']} | {r['validation']} | {cells} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="seconds-scale: the harness works")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    from hpsearch.engine.quiet import quiet_tensorflow
    from hpsearch.engine.threads import cores, use_threads

    use_threads()
    quiet_tensorflow()
    results = []
    for task, study, seed, knobs in SPLITS[-1:] if args.smoke else SPLITS:
        print(f"{task}, split seed {seed}", flush=True)
        results.append({"task": task, "seed": seed, **one_split(study, seed, knobs, args.smoke)})
    args.out.mkdir(parents=True, exist_ok=True)
    machine = f"{platform.machine()}, {cores()} of {os.cpu_count()} cores, no GPU"
    (args.out / "weightings.json").write_text(
        json.dumps({"machine": machine, "results": results}, indent=1) + "\n"
    )
    text = table(results)
    (args.out / "weightings.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
