"""Many workers on one store, and faults: real processes on real SQLite and PostgreSQL."""

from __future__ import annotations

import functools
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest

from hpsearch.store.database import Store
from tests.conftest import REPO

TINY = REPO / "tests" / "spaces" / "tiny.py"
PG_URL = os.environ.get("HPSEARCH_TEST_POSTGRES_URL")
CLI = "from hpsearch.cli.main import entry_point; entry_point()"


def study_text(name: str, storage: str, n_trials: int, max_epochs: int, samples: int = 64) -> str:
    return (
        f'name = "{name}"\nspace = "{TINY}"\nstorage = "{storage}"\n'
        f"[dataset]\nsamples = {samples}\nnum_words = 60\nmaxlen = 8\n"
        '[pruner]\nname = "none"\n[sampler]\nname = "random"\n'
        f"[early_stopping]\npatience = {max_epochs}\n"
        f"[selection]\nfinalists = 0\n[budget]\nn_trials = {n_trials}\nmax_epochs = {max_epochs}\n"
        "[workers]\nheartbeat_interval = 1\ngrace_period = 4\n"
    )


def hpsearch(*args: str, cwd: Path, **kw: object) -> subprocess.Popen[str]:
    base: dict[str, str] = dict(kw.pop("env", None) or os.environ)  # type: ignore[call-overload]
    env = {**base, "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"}
    return subprocess.Popen(  # type: ignore[call-overload,no-any-return]
        [sys.executable, "-c", CLI, *args],
        cwd=cwd,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kw,
    )


@functools.cache
def _storage(url: str) -> optuna.storages.RDBStorage:
    # One per store for the whole module: the tests poll the store several times a second,
    # and a storage made per poll keeps its connections until collected (PostgreSQL ran out
    # of connection slots).
    return optuna.storages.RDBStorage(url)


def _load(url: str, name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=_storage(url))


def states(storage: str, name: str) -> dict[str, int]:
    study = _load(storage, name)
    out: dict[str, int] = {}
    for t in study.trials:
        out[t.state.name] = out.get(t.state.name, 0) + 1
    return out


@pytest.fixture(params=["sqlite", "postgresql"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shared.db'}"
        return
    if not PG_URL:
        pytest.skip("HPSEARCH_TEST_POSTGRES_URL is not set (.ci/run starts PostgreSQL and sets it)")
    yield PG_URL


@pytest.mark.slow
def test_four_workers_share_an_exact_budget_on_sqlite(tmp_path: Path) -> None:
    """Four real worker processes race for the last slots of a real store's budget; none
    overshoots it. 16 one-epoch trials of the tiny space: enough that several workers run some,
    and the race at the end is the same whatever the total (200 trials took 350 s)."""
    url = f"sqlite:///{tmp_path / 'stress.db'}"
    (tmp_path / "s.toml").write_text(
        study_text("stress", url, n_trials=16, max_epochs=1, samples=40)
    )
    run = hpsearch("run", "s.toml", "--workers", "4", cwd=tmp_path)
    _, err = run.communicate(timeout=300)
    assert run.returncode == 0, err[-2000:]
    assert states(url, "stress") == {"COMPLETE": 16}
    assert "database is locked" not in err
    with sqlite3.connect(tmp_path / "stress.db") as conn:
        workers = conn.execute(
            "SELECT COUNT(DISTINCT value_json) FROM trial_user_attributes WHERE key = 'worker'"
        ).fetchone()[0]
        claimed = conn.execute("SELECT claimed, n_trials FROM hpsearch_budget").fetchone()
    # At least two raced for slots (so the exact count above is a race's outcome). Not all
    # four: under load a worker still starting TensorFlow may find the budget already spent,
    # as it legitimately can (seen once in CI: 3 of 4).
    assert workers >= 2 and claimed == (16, 16)


def _wait_for(predicate, timeout: float = 120.0, why=None) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.3)
    raise AssertionError("timed out waiting" + (f"; {why()}" if why else ""))


def _stderr_if_ended(proc: subprocess.Popen[str]) -> str:
    if proc.poll() is None:
        return "still running"
    return f"exited {proc.returncode}: {proc.stderr.read() if proc.stderr else ''}"


def _running_trials(storage: str, name: str) -> dict[int, tuple[int, bool]]:
    """Each worker process's running trial: pid -> (trial number, whether it reported an epoch)."""
    try:
        study = _load(storage, name)
    except KeyError:
        return {}
    out: dict[int, tuple[int, bool]] = {}
    for t in study.get_trials(states=(optuna.trial.TrialState.RUNNING,)):
        worker = str(t.user_attrs.get("worker", ""))
        if ":" in worker:
            out[int(worker.rsplit(":", 1)[1])] = (t.number, bool(t.intermediate_values))
    return out


SHARED = 8
"""Trials of the study two workers share in the fault tests below."""


def _two_workers_one_training(
    storage: str, tmp_path: Path, prefix: str
) -> tuple[str, subprocess.Popen[str], subprocess.Popen[str], int]:
    """A study of ``SHARED`` trials created, two `hpsearch worker` processes on it, and the
    number of the trial the first (the victim) is training once it has reported an epoch
    while the other still trains one too. The other must still be at work: a worker whose
    budget is spent waits only the heartbeat's grace for running trials, so one that finished
    everything before the fault would rightly leave, and no one would fail the victim's trial
    (CI, once, on a loaded machine: with 3 trials of a few seconds, a worker that started a
    few seconds sooner could run all but the victim's). Eight trials leave the two workers
    overlapping unless one starts about twenty seconds after the other."""
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    (tmp_path / "s.toml").write_text(study_text(name, storage, n_trials=SHARED, max_epochs=12))
    create = hpsearch("create", "s.toml", cwd=tmp_path)
    assert create.wait(timeout=100) == 0, create.stderr.read() if create.stderr else ""
    victim = hpsearch("worker", name, "--storage", storage, "--quiet", cwd=tmp_path)
    other = hpsearch("worker", name, "--storage", storage, "--quiet", cwd=tmp_path)

    def both_training() -> bool:
        running = _running_trials(storage, name)
        return running.get(victim.pid, (0, False))[1] and other.pid in running

    _wait_for(both_training)
    return name, victim, other, _running_trials(storage, name)[victim.pid][0]


def _pause_between_transactions(victim: subprocess.Popen[str], storage: str) -> None:
    """SIGSTOP the victim at a moment it holds no lock on the store, as a starved process
    (what the pause stands for) eventually lets go of its transaction. Stopped inside one it
    would hold SQLite's write lock (or a PostgreSQL row lock) and the other worker would
    wait on that lock instead of failing the trial: inherent to a suspended holder of a
    lock, and what docs/workers.md says of Ctrl-Z on a worker."""
    for _ in range(500):
        victim.send_signal(signal.SIGSTOP)
        time.sleep(0.05)  # the stop has landed
        if not _holds_a_lock(victim.pid, storage):
            return
        victim.send_signal(signal.SIGCONT)
        time.sleep(0.01)
    raise AssertionError("the victim never paused outside a transaction")


def _holds_a_lock(pid: int, storage: str) -> bool:
    if storage.startswith("sqlite:///"):
        probe = sqlite3.connect(storage.removeprefix("sqlite:///"), timeout=0)
        try:
            probe.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:  # "database is locked": the victim is mid-write
            return True
        finally:
            probe.close()
        return False
    import sqlalchemy as sa

    engine = sa.create_engine(storage)
    try:
        with engine.connect() as conn:
            busy = conn.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE application_name LIKE :me AND state <> 'idle'"
                ),
                {"me": f"hpsearch %:{pid}"},
            ).scalar_one()
    finally:
        engine.dispose()
    return bool(busy)


@pytest.mark.slow
def test_killed_worker_trial_is_failed_retried_and_nothing_is_lost(
    storage: str, tmp_path: Path
) -> None:
    name, victim, other, killed = _two_workers_one_training(storage, tmp_path, "kill")
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert other.wait(timeout=300) == 0, other.stderr.read() if other.stderr else ""
    study = _load(storage, name)
    by_number = {t.number: t for t in study.trials}
    assert by_number[killed].state == optuna.trial.TrialState.FAIL
    retries = [t for t in study.trials if t.system_attrs.get("failed_trial") == killed]
    assert len(retries) == 1 and retries[0].state == optuna.trial.TrialState.COMPLETE
    assert retries[0].params == by_number[killed].params
    assert states(storage, name) == {"COMPLETE": SHARED, "FAIL": 1}


@pytest.mark.slow
def test_a_paused_worker_whose_trial_was_retried_goes_on_with_one_warning(
    storage: str, tmp_path: Path
) -> None:
    """A worker stopped (SIGSTOP: as a starved process looks to the others) for longer than
    the grace period has its trial failed and retried by the other worker's heartbeat check.
    Resumed, it must not write that trial's result or give its slot back a second time: one
    warning line, and it goes on (before: the worker crashed on Optuna's refusal)."""
    name, victim, other, paused = _two_workers_one_training(storage, tmp_path, "pause")
    _pause_between_transactions(victim, storage)
    try:
        _wait_for(
            lambda: _load(storage, name).trials[paused].state == optuna.trial.TrialState.FAIL,
            why=lambda: f"the other worker: {_stderr_if_ended(other)}",
        )
    finally:
        victim.send_signal(signal.SIGCONT)
    _, victim_err = victim.communicate(timeout=300)
    _, other_err = other.communicate(timeout=300)
    assert victim.returncode == 0 and other.returncode == 0, victim_err + other_err
    assert victim_err.splitlines() == [
        f"hpsearch: warning: trial {paused} of {name!r} was failed by another worker's "
        "heartbeat check while this worker, slowed down, still trained it; it is retried as "
        "a new trial, and this worker goes on (a longer [workers] grace_period avoids this "
        "on a busy machine)"
    ]
    study = _load(storage, name)
    retries = [t for t in study.trials if t.system_attrs.get("failed_trial") == paused]
    assert len(retries) == 1 and retries[0].state == optuna.trial.TrialState.COMPLETE
    assert states(storage, name) == {"COMPLETE": SHARED, "FAIL": 1}
    # Its slot freed once, not twice.
    assert Store.open(storage).budget(name).state() == (SHARED, SHARED)


@pytest.mark.slow
def test_two_workers_finish_a_shared_study_on_postgresql(tmp_path: Path) -> None:
    """`run --workers` on the many-machine store (on SQLite, the four-worker race above)."""
    if not PG_URL:
        pytest.skip("HPSEARCH_TEST_POSTGRES_URL is not set (.ci/run starts PostgreSQL and sets it)")
    storage = PG_URL
    name = f"pair-{uuid.uuid4().hex[:8]}"
    (tmp_path / "s.toml").write_text(study_text(name, storage, n_trials=6, max_epochs=1))
    run = hpsearch("run", "s.toml", "--workers", "2", cwd=tmp_path)
    _, err = run.communicate(timeout=300)
    assert run.returncode == 0, err[-2000:]
    assert states(storage, name) == {"COMPLETE": 6}


def test_worker_needs_an_existing_study(cli, tmp_path: Path) -> None:
    r = cli("worker", "nope", "--storage", f"sqlite:///{tmp_path / 'none.db'}")
    assert r.code == 1 and "no such database file" in r.err


@pytest.mark.slow
def test_ctrl_c_then_sigkill_then_a_rerun_loses_nothing(tmp_path: Path) -> None:
    """Ctrl-C records the trial as interrupted (one line, exit 130); a run then killed
    outright (SIGKILL) has its trial reclaimed at once by the next run on this machine (its
    process is gone), not left RUNNING until a heartbeat grace period, here a minute, runs
    out; that run completes the budget. One study, three runs (each start imports TensorFlow)."""
    url = f"sqlite:///{tmp_path / 'k.db'}"
    text = study_text("k", url, n_trials=2, max_epochs=15).replace(
        "grace_period = 4", "grace_period = 60"
    )
    (tmp_path / "s.toml").write_text(text)
    run = hpsearch("run", "s.toml", cwd=tmp_path)
    _wait_for(lambda: _running_trials(url, "k").get(run.pid, (0, False))[1])
    run.send_signal(signal.SIGINT)
    _, err = run.communicate(timeout=60)
    assert run.returncode == 130
    # One line: no blank line before it (click's, for a terminal's ^C) when not a terminal.
    assert err == "hpsearch: interrupted; the store is consistent, run again to resume\n"
    study = _load(url, "k")
    failed = [t for t in study.trials if t.state == optuna.trial.TrialState.FAIL]
    assert len(failed) == 1 and failed[0].user_attrs["stop_reason"] == "interrupted"
    assert not study.get_trials(states=(optuna.trial.TrialState.RUNNING,))

    run = hpsearch("run", "s.toml", cwd=tmp_path)
    _wait_for(lambda: _running_trials(url, "k").get(run.pid, (0, False))[1])
    killed = _running_trials(url, "k")[run.pid][0]
    run.send_signal(signal.SIGKILL)
    run.wait()
    again = hpsearch("run", "s.toml", cwd=tmp_path)
    _, err = again.communicate(timeout=300)
    assert again.returncode == 0, err[-2000:]
    study = _load(url, "k")
    lost = study.trials[killed]  # type: ignore[index]
    assert lost.state == optuna.trial.TrialState.FAIL
    assert lost.user_attrs["stop_reason"] == "worker lost"
    assert states(url, "k") == {"COMPLETE": 2, "FAIL": 2}


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False


@pytest.mark.slow
def test_workers_are_capped_and_stop_when_their_parent_is_killed(cli, tmp_path: Path) -> None:
    """No more workers than trials left, none over 4 per core, and a killed `run --workers`
    leaves no worker training on its own: each stops as on Ctrl-C (trial interrupted)."""
    url = f"sqlite:///{tmp_path / 'w.db'}"
    # Trials long enough that both workers are training at once however slowly the second
    # starts (each imports TensorFlow; 400 epochs of the tiny model could end first under load).
    (tmp_path / "s.toml").write_text(study_text("w", url, n_trials=2, max_epochs=20000))
    many = cli("run", str(tmp_path / "s.toml"), "--workers", "1000")
    assert many.code == 2 and many.err.count("\n") == 1 and "more than 4 per CPU core" in many.err
    assert not (tmp_path / "w.db").exists()

    run = hpsearch("run", "s.toml", "--workers", "4", cwd=tmp_path)

    def workers() -> list[int]:
        try:
            study = _load(url, "w")
        except KeyError:  # not created yet
            return []
        running = study.get_trials(states=(optuna.trial.TrialState.RUNNING,))
        return [
            int(str(t.user_attrs["worker"]).rsplit(":", 1)[1])
            for t in running
            if "worker" in t.user_attrs and t.intermediate_values
        ]

    _wait_for(lambda: len(workers()) == 2)
    pids = workers()
    run.send_signal(signal.SIGKILL)
    out, _ = run.communicate(timeout=30)
    assert "starting 2 worker(s): 2 of 2 trials left" in out
    _wait_for(lambda: not any(_alive(pid) for pid in pids), timeout=30)
    study = _load(url, "w")
    assert not study.get_trials(states=(optuna.trial.TrialState.RUNNING,))
    stopped = [t.user_attrs.get("stop_reason") for t in study.trials]
    assert stopped == ["interrupted", "interrupted"]
