"""The code every exported training script carries, copied into it verbatim: data steps
(:mod:`~hpsearch.portable.data`), numbers (:mod:`~hpsearch.portable.scores`) and training steps
(:mod:`~hpsearch.portable.training`).

An exported script (:mod:`hpsearch.output.export`) needs no hpsearch: it repeats the search's
own reading, splitting, vectorizing, compiling, fitting and scoring by holding the very
functions :func:`carried` lists (and the constants in :data:`CONSTANTS`), copied with
:func:`inspect.getsource`, so the script cannot drift from what the search ran. The engine
imports them from here as well. Hence the boundary, checked by ``tests/test_architecture.py``:
these modules import only the standard library, NumPy, Keras and TensorFlow, plus
:class:`hpsearch.errors.DataError`, which the script's template defines for itself. Editing a
function here changes every script exported after it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hpsearch.portable.data import (
    _SENTIMENT_TOKENS,
    BINARY_ALIASES,
    DEFAULT_STANDARDIZE,
    UNLABELLED,
)

CONSTANTS = {
    "_SENTIMENT_TOKENS": _SENTIMENT_TOKENS,
    "BINARY_ALIASES": BINARY_ALIASES,
    "UNLABELLED": UNLABELLED,
    "DEFAULT_STANDARDIZE": DEFAULT_STANDARDIZE,
}
"""The module constants the carried code reads, written into the script as literals."""


def carried() -> list[Callable[..., Any]]:
    """The functions and classes an exported script carries, in the order it defines them
    (imports Keras and TensorFlow)."""
    from hpsearch.portable.data import (
        check_data_digest,
        check_data_file,
        check_data_folder,
        check_split,
        class_labels,
        class_order,
        counted,
        data_digest,
        fit_vectorizer,
        generate,
        imdb_arrays,
        keras_standardize,
        listed,
        number_of,
        raw_text_model,
        read_csv,
        read_folder,
        read_imdb_npz,
        restrict_arrays,
        separator_hint,
        shown,
        stratified_split,
        subsample,
        synthetic_arrays,
        synthetic_vocab_size,
        vectorize_reviews,
    )
    from hpsearch.portable.scores import confusion_matrix, confusion_table, gaps_of, macro_f1_of
    from hpsearch.portable.training import (
        GapPenalty,
        MacroF1,
        TrainEval,
        compile_model,
        early_stopping,
        fit,
        make_optimizer,
        score_key,
        scoring,
        seed_everything,
        train_eval,
    )

    return [
        restrict_arrays,
        stratified_split,
        subsample,
        number_of,
        class_order,
        shown,
        counted,
        listed,
        class_labels,
        check_split,
        separator_hint,
        keras_standardize,
        check_data_file,
        check_data_folder,
        read_csv,
        read_folder,
        fit_vectorizer,
        vectorize_reviews,
        raw_text_model,
        read_imdb_npz,
        imdb_arrays,
        generate,
        synthetic_vocab_size,
        synthetic_arrays,
        make_optimizer,
        seed_everything,
        MacroF1,
        compile_model,
        TrainEval,
        train_eval,
        gaps_of,
        GapPenalty,
        scoring,
        score_key,
        early_stopping,
        fit,
        confusion_matrix,
        macro_f1_of,
        confusion_table,
        data_digest,
        check_data_digest,
    ]
