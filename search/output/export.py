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
import hashlib
import importlib
import inspect
import json
import math
import pprint
import re
import textwrap
from collections.abc import Callable
from importlib import resources
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

from hpsearch import portable
from hpsearch.config import KIND_KEYS, KIND_ONLY_KEYS, DatasetConfig, StudyConfig
from hpsearch.engine import setting
from hpsearch.engine.spaces import Space, stored_space
from hpsearch.errors import ConfigError, StorageError
from hpsearch.output.carry import carried
from hpsearch.output.files import check_output
from hpsearch.pick.candidates import below
from hpsearch.pick.evaluate import chosen_params, chosen_trial
from hpsearch.pick.finalists import ranked, summarize
from hpsearch.pick.tradeoff import Candidate, analyse
from hpsearch.store.database import EpochLog, sqlite_path
from hpsearch.store.queries import best_trial, load, stored_config, value_of
from hpsearch.store.runs import Run, RunLog
from hpsearch.store.tags import StudyTags

TEMPLATE = "script_template.py"
"""The script's own code (argument parsing, loading, refit, saving), a real module beside
this one that ruff and mypy read; export fills in the marked lines (see :func:`template`)."""


def template() -> tuple[str, str]:
    """The script template's text before and after the block export fills in (the lines
    between ``# hpsearch-export: begin`` and ``# hpsearch-export: end``)."""
    text = (resources.files("hpsearch.output") / TEMPLATE).read_text(encoding="utf-8")
    before, rest = text.split("# hpsearch-export: begin\n", 1)
    _, after = rest.split("# hpsearch-export: end\n", 1)
    return before, after


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
        "output": model_file(study.study_name, trial.number),
        "versions": {p: _version(p) for p in ("keras", "tensorflow", "optuna", "hpsearch")},
        # Where the --refit's test read is recorded (an SQLite store; None for any other).
        "store": None if (path := sqlite_path(url)) is None else str(path.resolve()),
        # The data the study was created on, by content: the script refuses other data.
        "data_sha256": data_digests(study, vectorized),
    }


def model_file(study: str, trial: int) -> str:
    """The default model file name: letters of any script stay (\\w); path separators,
    spaces, quotes and the like go; a name too long for a file system (255 bytes) is cut and
    keeps a digest of the whole name, so two long names stay two files."""
    name = re.sub(r"[^\w.-]", "_", f"{study}-trial{trial}")
    if len((name + ".keras.classes.json").encode()) > 200:
        digest = hashlib.sha256(study.encode()).hexdigest()[:10]
        cut = name.encode()[:120].decode(errors="ignore")
        name = f"{cut}-{digest}-trial{trial}"
    return name + ".keras"


def data_digests(study: optuna.Study, dataset: DatasetConfig) -> dict[str, str]:
    """The sha256 of the study's training and test data, as it recorded them at creation."""
    from hpsearch.data.fingerprint import sources

    stored = StudyTags.of(study).data_files
    out = {}
    for role, path in zip(("train", "test"), sources(dataset), strict=False):
        entry = stored.get(str(path))
        if entry and entry.get("sha256"):
            out[role] = str(entry["sha256"])
    return out


def stored_runs(study: optuna.Study, trial: optuna.trial.FrozenTrial, url: str) -> list[Run]:
    """The trial's re-evaluation runs (see :mod:`hpsearch.pick.finalists`), read once."""
    store = RunLog(url)
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
    tags = StudyTags.of(study)
    point = Candidate(trial.number, "complete", value_of(trial) or 0.0, 0.0, 0, 0, "", {}, False)
    return summarize(point, runs, tags.gap_measure, tags.objective, tags.validation_size).record()


def prepare_space(study: optuna.Study, cfg: StudyConfig) -> Space:
    """The study's space module (imports Keras), from the origin the study recorded; a source
    changed since is a warning here (export reads, it trains nothing)."""
    return stored_space(study, cfg.space, changed="warn")


def render_script(config: dict[str, Any], build_model: Callable[..., Any]) -> str:
    """The standalone script's text for ``config`` and the space's ``build_model``."""
    before, after = template()
    threads = "THREADS = " + _literal(config.get("threads", {}))
    before = re.sub(r"(?m)^THREADS: .*# hpsearch-export: THREADS$", lambda _: threads, before)
    parts = [
        before,
        "CONFIG = " + _literal({k: v for k, v in config.items() if k != "params"}),
        "",
        "# The chosen hyperparameters.",
        "PARAMS = " + _literal(config["params"]),
        "",
        *(f"{name} = {value!r}" for name, value in portable.CONSTANTS.items()),
        "",
    ]
    engine = portable.carried()
    for fn in engine:
        parts += ["", textwrap.dedent(inspect.getsource(fn)).rstrip(), ""]
    given = script_names("\n".join([*parts, after]), engine)
    parts += ["", "# The space's build_model and what it uses of its module.", ""]
    parts += [carried(build_model, given).text(), ""]
    parts.append(after)
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
    With ``ensemble`` > 1 the script's ``--refit`` also trains up to ``ensemble - 1`` more
    re-evaluated finalists (:func:`ensemble_members`) and saves the average of all of them."""
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
    """Up to ``size - 1`` trials averaged with ``pick``: the other re-evaluated finalists in
    the order they rank (within the gap limit first, then by mean), leaving out any whose mean
    is below the baseline's by more than one standard error (averaging in a chance-level model
    only blurs the others). Fewer when fewer qualify: the README's ``--ensemble 3`` must serve
    any task, and on SST-2 a search left two finalists above the baseline, where refusing
    stopped the path a user follows; the CLI says how many it averages."""
    if size == 1:
        return []
    result = analyse(study, log)
    # A derived (relative) limit only breaks ties for the pick; members follow by mean.
    limit = math.inf if result.relative else result.max_gap
    order = ranked(list(result.finalists), limit, result.maximize, result.floor)
    # Within one standard error of the baseline is within noise of it: averaged in. (On SST-2
    # the baseline and three finalists re-evaluated within 0.3 points of each other.)
    sign = 1.0 if result.maximize else -1.0
    reach = None if result.floor is None else result.floor - sign * result.floor_error
    others = [
        f.number
        for f in order
        if f.number != pick and not below(f.mean or 0.0, reach, result.maximize)
    ]
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
