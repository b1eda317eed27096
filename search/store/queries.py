"""Read-only views of a store for the listing commands (no TensorFlow import here).

``studies``, ``trials`` and ``best`` call these; they open the store read-only, so they never
create a database or write to one.
"""

from __future__ import annotations

from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from hpsearch.config import StudyConfig
from hpsearch.errors import StorageError
from hpsearch.records import TrialSummary
from hpsearch.store.database import Store
from hpsearch.store.tags import StudyTags

SHOWN_STATES = ("complete", "pruned", "fail", "running", "waiting")


def load(url: str, name: str, *, write: bool = False) -> optuna.Study:
    """An existing study, on this process's store for ``url`` (read-only unless ``write``);
    an unknown name is one line listing the names that exist."""
    storage = Store.open(url, write=write).storage
    names = [
        s.study_name for s in optuna.get_all_study_summaries(storage, include_best_trial=False)
    ]
    if name not in names:
        raise StorageError(
            f"no study {name!r} in {url}; studies there: {', '.join(names) or 'none'}"
        )
    return optuna.load_study(study_name=name, storage=storage)


def stored_config(study: optuna.Study, url: str) -> StudyConfig:
    """The config a study was created with (stored at creation), pointed at ``url``."""
    raw = StudyTags.of(study).config
    if not raw:
        raise StorageError(f"study {study.study_name!r} was not created by hpsearch")
    return StudyConfig.from_dict(raw, source=f"study {study.study_name!r}").replace(storage=url)


def list_studies(url: str) -> list[dict[str, Any]]:
    """Each study with its trial counts by state, direction and best value."""
    storage = Store.open(url).storage
    out = []
    for summary in optuna.get_all_study_summaries(storage, include_best_trial=False):
        study = optuna.load_study(study_name=summary.study_name, storage=storage)
        trials = study.get_trials(deepcopy=False)
        counts = {s: 0 for s in SHOWN_STATES}
        for t in trials:
            counts[t.state.name.lower()] = counts.get(t.state.name.lower(), 0) + 1
        best = best_trial(study)
        tags = StudyTags.of(study)  # one read of the study's attributes
        out.append(
            {
                "name": summary.study_name,
                "space": tags.space or "?",
                "metric": tags.score,
                "direction": ", ".join(d.name.lower() for d in study.directions),
                "trials": len(trials),
                "counts": counts,
                "best_value": None if best is None else value_of(best),
                "best_trial": None if best is None else best.number,
            }
        )
    return out


def value_of(t: FrozenTrial) -> float | None:
    """A trial's (first) objective value; two-objective studies also store the gap."""
    return t.values[0] if t.values else None


def best_trial(study: optuna.Study) -> FrozenTrial | None:
    """The completed trial with the best (first) objective value, or None."""
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not done:
        return None
    sign = -1.0 if study.directions[0] == optuna.study.StudyDirection.MAXIMIZE else 1.0
    return min(done, key=lambda t: (sign * t.values[0], t.number))


def trial_row(t: FrozenTrial) -> dict[str, Any]:
    """One trial as the ``trials`` and ``best`` commands show it (a :class:`TrialSummary`
    as plain values)."""
    return TrialSummary.of(t).as_dict()


def trial_rows(url: str, name: str) -> list[dict[str, Any]]:
    return [trial_row(t) for t in load(url, name).get_trials(deepcopy=False)]
