"""Finding, checking and describing search-space modules.

A space is a plain module with ``suggest(trial) -> dict``, ``build_model(params, data)``
and ``BASELINE``. :func:`load_space` finds one by name (beside the study file, in a
``spaces/`` folder, or among the spaces shipped in ``hpsearch.builtin_spaces``; a file is
loaded by its path, so no folder shadows or is shadowed by PyPI's ``spaces`` distribution),
by a ``.py`` file path, or by a ``package.module`` import path.

Every loaded space knows its **origin** (the absolute path of its file, or the module name it
is imported by: ``hpsearch.builtin_spaces.NAME`` for a shipped one) and its **fingerprint**
(sha256 of its source). A study records both when it is created; :func:`stored_space` loads a
study's space from that origin, from any folder, and reports a source that has changed since.

Everything else about a space is derived from those three names: :func:`describe` runs
``suggest`` against real Optuna trials to list parameters and ranges, and
:class:`RangedTrial` applies a study file's ``[ranges]`` by narrowing what ``suggest`` asks.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import re
import sys
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from hpsearch.config import RangeOverride
from hpsearch.config.shipped import BUILTIN_SPACES, SPACES_PACKAGE
from hpsearch.errors import ConfigError, HpsearchWarning, SpaceError
from hpsearch.store.tags import FINGERPRINT, ORIGIN

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

ORIGIN_ATTR = ORIGIN
"""Study user attr: where the study's space was loaded from (an absolute path or a module)."""
FINGERPRINT_ATTR = FINGERPRINT
"""Study user attr: sha256 of the space's source when the study was created."""


@dataclass(frozen=True)
class Space:
    """A loaded space module and the three names the engine uses."""

    name: str
    module: ModuleType
    suggest: Callable[[Any], dict[str, Any]]
    build_model: Callable[[dict[str, Any], Any], Any]
    baseline: dict[str, Any]
    origin: str = ""  # the absolute path of its file, or the module name it is imported by
    fingerprint: str = ""  # sha256 of its source file ("" when it has none)


@dataclass(frozen=True)
class ParamInfo:
    """One parameter as ``suggest`` declares it."""

    name: str
    distribution: BaseDistribution
    conditional: bool
    baseline: Any

    def range_text(self) -> str:
        d = self.distribution
        if isinstance(d, CategoricalDistribution):
            return "{" + ", ".join(repr(c) for c in d.choices) + "}"
        if isinstance(d, FloatDistribution | IntDistribution):
            text = f"[{d.low:g}, {d.high:g}]"
            if d.log:
                text += " log"
            if d.step not in (None, 1):
                text += f" step {d.step:g}"
            return text
        return repr(d)


def search_dirs(extra: Sequence[Path] = ()) -> list[Path]:
    """Folders searched for a space given by bare name, first match wins."""
    dirs = [Path(p) for p in os.environ.get("HPSEARCH_SPACES_PATH", "").split(os.pathsep) if p]
    dirs += [*extra, Path.cwd() / "spaces", BUILTIN_SPACES]
    seen: list[Path] = []
    for d in dirs:
        if d.resolve() not in seen and d.is_dir():
            seen.append(d.resolve())
    return seen


def available_spaces(extra: Sequence[Path] = ()) -> list[str]:
    """Names of the space modules in the search folders."""
    names = {
        p.stem for d in search_dirs(extra) for p in d.glob("*.py") if not p.stem.startswith("_")
    }
    return sorted(names)


def study_folder(study_file: str) -> Path | None:
    """The folder of a study file (None for a config that came from a store)."""
    return Path(study_file).resolve().parent if study_file.endswith(".toml") else None


def beside(folder: Path | None) -> list[Path]:
    """The ``spaces/`` folders beside a study file's folder: in it, and next to it
    (``studies/x.toml`` with ``spaces/``); searched for a space given by bare name."""
    return [] if folder is None else [folder / "spaces", folder.parent / "spaces"]


def load_space(ref: str, extra: Sequence[Path] = (), study_dir: Path | None = None) -> Space:
    """Load a space by name, ``.py`` path, or ``package.module``; check its contract.

    ``study_dir`` is the study file's folder: a bare name is looked for there first (a
    ``NAME.py`` beside the study file), then in ``extra`` (:func:`beside`) and the other
    :func:`search_dirs`; a relative path not found from the working directory is looked for
    there too.
    """
    if ref.endswith(".py") or "/" in ref or os.sep in ref:
        return _from_file(ref, _find_file(ref, [] if study_dir is None else [study_dir]))
    if _NAME.match(ref):
        dirs = [study_dir] if study_dir is not None else []
        for d in [*dirs, *search_dirs(extra)]:
            if (d / f"{ref}.py").is_file():
                return _from_file(ref, d / f"{ref}.py")
        raise SpaceError(
            f"space {ref!r} is unknown; allowed: {', '.join(available_spaces(extra))}, "
            "a path to a .py file, or a package.module import path"
        )
    return _from_module(ref, ref)


def _find_file(ref: str, bases: Sequence[Path]) -> Path:
    path = Path(ref).expanduser()
    tried = [path] if path.is_absolute() else [Path.cwd() / path, *(d / path for d in bases)]
    for candidate in tried:
        if candidate.is_file():
            return candidate
    raise SpaceError(f"space {ref!r}: no such file")


def _from_file(ref: str, path: Path) -> Space:
    path = path.resolve()
    if path.parent == BUILTIN_SPACES:  # a shipped space: imported as part of hpsearch
        return _from_module(ref, f"{SPACES_PACKAGE}.{path.stem}")
    return checked(ref, _load_file(path), str(path))


def _from_module(ref: str, name: str) -> Space:
    try:
        module = importlib.import_module(name)
    except ImportError as exc:
        raise SpaceError(f"space {ref!r}: cannot import it ({exc})") from None
    except (Exception, SystemExit) as exc:
        raise SpaceError(
            f"space {ref!r}: module {name} fails to import: {type(exc).__name__}: {exc}"
        ) from None
    return checked(ref, module, name)


def fingerprint(path: str | Path | None) -> str:
    """sha256 of a space's source file; "" when it has none that can be read."""
    if not path:
        return ""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return ""


def stored_space(
    study: optuna.Study, ref: str, *, changed: Literal["refuse", "warn"] = "refuse"
) -> Space:
    """The space ``study`` was created with, found from any folder.

    It is loaded from the origin the study recorded (``ref``, the study file's ``space``, for
    stores written before origins were recorded). A recorded file that is gone is replaced by
    ``ref`` looked up from here, if its source is the very same. A source that has changed
    since the study was created is refused (SpaceError), or with ``changed="warn"`` (read-only
    commands) reported once as an :class:`~hpsearch.errors.HpsearchWarning`.
    """
    attrs = study.user_attrs
    origin, recorded = attrs.get(ORIGIN_ATTR), attrs.get(FINGERPRINT_ATTR)
    if isinstance(origin, str) and origin.startswith("<object "):
        raise SpaceError(
            f"study {study.study_name!r} was run with a space given as a Python object "
            f"({origin}), which lives only in the process that ran it; pass the same object "
            "(hpsearch.open_study(name, storage, space=...)), or move it to a .py file"
        )
    if not isinstance(origin, str) or not origin:
        return load_space(ref)
    try:
        space = load_space(origin)
    except SpaceError as exc:
        moved = _same_space_elsewhere(ref, origin, recorded)
        if moved is None:
            raise SpaceError(
                f"study {study.study_name!r} was created with space {origin} (its recorded "
                f"origin), which cannot be loaded here: {exc}; restore it there, or make it "
                "importable on this machine"
            ) from None
        return moved
    if isinstance(recorded, str) and recorded and space.fingerprint != recorded:
        message = changed_text(study.study_name, space, recorded)
        if changed == "refuse":
            raise SpaceError(
                f"{message}; its trials were trained with the old code: restore it, or run "
                "the changed space as a new study (another name)"
            )
        warnings.warn(
            f"{message}; this uses the current code, which did not train the study's trials",
            HpsearchWarning,
            stacklevel=1,
        )
    return space


def changed_text(study: str, space: Space, recorded: str) -> str:
    """The first half of the line that reports a space changed since its study was made."""
    now = space.fingerprint[:12] or "unreadable"
    return (
        f"space {space.name!r} has changed since study {study!r} was created "
        f"({space.origin}: sha256 {now}, recorded {recorded[:12]})"
    )


def _same_space_elsewhere(ref: str, origin: str, recorded: Any) -> Space | None:
    """``ref`` looked up from here, when the recorded file is gone and this one is identical
    (a worker on another machine, or a moved checkout)."""
    if not isinstance(recorded, str) or not recorded or not os.path.isabs(origin):
        return None
    if Path(origin).exists():
        return None
    try:
        space = load_space(ref)
    except SpaceError:
        return None
    return space if space.fingerprint == recorded else None


def _load_file(path: Path) -> ModuleType:
    # Loaded by path under a private package name so that neither PyPI's ``spaces``
    # distribution nor a user's module of the same name is shadowed or shadows us.
    name = f"hpsearch_spaces.{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SpaceError(f"space file {path}: cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:  # a module that calls sys.exit() while importing
        del sys.modules[name]
        raise SpaceError(
            f"space file {path}: fails to import: {type(exc).__name__}: {exc}"
        ) from None
    return module


def checked(ref: str, module: ModuleType, origin: str) -> Space:
    suggest = getattr(module, "suggest", None)
    build = getattr(module, "build_model", None)
    baseline = getattr(module, "BASELINE", None)
    for attr, value, want in (
        ("suggest", suggest, "a function suggest(trial) -> dict"),
        ("build_model", build, "a function build_model(params, data) -> keras.Model"),
    ):
        if not callable(value):
            raise SpaceError(f"space {ref!r} has no {attr}; it needs {want}")
    if not isinstance(baseline, dict):
        raise SpaceError(f"space {ref!r} has no BASELINE dict of the tutorial's settings")
    file = getattr(module, "__file__", None)
    name = Path(file).stem if file else ref
    return Space(
        name,
        module,
        suggest,  # type: ignore[arg-type]
        build,  # type: ignore[arg-type]
        dict(baseline),
        origin,
        fingerprint(file),
    )


def describe(
    space: Space, samples: int = 64, ranges: dict[str, RangeOverride] | None = None
) -> list[ParamInfo]:
    """The parameters ``suggest`` declares, found by running it on real Optuna trials.

    Random trials explore the conditional branches; a parameter missing from some of them
    is conditional. The baseline's own branch is run too, so its parameters always show.
    With ``ranges``, the distributions are the ones a study with those ``[ranges]`` searches.
    """
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    if not outside_ranges(space.baseline, ranges or {}):
        study.enqueue_trial(space.baseline)
    seen: dict[str, BaseDistribution] = {}
    counts: dict[str, int] = {}
    for _ in range(samples + 1):
        trial = study.ask()
        check_params(space, call_suggest(space, RangedTrial(trial, ranges) if ranges else trial))
        for pname, dist in trial.distributions.items():
            seen.setdefault(pname, dist)
            counts[pname] = counts.get(pname, 0) + 1
        study.tell(trial, 0.0)
    return [
        ParamInfo(n, d, counts[n] < samples + 1, space.baseline.get(n)) for n, d in seen.items()
    ]


def within(dist: BaseDistribution, value: Any) -> bool:
    """Whether ``value`` is one a distribution can give (a narrowing may not widen)."""
    if isinstance(dist, CategoricalDistribution):
        return any(
            value == c and isinstance(value, bool) == isinstance(c, bool) for c in dist.choices
        )
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return bool(dist.low <= value <= dist.high)  # type: ignore[attr-defined]


PLAIN = (str, int, float, bool, type(None))


def _remedy(space: Space) -> str:
    """What to do about an exception raised in a space's code: a user's own space is theirs
    to fix; a shipped one that fails on some data is hpsearch's fault, not the user's."""
    if space.origin.startswith(f"{SPACES_PACKAGE}."):
        return (
            "a fault of hpsearch's shipped space on this data: please report it with the "
            "output of --debug, or choose another space"
        )
    return "fix the space's code"


def call_suggest(space: Space, trial: Any) -> dict[str, Any]:
    """The space's ``suggest``; an exception in it is one SpaceError line naming the space."""
    try:
        return space.suggest(trial)
    except (optuna.TrialPruned, KeyboardInterrupt):
        raise
    except Exception as exc:
        raise SpaceError(
            f"space {space.name!r}: suggest() raised {type(exc).__name__}: "
            f"{' '.join(str(exc).split())[:200]}; {_remedy(space)}"
        ) from None


def check_params(space: Space, params: Any) -> dict[str, Any]:
    """``suggest`` must return a dict of plain values (what a study and an export store)."""
    if not isinstance(params, dict):
        raise SpaceError(
            f"space {space.name!r}: suggest() returned {type(params).__name__}; it must "
            "return a dict of parameter names to plain values"
        )
    for key, value in params.items():
        if not isinstance(key, str) or not isinstance(value, PLAIN):
            raise SpaceError(
                f"space {space.name!r}: suggest() returned {key!r}: {value!r} "
                f"({type(value).__name__}); allowed: str keys, plain str/int/float/bool values"
            )
    from hpsearch.knobs import OPTIMIZERS

    missing = [k for k in ("batch_size", "optimizer", "learning_rate") if k not in params]
    if missing:
        raise SpaceError(
            f"space {space.name!r}: suggest() returned no {', '.join(map(repr, missing))}; "
            "spread hpsearch.knobs.suggest_training(trial) into it (or set them)"
        )
    if params["optimizer"] not in OPTIMIZERS:
        raise SpaceError(
            f"space {space.name!r}: optimizer {params['optimizer']!r} is unknown; allowed: "
            f"{', '.join(OPTIMIZERS)}"
        )
    size = params["batch_size"]
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise SpaceError(f"space {space.name!r}: batch_size {size!r}; allowed: a whole number >= 1")
    return params


def sample_params(space: Space, ranges: dict[str, RangeOverride]) -> dict[str, Any]:
    """One params dict as a study with these ``[ranges]`` would ask for (a throwaway trial)."""
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    return check_params(space, call_suggest(space, RangedTrial(study.ask(), ranges)))


def check_build(space: Space, params: dict[str, Any], data: Any) -> None:
    """Build the space's model once on the data's shapes: a broken ``build_model`` is one
    SpaceError line before anything is written, not a failed trial in a new study."""
    import keras

    try:
        model = space.build_model(params, data)
    except Exception as exc:
        raise SpaceError(
            f"space {space.name!r}: build_model() raised {type(exc).__name__}: "
            f"{' '.join(str(exc).split())[:200]}; {_remedy(space)}"
        ) from None
    if not isinstance(model, keras.Model):
        raise SpaceError(
            f"space {space.name!r}: build_model() returned {type(model).__name__}; it must "
            "return a keras.Model"
        )
    k = int(getattr(data, "num_classes", 2))
    units = model.output_shape[-1] if isinstance(model.output_shape, tuple) else None
    if units not in ((1, 2) if k == 2 else (k,)):
        want = "Dense(1, sigmoid)" if k == 2 else f"Dense({k}, softmax)"
        raise SpaceError(
            f"space {space.name!r}: build_model() outputs {units} value(s) per review but the "
            f"data has {k} classes; allowed: a {want} head (data.num_classes tells the space)"
        )
    keras.backend.clear_session(free_memory=False)


def largest(dist: BaseDistribution) -> Any:
    """The largest value a distribution can give (a categorical's largest choice)."""
    if isinstance(dist, CategoricalDistribution):
        return max(dist.choices)  # type: ignore[type-var]
    return dist.high  # type: ignore[attr-defined]


def check_ranges(space: Space, ranges: dict[str, RangeOverride], where: str) -> None:
    """Every ``[ranges]`` entry names a parameter of the space and fits its kind."""
    params = {p.name: p for p in describe(space)} if ranges else {}
    for pname, override in ranges.items():
        key = f"ranges.{pname}"
        if pname not in params:
            raise ConfigError(
                f"{where}: {key}: space {space.name!r} has no parameter {pname!r}; "
                f"allowed: {', '.join(params)}"
            )
        dist = params[pname].distribution
        if override.choices is not None:
            for choice in override.choices:
                if not within(dist, choice):
                    raise ConfigError(
                        f"{where}: {key} has choice {choice!r} outside what space "
                        f"{space.name!r} declares; allowed: {params[pname].range_text()}"
                    )
            continue
        assert override.low is not None and override.high is not None
        if isinstance(dist, CategoricalDistribution):
            raise ConfigError(
                f"{where}: {key} is categorical; allowed: choices = [...], not low/high"
            )
        if isinstance(dist, IntDistribution) and not (
            float(override.low).is_integer() and float(override.high).is_integer()
        ):
            raise ConfigError(f"{where}: {key} is an integer parameter; allowed: whole numbers")
        if getattr(dist, "log", False) and override.low <= 0:
            raise ConfigError(
                f"{where}: {key} is searched on a log scale; allowed: low > 0, got {override.low!r}"
            )
        for bound in (override.low, override.high):
            if isinstance(dist, FloatDistribution | IntDistribution) and not within(dist, bound):
                raise ConfigError(
                    f"{where}: {key} = {{low = {override.low!r}, high = {override.high!r}}} "
                    f"reaches outside what space {space.name!r} declares; allowed: within "
                    f"{params[pname].range_text()}"
                )


def check_baseline(space: Space) -> None:
    """``BASELINE`` is a point ``suggest`` can give: every key a parameter it declares, every
    value inside that parameter's distribution. Optuna would silently ignore a misspelt key
    (trial 0 then samples that knob) and run a value outside the range."""
    params = {p.name: p for p in describe(space)}
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.enqueue_trial(space.baseline)
    returned = call_suggest(space, study.ask())  # the baseline's branch, fixed values too
    for pname, value in space.baseline.items():
        if pname not in params and pname not in returned:
            raise SpaceError(
                f"space {space.name!r}: BASELINE has {pname!r}, which suggest() never asks "
                f"for; allowed: {', '.join(dict.fromkeys([*params, *returned]))}"
            )
        if pname not in params:
            if returned[pname] != value:
                raise SpaceError(
                    f"space {space.name!r}: BASELINE {pname} = {value!r} but suggest() "
                    f"returns {returned[pname]!r} for it; allowed: the value suggest() returns"
                )
            continue
        if not within(params[pname].distribution, value):
            raise SpaceError(
                f"space {space.name!r}: BASELINE {pname} = {value!r} lies outside what "
                f"suggest() declares ({params[pname].range_text()}); allowed: a value it can give"
            )


def outside_ranges(baseline: dict[str, Any], ranges: dict[str, RangeOverride]) -> list[str]:
    """Baseline settings that a study file's ``[ranges]`` exclude, as ``name=value`` strings.

    Such a baseline is not enqueued: Optuna cannot mix categorical choices across trials.
    """
    out = []
    for pname, r in ranges.items():
        if pname not in baseline:
            continue
        value = baseline[pname]
        inside = (
            value in r.choices
            if r.choices is not None
            else r.low is not None and r.high is not None and r.low <= value <= r.high
        )
        if not inside:
            out.append(f"{pname}={value!r}")
    return out


class RangedTrial:
    """An Optuna trial whose suggest calls honour a study file's ``[ranges]``.

    Written here because Optuna has no notion of narrowing a search space from outside
    the objective; everything not overridden goes straight to the wrapped trial.
    """

    def __init__(self, trial: optuna.Trial, ranges: dict[str, RangeOverride]) -> None:
        self._trial = trial
        self._ranges = ranges

    def __getattr__(self, name: str) -> Any:
        return getattr(self._trial, name)

    def suggest_float(
        self, name: str, low: float, high: float, *, step: float | None = None, log: bool = False
    ) -> float:
        r = self._ranges.get(name)
        if r is not None and r.choices is not None:
            return self._trial.suggest_categorical(name, list(r.choices))  # type: ignore[return-value]
        if r is not None:
            low, high = float(r.low), float(r.high)  # type: ignore[arg-type]
        return self._trial.suggest_float(name, low, high, step=step, log=log)

    def suggest_int(
        self, name: str, low: int, high: int, *, step: int = 1, log: bool = False
    ) -> int:
        r = self._ranges.get(name)
        if r is not None and r.choices is not None:
            return self._trial.suggest_categorical(name, list(r.choices))  # type: ignore[return-value]
        if r is not None:
            low, high = int(r.low), int(r.high)  # type: ignore[arg-type]
        return self._trial.suggest_int(name, low, high, step=step, log=log)

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        r = self._ranges.get(name)
        return self._trial.suggest_categorical(
            name, list(r.choices) if r and r.choices else choices
        )
