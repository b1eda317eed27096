"""Keep TensorFlow's start-up noise off the terminal (unless ``--debug``).

``TF_CPP_MIN_LOG_LEVEL`` silences most of it, but TensorFlow's C++ libraries print a few
lines (absl's pre-init warning, oneDNN and CUDA notices) straight to file descriptor 2
while they load, before any Python logging setting applies. No library switch stops
those, so the import runs with descriptor 2 pointed at /dev/null for its duration.
"""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from collections.abc import Iterator


def quiet_tensorflow() -> None:
    """Import TensorFlow and Keras with their load-time output discarded."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import keras  # noqa: F401
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(devnull)
        os.close(saved)
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="keras")
    warnings.filterwarnings("ignore", category=UserWarning, module="optuna")


@contextlib.contextmanager
def optuna_quiet() -> Iterator[None]:
    """For the duration (the library API's calls): Optuna's INFO lines off (each trial's
    result, the throwaway in-memory studies that probe a space) and its ExperimentalWarning
    for the heartbeat and stale-trial APIs hpsearch uses on purpose. The caller's own
    settings come back afterwards; progress is the ``reporter``'s job."""
    import optuna

    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(max(level, optuna.logging.WARNING))
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
            yield
    finally:
        optuna.logging.set_verbosity(level)
