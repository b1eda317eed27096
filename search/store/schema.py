"""Every table hpsearch adds to a store, in one place (Optuna keeps its own).

Plain SQLAlchemy Core tables on one :data:`METADATA`, queryable with plain SQL::

    SELECT trial_number, epoch, loss, val_loss FROM hpsearch_epochs WHERE study_name = 'x';

A new table goes here, and nowhere else; :meth:`hpsearch.store.database.EpochLog.create`
creates them all, and adds the columns of :data:`ADDED_COLUMNS` to stores written before.
"""

from __future__ import annotations

import sqlalchemy as sa

METADATA = sa.MetaData()
EPOCHS = sa.Table(
    "hpsearch_epochs",
    METADATA,
    sa.Column("study_name", sa.String(512), primary_key=True),
    sa.Column("trial_number", sa.Integer, primary_key=True),
    sa.Column("epoch", sa.Integer, primary_key=True),
    sa.Column("loss", sa.Float),
    sa.Column("accuracy", sa.Float),
    sa.Column("val_loss", sa.Float),
    sa.Column("val_accuracy", sa.Float),
    sa.Column("seconds", sa.Float),
    sa.Column("recorded_at", sa.DateTime),
    # Inference-mode numbers on a training subsample (see hpsearch.portable.training.TrainEval);
    # NULL in stores written before they were measured.
    sa.Column("train_eval_loss", sa.Float),
    sa.Column("train_eval_accuracy", sa.Float),
    # Macro F1 (hpsearch.portable.training.MacroF1), measured only in studies whose objective it is.
    sa.Column("macro_f1", sa.Float),
    sa.Column("val_macro_f1", sa.Float),
    sa.Column("train_eval_macro_f1", sa.Float),
)
EPOCH_METRICS = (
    "loss",
    "accuracy",
    "val_loss",
    "val_accuracy",
    "train_eval_loss",
    "train_eval_accuracy",
    "macro_f1",
    "val_macro_f1",
    "train_eval_macro_f1",
)
ADDED_COLUMNS = {
    "hpsearch_epochs": {
        "train_eval_loss": "FLOAT",
        "train_eval_accuracy": "FLOAT",
        "macro_f1": "FLOAT",
        "val_macro_f1": "FLOAT",
        "train_eval_macro_f1": "FLOAT",
    },
    "hpsearch_test_results": {"test_macro_f1": "FLOAT", "test_confusion": "TEXT"},
}
"""Columns added after a table first shipped: :meth:`EpochLog.create` adds them to old stores."""
TEST_RESULTS = sa.Table(
    "hpsearch_test_results",
    METADATA,
    sa.Column("study_name", sa.String(512), primary_key=True),
    sa.Column("trial_number", sa.Integer, primary_key=True),
    sa.Column("test_loss", sa.Float),
    sa.Column("test_accuracy", sa.Float),
    sa.Column("test_size", sa.Integer),
    sa.Column("evaluated_at", sa.DateTime),
    sa.Column("test_macro_f1", sa.Float),
    # The confusion matrix as JSON: {"classes": [...], "matrix": [[...]]}, rows = true class.
    sa.Column("test_confusion", sa.Text),
)
"""Test-split numbers, kept apart from every validation number: written only by
``hpsearch evaluate``, read by nothing that ranks or picks trials."""
TEST_READS = sa.Table(
    "hpsearch_test_reads",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("study_name", sa.String(512), nullable=False, index=True),
    sa.Column("trial_number", sa.Integer),
    sa.Column("command", sa.String(64), nullable=False),
    sa.Column("read_at", sa.DateTime),
)
"""Every read of a study's test split (which trial, when, by which command): the first is the
study's unbiased test estimate; any later one was asked for explicitly (``evaluate --again``)
and every report then says the test number is no longer unbiased."""
SELECTION = sa.Table(
    "hpsearch_selection",
    METADATA,
    sa.Column("study_name", sa.String(512), primary_key=True),
    sa.Column("trial_number", sa.Integer, primary_key=True),
    sa.Column("repeat", sa.Integer, primary_key=True),
    sa.Column("split_seed", sa.Integer),
    sa.Column("seed", sa.Integer),
    sa.Column("value", sa.Float),
    sa.Column("best_epoch", sa.Integer),
    sa.Column("epochs", sa.Integer),
    sa.Column("gap_accuracy", sa.Float),
    sa.Column("gap_loss", sa.Float),
    sa.Column("seconds", sa.Float),
    sa.Column("recorded_at", sa.DateTime),
)
"""Re-evaluation runs of a study's finalists (see :mod:`hpsearch.pick.finalists`): each finalist
trained again on another validation split with another seed; validation numbers only."""
BUDGET = sa.Table(
    "hpsearch_budget",
    METADATA,
    sa.Column("study_name", sa.String(512), primary_key=True),
    sa.Column("n_trials", sa.Integer, nullable=False),
    sa.Column("claimed", sa.Integer, nullable=False),
)
"""The trial budget of each study: slots claimed before each trial (see
:mod:`hpsearch.store.budget`)."""
