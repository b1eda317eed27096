"""Keep TensorFlow's start-up noise off the terminal (unless ``--debug``).

``TF_CPP_MIN_LOG_LEVEL`` silences most of it, but TensorFlow's C++ libraries print a few
lines (absl's pre-init warning, oneDNN and CUDA notices) straight to file descriptor 2
while they load, before any Python logging setting applies. No library switch stops
those, so the import runs with descriptor 2 pointed at /dev/null for its duration.
"""

from __future__ import annotations

import logging
import os
import warnings


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
