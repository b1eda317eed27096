"""TensorFlow thread-pool settings for one or several workers (hpsearch.engine.threads)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from hpsearch.engine.threads import cores, thread_env, use_threads
from hpsearch.engine.workers import worker_env


@pytest.mark.parametrize(
    ("machine", "workers", "intra"),
    [(2, 1, 1), (2, 2, 1), (2, 8, 1), (16, 1, 8), (16, 2, 4), (16, 4, 2), (16, 16, 1)],
)
def test_each_worker_gets_half_its_share_of_cores_and_two_inter_op_threads(
    monkeypatch: pytest.MonkeyPatch, machine: int, workers: int, intra: int
) -> None:
    monkeypatch.setattr("hpsearch.engine.threads.cores", lambda: machine)
    env = thread_env(workers)
    assert env == {"TF_NUM_INTRAOP_THREADS": str(intra), "TF_NUM_INTEROP_THREADS": "2"}


def test_cores_are_the_ones_this_process_may_use() -> None:
    assert 1 <= cores() <= (os.cpu_count() or 1)


def test_values_already_in_the_environment_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "7")
    monkeypatch.delenv("TF_NUM_INTEROP_THREADS", raising=False)
    use_threads()
    assert os.environ["TF_NUM_INTRAOP_THREADS"] == "7"
    assert os.environ["TF_NUM_INTEROP_THREADS"] == "2"


def test_a_worker_process_gets_its_share_not_the_parents_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TF_NUM_INTEROP_THREADS", "9")
    env = worker_env(2)
    assert env["TF_NUM_INTEROP_THREADS"] == "2"
    shown = subprocess.run(
        [sys.executable, "-c", "import os; print(os.environ['TF_NUM_INTEROP_THREADS'])"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert shown.stdout.strip() == "2"
