#!/usr/bin/env python3
"""Train the configuration an hpsearch study chose, without hpsearch.

Standalone: needs only Keras, TensorFlow and NumPy. Two uses:

    python train_best.py           # repeat the trial: same split, seed and threads, so on
                                   # CPU it prints the trial's per-epoch validation numbers
    python train_best.py --refit   # the final model: train on training + validation data
                                   # for the chosen epoch count, test once, save it

It prints validation and test metrics and saves the model as .keras (for text datasets the
model takes raw review strings). CONFIG below says which study, trial and data it came from.

    python train_best.py --help
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

# TensorFlow's thread pools as the trial had them: how sums are split across threads changes
# the last digits of every epoch. Read when TensorFlow starts, so set before it is imported.
THREADS: dict[str, str] = {}  # hpsearch-export: THREADS
os.environ.update(THREADS)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

# hpsearch-export: begin
# Export writes CONFIG, PARAMS, the constants and the carried code (hpsearch.portable.carried(),
# then the space's build_model) in place of these lines, which only let linters and the type
# checker read this template.
from hpsearch.portable.data import (  # noqa: E402
    DEFAULT_STANDARDIZE,
    check_data_digest,
    check_data_file,
    counted,
    imdb_arrays,
    raw_text_model,
    read_csv,
    read_folder,
    restrict_arrays,
    synthetic_arrays,
    synthetic_vocab_size,
    vectorize_reviews,
)
from hpsearch.portable.scores import confusion_matrix, confusion_table, macro_f1_of  # noqa: E402
from hpsearch.portable.training import (  # noqa: E402
    compile_model,
    early_stopping,
    fit,
    scoring,
    seed_everything,
)

CONFIG: dict[str, Any] = {}
PARAMS: dict[str, Any] = {}


def build_model(params: dict[str, Any], data: Any) -> Any:
    raise NotImplementedError


# hpsearch-export: end


class DataError(Exception):
    """The dataset cannot be read or does not have the expected shape."""


class PrintEpoch(keras.callbacks.Callback):
    """Prints every epoch's metrics at full precision (compare with the study's store)."""

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        shown = " ".join(f"{k}={float(v)!r}" for k, v in sorted((logs or {}).items()))
        print(f"epoch {epoch + 1}: {shown}", flush=True)


def load_data(
    data_path: str | None,
    test_path: str | None,
    setting: dict[str, int] | None = None,
    accept: bool = False,
) -> SimpleNamespace:
    """The study's dataset, split with the study's seed (see CONFIG["dataset"]), cut to a
    trial's vocabulary size and length (``setting``, default the trial's own). Its files must
    be the ones the study was created on (CONFIG["data_sha256"]), unless ``accept``."""
    d, seed = CONFIG["dataset"], CONFIG["study_seed"]
    digests = CONFIG.get("data_sha256") or {}
    common = (d["maxlen"], d["validation_split"])
    if d["kind"] == "synthetic":
        arrays = synthetic_arrays(d["samples"], d["test_samples"], d["num_words"], *common, seed)
        vocab_size = synthetic_vocab_size(d["num_words"])
    elif d["kind"] == "imdb":
        path = data_path or d.get("path") or "imdb.npz"
        check_data_digest(Path(path), digests.get("train"), CONFIG["study"], accept)
        arrays = imdb_arrays(path, d["num_words"], *common, d.get("max_samples"), seed)
        vocab_size = d["num_words"]
    else:
        root = Path(data_path or d["path"])
        if d["kind"] == "csv":
            check_data_file(root)  # before the digest: a folder would only "differ"
            check_data_digest(root, digests.get("train"), CONFIG["study"], accept)
            train = read_csv(root, d["text_column"], d["label_column"])
            test_file = test_path or d.get("test_path")
            columns = (d["text_column"], d["label_column"])
            if test_file:
                check_data_file(Path(test_file))
                check_data_digest(Path(test_file), digests.get("test"), CONFIG["study"], accept)
            test = read_csv(Path(test_file), *columns, train[2]) if test_file else None
        else:
            check_data_digest(root / "train", digests.get("train"), CONFIG["study"], accept)
            check_data_digest(root / "test", digests.get("test"), CONFIG["study"], accept)
            train = read_folder(root / "train")
            test = read_folder(root / "test", train[2]) if (root / "test").is_dir() else None
        arrays = vectorize_reviews(train, test, d["num_words"], *common, d.get("max_samples"), seed,
                                   d.get("standardize", DEFAULT_STANDARDIZE))
        vocab_size = len(arrays["vocabulary"])
    # The trial's own vocabulary size and length, cut from the arrays vectorized above.
    s = setting or CONFIG["setting"]
    vocab_size = min(s["num_words"], vocab_size)
    arrays = restrict_arrays(arrays, vocab_size, s["maxlen"], s["oov"])
    vocabulary = arrays.get("vocabulary")
    classes = [str(c) for c in arrays.get("classes", ["0", "1"])]
    if CONFIG["classes"] is not None and classes != CONFIG["classes"]:
        raise DataError(f"the data holds classes {classes}; the study had {CONFIG['classes']}")
    return SimpleNamespace(
        x_train=arrays["x_train"], y_train=arrays["y_train"],
        x_val=arrays["x_val"], y_val=arrays["y_val"],
        x_test=arrays.get("x_test"), y_test=arrays.get("y_test"),
        vocab_size=vocab_size, maxlen=s["maxlen"],
        vocabulary=None if vocabulary is None else [str(w) for w in vocabulary],
        classes=classes, num_classes=len(classes),
        standardize=d.get("standardize", DEFAULT_STANDARDIZE),
    )


def show(name: str, result: dict[str, float]) -> None:
    keys = ["loss", "accuracy"] + sorted(set(result) - {"loss", "accuracy"})
    print(f"{name}: " + " ".join(f"{k}={float(result[k])!r}" for k in keys if k in result))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=f"Train trial {CONFIG['trial']} of study {CONFIG['study']!r} "
        f"(space {CONFIG['space']}) without hpsearch."
    )
    parser.add_argument("--epochs", type=int, default=CONFIG["training"]["max_epochs"],
                        help="most epochs to train (early stopping may end sooner)")
    parser.add_argument("--data", help="training data path (CSV, aclImdb folder or imdb.npz)")
    parser.add_argument("--test-data", help="test CSV (csv datasets only)")
    parser.add_argument("--output", default=CONFIG["output"], help="where to save the .keras model")
    parser.add_argument("--accept-changed-data", action="store_true",
                        help="use data that differs from what the study was created on")
    members = [pick_member(), *CONFIG["members"]]
    parser.add_argument(
        "--refit", action="store_true",
        help=f"train on training + validation data for {counted(CONFIG['refit_epochs'], 'epoch')} "
        "(the chosen epoch count) and save that model: the final model"
        + (f" (the average of trials {', '.join(str(m['trial']) for m in members)}, "
           "each refit so)" if len(members) > 1 else ""),
    )
    args = parser.parse_args(argv)
    if args.refit and len(members) > 1:
        return refit_ensemble(members, args)

    data = load_data(args.data, args.test_data, accept=args.accept_changed_data)
    settings = SimpleNamespace(**{**CONFIG["training"], "max_epochs": args.epochs})
    batches = dict(batch_size=256, verbose=0, return_dict=True)
    if args.refit:
        model = refit(members[0], data)
    else:
        seed_everything(CONFIG["trial_seed"])
        model = compile_model(build_model(PARAMS, data), PARAMS, settings.monitor)
        stopper = early_stopping(settings)
        callbacks = [*scoring(settings, data, CONFIG["study_seed"]), PrintEpoch(), stopper]
        fit(model, PARAMS, data, settings, callbacks)
        print(f"best epoch: {stopper.best_epoch + 1}")
        show("validation", model.evaluate(data.x_val, data.y_val, **batches))
    if data.x_test is not None:
        show_estimate(len(members))
        note_test_read(members[0]["trial"], "--refit" if args.refit else "")
        show("test", model.evaluate(data.x_test, data.y_test, **batches))
        probabilities = model.predict(data.x_test, batch_size=256, verbose=0)
        matrix = confusion_matrix(data.y_test, probabilities, data.num_classes)
        print(f"test macro F1: {macro_f1_of(matrix)!r}; confusion matrix:")
        print(confusion_table(tuple(data.classes), matrix.tolist()))
    model = stock(model)
    if data.vocabulary is not None:
        model = raw_text_model(model, data.vocabulary, data.maxlen,
                               standardize=data.standardize)
    save(model, args.output, data.classes, CONFIG["trial"])


def pick_member() -> dict[str, Any]:
    """The chosen trial, as an ensemble member is described in CONFIG["members"]."""
    keys = ("trial", "setting", "trial_seed", "refit_epochs")
    return {**{k: CONFIG[k] for k in keys}, "params": PARAMS}


def refit(member: dict[str, Any], data: SimpleNamespace) -> Any:
    """Train ``member`` on training + validation rows for its chosen epoch count."""
    # The final model is built from all it trains on: a space that derives weights from
    # its training data (the bag of words' TF-IDF) sees the validation rows too.
    data.x_train = np.concatenate([data.x_train, data.x_val])
    data.y_train = np.concatenate([data.y_train, data.y_val])
    params = member["params"]
    seed_everything(member["trial_seed"])
    model = compile_model(build_model(params, data), params, CONFIG["training"]["monitor"])
    print(f"trial {member['trial']}: refit on {len(data.y_train)} reviews (training + "
          f"validation) for {counted(member['refit_epochs'], 'epoch')}")
    model.fit(data.x_train, data.y_train, batch_size=params["batch_size"],
              epochs=member["refit_epochs"], callbacks=[PrintEpoch()], verbose=0)
    return model


def refit_ensemble(members: list[dict[str, Any]], args: argparse.Namespace) -> None:
    """Refit every member, test their averaged probabilities once, save one model that
    takes raw strings and averages the members' outputs."""
    # Each member keeps its own vocabulary size and length, so they meet at the raw string.
    text = keras.Input(shape=(), dtype="string", name="review")
    outputs, probabilities = [], []
    for member in members:
        data = load_data(args.data, args.test_data, member["setting"], args.accept_changed_data)
        model = refit(member, data)
        if data.x_test is not None:
            probabilities.append(model.predict(data.x_test, batch_size=256, verbose=0))
        member_model = raw_text_model(stock(model), data.vocabulary, data.maxlen,
                                      name=f"trial_{member['trial']}",
                                      standardize=data.standardize)
        outputs.append(member_model(text))
    if probabilities:
        show_estimate(len(members))
        note_test_read(members[0]["trial"], "--refit")
        matrix = confusion_matrix(data.y_test, np.mean(probabilities, axis=0), data.num_classes)
        accuracy = float(np.trace(matrix) / np.sum(matrix))
        print(f"test (average of {len(members)} models): accuracy={accuracy!r}")
        print(f"test macro F1: {macro_f1_of(matrix)!r}; confusion matrix:")
        print(confusion_table(tuple(data.classes), matrix.tolist()))
    ensemble = keras.Model(text, keras.layers.Average()(outputs), name="text_ensemble")
    save(ensemble, args.output, data.classes, [m["trial"] for m in members])


def show_estimate(members: int) -> None:
    """What the study estimated for the pick before the test split was read: its mean over
    re-evaluation runs on other validation splits, with its error (the runs' standard error and
    one validation split's binomial error)."""
    est = CONFIG.get("reevaluated")
    if not est or est.get("mean") is None:
        return
    err = est.get("error", est.get("standard_error"))  # the runs' and one split's error
    error = "" if err is None else f" ± {err:.4f}"
    print(f"the study's estimate for trial {CONFIG['trial']}: {CONFIG['training']['monitor']} "
          f"{est['mean']:.4f}{error} over {est['runs']} re-evaluation runs (validation splits "
          "of the training data)" + (f"; the average of {members} models has none of its own"
                                      if members > 1 else ""))


def note_test_read(trial: int, flags: str) -> None:
    """Record this read of the study's test split in its SQLite store, when that file is here
    (hpsearch then knows the split was read: a later `hpsearch evaluate` asks for --again), and
    say when the split was read before: then this test number is not an unbiased estimate."""
    import datetime
    import sqlite3

    command = f"{Path(sys.argv[0]).name} {flags}".strip()
    store = CONFIG.get("store")
    if not store or not Path(store).is_file():
        print(f"note: this test read is not recorded (the study's store {store or '(not SQLite)'} "
              "is not here)")
        return
    try:
        with sqlite3.connect(store, timeout=30) as conn:
            earlier = conn.execute(
                "SELECT COUNT(*) FROM hpsearch_test_reads WHERE study_name = ?", (CONFIG["study"],)
            ).fetchone()[0]
            conn.execute(
                "INSERT INTO hpsearch_test_reads (study_name, trial_number, command, read_at) "
                "VALUES (?, ?, ?, ?)",
                (CONFIG["study"], trial, command, datetime.datetime.now(datetime.UTC)
                 .replace(tzinfo=None).isoformat(sep=" ")),
            )
    except sqlite3.Error as exc:
        print(f"note: this test read is not recorded in {store}: {exc}")
        return
    if earlier:
        print(f"note: the test split of study {CONFIG['study']!r} was read {earlier} time(s) "
              "before: this test number is NOT an unbiased estimate")


def stock(model: Any) -> Any:
    """The model compiled so that stock Keras loads it: the same optimizer and loss, no
    custom metric."""
    if CONFIG["training"]["monitor"].endswith("macro_f1"):
        model.compile(optimizer=model.optimizer, loss=model.loss, metrics=["accuracy"])
    return model


def save(model: Any, output: str, classes: list[str], trial: int | list[int]) -> None:
    model.save(output)
    # The class names, beside the model: its output columns are P(class) in this order (one
    # sigmoid column, P(classes[1]), for two classes).
    names = Path(str(output) + ".classes.json")
    names.write_text(json.dumps({"classes": classes, "study": CONFIG["study"],
                                 "trial": trial}, indent=1) + "\n")
    print(f"saved {output} (class names in {names})")


if __name__ == "__main__":
    # What the script can meet (its data gone or changed, an output it cannot write) is one
    # line on stderr and exit status 2 (bad input) or 1 (a fault of the disk), as in hpsearch.
    try:
        main()
    except DataError as exc:
        print(f"{Path(sys.argv[0]).name}: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except FileNotFoundError as exc:
        print(f"{Path(sys.argv[0]).name}: error: {exc.filename}: no such file; point --data "
              "(or --test-data) at the study's data", file=sys.stderr)
        sys.exit(2)
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"{Path(sys.argv[0]).name}: error: {where}{exc.strerror or exc}", file=sys.stderr)
        sys.exit(1)
