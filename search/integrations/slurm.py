"""Slurm: the job script that runs a study's workers as a job array, and its submission.

A study is created first (validated as ``hpsearch run`` validates it); then every array task
runs ``hpsearch worker`` on the shared store until the budget is spent. The script asks Slurm
to requeue a task whose node fails (``--requeue``; the trial it held is failed by the heartbeat
and retried elsewhere), appends each task's log across requeues (``--open-mode=append``), and
puts the vectorization cache on node-local scratch (``$TMPDIR``), so two nodes never write one
cache. Submission is ``sbatch --parsable``: the library options for Slurm (pyslurm, submitit)
need Slurm's headers or pickle Python callables, while a plain script is what a Slurm user can
read, keep and resubmit by hand.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from hpsearch.errors import ConfigError, HpsearchError

TIME = re.compile(r"^(\d+-)?\d+(:\d{1,2}){0,2}$|^\d+-\d+$")
"""Slurm's time formats: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS."""
PARTITION = re.compile(r"^[A-Za-z0-9_.-]+$")


class SlurmError(HpsearchError):
    """Slurm is missing or refused the job (a fault of the environment: exit 1)."""

    exit_code = 1


@dataclass(frozen=True)
class JobSpec:
    """What one job array asks of Slurm: ``array`` tasks, each one worker."""

    study: str
    storage: str
    array: int
    cpus_per_task: int = 1
    gpus_per_task: int = 0
    partition: str | None = None
    time: str | None = None
    logs: Path = Path("hpsearch-logs")

    def check(self) -> None:
        """Every option, named with what is allowed, before anything is written."""
        if self.array < 1 or self.array > 10000:
            raise ConfigError(f"--array {self.array}: allowed: 1..10000 tasks (one worker each)")
        if self.cpus_per_task < 1:
            raise ConfigError(f"--cpus-per-task {self.cpus_per_task}: allowed: >= 1")
        if self.gpus_per_task < 0:
            raise ConfigError(f"--gpus-per-task {self.gpus_per_task}: allowed: >= 0")
        if self.partition is not None and not PARTITION.match(self.partition):
            raise ConfigError(
                f"--partition {self.partition!r}: allowed: a partition name (letters, digits, "
                "'_', '.', '-')"
            )
        if self.time is not None and not TIME.match(self.time):
            raise ConfigError(
                f"--time {self.time!r}: allowed: Slurm's formats, e.g. 90, 1:30:00, 2-00:00:00"
            )


def script(spec: JobSpec, python: str = sys.executable) -> str:
    """The job script: one ``hpsearch worker`` per array task on the study's store."""
    logs = spec.logs.resolve()
    lines = [
        "#!/bin/bash",
        f"# hpsearch: {spec.array} workers for study {spec.study!r}; resubmit with: sbatch THIS",
        f"#SBATCH --job-name=hpsearch-{spec.study[:40]}",
        f"#SBATCH --array=0-{spec.array - 1}",
        "#SBATCH --ntasks=1",
        f"#SBATCH --cpus-per-task={spec.cpus_per_task}",
    ]
    if spec.gpus_per_task:
        lines.append(f"#SBATCH --gpus-per-task={spec.gpus_per_task}")
    if spec.partition:
        lines.append(f"#SBATCH --partition={spec.partition}")
    if spec.time:
        lines.append(f"#SBATCH --time={spec.time}")
    lines += [
        "#SBATCH --requeue",  # a failed node's task runs again elsewhere
        "#SBATCH --open-mode=append",  # a requeued task's log continues, not overwritten
        f"#SBATCH --output={logs}/%x-%A_%a.log",
        "",
        "# TensorFlow's thread pools sized to the task's CPUs; GPU memory taken as needed.",
        'export TF_NUM_INTRAOP_THREADS="${SLURM_CPUS_PER_TASK:-1}"',
        "export TF_NUM_INTEROP_THREADS=2",
        "export TF_FORCE_GPU_ALLOW_GROWTH=true",
        "# The vectorization cache on node-local scratch: each node its own.",
        'export HPSEARCH_CACHE="${HPSEARCH_CACHE:-${TMPDIR:-/tmp}/hpsearch-cache-$USER}"',
        'echo "task ${SLURM_ARRAY_TASK_ID} on $(hostname) (restart ${SLURM_RESTART_COUNT:-0})"',
        f"exec {shlex.quote(python)} -m hpsearch worker {shlex.quote(spec.study)} "
        f"--storage {shlex.quote(spec.storage)}",
        "",
    ]
    return "\n".join(lines)


def sbatch() -> str:
    """The ``sbatch`` to submit with, or one line saying this is not a Slurm submit host."""
    found = shutil.which("sbatch")
    if found is None:
        raise SlurmError(
            "sbatch is not on PATH: this machine is not a Slurm submit host; run `hpsearch "
            "submit` on the cluster's login node, or add --dry-run to see the job script"
        )
    return found


def submit(path: Path, command: str) -> str:
    """Submit the job script at ``path``; returns the job id."""
    try:
        done = subprocess.run(
            [command, "--parsable", str(path)], capture_output=True, text=True, timeout=120
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise SlurmError(f"sbatch {path}: {exc}") from None
    if done.returncode != 0:
        reason = " ".join((done.stderr or done.stdout).split()) or f"exit {done.returncode}"
        raise SlurmError(f"sbatch refused {path}: {reason}")
    return done.stdout.strip().split(";")[0]
