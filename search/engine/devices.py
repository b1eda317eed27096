"""GPUs for training processes: which devices each local worker sees, and what a trial ran on.

``run --workers N --gpus 0,1`` (or ``--gpus all``) gives each worker process its GPU(s) through
``CUDA_VISIBLE_DEVICES``, round-robin over the list, so N TensorFlow processes do not each
grab every GPU. Every training process also gets TensorFlow's memory growth
(``TF_FORCE_GPU_ALLOW_GROWTH``), so several small trials can share one large GPU instead of the
first taking all its memory. ``hpsearch worker`` never sets ``CUDA_VISIBLE_DEVICES``: under
Slurm (``--gpus-per-task``) the devices it was given are the ones it uses.

The parent lists the machine's GPUs with ``nvidia-smi -L`` rather than through TensorFlow:
initialising CUDA in the parent would hold a context (and memory) on every GPU for the whole
run. Values already in the environment win.
"""

from __future__ import annotations

import os
import shutil
import subprocess

from hpsearch.errors import ConfigError

GROWTH = "TF_FORCE_GPU_ALLOW_GROWTH"
VISIBLE = "CUDA_VISIBLE_DEVICES"


def machine_gpus() -> list[str]:
    """The indices of this machine's NVIDIA GPUs (``nvidia-smi -L``); none without a driver."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return []
    try:
        listing = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return []
    lines = [line for line in listing.stdout.splitlines() if line.startswith("GPU ")]
    return [line.split()[1].rstrip(":") for line in lines] if listing.returncode == 0 else []


def parse_gpus(text: str, available: list[str]) -> list[str]:
    """``--gpus all`` or ``--gpus 0,1``, checked against the GPUs this machine has."""
    wanted = text.strip()
    if not available:
        raise ConfigError(
            f"--gpus {text}: this machine has no GPU (nvidia-smi lists none); allowed: leave "
            "--gpus out to train on the CPU"
        )
    if wanted == "all":
        return list(available)
    ids = [part.strip() for part in wanted.split(",")]
    bad = [i for i in ids if i and i not in available]
    if bad or "" in ids or len(set(ids)) != len(ids):
        what = (
            f"{', '.join(bad)} is not a GPU of this machine"
            if bad
            else "an empty or repeated index"
        )
        raise ConfigError(
            f"--gpus {text!r}: {what}; allowed: all, or distinct indices from "
            f"{', '.join(available)}"
        )
    return ids


def placement(n_workers: int, gpus: list[str]) -> list[str]:
    """``CUDA_VISIBLE_DEVICES`` of each of ``n_workers`` workers: GPU ``i`` to worker
    ``i mod n_workers`` when there are more GPUs than workers, else worker ``w`` to GPU
    ``w mod len(gpus)`` (several workers share a GPU, memory growth on)."""
    if not gpus:
        return [""] * n_workers
    if len(gpus) >= n_workers:
        return [",".join(gpus[w::n_workers]) for w in range(n_workers)]
    return [gpus[w % len(gpus)] for w in range(n_workers)]


def use_memory_growth() -> None:
    """TensorFlow allocates GPU memory as it needs it, not all at once (no effect on CPU)."""
    os.environ.setdefault(GROWTH, "true")


def devices() -> str:
    """What this process trains on, for every trial it runs (its host is in the trial's
    ``worker``): ``gpu:<CUDA_VISIBLE_DEVICES>`` when TensorFlow sees a GPU, else ``cpu`` (with
    the ``CUDA_VISIBLE_DEVICES`` it was placed on, if any)."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        placed = os.environ.get(VISIBLE)
        # Placed on a GPU that TensorFlow cannot use (no CUDA build, no driver): say so.
        return f"cpu ({VISIBLE}={placed})" if placed else "cpu"
    visible = os.environ.get(VISIBLE, ",".join(str(i) for i in range(len(gpus))))
    return f"gpu:{visible}"
