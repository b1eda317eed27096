"""Create or resume a study from a validated config and run what is left of its budget.

Order matters for "bad input writes nothing": the space, ranges, sampler, pruner, data and
storage are all checked in :func:`prepare` before :func:`run_study` creates anything.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import gc
import json
import math
import os
import socket
import time
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import optuna
from optuna.trial import TrialState

from hpsearch.config import StudyConfig
from hpsearch.data import Dataset, load_dataset
from hpsearch.data.fingerprint import fingerprint
from hpsearch.engine import setting
from hpsearch.engine.devices import devices
from hpsearch.engine.spaces import (
    RangedTrial,
    Space,
    beside,
    call_suggest,
    changed_text,
    check_baseline,
    check_build,
    check_params,
    check_ranges,
    load_space,
    outside_ranges,
    sample_params,
    stored_space,
    study_folder,
)
from hpsearch.engine.strategies import exercise, make_pruner, make_sampler
from hpsearch.errors import (
    ConfigError,
    HpsearchError,
    HpsearchWarning,
    SearchError,
    SpaceError,
    StorageError,
    TrialDiverged,
    TrialTakenOver,
)
from hpsearch.knobs import DATA_KNOBS
from hpsearch.records import StopReason, over_splits
from hpsearch.store.budget import Budget
from hpsearch.store.database import EpochLog, Heartbeat, StaleTrial, Store, check_storage
from hpsearch.store.delete import clear_leftovers
from hpsearch.store.tags import StudyTags

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
VIEWS_KEPT = 8
"""How many data settings (a trial's vocabulary size and length) :class:`Prepared` keeps cut,
per validation split: a setting asked again (a pinned or categorical size) costs nothing."""


class Reporter(Protocol):
    """What the runner tells a progress display (see :mod:`hpsearch.output.progress`)."""

    def start(self, study: optuna.Study, total: int, done: int) -> None: ...
    def epoch(self, trial_number: int, epoch: int, logs: dict[str, float]) -> None: ...
    def trial_done(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None: ...
    def stop(self) -> None: ...


class StudyObserver(Protocol):
    """Keeps a view of the study current as trials finish: called (as an Optuna callback)
    after every trial this worker runs, and ``refresh`` when the study starts and when the
    worker ends. The engine knows no display; the layer that starts a run passes one in
    (:class:`hpsearch.output.dashboard.Publisher`, the notes optuna-dashboard shows)."""

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None: ...
    def refresh(self, study: optuna.Study) -> None: ...


Observe = Callable[[Store, int], StudyObserver]
"""Makes a worker's observer from its store and the study's finished trials so far."""


class Unobserved:
    """Observes nothing (library use, tests): the default :data:`Observe`."""

    def __init__(self, store: Store | None = None, finished: int = 0) -> None:
        pass

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        pass

    def refresh(self, study: optuna.Study) -> None:
        pass


class SilentReporter:
    """Reports nothing (library use, tests)."""

    def start(self, study: optuna.Study, total: int, done: int) -> None:
        pass

    def epoch(self, trial_number: int, epoch: int, logs: dict[str, float]) -> None:
        pass

    def trial_done(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        pass

    def stop(self) -> None:
        pass


@dataclass(frozen=True)
class Prepared:
    """Everything a run needs, all checked, nothing written yet."""

    cfg: StudyConfig
    space: Space
    sampler: optuna.samplers.BaseSampler
    pruner: optuna.pruners.BasePruner
    data: Dataset
    from_data: tuple[str, ...] = ()
    """Data knobs whose ranges the study's texts set (:func:`setting.follow_data`)."""
    range_note: str | None = None
    """Where those ranges came from, for the run's first lines."""
    accept_changed_data: bool = False
    """Resume although a data file changed since the study was created (recorded)."""
    _views: dict[tuple[int, int | None, int | None], Dataset] = field(
        default_factory=dict, compare=False, repr=False
    )
    _splits: dict[int, Dataset] = field(default_factory=dict, compare=False, repr=False)

    def data_for(self, params: dict[str, Any], split_seed: int | None = None) -> Dataset:
        """The data at a trial's vocabulary size and length (cut once per setting; the last
        :data:`VIEWS_KEPT` settings are kept), on
        the study's own validation split or on the one carved with ``split_seed``
        (``[objective] splits``: read and vectorized once, when a trial first needs it)."""
        seed = self.cfg.seed if split_seed is None else split_seed
        key = (seed, *setting.of(params))
        view = self._views.pop(key, None)
        if view is None:
            view = self.split(seed).restrict(*key[1:])
        self._views[key] = view  # the most recently used last
        # Searched sizes rarely repeat (a log-scale integer each), and each view is a copy of
        # the arrays (5,000 reviews of up to 900 tokens: up to 18 MB): keeping every one grew
        # a run on the IMDB sample with three splits by 40 to 60 MB a trial.
        while len(self._views) > VIEWS_KEPT * self.cfg.objective.splits:
            del self._views[next(iter(self._views))]
        return view

    def split(self, seed: int) -> Dataset:
        """The study's data, vectorized at its ceiling, with the validation split carved by
        ``seed`` (the study's own: :attr:`data`; others read and vectorized once, kept)."""
        if seed == self.cfg.seed:
            return self.data
        if seed not in self._splits:
            vectorized = setting.ceiling(self.cfg, self.space).dataset
            self._splits[seed] = load_dataset(vectorized, seed)
        return self._splits[seed]

    @property
    def baseline(self) -> dict[str, Any]:
        """The space's BASELINE, at the vocabulary size and length the study file's
        ``[dataset]`` pins (see :func:`hpsearch.engine.setting.pin`): the tutorial's model and
        training settings on the data the study is about."""
        pinned = {
            knob: getattr(self.cfg.dataset, knob)
            for knob in DATA_KNOBS
            if knob in self.space.baseline and getattr(self.cfg.dataset, knob) is not None
        }
        # Ranges that follow the data take the tutorial's size to the nearest the data allows
        # (500 tokens of a ten-word question are padding).
        for knob in self.from_data:
            if knob in self.space.baseline and knob not in pinned:
                r = self.cfg.ranges[knob]
                assert r.low is not None and r.high is not None
                pinned[knob] = min(max(int(self.space.baseline[knob]), int(r.low)), int(r.high))
        return {**self.space.baseline, **pinned}

    @property
    def baseline_note(self) -> str | None:
        """Why the tutorial's baseline will not be trial 0, or None when it will."""
        if not self.cfg.baseline:
            return "baseline off in the study file"
        outside = outside_ranges(self.baseline, self.cfg.ranges)
        if outside:
            return f"baseline not enqueued: [ranges] exclude {', '.join(outside)}"
        return None


def prepare(
    cfg: StudyConfig,
    sampler_seed: int | None = None,
    space: Space | None = None,
    accept_changed_data: bool = False,
) -> Prepared:
    """Validate what needs libraries (space, ranges, sampler, pruner, data, storage).

    The space is ``cfg.space`` looked up from the study file (see :func:`load_space`), unless
    ``space`` is given (a stored study's own, see :func:`prepare_stored`).
    """
    cfg = cfg.with_absolute_paths()
    where = cfg.source
    if space is None:
        folder = study_folder(where)
        space = load_space(cfg.space, beside(folder), folder)
    cfg = setting.pin(cfg, space)
    check_ranges(space, cfg.ranges, where)
    cfg, from_data, range_note = setting.follow_data(cfg, space)
    if cfg.baseline:
        check_baseline(space)
    seed = cfg.seed if sampler_seed is None else sampler_seed
    sampler = make_sampler(cfg.sampler, seed, where, multi=cfg.objective.multi)
    pruner = make_pruner(cfg.pruner, cfg.budget.max_epochs, where)
    exercise(cfg.sampler, cfg.pruner, seed, cfg.budget.max_epochs, where, cfg.objective.multi)
    check_storage(cfg.storage, create=True)
    vectorized = setting.ceiling(cfg, space)
    setting.check_memory(vectorized)
    data = load_dataset(vectorized.dataset, cfg.seed)
    params = sample_params(space, cfg.ranges)
    check_build(space, params, data.restrict(*setting.of(params)))
    prep = Prepared(cfg, space, sampler, pruner, data, from_data, range_note, accept_changed_data)
    for seed in setting.split_seeds(cfg)[1:]:
        prep.split(seed)  # [objective] splits: each split's classes checked before any write
    return prep


def counted(study: optuna.Study) -> int:
    """Trials that spend the budget: completed, pruned, or failed on a NaN loss.

    Trials that were interrupted or whose worker died do not count: their slot goes back
    to the budget (see :mod:`hpsearch.store.budget`).
    """
    n = 0
    for t in study.get_trials(deepcopy=False, states=FINISHED):
        if (
            t.state != TrialState.FAIL
            or StopReason.read(t.user_attrs.get("stop_reason")) == StopReason.DIVERGED
        ):
            n += 1
    return n


def open_study(prep: Prepared, *, create: bool) -> tuple[optuna.Study, Store]:
    """The study on this process's store, writable and with Optuna's heartbeat (a dead
    worker's trial frees its slot and is retried: :class:`hpsearch.store.database.StaleTrial`);
    created (or resumed) or joined."""
    cfg = prep.cfg
    heartbeat = Heartbeat(
        cfg.workers.heartbeat_interval,
        cfg.workers.grace_period,
        StaleTrial(cfg.workers.max_retry),
    )
    store = Store.open(cfg.storage, write=True, create=create, heartbeat=heartbeat)
    if not create:
        study = optuna.load_study(
            study_name=cfg.name, storage=store.storage, sampler=prep.sampler, pruner=prep.pruner
        )
        return study, store
    clear_leftovers(store, cfg.name)  # of a study by this name deleted through Optuna
    study = optuna.create_study(
        study_name=cfg.name,
        storage=store.storage,
        sampler=prep.sampler,
        pruner=prep.pruner,
        directions=directions(cfg),
        load_if_exists=True,
    )
    return study, store


def start_study(prep: Prepared, observe: Observe = Unobserved) -> tuple[optuna.Study, Budget]:
    """Create or resume the study: tag it, enqueue the baseline once, set the budget."""
    cfg = prep.cfg
    study, store = open_study(prep, create=True)
    check_definition(study, prep)
    bind_data(study, cfg.storage, cfg, prep.accept_changed_data)
    store.create_tables()
    _tag(study, prep)
    observe(store, 0).refresh(study)
    # Trials left running by a crashed run are failed (and retried) before the budget
    # is recounted from what the store holds.
    optuna.storages.fail_stale_trials(study)
    reclaim_dead(study, cfg.workers.max_retry)
    running = len(study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)))
    budget = store.budget(cfg.name)
    budget.set_total(cfg.budget.n_trials, claimed=counted(study) + running)
    return study, budget


def reclaim_dead(study: optuna.Study, max_retry: int) -> list[int]:
    """Fail (and retry, as the heartbeat would) RUNNING trials whose worker was a process on
    this machine that no longer exists: a run killed with SIGKILL and started again at once
    need not wait out the heartbeat's grace period. Workers on other machines cannot be
    checked from here; their trials are left to the heartbeat."""
    host = socket.gethostname()
    retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=max_retry)
    reclaimed = []
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        owner = str(t.user_attrs.get("worker", ""))
        where, _, pid = owner.rpartition(":")
        if where != host or not pid.isdigit() or int(pid) == os.getpid() or _alive(int(pid)):
            continue
        trial = optuna.Trial(study, t._trial_id)
        trial.set_user_attr("stop_reason", StopReason.WORKER_LOST.value)
        study.tell(t.number, state=TrialState.FAIL)
        retry(study, study.get_trials(deepcopy=False)[t.number])
        reclaimed.append(t.number)
    return reclaimed


@functools.cache
def _devices() -> str:
    """What this process trains on (``cpu``, ``gpu:0``), stored on every trial it runs."""
    return devices()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def bind_data(study: optuna.Study, url: str, cfg: StudyConfig, accept: bool) -> None:
    """A study trains and tests on the data it was created on (:mod:`hpsearch.data.fingerprint`):
    a changed file is one DataError line before anything trains, unless ``accept``
    (``--accept-changed-data``), which is recorded on the study with the new fingerprint."""
    from hpsearch.data.fingerprint import changed, fingerprint, refuse_changed
    from hpsearch.store.queries import load

    tags = StudyTags.of(study)
    if not tags.data_files:
        return  # created before studies were bound to their data: bound when next resumed
    if not accept:
        refuse_changed(tags.data_files, cfg.dataset, cfg.name)
        return
    found = changed(tags.data_files, cfg.dataset)
    if found is None:
        return
    accepted = {
        "file": found[0],
        "change": found[1],
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "by": f"{socket.gethostname()}:{os.getpid()}",
    }
    writable = load(url, study.study_name, write=True)
    new = StudyTags(
        data_files=fingerprint(cfg.dataset), data_accepted=[*tags.data_accepted, accepted]
    )
    new.write(writable)


def prepare_stored(
    study: optuna.Study,
    url: str,
    sampler_seed: int | None = None,
    space: Space | None = None,
    accept_changed_data: bool = False,
) -> Prepared:
    """:func:`prepare` for a study in the store (worker, select, evaluate): its stored config,
    and its space loaded from the origin it recorded, from whatever folder this runs in. A
    space whose source has changed since the study was created is refused. ``sampler_seed``
    is added to the study's seed. ``space``: the study's space given as an object (the
    notebook API), checked against the study's record like a resumed run's."""
    from hpsearch.store.queries import stored_config

    cfg = stored_config(study, url)
    bind_data(study, url, cfg, accept_changed_data)  # before the data is read to train on
    seed = None if sampler_seed is None else cfg.seed + sampler_seed
    if space is None:
        return prepare(cfg, seed, stored_space(study, cfg.space))
    prep = prepare(cfg, seed, space)
    check_definition(study, prep)
    return prep


def join_study(
    url: str, name: str, accept_changed_data: bool = False
) -> tuple[Prepared, optuna.Study, Budget]:
    """Join an existing study as one more worker (``hpsearch worker``)."""
    from hpsearch.store.queries import load

    # Read-only until the stored config says how to beat the heartbeat; open_study then
    # reopens this process's store writable with it. Each worker samples with its own seed:
    # with the study's seed in every process, parallel workers would propose the very same
    # configurations.
    prep = prepare_stored(
        load(url, name), url, sampler_seed=os.getpid(), accept_changed_data=accept_changed_data
    )
    study, store = open_study(prep, create=False)
    return prep, study, store.budget(name)


def run_study(
    prep: Prepared, reporter: Reporter | None = None, observe: Observe = Unobserved
) -> optuna.Study:
    """Create or resume the study and run the rest of its budget in this process."""
    study, budget = start_study(prep, observe)
    work(prep, study, budget, reporter, observe)
    return study


def require_a_completed_trial(study: optuna.Study) -> None:
    """A run that leaves its study without one completed trial (and none still running
    elsewhere) failed as a whole: one :class:`SearchError` line tallying why the trials
    ended, rather than an empty table and exit status 0."""
    trials = study.get_trials(deepcopy=False)
    states = {t.state for t in trials}
    busy = {TrialState.COMPLETE, TrialState.RUNNING}
    if not trials or states & busy or TrialState.WAITING in states:
        return
    reasons = Counter(str(t.user_attrs.get("stop_reason", t.state.name.lower())) for t in trials)
    tally = ", ".join(f"{n} {reason}" for reason, n in reasons.most_common())
    hint = (
        "; a NaN loss comes from a model that outputs NaN or a learning rate too high "
        "(narrow it in [ranges])"
        if StopReason.DIVERGED.value in reasons
        else ""
    )
    raise SearchError(
        f"no trial of {study.study_name!r} completed ({tally}): nothing to pick from; "
        f"`hpsearch trials {study.study_name}` shows them{hint}"
    )


class TrialLoop:
    """One worker's turn: claim a slot of the budget, run one trial, then its bookkeeping
    (the reporter, the dashboard's notes), none of which grows with the trials stored."""

    def __init__(
        self,
        study: optuna.Study,
        budget: Budget,
        callbacks: list[Callable[[optuna.Study, optuna.trial.FrozenTrial], None]],
        patience: float = 0.0,
    ) -> None:
        self.study, self.budget, self.callbacks = study, budget, callbacks
        self.patience = patience
        """How long a worker whose budget is spent waits while other trials still run: a
        dead worker's trial holds its slot until the heartbeat's grace runs out, and someone
        must be there to free the slot and retry the trial."""

    def run_one(self, objective: Callable[[optuna.Trial], Any]) -> bool:
        """Run one trial if a slot is left; False when the budget is spent and no other
        trial that may give its slot back (a dead worker's, once stale) is running."""
        deadline = time.monotonic() + self.patience
        while True:
            optuna.storages.fail_stale_trials(self.study)
            if self.budget.claim():
                break
            running = self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
            if not running or time.monotonic() >= deadline:
                return False
            time.sleep(min(1.0, self.patience))
        ran: dict[str, Any] = {}

        def watched(trial: optuna.Trial) -> Any:
            ran["number"] = trial.number
            try:
                value = objective(trial)
            except TrialTakenOver:
                ran["lost"] = True
                raise
            ran["returned"] = True
            return value

        def told(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
            ran["told"] = True  # Optuna calls back only once this worker's tell succeeded

        try:
            self.study.optimize(
                watched,
                n_trials=1,
                catch=(TrialDiverged,),
                callbacks=[told, *self.callbacks],
                gc_after_trial=True,
            )
        except Exception:
            if not self._taken_over(ran):
                raise
            warnings.warn(
                f"trial {ran['number']} of {self.study.study_name!r} was failed by another "
                "worker's heartbeat check while this worker, slowed down, still trained it; "
                "it is retried as a new trial, and this worker goes on (a longer "
                "[workers] grace_period avoids this on a busy machine)",
                HpsearchWarning,
                stacklevel=1,
            )
        return True

    def _taken_over(self, ran: dict[str, Any]) -> bool:
        """Whether the trial this worker just ran was finished by someone else: Optuna then
        refuses this worker's writes (``TrialTakenOver``) or, when the objective had already
        returned, its tell (a ValueError naming the trial's state)."""
        if ran.get("lost"):
            return True
        if not ran.get("returned") or ran.get("told"):
            return False
        trial = self.study.get_trials(deepcopy=False)[ran["number"]]
        return trial.state.is_finished()


def trial_loop(
    store: Store,
    study: optuna.Study,
    budget: Budget,
    reporter: Reporter,
    observe: Observe = Unobserved,
    patience: float = 0.0,
) -> tuple[TrialLoop, StudyObserver]:
    """The loop :func:`work` runs, with its bookkeeping (``benchmarks/bookkeeping.py`` times
    this very loop). ``patience``: see :attr:`TrialLoop.patience`."""
    settle_heap()
    finished = len(study.get_trials(deepcopy=False, states=FINISHED))
    observer = observe(store, finished)
    return TrialLoop(study, budget, [reporter.trial_done, observer], patience), observer


def settle_heap() -> None:
    """Take what the process holds now out of the garbage collector's sight.

    The loop asks Optuna to collect garbage after every trial (``gc_after_trial``: a trial's
    Keras models hold reference cycles), and a full collection walks every object the
    process holds: TensorFlow's and Keras' modules (0.6 s per trial on the 2-core development
    machine) and the study's trials as Optuna caches them, so it grows with the trials
    stored. The objects alive when the loop starts are collected once, then frozen (kept,
    never walked again), so each trial's collection walks only what was made since, and
    still frees the trial's models."""
    gc.collect()
    gc.freeze()


def work(
    prep: Prepared,
    study: optuna.Study,
    budget: Budget,
    reporter: Reporter | None = None,
    observe: Observe = Unobserved,
) -> int:
    """Run trials while the shared budget has slots; returns how many this worker ran."""
    cfg, reporter = prep.cfg, reporter or SilentReporter()
    _, total = budget.state()
    reporter.start(study, total, counted(study))
    store = Store.open(cfg.storage, write=True)
    objective = _objective(prep, store, budget, reporter)  # imports what training needs
    # Long enough for a dead worker's trial to go stale (its grace) and be seen (one beat).
    patience = cfg.workers.grace_period + 2 * cfg.workers.heartbeat_interval
    loop, observer = trial_loop(store, study, budget, reporter, observe, patience)
    deadline = None if cfg.budget.timeout is None else time.monotonic() + cfg.budget.timeout
    ran = 0
    try:
        while deadline is None or time.monotonic() < deadline:
            if not loop.run_one(objective):
                break
            ran += 1
    finally:
        reporter.stop()
    observer.refresh(study)  # what the dashboard shows is whole when a worker ends
    return ran


def _objective(
    prep: Prepared, store: Store, budget: Budget, reporter: Reporter
) -> Callable[[optuna.Trial], float | tuple[float, float]]:
    from hpsearch.engine.trial import WORKER, run_trial, settings_for  # imports TensorFlow

    cfg = prep.cfg
    log: EpochLog = store.epochs
    settings = settings_for(cfg)
    gap_key = f"gap_{cfg.tradeoff.gap}"

    def objective(trial: optuna.Trial) -> float | tuple[float, float]:
        # First, before the space and the data (vectorizing can take seconds): a run killed
        # from here on leaves a trial that names its process, so the next run on this
        # machine reclaims it at once (reclaim_dead) instead of after the heartbeat's grace.
        trial.set_user_attr("worker", WORKER)
        trial.set_user_attr("devices", _devices())
        try:
            params = check_params(
                prep.space, call_suggest(prep.space, RangedTrial(trial, cfg.ranges))
            )
            data = prep.data_for(params)
            more = [(seed, prep.data_for(params, seed)) for seed in setting.split_seeds(cfg)[1:]]
            value = run_trial(trial, params, prep.space, data, settings, log, reporter.epoch, more)
        except (optuna.TrialPruned, TrialDiverged):
            raise
        except optuna.exceptions.UpdateFinishedTrialError:
            # Failed by a heartbeat check while this process trained it, which also freed
            # its slot and queued a retry: releasing here would free the slot twice.
            raise TrialTakenOver() from None
        except BaseException:
            budget.release()  # interrupted or crashed: this trial does not count
            raise
        if cfg.objective.multi:
            gap = over_splits(trial.user_attrs, gap_key)
            return value, math.nan if gap is None else gap
        return value

    return objective


def directions(cfg: StudyConfig) -> list[optuna.study.StudyDirection]:
    """The study's direction(s): the metric's, plus "minimize the gap" for two objectives."""
    first = optuna.study.StudyDirection[cfg.objective.resolved_direction().upper()]
    return [first, optuna.study.StudyDirection.MINIMIZE] if cfg.objective.multi else [first]


RESUMABLE = ("name", "storage", "budget.n_trials", "budget.timeout", "workers.")
"""What may differ when a study is resumed: the budget and timeout, where it is stored, and
the heartbeat settings. Everything else defines which trials belong together."""


def definition(cfg: StudyConfig) -> dict[str, Any]:
    """A config flattened to ``section.key`` -> value, defaults filled in, without the
    settings a resumed study may change (:data:`RESUMABLE`)."""
    filled = dataclasses.replace(cfg, dataset=cfg.dataset.filled())
    raw = json.loads(json.dumps(filled.to_dict(), default=str))
    flat: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict) and not prefix.startswith("ranges."):
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else k, v)
        else:
            flat[prefix] = value

    walk("", raw)
    return {k: v for k, v in flat.items() if not k.startswith(RESUMABLE)}


def check_definition(study: optuna.Study, prep: Prepared) -> None:
    """A study name is bound to its definition: resuming it with another space, dataset,
    objective, ranges, strategies or training settings is refused, naming what differs."""
    tags = StudyTags.of(study)
    raw = tags.config or None
    cfg = prep.cfg
    space = tags.space
    if space is not None and space != prep.space.name:
        raise StorageError(
            f"study {cfg.name!r} in {cfg.storage} was created with space {space!r}, not "
            f"{prep.space.name!r}; pick another study name"
        )
    recorded = tags.space_fingerprint
    if recorded and prep.space.fingerprint != recorded:
        raise SpaceError(
            f"{changed_text(cfg.name, prep.space, recorded)}; its trials were trained with the "
            "old code: restore it to resume the study, or run the changed space under another "
            "study name"
        )
    if not isinstance(raw, dict):
        return
    try:
        stored = StudyConfig.from_dict(raw, source=f"study {cfg.name!r}")
    except HpsearchError:
        return  # written by another hpsearch version: the space check below still applies
    old, new = definition(stored), definition(cfg)
    differ = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
    if differ:
        shown = "; ".join(f"{k}: {old.get(k, '-')!r} -> {new.get(k, '-')!r}" for k in differ[:4])
        more = f" (and {len(differ) - 4} more)" if len(differ) > 4 else ""
        raise ConfigError(
            f"study {cfg.name!r} in {cfg.storage} was created with other settings ({shown}{more}); "
            "resume it with the same study file (only the budget and timeout may change), or "
            "give this one another name"
        )


def _tag(study: optuna.Study, prep: Prepared) -> None:
    """Tag a new study with its space and config; refuse to mix spaces in one study."""
    tags = StudyTags.of(study)
    cfg = prep.cfg
    if tags.space is not None:
        if tags.space != prep.space.name:
            raise StorageError(
                f"study {cfg.name!r} in {cfg.storage} was created with space "
                f"{tags.space!r}, not {prep.space.name!r}; pick another study name"
            )
        # Resumed (check_definition compared the sources): a store written before origins
        # were recorded gets them now, and a moved space's new place is recorded.
        if tags.space_origin != prep.space.origin:
            _record_origin(study, prep.space)
        if not tags.data_files:  # created before studies were bound to their data
            StudyTags(data_files=fingerprint(cfg.dataset)).write(study)
        return
    if study.trials:
        raise StorageError(
            f"study {cfg.name!r} in {cfg.storage} was not created by hpsearch; pick another name"
        )
    StudyTags(
        space=prep.space.name,
        metric=cfg.monitor,
        config=cfg.to_dict(),
        dataset=prep.data.summary(),
        space_origin=prep.space.origin,
        space_fingerprint=prep.space.fingerprint,
        data_files=fingerprint(cfg.dataset),
    ).write(study)
    if prep.baseline_note is None:
        study.enqueue_trial(prep.baseline, user_attrs={"baseline": True})


def _record_origin(study: optuna.Study, space: Space) -> None:
    """Where the study's space comes from and a fingerprint of its source (see
    :func:`hpsearch.engine.spaces.stored_space`)."""
    StudyTags(space_origin=space.origin, space_fingerprint=space.fingerprint).write(study)
