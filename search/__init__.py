"""hpsearch: hyperparameter search for Keras sequence classifiers, driven by Optuna.

The engine package. Importing it is cheap: TensorFlow loads only when a trial runs or a
space module is imported.
"""

from __future__ import annotations

__version__ = "0.1.0"
