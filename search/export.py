"""Export a trial as a standalone training script (or its configuration as JSON).

The script needs only Keras, TensorFlow, NumPy and the standard library. Its code is not a
hand-kept template: the model is the space module's own ``build_model``, and the data,
compile and fit steps are the engine's own functions, copied in with
:func:`inspect.getsource`. So the script cannot drift from what the search ran. Values
(params, paths, names) go in only as Python literals checked with :func:`ast.literal_eval`,
never as code.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import json
import pprint
import re
import textwrap
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

from hpsearch import setting
from hpsearch.carry import carried
from hpsearch.config import KIND_KEYS, KIND_ONLY_KEYS, StudyConfig
from hpsearch.errors import ConfigError, StorageError
from hpsearch.evaluate import chosen_params, chosen_trial
from hpsearch.outputs import check_output
from hpsearch.queries import best_trial, load, stored_config, value_of
from hpsearch.selection import Run, Selection, ranked, summarize
from hpsearch.spaces import Space, stored_space
from hpsearch.store import EpochLog
from hpsearch.tags import StudyTags
from hpsearch.tradeoff import Candidate, analyse

_HEADER = '''#!/usr/bin/env python3
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
THREADS = __THREADS__
os.environ.update(THREADS)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

'''

_GLUE = '''

class DataError(Exception):
    """The dataset cannot be read or does not have the expected shape."""


class PrintEpoch(keras.callbacks.Callback):
    """Prints every epoch's metrics at full precision (compare with the study's store)."""

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        shown = " ".join(f"{k}={float(v)!r}" for k, v in sorted((logs or {}).items()))
        print(f"epoch {epoch + 1}: {shown}", flush=True)


def load_data(
    data_path: str | None, test_path: str | None, setting: dict[str, int] | None = None
) -> SimpleNamespace:
    """The study's dataset, split with the study's seed (see CONFIG["dataset"]), cut to a
    trial's vocabulary size and length (``setting``, default the trial's own)."""
    d, seed = CONFIG["dataset"], CONFIG["study_seed"]
    common = (d["maxlen"], d["validation_split"])
    if d["kind"] == "synthetic":
        arrays = synthetic_arrays(d["samples"], d["test_samples"], d["num_words"], *common, seed)
        vocab_size = synthetic_vocab_size(d["num_words"])
    elif d["kind"] == "imdb":
        path = data_path or d.get("path") or "imdb.npz"
        arrays = imdb_arrays(path, d["num_words"], *common, d.get("max_samples"), seed)
        vocab_size = d["num_words"]
    else:
        root = Path(data_path or d["path"])
        if d["kind"] == "csv":
            train = read_csv(root, d["text_column"], d["label_column"])
            test_file = test_path or d.get("test_path")
            columns = (d["text_column"], d["label_column"])
            test = read_csv(Path(test_file), *columns, train[2]) if test_file else None
        else:
            train = read_folder(root / "train")
            test = read_folder(root / "test", train[2]) if (root / "test").is_dir() else None
        arrays = vectorize_reviews(train, test, d["num_words"], *common, d.get("max_samples"), seed)
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
    members = [pick_member(), *CONFIG["members"]]
    parser.add_argument(
        "--refit", action="store_true",
        help=f"train on training + validation data for {CONFIG['refit_epochs']} epochs "
        "(the chosen epoch count) and save that model: the final model"
        + (f" (the average of trials {', '.join(str(m['trial']) for m in members)}, "
           "each refit so)" if len(members) > 1 else ""),
    )
    args = parser.parse_args(argv)
    if args.refit and len(members) > 1:
        return refit_ensemble(members, args)

    data = load_data(args.data, args.test_data)
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
        show("test", model.evaluate(data.x_test, data.y_test, **batches))
        probabilities = model.predict(data.x_test, batch_size=256, verbose=0)
        matrix = confusion_matrix(data.y_test, probabilities, data.num_classes)
        print(f"test macro F1: {macro_f1_of(matrix)!r}; confusion matrix:")
        print(confusion_table(tuple(data.classes), matrix.tolist()))
    model = stock(model)
    if data.vocabulary is not None:
        model = raw_text_model(model, data.vocabulary, data.maxlen)
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
          f"validation) for {member['refit_epochs']} epochs")
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
        data = load_data(args.data, args.test_data, member["setting"])  # text: export checked
        model = refit(member, data)
        if data.x_test is not None:
            probabilities.append(model.predict(data.x_test, batch_size=256, verbose=0))
        member_model = raw_text_model(stock(model), data.vocabulary, data.maxlen,
                                      name=f"trial_{member['trial']}")
        outputs.append(member_model(text))
    if probabilities:
        matrix = confusion_matrix(data.y_test, np.mean(probabilities, axis=0), data.num_classes)
        accuracy = float(np.trace(matrix) / np.sum(matrix))
        print(f"test (average of {len(members)} models): accuracy={accuracy!r}")
        print(f"test macro F1: {macro_f1_of(matrix)!r}; confusion matrix:")
        print(confusion_table(tuple(data.classes), matrix.tolist()))
    ensemble = keras.Model(text, keras.layers.Average()(outputs), name="text_ensemble")
    save(ensemble, args.output, data.classes, [m["trial"] for m in members])


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
                                 "trial": trial}, indent=1) + "\\n")
    print(f"saved {output} (class names in {names})")


if __name__ == "__main__":
    main()
'''


def engine_functions() -> list[Callable[..., Any]]:
    """The engine functions every exported script carries, in dependency order."""
    from hpsearch.data import base, imdb, synthetic, text
    from hpsearch.evaluate import confusion_matrix, confusion_table, macro_f1_of
    from hpsearch.knobs import make_optimizer
    from hpsearch.tradeoff import gaps_of
    from hpsearch.trial import (
        GapPenalty,
        MacroF1,
        TrainEval,
        compile_model,
        early_stopping,
        fit,
        score_key,
        scoring,
        seed_everything,
        train_eval,
    )

    return [
        base.restrict_arrays,
        base.stratified_split,
        base.subsample,
        base.number_of,
        base.class_order,
        base.shown,
        base.listed,
        base.class_labels,
        base.check_split,
        text.read_csv,
        text.read_folder,
        text.fit_vectorizer,
        text.vectorize_reviews,
        text.raw_text_model,
        imdb.read_imdb_npz,
        imdb.imdb_arrays,
        synthetic.generate,
        synthetic.synthetic_vocab_size,
        synthetic.synthetic_arrays,
        make_optimizer,
        seed_everything,
        MacroF1,
        compile_model,
        TrainEval,
        train_eval,
        gaps_of,
        GapPenalty,
        scoring,
        score_key,
        early_stopping,
        fit,
        confusion_matrix,
        macro_f1_of,
        confusion_table,
    ]


def export_config(
    study: optuna.Study, trial: optuna.trial.FrozenTrial, url: str, space: Space | None = None
) -> dict[str, Any]:
    """The JSON-able description of one trial: what the script needs, and provenance."""
    cfg = stored_config(study, url)
    space = space or prepare_space(study, cfg)
    params = chosen_params(space.suggest, trial)
    # The arrays are vectorized at the study's largest setting, then cut to the trial's.
    # Filled: a study file that leaves the size to the tutorial's default has None there.
    vectorized = setting.ceiling(cfg, space).dataset.filled()
    # Only the settings of its kind (a CSV dataset has no synthetic `samples`).
    unused = KIND_ONLY_KEYS - KIND_KEYS[vectorized.kind]
    dataset = {
        k: v for k, v in dataclasses.asdict(vectorized).items() if v is not None and k not in unused
    }
    words, length = setting.of(params)
    ceiling_words, ceiling_length = vectorized.size()
    runs = stored_runs(study, trial, url)
    es = cfg.early_stopping
    return {
        "study": study.study_name,
        "trial": trial.number,
        "value": value_of(trial),
        "metric": cfg.monitor,
        "space": space.name,
        "space_origin": space.origin,
        "space_sha256": space.fingerprint,
        "params": params,
        "dataset": dataset,
        "study_seed": cfg.seed,
        "trial_seed": int(trial.user_attrs["seed"]),
        "classes": StudyTags.of(study).classes,
        "setting": {
            "num_words": ceiling_words if words is None else words,
            "maxlen": ceiling_length if length is None else length,
            "oov": 2 if vectorized.kind == "imdb" else 1,
        },
        "threads": dict(trial.user_attrs.get("threads", {})),
        "refit_epochs": refit_epochs(trial, runs),
        "members": [],
        "reevaluated": reevaluated(study, trial, runs),
        "training": {
            "monitor": cfg.monitor,
            "direction": cfg.objective.resolved_direction(),
            "patience": es.patience,
            "min_delta": es.min_delta,
            "restore_best_weights": es.restore_best_weights,
            "max_epochs": cfg.budget.max_epochs,
            "penalty": [cfg.tradeoff.gap, cfg.tradeoff.limit()] if cfg.tradeoff.penalize else None,
        },
        # Letters of any script stay (\w); path separators, spaces, quotes and the like go.
        "output": re.sub(r"[^\w.-]", "_", f"{study.study_name}-trial{trial.number}") + ".keras",
        "versions": {p: _version(p) for p in ("keras", "tensorflow", "optuna", "hpsearch")},
    }


def stored_runs(study: optuna.Study, trial: optuna.trial.FrozenTrial, url: str) -> list[Run]:
    """The trial's re-evaluation runs (see :mod:`hpsearch.selection`), read once."""
    store = Selection(url)
    try:
        return store.runs(study.study_name).get(trial.number, [])
    finally:
        store.dispose()


def refit_epochs(trial: optuna.trial.FrozenTrial, runs: list[Run]) -> int:
    """How many epochs the final refit trains: the median best epoch of the trial's search
    run and its re-evaluation runs."""
    epochs = sorted([int(trial.user_attrs.get("best_epoch", 1))] + [r.best_epoch for r in runs])
    return max(1, epochs[len(epochs) // 2])


def reevaluated(
    study: optuna.Study, trial: optuna.trial.FrozenTrial, runs: list[Run]
) -> dict[str, Any] | None:
    """The trial's re-evaluated validation numbers (mean, standard error, runs), if any."""
    if not runs:
        return None
    measure = StudyTags.of(study).gap_measure
    point = Candidate(trial.number, "complete", value_of(trial) or 0.0, 0.0, 0, 0, "", {}, False)
    return summarize(point, runs, measure).record()


def prepare_space(study: optuna.Study, cfg: StudyConfig) -> Space:
    """The study's space module (imports Keras), from the origin the study recorded; a source
    changed since is a warning here (export reads, it trains nothing)."""
    return stored_space(study, cfg.space, changed="warn")


def render_script(config: dict[str, Any], build_model: Callable[..., Any]) -> str:
    """The standalone script's text for ``config`` and the space's ``build_model``."""
    from hpsearch.data import base, synthetic, text

    parts = [
        _HEADER.replace("__THREADS__", _literal(config.get("threads", {}))),
        "CONFIG = " + _literal({k: v for k, v in config.items() if k != "params"}),
        "",
        "# The chosen hyperparameters.",
        "PARAMS = " + _literal(config["params"]),
        "",
        f"_SENTIMENT_TOKENS = {synthetic._SENTIMENT_TOKENS!r}",
        f"BINARY_ALIASES = {base.BINARY_ALIASES!r}",
        f"UNLABELLED = {text.UNLABELLED!r}",
        "",
    ]
    engine = engine_functions()
    for fn in engine:
        parts += ["", textwrap.dedent(inspect.getsource(fn)).rstrip(), ""]
    given = script_names("\n".join([*parts, _GLUE]), engine)
    parts += ["", "# The space's build_model and what it uses of its module.", ""]
    parts += [carried(build_model, given).text(), ""]
    parts.append(_GLUE)
    return "\n".join(parts)


def script_names(script: str, engine: list[Callable[..., Any]]) -> dict[str, object]:
    """The top-level names the script defines without the space, each with the object it is
    in this process where that is known (so a space may use them, not redefine them): the
    engine's functions, and whatever the script's own import lines bind."""
    known: dict[str, object] = {fn.__name__: fn for fn in engine}
    names: dict[str, object] = {}
    for node in ast.parse(script).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names[node.name] = known.get(node.name, object())
        elif isinstance(node, ast.Assign):
            names |= {t.id: object() for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                module = importlib.import_module(alias.name if alias.asname else top)
                names[alias.asname or top] = module
        elif isinstance(node, ast.ImportFrom) and node.module:
            source = importlib.import_module(node.module)
            names |= {a.asname or a.name: getattr(source, a.name) for a in node.names}
    return names


def export(
    url: str,
    name: str,
    number: int | None,
    output: Path,
    fmt: str = "script",
    force: bool = False,
    space: Space | None = None,
    ensemble: int = 1,
) -> tuple[Path, dict[str, Any]]:
    """Write trial ``number`` (default: the tradeoff pick, else the best trial) of a study.
    With ``ensemble`` > 1 the script's ``--refit`` also trains the next ``ensemble - 1``
    re-evaluated finalists and saves the average of all of them."""
    if fmt not in ("script", "json"):
        raise ConfigError(f"--format {fmt!r} is unknown; allowed: script, json")
    if isinstance(ensemble, bool) or not isinstance(ensemble, int) or ensemble < 1:
        raise ConfigError(f"--ensemble {ensemble!r} is not a whole number >= 1")
    check_output(output, force=force)
    study = load(url, name)
    cfg = stored_config(study, url)
    if ensemble > 1 and cfg.dataset.kind not in ("csv", "directory"):
        raise ConfigError(
            f"--ensemble needs a text dataset (csv or directory); study {name!r} has "
            f"{cfg.dataset.kind!r}: the members meet at the raw review string"
        )
    log = EpochLog(url)
    try:
        trial = chosen_trial(study, log, number)
        others = ensemble_members(study, log, trial.number, ensemble)
    except StorageError:
        if number is not None or ensemble > 1:
            raise
        best = best_trial(study)  # no pick within the gap limit: fall back to the best
        if best is None or best.state != TrialState.COMPLETE:
            raise StorageError(f"study {name!r} has no completed trial to export") from None
        trial, others = best, []
    finally:
        log.dispose()
    space = space or prepare_space(study, cfg)
    config = export_config(study, trial, url, space)
    keys = ("trial", "params", "setting", "trial_seed", "refit_epochs")
    config["members"] = [
        {k: v for k, v in export_config(study, t, url, space).items() if k in keys} for t in others
    ]
    if fmt == "json":
        text = json.dumps(config, indent=2, sort_keys=True) + "\n"
    else:
        text = render_script(config, space.build_model)
    output.write_text(text, encoding="utf-8")
    if fmt == "script":
        output.chmod(0o755)
    return output, config


def ensemble_members(
    study: optuna.Study, log: EpochLog, pick: int, size: int
) -> list[optuna.trial.FrozenTrial]:
    """The ``size - 1`` trials averaged with ``pick``: the other re-evaluated finalists in the
    order they rank (within the gap limit first, then by mean)."""
    if size == 1:
        return []
    result = analyse(study, log)
    order = ranked(list(result.finalists), result.max_gap, result.maximize)
    others = [f.number for f in order if f.number != pick]
    if len(others) < size - 1:
        raise ConfigError(
            f"--ensemble {size}: study {study.study_name!r} has {len(others) + 1} "
            f"re-evaluated finalists to average; allowed: 1..{len(others) + 1} (more with "
            "[selection] finalists and `hpsearch select`)"
        )
    trials = study.get_trials(deepcopy=False)
    return [trials[n] for n in others[: size - 1]]


def _literal(value: Any) -> str:
    """A Python literal for ``value``; refuses anything that would not read back the same."""
    text = pprint.pformat(value, indent=1, width=96, sort_dicts=True)
    if ast.literal_eval(text) != value:
        raise StorageError(f"cannot write {value!r} as a Python literal")
    return text


def _version(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None
