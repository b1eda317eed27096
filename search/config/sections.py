"""The sections of a study file: frozen dataclasses, one per table (``[dataset]``, ...).

Each section checks its own shapes, types and ranges (``check()``); every problem is one
:class:`~hpsearch.errors.ConfigError` line naming the file, the key, the value and what is
allowed. The whole study (:class:`~hpsearch.config.study.StudyConfig`), its parsing and its
inverse live in :mod:`hpsearch.config.study`. Checks that need a library (sampler and pruner
options, space parameter names) live with those pieces (:mod:`hpsearch.engine.strategies`,
:mod:`hpsearch.engine.spaces`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from hpsearch.config.validate import at_least, between, from_to, one_of
from hpsearch.errors import ConfigError
from hpsearch.portable.data import DEFAULT_STANDARDIZE, STANDARDIZE

METRICS = ("val_loss", "val_accuracy", "loss", "accuracy", "val_macro_f1", "macro_f1")
"""What a trial's ``fit`` logs: loss and accuracy always, macro F1 when the objective is it
(see :class:`hpsearch.portable.training.MacroF1`)."""

DATASET_KINDS = ("imdb", "csv", "directory", "synthetic")
# Keys that only make sense for some dataset kinds; the rest apply to all.
KIND_KEYS = {
    "imdb": {"path"},
    "csv": {"path", "test_path", "text_column", "label_column", "standardize"},
    "directory": {"path", "standardize"},
    "synthetic": {"samples", "test_samples"},
}
KIND_ONLY_KEYS = set().union(*KIND_KEYS.values())
DEFAULT_NUM_WORDS = 5000
DEFAULT_MAXLEN = 500
MAX_SPLITS = 10
"""The most validation splits a trial may be scored on (``[objective] splits``)."""
MAX_SEED = 2**31 - 1
"""The largest study seed: NumPy seeds (Optuna's samplers, ``keras.utils.set_random_seed``) stop
at 2**32 - 1, and a worker seeds its sampler with the study seed plus its process id."""
"""The tutorial's data settings, used when neither the study file nor the space sets them."""


@dataclass(frozen=True)
class DatasetConfig:
    """Where the reviews come from and how they become integer sequences."""

    kind: str = "synthetic"
    path: str | None = None
    test_path: str | None = None
    text_column: str = "text"
    label_column: str = "label"
    num_words: int | None = None  # None: 5000, or searched when the space suggests it
    maxlen: int | None = None  # None: 500, or searched when the space suggests it
    validation_split: float = 0.2
    max_samples: int | None = None
    samples: int = 2000
    test_samples: int = 500
    standardize: str = DEFAULT_STANDARDIZE
    """How texts become words (csv, directory): Keras' default drops punctuation; "lower" keeps
    what stands apart as a word in pre-tokenized text ("wo n't", "Russia ?")."""

    def filled(self) -> DatasetConfig:
        """A copy with the tutorial's vocabulary size and length where none is set."""
        return dataclasses.replace(
            self,
            num_words=DEFAULT_NUM_WORDS if self.num_words is None else self.num_words,
            maxlen=DEFAULT_MAXLEN if self.maxlen is None else self.maxlen,
        )

    def size(self) -> tuple[int, int]:
        """(vocabulary size, sequence length), the tutorial's where unset."""
        filled = self.filled()
        assert filled.num_words is not None and filled.maxlen is not None
        return filled.num_words, filled.maxlen

    def check(self, where: str) -> None:
        one_of(where, "dataset.kind", self.kind, DATASET_KINDS)
        if self.num_words is not None:
            at_least(where, "dataset.num_words", self.num_words, 3)
        if self.maxlen is not None:
            at_least(where, "dataset.maxlen", self.maxlen, 1)
        between(where, "dataset.validation_split", self.validation_split, 0.0, 1.0)
        if self.max_samples is not None:
            at_least(where, "dataset.max_samples", self.max_samples, 10)
        at_least(where, "dataset.samples", self.samples, 10)
        at_least(where, "dataset.test_samples", self.test_samples, 0)
        one_of(where, "dataset.standardize", self.standardize, STANDARDIZE)
        if self.kind == "csv" and self.text_column == self.label_column:
            raise ConfigError(
                f"{where}: dataset.label_column = {self.label_column!r} is also the text column; "
                "allowed: the column holding each review's class"
            )
        if self.kind in ("csv", "directory") and not self.path:
            raise ConfigError(f"{where}: dataset.path is required for dataset.kind = {self.kind!r}")


@dataclass(frozen=True)
class ObjectiveConfig:
    """The metric a trial is scored on; it is also what early stopping and pruning watch.

    ``multi = true`` makes a two-objective study: the metric and the overfitting gap
    (``[tradeoff] gap``, minimized), searched with NSGA-II or multi-objective TPE.

    ``splits = k`` scores every trial on k validation splits of the training data (the study's
    own and k - 1 more, see :func:`hpsearch.engine.setting.split_seeds`): its value is the mean,
    at k times the cost. One split is noisy where validation is small (800 reviews: about 1.7
    points of standard error on four classes) and the search chases that noise.
    """

    metric: str = "val_accuracy"
    direction: str = ""
    multi: bool = False
    splits: int = 1

    def resolved_direction(self) -> str:
        return self.direction or ("minimize" if self.metric.endswith("loss") else "maximize")

    def check(self, where: str) -> None:
        one_of(where, "objective.metric", self.metric, METRICS)
        from_to(where, "objective.splits", self.splits, 1, MAX_SPLITS)
        if self.direction:
            one_of(where, "objective.direction", self.direction, ("minimize", "maximize"))
            natural = "minimize" if self.metric.endswith("loss") else "maximize"
            if self.direction != natural:
                raise ConfigError(
                    f"{where}: objective.direction = {self.direction!r} does not fit "
                    f"metric {self.metric!r}; allowed: {natural!r}"
                )


@dataclass(frozen=True)
class StrategyConfig:
    """A sampler or pruner: its name plus keyword options for its Optuna class."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)


GAP_MEASURES = ("accuracy", "loss")
DEFAULT_MAX_GAP = {"accuracy": 0.05, "loss": 0.10}


def score_name(metric: str, penalize: bool) -> str:
    """What a study's trials are judged by: its metric, or ``<metric>_penalized`` with
    ``[tradeoff] penalize`` (:class:`hpsearch.portable.training.GapPenalty`). The engine's
    :func:`hpsearch.portable.training.score_key` spells the same name on its own: exported
    scripts copy it and must not import hpsearch."""
    return f"{metric}_penalized" if penalize else metric


@dataclass(frozen=True)
class TradeoffConfig:
    """How ``hpsearch tradeoff`` measures overfitting and how much of it the pick accepts.

    The accuracy gap is train accuracy - validation accuracy; the loss gap is
    validation loss - train loss; both at the trial's best epoch.
    """

    gap: str = "accuracy"
    max_gap: float | None = None
    constrain: bool = False
    """Steer the sampler toward trials within ``max_gap`` (Optuna's ``constraints_func``)."""
    penalize: bool = False
    """Judge every epoch by the metric less how far its gap exceeds ``max_gap``
    (:class:`hpsearch.portable.training.GapPenalty`): a trial's value, early stopping, pruning
    and its best epoch follow that score, so the search climbs toward models the pick may take."""

    def limit(self) -> float:
        """The limit ``constrain`` and ``penalize`` steer toward during the search (they need
        one before any trial exists): ``max_gap``, else :data:`DEFAULT_MAX_GAP`. The pick
        itself, without ``max_gap``, uses a limit derived from the study's best trials
        (:mod:`hpsearch.pick.relative`)."""
        return DEFAULT_MAX_GAP[self.gap] if self.max_gap is None else self.max_gap

    def check(self, where: str) -> None:
        one_of(where, "tradeoff.gap", self.gap, GAP_MEASURES)
        if self.max_gap is not None:
            at_least(where, "tradeoff.max_gap", self.max_gap, 0.0)


@dataclass(frozen=True)
class SelectionConfig:
    """Re-evaluation of the search's finalists before one is picked (``[selection]``).

    The top ``finalists`` trials are each trained ``repeats`` more times, every time on
    another validation split carved from the training data and with another seed, and
    ranked by the mean of those runs. ``finalists = 0`` turns it off.
    """

    finalists: int = 3
    repeats: int = 2

    def check(self, where: str) -> None:
        at_least(where, "selection.finalists", self.finalists, 0)
        at_least(where, "selection.repeats", self.repeats, 1)


@dataclass(frozen=True)
class EarlyStoppingConfig:
    """Keras ``EarlyStopping`` settings; ``monitor`` defaults to the objective metric."""

    monitor: str = ""
    patience: int = 3
    min_delta: float = 0.0
    restore_best_weights: bool = True

    def check(self, where: str, objective: ObjectiveConfig) -> None:
        at_least(where, "early_stopping.patience", self.patience, 0)
        at_least(where, "early_stopping.min_delta", self.min_delta, 0.0)
        if self.monitor:
            one_of(where, "early_stopping.monitor", self.monitor, METRICS)
            if self.monitor != objective.metric:
                raise ConfigError(
                    f"{where}: early_stopping.monitor = {self.monitor!r} differs from "
                    f"objective.metric = {objective.metric!r}; pruning and early stopping "
                    "watch the objective metric, so allowed: "
                    f"{objective.metric!r} (or leave it out)"
                )


@dataclass(frozen=True)
class BudgetConfig:
    """How much the whole study may spend (``n_trials`` counts finished trials); the search
    ends at whichever of ``n_trials`` and ``timeout`` comes first.

    The defaults are what reached the goals on four tasks on 2 cores (docs/benchmarks.md):
    20 minutes of search ran 54-117 trials on the IMDB sample, SST-2 and TREC, and left
    re-evaluation and the final refit room within 30 minutes; 200 trials is more than any of
    them reached, so the time decides (a large ``timeout``, 86400 say, for practically none);
    30 epochs leaves EarlyStopping, not the cap, to end a trial (the IMDB sample's longest ran
    20).
    """

    n_trials: int = 200
    timeout: float | None = 1200.0
    max_epochs: int = 30

    def check(self, where: str) -> None:
        at_least(where, "budget.n_trials", self.n_trials, 1)
        at_least(where, "budget.max_epochs", self.max_epochs, 1)
        if self.timeout is not None and not self.timeout > 0:
            raise ConfigError(f"{where}: budget.timeout = {self.timeout!r}; allowed: > 0 seconds")


@dataclass(frozen=True)
class WorkersConfig:
    """Fault handling for workers: heartbeats find a dead worker's trial, which is retried."""

    heartbeat_interval: int = 10
    grace_period: int = 30
    max_retry: int = 1

    def check(self, where: str) -> None:
        at_least(where, "workers.heartbeat_interval", self.heartbeat_interval, 1)
        at_least(where, "workers.max_retry", self.max_retry, 0)
        if self.grace_period <= self.heartbeat_interval:
            raise ConfigError(
                f"{where}: workers.grace_period = {self.grace_period!r} must exceed "
                f"workers.heartbeat_interval = {self.heartbeat_interval!r}; allowed: a larger "
                "grace period (e.g. 3 heartbeats)"
            )


@dataclass(frozen=True)
class RangeOverride:
    """Narrows one parameter of the space: ``low``/``high`` for numbers, or ``choices``."""

    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] | None = None

    def check(self, where: str, key: str) -> None:
        numeric = self.low is not None or self.high is not None
        if numeric and self.choices is not None:
            raise ConfigError(f"{where}: {key} mixes low/high with choices; allowed: one of them")
        if numeric:
            if self.low is None or self.high is None:
                raise ConfigError(f"{where}: {key} needs both low and high")
            if self.low > self.high:
                raise ConfigError(
                    f"{where}: {key} has low = {self.low!r} > high = {self.high!r}; "
                    "allowed: low <= high"
                )
        elif not self.choices:
            raise ConfigError(f"{where}: {key} needs low and high, or a non-empty choices list")
