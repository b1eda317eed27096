"""The Python API: what ``import hpsearch`` gives a notebook. The command line is a thin layer
over the same engine functions.

    import hpsearch

    study = hpsearch.run("studies/quickstart.toml", n_trials=4)   # or a dict, or a StudyConfig
    study.trials()        # TrialSummary records (study.optuna is the optuna.Study itself)
    study.epochs(0)       # EpochRecord rows of trial 0
    study.tradeoff().pick # the tradeoff's pick, chosen on validation data
    study.export("train_best.py")

A space may be a name, a ``.py`` path, a ``package.module``, or a Python object (a module,
a class or a namespace) holding ``suggest``, ``build_model`` and ``BASELINE``, e.g. functions
written in a notebook cell. Every problem raises :class:`hpsearch.HpsearchError` (a
ConfigError, DataError, SpaceError or StorageError) with the same one-line message the CLI
prints; nothing is written before the study file, the space and the data are validated.
"""

from __future__ import annotations

import dataclasses
import os
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hpsearch.config import StudyConfig
from hpsearch.config.studyfile import apply_overrides, load_study_file
from hpsearch.engine.quiet import optuna_quiet
from hpsearch.errors import ConfigError
from hpsearch.records import EpochRecord, TrialSummary

if TYPE_CHECKING:
    import optuna

    from hpsearch.engine.runner import Reporter
    from hpsearch.engine.spaces import Space
    from hpsearch.pick.evaluate import Evaluation
    from hpsearch.pick.tradeoff import Tradeoff

DEFAULT_STORAGE = "sqlite:///hpsearch.db"
OBJECT_PREFIX = "<object "
"""How a study records a space given as a Python object (it lives in one process only)."""
StudySource = str | os.PathLike[str] | Mapping[str, Any] | StudyConfig
"""A study file's path (or a shipped example's name), its TOML-shaped dict, or a config."""


def load_config(source: StudySource, **overrides: Any) -> StudyConfig:
    """A validated :class:`StudyConfig` from a study file, a dict or a config; keyword
    arguments override the file as the CLI flags do (``n_trials``, ``timeout``,
    ``max_epochs``, ``storage``, ``data``, ``maxlen``)."""
    if isinstance(source, StudyConfig):
        cfg = source
    elif isinstance(source, Mapping):
        cfg = StudyConfig.from_dict(dict(source), source="<dict>")
    elif isinstance(source, str | os.PathLike):
        cfg = load_study_file(os.fspath(source))
    else:
        raise ConfigError(
            f"a study of type {type(source).__name__}; allowed: a study file path, a dict "
            "shaped like one, or a StudyConfig"
        )
    known = {"n_trials", "timeout", "max_epochs", "storage", "data", "maxlen"}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ConfigError(f"unknown override {unknown[0]!r}; allowed: {', '.join(sorted(known))}")
    return apply_overrides(cfg, **overrides)


def space_of(obj: Any, name: str | None = None) -> Space:
    """A :class:`~hpsearch.engine.spaces.Space` from a name/path string, or from any object with
    ``suggest``, ``build_model`` and ``BASELINE``: a module, a class, a namespace, or a dict
    of the three."""
    from hpsearch.engine.spaces import checked, load_space

    _setup()  # before a space module's `import keras` starts TensorFlow
    if isinstance(obj, str | os.PathLike):
        return load_space(os.fspath(obj))
    file = getattr(obj, "__file__", None) if isinstance(obj, types.ModuleType) else None
    if file:  # a module with a file: found again from its path by every command and worker
        return checked(name or obj.__name__, obj, str(Path(file).resolve()))
    parts = obj if isinstance(obj, Mapping) else vars(obj) if hasattr(obj, "__dict__") else {}
    default = getattr(parts.get("build_model"), "__module__", None) or type(obj).__name__
    label = str(name or getattr(obj, "__name__", None) or default).replace("__main__", "notebook")
    module = types.ModuleType(label)
    for attr in ("suggest", "build_model", "BASELINE"):
        if attr in parts:
            setattr(module, attr, parts[attr])
    # Functions from a notebook cell live in this process only: the study records where it
    # came from as an object, and its fingerprint from the functions' source when there is one.
    space = checked(label, module, f"{OBJECT_PREFIX}{label}>")
    return dataclasses.replace(space, fingerprint=_source_digest(module))


def _source_digest(module: types.ModuleType) -> str:
    import hashlib
    import inspect

    try:
        text = "".join(inspect.getsource(getattr(module, f)) for f in ("suggest", "build_model"))
    except (OSError, TypeError):
        return ""
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Study:
    """A study in a store: its trials, epochs, tradeoff, test result and export.

    Reading opens the store read-only; ``evaluate`` writes its test result. ``space`` is the
    space object given to :func:`run`, needed to export a study whose space lives only in
    this process (functions from a notebook cell).
    """

    name: str
    storage: str = DEFAULT_STORAGE
    space: Space | None = field(default=None, repr=False)

    @property
    def optuna(self) -> optuna.Study:
        """The study as Optuna loads it (read-only handle on this process's store)."""
        from hpsearch.store.queries import load

        return load(self.storage, self.name)

    def trials(self) -> list[TrialSummary]:
        """Every trial, in number order."""
        return [TrialSummary.of(t) for t in self.optuna.get_trials(deepcopy=False)]

    def best(self) -> TrialSummary | None:
        """The best completed trial by the objective (not the tradeoff's pick)."""
        from hpsearch.store.queries import best_trial

        t = best_trial(self.optuna)
        return None if t is None else TrialSummary.of(t)

    def epochs(self, trial: int | None = None) -> list[EpochRecord]:
        """Every stored epoch of the study (or of one trial), by trial then epoch."""
        from hpsearch.pick.evaluate import check_number
        from hpsearch.store.database import Store

        trials = self.optuna.get_trials(deepcopy=False)  # a deleted study says so here
        if trial is not None:
            _trial_arg(trial)
            check_number(self.name, trial, len(trials))
        rows = Store.open(self.storage).epochs.history(self.name, trial)
        return [EpochRecord.of(r) for r in rows]

    def tradeoff(
        self, gap: str | None = None, max_gap: float | None = None, include_pruned: bool = False
    ) -> Tradeoff:
        """Accuracy against the train/validation gap: the Pareto front, the finalists'
        re-evaluated numbers and the pick, all on validation data. ``gap`` ("accuracy" or
        "loss") and ``max_gap`` default to the study file's ``[tradeoff]``, as in
        ``hpsearch tradeoff --gap/--max-gap``."""
        from hpsearch.pick.tradeoff import analyse
        from hpsearch.store.database import Store

        if max_gap is not None:
            if isinstance(max_gap, bool) or not isinstance(max_gap, int | float):
                raise ConfigError(f"max_gap = {max_gap!r} is not a number; allowed: a float >= 0")
            try:
                max_gap = float(max_gap)
            except OverflowError:  # an int beyond any float
                raise ConfigError(
                    f"max_gap = {max_gap!r} is out of range; allowed: a float >= 0 (inf: none)"
                ) from None
        if gap is not None and (not isinstance(gap, str) or not gap.strip()):
            raise ConfigError(f"gap = {gap!r} is not a gap measure; allowed: accuracy, loss")
        _flag("include_pruned", include_pruned)
        return analyse(
            self.optuna,
            Store.open(self.storage).epochs,
            gap=gap,
            max_gap=max_gap,
            include_pruned=include_pruned,
        )

    def delete(self) -> dict[str, int]:
        """Delete the study from its store, with every row hpsearch keeps for it (as
        ``hpsearch delete``); returns the rows deleted per table. The handle then says, on
        every call, that there is no such study."""
        from hpsearch import commands

        return commands.delete(self.storage, self.name)

    def evaluate(
        self, trial: int | None = None, again: bool = False, accept_changed_data: bool = False
    ) -> Evaluation:
        """Retrain ``trial`` (default: the pick) and measure the test split, once per study:
        a second read raises ConfigError unless ``again`` (then recorded, and
        ``Evaluation.unbiased`` is False, as every report says)."""
        from hpsearch.pick.evaluate import evaluate

        if trial is not None:
            _trial_arg(trial)
        _flag("again", again)
        _flag("accept_changed_data", accept_changed_data)
        _setup()
        with optuna_quiet():
            return evaluate(
                self.storage,
                self.name,
                trial,
                space=self.space,
                again=again,
                accept_changed_data=accept_changed_data,
            )

    def export(
        self,
        path: str | os.PathLike[str] = "train_best.py",
        trial: int | None = None,
        fmt: str = "script",
        force: bool = False,
        ensemble: int = 1,
    ) -> Path:
        """Write ``trial`` (default: the pick) as a standalone training script, or its
        configuration as JSON (``fmt="json"``); returns the path written. ``ensemble``: at
        most how many re-evaluated finalists the script's ``--refit`` trains and averages (fewer
        when fewer reach the baseline)."""
        from hpsearch.output.export import export

        if trial is not None:
            _trial_arg(trial)
        if not isinstance(path, str | os.PathLike) or not str(path):
            raise ConfigError(f"path = {path!r} is not a file path; allowed: a str or Path")
        _flag("force", force)
        with optuna_quiet():
            written, _ = export(
                self.storage,
                self.name,
                trial,
                Path(path),
                fmt=fmt,
                force=force,
                space=self.space,
                ensemble=ensemble,
            )
        return written


def _flag(name: str, value: Any) -> None:
    """A yes/no argument must be a bool: ``"no"`` is a non-empty string, so true."""
    if not isinstance(value, bool):
        raise ConfigError(f"{name} = {value!r} is not a bool; allowed: True or False")


def _reporter_arg(reporter: Any) -> None:
    """A reporter has the four methods the runner calls (before anything is written)."""
    missing = [
        m
        for m in ("start", "epoch", "trial_done", "stop")
        if not callable(getattr(reporter, m, None))
    ]
    if reporter is not None and missing:
        raise ConfigError(
            f"reporter = {reporter!r} lacks {', '.join(missing)}; allowed: None, or an object "
            "with start/epoch/trial_done/stop (hpsearch.output.progress.RichReporter, say)"
        )


def _trial_arg(trial: Any) -> None:
    if not isinstance(trial, int) or isinstance(trial, bool):
        raise ConfigError(
            f"trial = {trial!r} is not a trial number; allowed: an int, or None for the pick"
        )


def open_study(name: str, storage: str = DEFAULT_STORAGE, space: Any = None) -> Study:
    """A stored study by name (an unknown name raises StorageError listing the known ones).
    ``space``: the object a study was run with, when its space lived in a notebook cell."""
    from hpsearch.store.queries import load

    load(storage, name)
    return Study(name, storage, None if space is None else space_of(space))


def run(
    study: StudySource,
    *,
    space: Any = None,
    reporter: Reporter | None = None,
    select: bool = True,
    accept_changed_data: bool = False,
    **overrides: Any,
) -> Study:
    """Create or resume a study and run the rest of its budget, then (``select``) re-evaluate
    its finalists as ``[selection]`` says, exactly as ``hpsearch run`` does.

    ``space`` replaces the study file's ``space``: a name, a path, or an object holding
    ``suggest``/``build_model``/``BASELINE``. ``reporter`` receives progress (see
    :class:`hpsearch.engine.runner.Reporter`; silent by default).
    """
    _flag("select", select)
    _flag("accept_changed_data", accept_changed_data)
    _reporter_arg(reporter)
    chosen = None
    if space is not None:
        chosen = space_of(space)
        if isinstance(study, Mapping) and "space" not in study:
            study = {**study, "space": chosen.origin}
    cfg = load_config(study, **overrides)
    if chosen is not None:
        cfg = cfg.replace(space=chosen.origin)
    _setup()  # before the runner's imports start TensorFlow
    from hpsearch import commands

    with optuna_quiet():
        commands.run(
            cfg,
            space=chosen,
            reporter=reporter,
            select=select,
            accept_changed_data=accept_changed_data,
        )
    return Study(cfg.name, cfg.storage, chosen)


def list_spaces() -> list[str]:
    """The names of the spaces found here (``spaces/`` folders, HPSEARCH_SPACES_PATH) and
    shipped with hpsearch."""
    from hpsearch.engine.spaces import available_spaces

    return available_spaces()


def _setup() -> None:
    """What the CLI sets up before TensorFlow starts: thread pools sized for this machine
    (trials record them, exports reproduce them) and TensorFlow's start-up chatter off."""
    from hpsearch.engine.devices import use_memory_growth
    from hpsearch.engine.quiet import quiet_tensorflow
    from hpsearch.engine.threads import use_threads

    use_threads()
    use_memory_growth()
    quiet_tensorflow()


__all__ = [
    "DEFAULT_STORAGE",
    "OBJECT_PREFIX",
    "Study",
    "StudySource",
    "list_spaces",
    "load_config",
    "open_study",
    "run",
    "space_of",
]
