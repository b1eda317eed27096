"""The ``ngrams`` space over token positions against the dense rows it computed before.

Before commit 3c5db32 ``spaces/ngrams.py`` built each text's row of every word and pair column
(``CategoryEncoding``, then the weighting and the unit length over the whole row, then one
``Dense``); its time per epoch followed the row's width, 3 x (words + pairs) for ``all``. It now
computes the same linear model over the text's positions (``build_model``'s docstring): the same
function of the same weights (``tests/builtin_spaces/test_ngrams.py``), dropout on occurrences
instead of columns, its kernel started at zeros instead of Glorot's small uniform values.

This trains both, side by side in one process, on the split and the knobs of
``benchmarks/weightings.py``'s IMDB row (validation carved from ``train.csv``; test data never
read), for the weightings and pair counts the search draws, and prints each one's seconds per
epoch, the ratio (dense over positions) and each one's best validation accuracy (EarlyStopping on
validation accuracy, patience 3, at most 30 epochs, seed 1). Both run with the same threads.

    python benchmarks/positions.py           # about 6 minutes on one core
    python benchmarks/positions.py --smoke   # seconds: the harness works (CI)

Results go to ``benchmarks/results/positions.json`` and ``positions.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"
sys.path.insert(0, str(REPO / "benchmarks"))

SETTINGS = [("tfidf", 0), ("tfidf", 20000), ("nb", 100000), ("all", 20000), ("all", 100000)]
"""(weighting, pairs): the dense cost grows with the pairs and triples with ``all``."""


def dense_model(params: dict[str, Any], data: Any) -> Any:
    """The space's model as it was built before, for this comparison only: one dense row of
    columns per text, weighted and scaled to unit length per block, into a ``Dense`` layer."""
    import keras
    from keras import ops

    from hpsearch.builtin_spaces.ngrams import WEIGHTINGS, column_weights, frequent_pairs
    from hpsearch.builtin_spaces.ngrams import pair_keys as keys

    units, activation = (1, "sigmoid") if data.num_classes == 2 else (data.num_classes, "softmax")
    words = data.vocab_size
    tokens = keras.Input(shape=(data.maxlen,), dtype="int32")
    x_train = np.asarray(data.x_train)
    columns = [keras.layers.CategoryEncoding(words, output_mode="count")(tokens)]
    train_columns = [(x_train, words)]
    if params["pairs"]:
        known = frequent_pairs(x_train, words, params["pairs"])
        lookup = keras.layers.IntegerLookup(
            vocabulary=known, num_oov_indices=1, mask_token=None, output_mode="int"
        )
        size = len(known) + 1
        ids = lookup(keys(tokens, words, ops))
        columns.append(keras.layers.CategoryEncoding(size, output_mode="count")(ids)[:, 1:])
        train_keys = keys(x_train, words, np)
        at = np.minimum(np.searchsorted(known, train_keys), max(len(known) - 1, 0))
        hit = (train_keys > 0) & (known[at] == train_keys)
        train_columns.append((np.where(hit, at + 1, 0), size))
    counts = keras.layers.Concatenate()(columns) if len(columns) > 1 else columns[0]
    blocks = []
    for kind in WEIGHTINGS[:3] if params["weighting"] == "all" else (params["weighting"],):
        if kind == "binary":
            features = ops.where(counts > 0, 1.0, 0.0)
        else:
            weights = [column_weights(c, data.y_train, n, kind == "nb") for c, n in train_columns]
            scale = np.concatenate([weights[0], *(w[1:] for w in weights[1:])])
            variance = np.where(scale > 0, 1.0 / np.maximum(scale, 1e-15) ** 2, 1e30)
            tf = ops.where(counts > 0, 1.0 + ops.log(ops.maximum(counts, 1.0)), 0.0)
            features = keras.layers.Normalization(mean=np.zeros_like(scale), variance=variance)(tf)
        norm = ops.sqrt(ops.maximum(ops.sum(features * features, axis=1, keepdims=True), 1e-12))
        blocks.append(features / norm)
    x = keras.layers.Concatenate()(blocks) if len(blocks) > 1 else blocks[0]
    x = keras.layers.Dropout(params["dropout"])(x)
    l2 = keras.regularizers.L2(params["l2"])
    out = keras.layers.Dense(units, activation=activation, kernel_regularizer=l2)(x)
    return keras.Model(tokens, out)


def train(model: Any, params: dict[str, Any], data: Any, max_epochs: int) -> dict[str, float]:
    """Fit with EarlyStopping; the best validation accuracy and the median epoch's seconds
    (the first epoch, which traces the graph, left out when there are others)."""
    import keras

    from hpsearch.portable.training import compile_model

    compile_model(model, params, "val_accuracy")
    times: list[float] = []

    class Clock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self.began = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            times.append(time.perf_counter() - self.began)

    stop = keras.callbacks.EarlyStopping("val_accuracy", patience=3, mode="max")
    history = model.fit(
        data.x_train,
        data.y_train,
        batch_size=params["batch_size"],
        epochs=max_epochs,
        validation_data=(data.x_val, data.y_val),
        verbose=0,
        callbacks=[Clock(), stop],
    )
    return {
        "seconds_per_epoch": statistics.median(times[1:] or times),
        "epochs": len(times),
        "val_accuracy": max(history.history["val_accuracy"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="seconds-scale: the harness works")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    from weightings import IMDB_PICK, split_data

    from hpsearch.builtin_spaces import ngrams
    from hpsearch.engine.quiet import quiet_tensorflow
    from hpsearch.engine.threads import cores, use_threads
    from hpsearch.portable.training import seed_everything

    use_threads()
    quiet_tensorflow()
    data = split_data("benchmarks/studies/imdb-ngrams.toml", 1, args.smoke)
    base = {**ngrams.BASELINE, "num_words": data.vocab_size, "maxlen": data.maxlen, **IMDB_PICK}
    at = data.restrict(base["num_words"], base["maxlen"])
    rows = []
    for weighting, pairs in SETTINGS[-1:] if args.smoke else SETTINGS:
        params = {**base, "weighting": weighting, "pairs": pairs}
        row: dict[str, Any] = {"weighting": weighting, "pairs": pairs}
        for name, build in (("dense", dense_model), ("positions", ngrams.build_model)):
            seed_everything(1)
            row[name] = train(build(params, at), params, at, 2 if args.smoke else 30)
        row["ratio"] = row["dense"]["seconds_per_epoch"] / row["positions"]["seconds_per_epoch"]
        print(json.dumps(row), flush=True)
        rows.append(row)
    machine = f"{platform.machine()}, {cores()} of {os.cpu_count()} cores, no GPU"
    lines = [
        f"IMDB sample, split seed 1, {at.vocab_size} words, {at.maxlen} tokens, batch "
        f"{base['batch_size']}; {machine}.",
        "",
        "| weighting | pairs | dense s/epoch | positions s/epoch | dense / positions "
        "| dense val acc | positions val acc |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        d, p = r["dense"], r["positions"]
        lines.append(
            f"| {r['weighting']} | {r['pairs']:,} | {d['seconds_per_epoch']:.2f} | "
            f"{p['seconds_per_epoch']:.2f} | {r['ratio']:.1f} | {d['val_accuracy']:.4f} | "
            f"{p['val_accuracy']:.4f} |"
        )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "positions.json").write_text(
        json.dumps({"machine": machine, "rows": rows}, indent=1) + "\n"
    )
    (args.out / "positions.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
