"""``hpsearch run --workers N``: N local worker processes on one store.

The parent creates (or resumes) the study, then starts N ``hpsearch worker`` processes and
shows the study's progress by reading the store. Each process gets an equal share of the
CPU cores for TensorFlow's thread pools (:mod:`hpsearch.engine.threads`), so N workers do not
oversubscribe the machine. No more are started than the budget has trials left, and each
stops (as on Ctrl-C) when the parent is gone, so none is left training on its own.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import optuna
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from hpsearch.engine.devices import VISIBLE, placement
from hpsearch.engine.runner import Observe, Prepared, Unobserved, counted, start_study
from hpsearch.engine.threads import thread_env
from hpsearch.errors import ConfigError

_WORKER = "from hpsearch.cli.main import entry_point; entry_point()"
_PARENT = "HPSEARCH_PARENT_PID"
PER_CORE = 4  # each worker is a TensorFlow process (about 260 MB); more only share the cores


def check_workers(n_workers: int) -> None:
    """Refuse more local workers than the machine can hold, before anything is written."""
    cores = os.cpu_count() or 1
    if n_workers > PER_CORE * cores:
        raise ConfigError(
            f"--workers {n_workers}: more than {PER_CORE} per CPU core ({cores} here), each a "
            f"TensorFlow process; allowed: 1..{PER_CORE * cores} (for more, start "
            "`hpsearch worker` on other machines)"
        )


def worker_env(n_workers: int, gpus: str | None = None) -> dict[str, str]:
    """Environment for one of ``n_workers`` processes: its share of the cores, its GPUs
    (``CUDA_VISIBLE_DEVICES``, when ``--gpus`` placed it; see :mod:`hpsearch.engine.devices`),
    and who the parent is (see :func:`stop_with_parent`)."""
    # Its share, not the parent's settings.
    env = {**os.environ, **thread_env(n_workers), _PARENT: str(os.getpid())}
    if gpus is not None:
        env[VISIBLE] = gpus
    return env


def stop_with_parent() -> None:
    """In a worker that ``run --workers`` started: when that parent is gone (killed, say),
    stop as on Ctrl-C (the trial is recorded as interrupted, its slot goes back).

    Polled once a second by a daemon thread: Linux's PR_SET_PDEATHSIG would need a
    ``preexec_fn``, which is unsafe in the parent (TensorFlow's threads are running), and
    exists on Linux only."""
    parent = os.environ.pop(_PARENT, None)
    if not parent or not parent.isdigit():
        return

    def watch() -> None:
        while os.getppid() == int(parent):
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="hpsearch-parent", daemon=True).start()


def run_workers(
    prep: Prepared,
    n_workers: int,
    console: Console,
    observe: Observe = Unobserved,
    gpus: list[str] | None = None,
) -> optuna.Study:
    """Start the study, run up to ``n_workers`` worker processes (no more than the budget
    has trials left), wait for all of them. ``observe``: see :func:`start_study`; ``gpus``:
    the GPUs to place the workers on, round-robin (:func:`hpsearch.engine.devices.placement`)."""
    study, budget = start_study(prep, observe)
    cfg = prep.cfg
    claimed, total = budget.state()
    left = max(total - claimed, 0)
    if left < n_workers:
        n_workers = max(left, 1)  # one still runs retries of failed trials, if any
        console.print(f"starting {n_workers} worker(s): {left} of {total} trials left")
    command = [sys.executable, "-c", _WORKER, "worker", cfg.name, "--storage", cfg.storage]
    devices = placement(n_workers, gpus) if gpus else [None] * n_workers
    procs = [subprocess.Popen([*command, "--quiet"], env=worker_env(n_workers, d)) for d in devices]
    progress = Progress(
        TextColumn("{task.description}", style="bold", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )
    task = progress.add_task(f"{cfg.name} ({n_workers} workers)", total=cfg.budget.n_trials)
    try:
        with progress:
            while any(p.poll() is None for p in procs):
                progress.update(task, completed=counted(study))
                time.sleep(1.0)
            progress.update(task, completed=counted(study))
    except KeyboardInterrupt:
        for p in procs:  # a terminal already signalled them; a `kill -INT` of ours did not
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        for p in procs:
            p.wait()
        raise
    failed = [p.returncode for p in procs if p.returncode not in (0, None)]
    if failed:
        console.print(f"{len(failed)} of {n_workers} workers exited with errors: {failed}")
    return study
