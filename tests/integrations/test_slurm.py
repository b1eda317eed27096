"""``hpsearch submit``: the job script and its checks here; on the real two-node Slurm cluster
that ``.ci/slurm up`` brings up (``HPSEARCH_TEST_SLURM_CONF``), a study run as a job array on
both nodes, and a node killed outright mid-trial."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import optuna
import pytest
import sqlalchemy as sa

from hpsearch.errors import ConfigError
from hpsearch.integrations.slurm import JobSpec, script
from hpsearch.store.schema import EPOCHS
from tests.engine.test_workers import PG_URL, hpsearch, study_text

REPO = Path(__file__).resolve().parents[2]
CONF = os.environ.get("HPSEARCH_TEST_SLURM_CONF")


def test_the_job_script_says_what_slurm_needs(tmp_path: Path) -> None:
    spec = JobSpec("s", "sqlite:////x/s.db", 8, 2, 1, "gpu", "2:00:00", tmp_path / "logs")
    text = script(spec, python="/venv/bin/python")
    for line in (
        "#SBATCH --array=0-7",
        "#SBATCH --cpus-per-task=2",
        "#SBATCH --gpus-per-task=1",
        "#SBATCH --partition=gpu",
        "#SBATCH --time=2:00:00",
        "#SBATCH --requeue",
        "#SBATCH --open-mode=append",
        f"#SBATCH --output={tmp_path / 'logs'}/%x-%A_%a.log",
        "exec /venv/bin/python -m hpsearch worker s --storage sqlite:////x/s.db",
    ):
        assert line in text.splitlines(), line
    assert "--gpus-per-task" not in script(JobSpec("s", "u", 1))


@pytest.mark.parametrize(
    ("spec", "named"),
    [
        (JobSpec("s", "u", 0), "--array 0"),
        (JobSpec("s", "u", 1, partition="a b"), "--partition 'a b'"),
        (JobSpec("s", "u", 1, time="1h"), "--time '1h'"),
        (JobSpec("s", "u", 1, cpus_per_task=0), "--cpus-per-task 0"),
    ],
)
def test_job_options_are_checked_first(spec: JobSpec, named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        spec.check()


@pytest.mark.slow
def test_without_slurm_submit_is_one_line_and_a_dry_run_writes_nothing(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'd.db'}"
    (tmp_path / "s.toml").write_text(study_text("d", storage, 2, 1))
    bare = {**os.environ, "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"}
    bare["PATH"] = ":".join(p for p in bare["PATH"].split(":") if not Path(p, "sbatch").exists())
    p = hpsearch("submit", "s.toml", "--array", "2", cwd=tmp_path, env=bare)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 1 and len(err.strip().splitlines()) == 1
    assert "sbatch is not on PATH" in err and "--dry-run" in err
    dry = hpsearch("submit", "s.toml", "--array", "2", "--dry-run", cwd=tmp_path, env=bare)
    out, err = dry.communicate(timeout=120)
    assert dry.returncode == 0, err
    assert "#SBATCH --array=0-1" in out and f"worker d --storage {storage}" in out
    written = sorted(set(os.listdir(tmp_path)) - {"keras-home"})  # the test's own KERAS_HOME
    assert written == ["s.toml"]  # no store, no script, no folder


# --- on the real cluster ---------------------------------------------------------------------

cluster = pytest.mark.skipif(
    CONF is None, reason="HPSEARCH_TEST_SLURM_CONF is not set (.ci/run starts Slurm and sets it)"
)


def slurm(*args: str) -> str:
    env = {**os.environ, "SLURM_CONF": str(CONF)}
    return subprocess.run(args, env=env, capture_output=True, text=True, check=True).stdout


def nodes_idle(timeout: float = 90) -> None:
    end = time.time() + timeout
    while time.time() < end:
        states = slurm("sinfo", "-h", "-N", "-o", "%N %t").split()
        if states.count("idle") == 2:
            return
        time.sleep(1)
    raise AssertionError(f"nodes not idle: {slurm('sinfo', '-N')}")


def wait_job(job: str, timeout: float) -> None:
    end = time.time() + timeout
    while time.time() < end:
        if not slurm("squeue", "-h", "-j", job).strip():
            return
        time.sleep(2)
    raise AssertionError(f"job {job} still queued: {slurm('squeue')}")


def submit(tmp_path: Path, storage: str, name: str, **study: int) -> str:
    (tmp_path / "s.toml").write_text(study_text(name, storage, **study))  # type: ignore[arg-type]
    env = {**os.environ, "SLURM_CONF": str(CONF)}
    p = hpsearch("submit", "s.toml", "--array", "2", "--dir", "jobs", cwd=tmp_path, env=env)
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0, err
    assert out.startswith("submitted job ")
    return out.split()[2].rstrip(":")


def check_store(storage: str, name: str, n_trials: int) -> list[optuna.trial.FrozenTrial]:
    """The budget ended exactly, nothing runs, and every finished trial's epochs are stored
    once each (the epoch table's key forbids doubles; a lost row shows as a short count)."""
    trials = optuna.load_study(study_name=name, storage=storage).trials
    done = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(done) == n_trials, [(t.number, t.state.name) for t in trials]
    assert not [t for t in trials if t.state == optuna.trial.TrialState.RUNNING]
    engine = sa.create_engine(storage)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(EPOCHS.c.trial_number, sa.func.count())
            .where(EPOCHS.c.study_name == name)
            .group_by(EPOCHS.c.trial_number)
        ).all()
        if storage.startswith("sqlite"):
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    engine.dispose()
    counts: dict[int, int] = {int(n): int(c) for n, c in rows}
    for t in done:
        assert counts.get(t.number) == t.user_attrs["epochs"], t.number
    return trials


@pytest.fixture
def storage(tmp_path: Path) -> str:
    return PG_URL or f"sqlite:///{tmp_path / 'cluster.db'}"


@cluster
@pytest.mark.slow
def test_a_job_array_runs_trials_on_both_nodes_and_ends_the_budget_exactly(
    tmp_path: Path, storage: str
) -> None:
    nodes_idle()
    name = f"slurm-{uuid.uuid4().hex[:8]}"
    job = submit(tmp_path, storage, name, n_trials=6, max_epochs=3)
    wait_job(job, 600)
    trials = check_store(storage, name, 6)
    assert not [t for t in trials if t.state == optuna.trial.TrialState.FAIL]  # no false reclaim
    hosts = {t.user_attrs["worker"].split(":")[0] for t in trials}
    assert hosts == {"n1", "n2"}
    logs = sorted((tmp_path / "jobs" / "logs").glob(f"*-{job}_*.log"))
    assert len(logs) == 2 and all("on n" in log.read_text() for log in logs)
    shown = hpsearch("trials", name, "--storage", storage, cwd=tmp_path)
    assert "n1" in shown.communicate(timeout=120)[0]


@cluster
@pytest.mark.slow
def test_a_node_killed_mid_trial_loses_nothing(tmp_path: Path, storage: str) -> None:
    nodes_idle()
    name = f"slurm-kill-{uuid.uuid4().hex[:8]}"
    job = submit(tmp_path, storage, name, n_trials=4, max_epochs=30, samples=3000)
    study = optuna.load_study(study_name=name, storage=storage)
    victim = None
    end = time.time() + 300
    while victim is None and time.time() < end:
        running = study.get_trials(states=(optuna.trial.TrialState.RUNNING,))
        victim = next(
            (t for t in running if t.user_attrs.get("worker", "").startswith("n2:")), None
        )
        time.sleep(0.5)
    assert victim is not None, "no trial ran on n2"
    dir_ = Path(str(CONF)).parent
    os.kill(int((dir_ / "ns-n2.pid").read_text()), 9)  # slurmd and every process of its jobs
    time.sleep(25)  # Slurm marks n2 down (SlurmdTimeout) and requeues its task
    subprocess.run(["bash", str(REPO / ".ci" / "slurm"), "node", "n2", str(dir_)], check=True)
    wait_job(job, 900)
    trials = check_store(storage, name, 4)
    killed = trials[victim.number]
    assert killed.state == optuna.trial.TrialState.FAIL
    retries = [t for t in trials if t.system_attrs.get("failed_trial") == victim.number]
    assert len(retries) == 1 and retries[0].state == optuna.trial.TrialState.COMPLETE
    assert retries[0].params == killed.params
    requeued = slurm("scontrol", "show", "job", job)
    assert "Restarts=1" in requeued
    nodes_idle()
