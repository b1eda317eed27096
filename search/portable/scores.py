"""The numbers exported scripts carry: the train/validation gaps of an epoch, the confusion
matrix, macro F1 and the confusion table printed from it. NumPy and the standard library only.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def gaps_of(row: dict[str, Any]) -> dict[str, float | None]:
    """The overfitting gaps of one epoch's numbers: accuracy gap = training accuracy -
    validation accuracy, loss gap = validation loss - training loss. The training side is
    the inference-mode measurement (``train_eval_*``) where there is one, else Keras'
    training-mode average (stores written before it was measured, KerasTuner's trials)."""

    def side(key: str) -> float | None:
        for k in (f"train_eval_{key}", key):
            v = row.get(k)
            if v is not None and math.isfinite(v):
                return float(v)
        return None

    def finite(key: str) -> float | None:
        v = row.get(key)
        return float(v) if v is not None and math.isfinite(v) else None

    train_acc, val_acc = side("accuracy"), finite("val_accuracy")
    train_loss, val_loss = side("loss"), finite("val_loss")
    return {
        "accuracy": None if train_acc is None or val_acc is None else train_acc - val_acc,
        "loss": None if train_loss is None or val_loss is None else val_loss - train_loss,
    }


def confusion_matrix(y_true: np.ndarray, probabilities: np.ndarray, k: int) -> np.ndarray:
    """Counts by (true class, predicted class); a sigmoid head's one column is P(class 1)."""
    if probabilities.ndim == 1 or probabilities.shape[-1] == 1:
        predicted = (probabilities.reshape(-1) > 0.5).astype(int)
    else:
        predicted = probabilities.argmax(axis=-1)
    matrix = np.zeros((k, k), dtype=int)
    np.add.at(matrix, (np.asarray(y_true, dtype=int).reshape(-1), predicted), 1)
    return matrix


def macro_f1_of(matrix: np.ndarray) -> float:
    """The mean over classes of F1 = 2 TP / (2 TP + FP + FN); a class never true nor
    predicted scores 0, as in Keras' ``F1Score``."""
    tp = np.diag(matrix).astype(float)
    denominator = 2 * tp + (matrix.sum(axis=0) - tp) + (matrix.sum(axis=1) - tp)
    f1 = np.divide(2 * tp, denominator, out=np.zeros_like(tp), where=denominator > 0)
    return float(f1.mean())


def confusion_table(classes: tuple[str, ...], matrix: Any, limit: int = 20) -> str:
    """Rows: true class; columns: predicted class. More than ``limit`` classes would not fit
    a terminal (1,000 classes printed 6.9 MB): one line says so instead (the exported script
    prints it too; ``hpsearch evaluate`` also stores the matrix with the test result)."""
    if len(classes) > limit:
        return (
            f"({len(classes)} classes: the confusion matrix is too wide to print; macro F1 "
            "sums it up)"
        )
    names = [str(c) for c in classes]
    width = max(6, *(len(n) for n in names), *(len(str(v)) for row in matrix for v in row))
    head = "true \\ predicted".ljust(width + 2) + " ".join(n.rjust(width) for n in names)
    rows = [
        names[i].ljust(width + 2) + " ".join(str(v).rjust(width) for v in row)
        for i, row in enumerate(matrix)
    ]
    return "\n".join([head, *rows])
