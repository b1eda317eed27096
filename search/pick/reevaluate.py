"""Train a study's finalists again on other validation splits with other seeds.

See :mod:`hpsearch.pick.finalists` for why and how they are ranked. Each run carves its own split
from the training data (split seed = study seed + run), fits the vocabulary on that run's
training part, trains with early stopping as the search did, and is stored at once, so an
interrupted re-evaluation continues where it stopped.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import optuna

from hpsearch.data import load_dataset
from hpsearch.engine import setting
from hpsearch.engine.runner import Prepared
from hpsearch.engine.trial import settings_for, train_split, trial_seed
from hpsearch.pick.evaluate import chosen_params
from hpsearch.pick.finalists import finalists_of
from hpsearch.pick.tradeoff import candidates
from hpsearch.store.database import EpochLog
from hpsearch.store.runs import Run, RunLog


def train_once(
    prep: Prepared, params: dict[str, Any], data: Any, split_seed: int, seed: int
) -> tuple[dict[str, Any], int]:
    """One re-evaluation run of ``params`` on ``data`` (a split carved with ``split_seed``),
    trained as the search trained, early stopping included: its summary (``value``,
    ``best_epoch``, gaps) and the epochs it ran. A diverged run's summary has no value."""
    return train_split(params, prep.space, data, settings_for(prep.cfg), split_seed, seed)


def finalists(prep: Prepared, study: optuna.Study) -> list[int]:
    """The trial numbers the study's ``[selection]`` re-evaluates."""
    cfg = prep.cfg
    log = EpochLog(cfg.storage)
    try:
        points = candidates(study, log, cfg.monitor, cfg.tradeoff.gap, include_pruned=False)
    finally:
        log.dispose()
    maximize = cfg.objective.resolved_direction() == "maximize"
    # Without a max_gap the finalists are the best by value; the relative limit
    # (hpsearch.pick.relative) is applied to their re-evaluated means afterwards.
    limit = math.inf if cfg.tradeoff.max_gap is None else cfg.tradeoff.max_gap
    chosen = finalists_of(points, cfg.selection.finalists, limit, maximize)
    # The baseline is trained on the same splits, so the floor a finalist's mean must reach is
    # measured as the mean is (one split's luck differs from another's: on SST-2 every finalist
    # fell 1-2 points from its search split to the others, under the baseline's search value).
    baseline = next((c.number for c in points if c.baseline), None)
    if baseline is not None and baseline not in chosen:
        chosen.append(baseline)
    return chosen


def reevaluate(
    prep: Prepared, study: optuna.Study, on_run: Callable[[Run], None] | None = None
) -> list[Run]:
    """Train the runs the study's finalists still lack, storing each; returns them."""
    cfg = prep.cfg
    if cfg.selection.finalists == 0:
        return []
    chosen = finalists(prep, study)
    store = RunLog(cfg.storage)
    EpochLog(cfg.storage).create()  # the selection table, in a store made before it existed
    trials = study.get_trials(deepcopy=False)
    vectorized = setting.ceiling(cfg, prep.space).dataset
    made: list[Run] = []
    try:
        done = store.runs(cfg.name)
        for repeat in range(1, cfg.selection.repeats + 1):
            todo = [n for n in chosen if repeat not in {r.repeat for r in done.get(n, [])}]
            if not todo:
                continue
            split_seed = cfg.seed + repeat
            base = load_dataset(vectorized, split_seed)
            for number in todo:
                params = chosen_params(prep.space.suggest, trials[number])
                data = base.restrict(*setting.of(params))
                seed = trial_seed(split_seed, number)
                started = time.perf_counter()
                summary, epochs = train_once(prep, params, data, split_seed, seed)
                run = Run(
                    trial_number=number,
                    repeat=repeat,
                    split_seed=split_seed,
                    seed=seed,
                    value=summary.get("value"),
                    best_epoch=int(summary.get("best_epoch", 0)),
                    epochs=epochs,
                    gap_accuracy=summary.get("gap_accuracy"),
                    gap_loss=summary.get("gap_loss"),
                    seconds=round(time.perf_counter() - started, 3),
                )
                store.record(cfg.name, run)
                made.append(run)
                if on_run is not None:
                    on_run(run)
    finally:
        store.dispose()
    return made
