"""The study file's model: its sections, the whole study with its parsing and its inverse,
reading TOML and overrides, field validation, and where the shipped examples live.

Imports nothing of hpsearch but :mod:`hpsearch.errors`; every layer above reads configs.
"""

from hpsearch.config.sections import (
    DATASET_KINDS,
    DEFAULT_MAX_GAP,
    DEFAULT_MAXLEN,
    DEFAULT_NUM_WORDS,
    GAP_MEASURES,
    KIND_KEYS,
    KIND_ONLY_KEYS,
    MAX_SEED,
    METRICS,
    STANDARDIZE,
    BudgetConfig,
    DatasetConfig,
    EarlyStoppingConfig,
    ObjectiveConfig,
    RangeOverride,
    SelectionConfig,
    StrategyConfig,
    TradeoffConfig,
    WorkersConfig,
    score_name,
)
from hpsearch.config.study import MAX_INT, StudyConfig, parse
from hpsearch.config.studyfile import apply_overrides, load_study_file

__all__ = [
    "DATASET_KINDS",
    "DEFAULT_MAXLEN",
    "DEFAULT_MAX_GAP",
    "DEFAULT_NUM_WORDS",
    "GAP_MEASURES",
    "KIND_KEYS",
    "KIND_ONLY_KEYS",
    "MAX_INT",
    "MAX_SEED",
    "METRICS",
    "STANDARDIZE",
    "BudgetConfig",
    "DatasetConfig",
    "EarlyStoppingConfig",
    "ObjectiveConfig",
    "RangeOverride",
    "SelectionConfig",
    "StrategyConfig",
    "StudyConfig",
    "TradeoffConfig",
    "WorkersConfig",
    "apply_overrides",
    "load_study_file",
    "parse",
    "score_name",
]
