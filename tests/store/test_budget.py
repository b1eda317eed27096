"""The shared trial budget: exact under concurrent claims, slots given back, stale trials."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

import optuna
import pytest

from hpsearch.store.database import Heartbeat, StaleTrial, Store, close_stores

PG_URL = os.environ.get("HPSEARCH_TEST_POSTGRES_URL")


def test_claims_stop_at_the_total_and_released_slots_come_back(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'b.db'}", create=True)
    budget = store.budget("s")
    budget.set_total(3)
    assert [budget.claim() for _ in range(4)] == [True, True, True, False]
    assert budget.state() == (3, 3)
    budget.release()
    assert budget.state() == (2, 3) and budget.claim() and not budget.claim()
    budget.set_total(5)  # `run --trials 5` on a resumed study keeps what was claimed
    assert budget.state() == (3, 5)
    budget.set_total(5, claimed=1)  # resuming after a crash recounts the claims
    assert budget.state() == (1, 5)
    for _ in range(3):
        budget.release()
    assert budget.state() == (0, 5)  # never below zero
    other = store.budget("other")
    other.set_total(1)
    assert other.claim() and budget.state() == (0, 5)  # one row per study


def _claim_all(url: str, study: str, tries: int, ready: Any, won: Any) -> None:
    """In another process: open the store, wait for the others, then claim as fast as it can."""
    budget = Store.open(url, write=True).budget(study)
    ready.wait()
    won.put(sum(budget.claim() for _ in range(tries)))
    close_stores()


def _race(url: str, processes: int, tries: int, total: int) -> list[int]:
    study = f"race-{uuid.uuid4().hex[:8]}"  # a server database outlives the test
    Store.open(url, create=True).budget(study).set_total(total)
    close_stores()
    ctx = multiprocessing.get_context("spawn")
    ready, won = ctx.Barrier(processes), ctx.Queue()
    args = (url, study, tries, ready, won)
    procs = [ctx.Process(target=_claim_all, args=args) for _ in range(processes)]
    for p in procs:
        p.start()
    results = [won.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    return results


def test_four_processes_racing_claim_exactly_the_budget_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'race.db'}"
    won = _race(url, processes=4, tries=40, total=100)
    # 160 claims on 100 slots; one process wins at most 40, so at least three share them.
    assert sum(won) == 100, won
    with sqlite3.connect(tmp_path / "race.db") as conn:
        assert conn.execute("SELECT claimed, n_trials FROM hpsearch_budget").fetchone() == (
            100,
            100,
        )


@pytest.mark.skipif(not PG_URL, reason="HPSEARCH_TEST_POSTGRES_URL is not set (.ci/run sets it)")
def test_four_processes_racing_claim_exactly_the_budget_on_postgresql() -> None:
    assert PG_URL is not None
    Store.open(PG_URL, create=True).create_tables()
    won = _race(PG_URL, processes=4, tries=40, total=100)
    assert sum(won) == 100, won


def test_a_stale_trial_gives_its_slot_back_and_is_retried_once(tmp_path: Path) -> None:
    """Optuna's heartbeat finds a trial whose worker stopped beating: the store's stale-trial
    handler frees the slot the trial had claimed, and Optuna queues the trial again."""
    url = f"sqlite:///{tmp_path / 'stale.db'}"
    store = Store.open(url, create=True, heartbeat=Heartbeat(1, 2, StaleTrial(max_retry=1)))
    store.create_tables()
    study = optuna.create_study(study_name="s", storage=store.storage)
    budget = store.budget("s")
    budget.set_total(2)
    assert budget.claim()
    trial = study.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
    store.storage.record_heartbeat(trial._trial_id)  # the worker beat once, then died
    time.sleep(3.2)
    optuna.storages.fail_stale_trials(study)
    states = [t.state for t in study.get_trials(deepcopy=False)]
    assert states == [optuna.trial.TrialState.FAIL, optuna.trial.TrialState.WAITING]
    assert budget.state() == (0, 2)
    retry = study.get_trials(deepcopy=False)[1]
    assert retry.system_attrs["failed_trial"] == 0 and retry.params == trial.params


def _pop_all(url: str, study: str, ready: Any, got: Any) -> None:
    """In another process: take queued trials (as ``study.ask()`` does) until none is left."""
    loaded = optuna.load_study(study_name=study, storage=Store.open(url, write=True).storage)
    ready.wait()
    popped = []
    while (trial_id := loaded._pop_waiting_trial_id()) is not None:
        popped.append(trial_id)
    got.put(popped)
    close_stores()


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_queued_trial_is_handed_to_exactly_one_of_four_racing_workers(
    backend: str, tmp_path: Path
) -> None:
    """Optuna locks a queued trial with ``SELECT ... FOR UPDATE`` before it marks it running;
    SQLite ignores that clause, so the store's transactions take SQLite's write lock when
    they begin. Without it, two workers both ran the enqueued baseline (seen in CI)."""
    if backend == "postgresql" and not PG_URL:
        pytest.skip("HPSEARCH_TEST_POSTGRES_URL is not set (.ci/run sets it)")
    url = PG_URL if backend == "postgresql" else f"sqlite:///{tmp_path / 'queue.db'}"
    assert url is not None
    study = f"queue-{uuid.uuid4().hex[:8]}"  # a server database outlives the test
    queued = optuna.create_study(study_name=study, storage=Store.open(url, create=True).storage)
    for x in range(60):
        queued.enqueue_trial({"x": x})
    close_stores()
    ctx = multiprocessing.get_context("spawn")
    ready, got = ctx.Barrier(4), ctx.Queue()
    procs = [ctx.Process(target=_pop_all, args=(url, study, ready, got)) for _ in range(4)]
    for p in procs:
        p.start()
    popped = [trial_id for _ in procs for trial_id in got.get(timeout=120)]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert sorted(popped) == sorted(set(popped)) and len(popped) == 60, popped
