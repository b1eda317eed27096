"""``hpsearch run --workers N``: N local worker processes on one store.

The parent creates (or resumes) the study, then starts N ``hpsearch worker`` processes and
shows the study's progress by reading the store. Each process gets an equal share of the
CPU cores for TensorFlow's thread pools (:mod:`hpsearch.threads`), so N workers do not
oversubscribe the machine.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import optuna
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from hpsearch.runner import Prepared, counted, start_study
from hpsearch.threads import thread_env

_WORKER = "from hpsearch.cli import entry_point; entry_point()"


def worker_env(n_workers: int) -> dict[str, str]:
    """Environment for one of ``n_workers`` processes: its share of the cores."""
    return {**os.environ, **thread_env(n_workers)}  # its share, not the parent's settings


def run_workers(prep: Prepared, n_workers: int, console: Console) -> optuna.Study:
    """Start the study, run ``n_workers`` worker processes, wait for all of them."""
    study, _ = start_study(prep)
    cfg = prep.cfg
    command = [sys.executable, "-c", _WORKER, "worker", cfg.name, "--storage", cfg.storage]
    procs = [
        subprocess.Popen([*command, "--quiet"], env=worker_env(n_workers)) for _ in range(n_workers)
    ]
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
