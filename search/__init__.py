"""hpsearch: hyperparameter search for Keras sequence classifiers, driven by Optuna.

The public API (see :mod:`hpsearch.api`)::

    import hpsearch

    study = hpsearch.run("studies/quickstart.toml", n_trials=4)
    study.trials(); study.tradeoff().pick; study.export("train_best.py")
    hpsearch.open_study("quickstart", "sqlite:///hpsearch.db").epochs(0)

Importing it is cheap: the API's names load on first use, and TensorFlow only when a trial
runs or a space module is imported. Errors derive from :class:`HpsearchError`.

The package's folders, bottom layer first (imports only run downward; ``docs/architecture.md``):
:mod:`~hpsearch.errors`, :mod:`~hpsearch.records`, :mod:`~hpsearch.portable`,
:mod:`~hpsearch.knobs` -> ``config/`` -> ``store/``, ``data/`` -> ``engine/`` -> ``pick/`` ->
``output/``, ``integrations/`` -> :mod:`~hpsearch.commands` -> :mod:`~hpsearch.api`, ``cli/``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hpsearch import legacy
from hpsearch.errors import (
    ConfigError,
    DataError,
    HpsearchError,
    SearchError,
    SpaceError,
    StorageError,
)

__version__ = "0.1.0"

legacy.install()  # hpsearch.runner, hpsearch.kt_bridge, ...: the flat layout's paths still import

if TYPE_CHECKING:
    from hpsearch.api import Study, list_spaces, load_config, open_study, run, space_of
    from hpsearch.config import StudyConfig
    from hpsearch.records import EpochRecord, StopReason, TrialSummary

_LAZY = {
    "Study": "hpsearch.api",
    "load_config": "hpsearch.api",
    "open_study": "hpsearch.api",
    "run": "hpsearch.api",
    "space_of": "hpsearch.api",
    "list_spaces": "hpsearch.api",
    "StudyConfig": "hpsearch.config",
    "EpochRecord": "hpsearch.records",
    "StopReason": "hpsearch.records",
    "TrialSummary": "hpsearch.records",
}


def __getattr__(name: str) -> Any:
    """The API's names, imported when first used (PEP 562)."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'hpsearch' has no attribute {name!r}")


__all__ = [
    "ConfigError",
    "DataError",
    "EpochRecord",
    "HpsearchError",
    "SearchError",
    "SpaceError",
    "StopReason",
    "StorageError",
    "Study",
    "StudyConfig",
    "TrialSummary",
    "__version__",
    "list_spaces",
    "load_config",
    "open_study",
    "run",
    "space_of",
]
