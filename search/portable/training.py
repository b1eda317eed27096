"""The training steps exported scripts carry: the optimizer, a seeded session, the metrics
and callbacks a trial fits with (macro F1, the inference-mode pass over training rows, the gap
penalty), compiling, early stopping and the one ``model.fit`` call. Imports Keras and
TensorFlow at module level: only modules that train import this one.
"""

from __future__ import annotations

from typing import Any, Protocol

import keras
import numpy as np
import tensorflow as tf

from hpsearch.portable.data import subsample
from hpsearch.portable.scores import gaps_of


class Dataset(Protocol):
    """What the carried code reads of a dataset: :class:`hpsearch.data.Dataset` has it, and so
    does the exported script's namespace."""

    @property
    def x_train(self) -> np.ndarray: ...
    @property
    def y_train(self) -> np.ndarray: ...
    @property
    def x_val(self) -> np.ndarray: ...
    @property
    def y_val(self) -> np.ndarray: ...


class TrainSettings(Protocol):
    """What the carried code reads of a trial's training settings:
    :class:`hpsearch.engine.trial.TrainSettings` has it, and so does the script's namespace."""

    @property
    def monitor(self) -> str: ...
    @property
    def direction(self) -> str: ...
    @property
    def max_epochs(self) -> int: ...
    @property
    def patience(self) -> int: ...
    @property
    def min_delta(self) -> float: ...
    @property
    def restore_best_weights(self) -> bool: ...


def make_optimizer(params: dict[str, Any]) -> Any:
    """The Keras optimizer for a params dict (as stored on a trial)."""
    import keras

    name, lr = params["optimizer"], params["learning_rate"]
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate=lr, momentum=params.get("momentum", 0.0))
    return {
        "adam": keras.optimizers.Adam,
        "rmsprop": keras.optimizers.RMSprop,
        "nadam": keras.optimizers.Nadam,
    }[name](learning_rate=lr)


def seed_everything(seed: int) -> None:
    """Fresh Keras session, every RNG seeded, deterministic TensorFlow ops (CPU repeats exactly)."""
    keras.backend.clear_session(free_memory=False)  # Optuna's gc_after_trial collects
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


class MacroF1(keras.metrics.F1Score):
    """Macro-averaged F1 over the classes, from sparse labels: each class's F1 from the
    epoch's true/false positive and false negative counts, then their plain mean (a rare
    class counts as much as a common one). A row's prediction is its most probable class.

    Keras' ``F1Score`` keeps those counts but wants one-hot labels and, on a one-unit sigmoid
    head, scores the positive class alone; this feeds it one-hot labels and, for a sigmoid
    head, the two columns ``[1 - p, p]``, so two classes get a true macro F1 too.
    """

    def __init__(self, name: str = "macro_f1", dtype: Any = None) -> None:
        super().__init__(average="macro", threshold=None, name=name, dtype=dtype)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        from keras import ops

        y_pred = ops.convert_to_tensor(y_pred, dtype=self.dtype)
        if y_pred.shape[-1] == 1:
            y_pred = ops.concatenate([1.0 - y_pred, y_pred], axis=-1)
        labels = ops.cast(ops.reshape(y_true, (-1,)), "int32")
        super().update_state(ops.one_hot(labels, y_pred.shape[-1]), y_pred, sample_weight)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype}


def compile_model(
    model: keras.Model, params: dict[str, Any], monitor: str = "val_accuracy"
) -> keras.Model:
    """Compile with the chosen optimizer. The loss follows the model's head: one sigmoid unit
    is binary cross-entropy, k softmax units sparse categorical cross-entropy (labels are
    class indices). Accuracy always; macro F1 too when the study watches it."""
    binary = model.output_shape[-1] == 1
    metrics: list[Any] = ["accuracy"]
    if monitor.endswith("macro_f1"):
        metrics.append(MacroF1())
    model.compile(
        optimizer=make_optimizer(params),
        loss="binary_crossentropy" if binary else "sparse_categorical_crossentropy",
        metrics=metrics,
    )
    return model


class TrainEval(keras.callbacks.Callback):
    """Training loss and accuracy (and macro F1 when compiled) in inference mode, every
    epoch: ``train_eval_loss``, ``train_eval_accuracy`` (``train_eval_macro_f1``) in the logs.

    Keras' own ``loss``/``accuracy`` are averaged over the epoch with dropout active, so a
    heavily regularized model looks as if it did not overfit. This evaluates the model as it
    stands at the epoch's end, dropout off, on a fixed training subsample as large as the
    validation split, which makes the train/validation gap honest. Runs before the callbacks
    that read the logs (early stopping, the epoch store).
    """

    def __init__(self, x: Any, y: Any) -> None:
        super().__init__()
        # Batched and cached once: handed arrays, every evaluate() call would convert them to
        # a new tf.data pipeline first, 0.1 s of fixed cost per epoch that dwarfs the pass
        # itself on small models (`benchmarks/compare.py --overhead-only`). Same numbers.
        self.data = tf.data.Dataset.from_tensor_slices((x, y)).batch(256).cache()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if logs is None:
            return
        result = self.model.evaluate(self.data, verbose=0, return_dict=True)
        for key in ("loss", "accuracy", "macro_f1"):
            if key in result:
                logs[f"train_eval_{key}"] = float(result[key])


def train_eval(data: Any, seed: int) -> TrainEval:
    """The :class:`TrainEval` callback on a stratified, seeded sample of the training split
    with as many rows as the validation split."""
    rows = subsample(data.y_train, len(data.y_val), seed)
    return TrainEval(data.x_train[rows], data.y_train[rows])


class GapPenalty(keras.callbacks.Callback):
    """Scores each epoch by the validation metric less how far its train/validation gap
    exceeds the limit: ``<metric>_penalized`` in the logs (``[tradeoff] penalize``).

    With ``max_gap = 0.05``, an epoch at 0.87 validation accuracy with a gap of 0.09 scores
    0.83, one at 0.85 with a gap of 0.05 scores 0.85. Early stopping, pruning, the best epoch
    and the trial's value then all follow the score, so the sampler climbs toward models the
    tradeoff can pick, and every trial still has a value it can learn from (Optuna's
    constraints only say feasible or not, and TPE then learnt that feasible means
    chance-level). Neither Keras nor Optuna scores an epoch by two logged numbers, hence ours.
    Runs after :class:`TrainEval` (the honest training side) and before the callbacks that
    read the logs.
    """

    def __init__(self, monitor: str, maximize: bool, measure: str, limit: float) -> None:
        super().__init__()
        self.monitor, self.maximize, self.measure, self.limit = monitor, maximize, measure, limit

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if logs is None or self.monitor not in logs:
            return
        gap = gaps_of(logs)[self.measure]
        excess = 0.0 if gap is None else max(0.0, gap - self.limit)
        value = float(logs[self.monitor])
        logs[f"{self.monitor}_penalized"] = value - excess if self.maximize else value + excess


def scoring(settings: Any, data: Any, seed: int) -> list[keras.callbacks.Callback]:
    """The callbacks that put a run's judged numbers in the logs before anything reads them:
    :class:`TrainEval` on a training subsample chosen by ``seed``, then :class:`GapPenalty`
    when the study penalizes the gap."""
    out: list[keras.callbacks.Callback] = [train_eval(data, seed)]
    penalty = getattr(settings, "penalty", None)
    if penalty is not None:
        maximize = settings.direction != "minimize"
        out.append(GapPenalty(settings.monitor, maximize, penalty[0], float(penalty[1])))
    return out


def score_key(settings: Any) -> str:
    """The log key a run is judged by: early stopping, pruning, its best epoch and value.
    The study's metric, or with ``[tradeoff] penalize`` that metric less the excess gap
    (:class:`GapPenalty`). ``settings`` is a :class:`TrainSettings` or an exported script's
    namespace of the same fields."""
    penalized = getattr(settings, "penalty", None) is not None
    return f"{settings.monitor}_penalized" if penalized else str(settings.monitor)


def early_stopping(settings: TrainSettings) -> keras.callbacks.EarlyStopping:
    return keras.callbacks.EarlyStopping(
        monitor=score_key(settings),
        mode="min" if settings.direction == "minimize" else "max",
        patience=settings.patience,
        min_delta=settings.min_delta,
        restore_best_weights=settings.restore_best_weights,
    )


def fit(
    model: keras.Model,
    params: dict[str, Any],
    data: Dataset,
    settings: TrainSettings,
    callbacks: list[keras.callbacks.Callback],
) -> keras.callbacks.History:
    """The one ``model.fit`` call of a trial (and of its retraining for evaluation)."""
    return model.fit(
        data.x_train,
        data.y_train,
        batch_size=params["batch_size"],
        epochs=settings.max_epochs,
        validation_data=(data.x_val, data.y_val),
        callbacks=callbacks,
        verbose=0,
    )
