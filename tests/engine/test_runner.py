"""The runner's loop and its bookkeeping: one store per process, flat work per trial."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import optuna
import optuna_dashboard
import pytest
import sqlalchemy as sa
from optuna.distributions import FloatDistribution
from optuna.trial import TrialState

from hpsearch.engine.runner import SilentReporter, TrialLoop, join_study, trial_loop
from hpsearch.output.dashboard import Publisher
from hpsearch.store.database import Store
from tests.conftest import REPO

ATTRS = {"epochs": 2, "best_epoch": 2, "stop_reason": "finished", "gap_accuracy": 0.01}


def _study(store: Store, finished: int) -> optuna.Study:
    """A study as hpsearch tags it, holding ``finished`` trials with their epoch rows."""
    store.create_tables()
    study = optuna.create_study(study_name="s", storage=store.storage, direction="maximize")
    study.set_user_attr("hpsearch:metric", "val_accuracy")
    study.set_user_attr("hpsearch:config", {"tradeoff": {"gap": "accuracy", "max_gap": 0.05}})
    rng = random.Random(0)
    study.add_trials(
        [
            optuna.trial.create_trial(
                params={"x": rng.random()},
                distributions={"x": FloatDistribution(0, 1)},
                value=rng.uniform(0.5, 0.9),
                user_attrs=ATTRS,
            )
            for _ in range(finished)
        ]
    )
    for n in range(finished):
        for epoch in (1, 2):
            store.epochs.record("s", n, epoch, {"val_accuracy": 0.7, "accuracy": 0.71}, 0.1)
    return study


def _objective(store: Store) -> optuna.study.study.ObjectiveFuncType:
    """What a trial writes around ``fit``, without training: its epoch rows and summary."""

    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", 0, 1)
        for epoch in (1, 2):
            store.epochs.record("s", trial.number, epoch, {"val_accuracy": x, "accuracy": x}, 0.1)
        for key, value in ATTRS.items():
            trial.set_user_attr(key, value)
        return x

    return objective


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(f"sqlite:///{tmp_path / 'r.db'}", create=True) as opened:
        yield opened


def test_the_loop_runs_until_the_budget_is_spent(store: Store) -> None:
    study = _study(store, finished=0)
    budget = store.budget("s")
    budget.set_total(3)
    loop, publisher = trial_loop(store, study, budget, SilentReporter(), Publisher)
    assert isinstance(loop, TrialLoop) and isinstance(publisher, Publisher)
    assert [loop.run_one(_objective(store)) for _ in range(4)] == [True, True, True, False]
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 3
    assert budget.state() == (3, 3)
    # Each finished trial's note, in optuna-dashboard's own format.
    for t in study.trials:
        note = optuna_dashboard.get_note(optuna.Trial(study, t._trial_id))
        assert note.startswith(f"### Trial {t.number}\n") and "finished after 2 epochs" in note
    # Below ten finished trials, every trial redraws the study's note and figure.
    assert len(publisher.redraws) == 3
    assert "complete 3" in optuna_dashboard.get_note(study)


def _statements(store: Store, study: optuna.Study, publisher: Publisher) -> list[str]:
    """The SQL one finished trial's bookkeeping runs (the trial itself is added first)."""
    study.add_trial(
        optuna.trial.create_trial(
            params={"x": 0.5},
            distributions={"x": FloatDistribution(0, 1)},
            value=0.7,
            user_attrs=ATTRS,
        )
    )
    trial = study.get_trials(deepcopy=False)[-1]
    seen: list[str] = []

    def note(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.append(" ".join(statement.split()))

    sa.event.listen(store.engine, "before_cursor_execute", note)
    try:
        publisher(study, trial)
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", note)
    return seen


def test_a_trials_bookkeeping_reads_nothing_that_grows_with_the_study(tmp_path: Path) -> None:
    """Between redraws, a finished trial's bookkeeping runs the same statements whether the
    store holds 30 trials or 200, and each is keyed: none reads every trial, every note
    (optuna-dashboard keeps them all among the study's system attributes) or every epoch."""
    runs = []
    for finished in (30, 200):
        with Store.open(f"sqlite:///{tmp_path / f'{finished}.db'}", create=True) as store:
            study = _study(store, finished)
            publisher = Publisher(store, finished=finished)
            _statements(store, study, publisher)  # the first call also looks up the study's id
            runs.append(_statements(store, study, publisher))
            assert publisher.redraws == []
    assert runs[0] == runs[1] and runs[0]
    for statement in runs[0]:
        if "FROM study_system_attributes" in statement:
            assert 'study_system_attributes."key" = ?' in statement, statement
        assert "FROM trials" not in statement and "hpsearch_epochs" not in statement, statement


def test_redraws_are_spread_over_a_tenth_of_the_finished_trials(store: Store) -> None:
    study = _study(store, finished=60)
    publisher = Publisher(store, finished=60)
    for _ in range(14):
        study.add_trial(
            optuna.trial.create_trial(
                params={"x": 0.1},
                distributions={"x": FloatDistribution(0, 1)},
                value=0.6,
                user_attrs=ATTRS,
            )
        )
        publisher(study, study.get_trials(deepcopy=False)[-1])
    # 60 finished: a redraw after 6 more; then 66 finished: the next after 6 more again.
    assert len(publisher.redraws) == 2 and publisher.finished == 72 and publisher.since == 2
    assert "complete 72" in optuna_dashboard.get_note(study)


TINY = f"""
name = "tiny-run"
space = "{REPO / "tests" / "spaces" / "tiny.py"}"
seed = 4
[dataset]
samples = 64
num_words = 60
maxlen = 8
[sampler]
name = "random"
[pruner]
name = "none"
[selection]
finalists = 0
[budget]
n_trials = 3
max_epochs = 2
[workers]
heartbeat_interval = 2
grace_period = 7
"""


def test_a_run_holds_one_engine_on_its_store_and_closes_it(cli, study_file) -> None:
    connected: dict[int, sa.engine.Engine] = {}

    def track(conn: sa.engine.Connection) -> None:
        connected[id(conn.engine)] = conn.engine

    sa.event.listen(sa.engine.Engine, "engine_connect", track)
    try:
        r = cli("run", str(study_file(TINY)))
    finally:
        sa.event.remove(sa.engine.Engine, "engine_connect", track)
    assert r.code == 0, r.err
    engines = [e for e in connected.values() if str(e.url).endswith("hpsearch.db")]
    assert len(engines) == 1, [str(e.url) for e in connected.values()]
    pool = engines[0].pool
    assert isinstance(pool, sa.pool.QueuePool) and pool.checkedin() == 0  # disposed
    assert Store.opened() == []
    # What the dashboard shows is whole once the run ends.
    study = optuna.load_study(study_name="tiny-run", storage="sqlite:///hpsearch.db")
    assert "complete 3" in optuna_dashboard.get_note(study)
    assert all(optuna_dashboard.get_note(optuna.Trial(study, t._trial_id)) for t in study.trials)

    # A worker joining it reads the stored config read-only, then holds the store writable,
    # with the heartbeat that config sets: still one store.
    _, joined, budget = join_study("sqlite:///hpsearch.db", "tiny-run")
    (store,) = Store.opened()
    assert store.writable and store.heartbeat is not None and store.heartbeat.interval == 2
    assert budget.engine is store.engine and joined.study_name == "tiny-run"
