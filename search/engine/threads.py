"""TensorFlow's thread pools for one of N training processes on this machine.

A trial trains small tensors (a batch of reviews through an LSTM of about a hundred units):
splitting one matrix product across cores (the intra-op pool) costs more in hand-offs than
it saves, while the inter-op pool runs the LSTM's while-loop and the ops around it side by
side and needs at least two threads. ``benchmarks/speed.py`` measures these settings
against TensorFlow's defaults (intra = inter = all cores) and the earlier worker settings
(inter = 1). TensorFlow reads the two variables when it starts its runtime, so they are set
before the first operation runs; values already in the environment win.
"""

from __future__ import annotations

import os


def cores() -> int:
    """CPU cores this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def thread_env(n_workers: int) -> dict[str, str]:
    """Thread-pool variables for one of ``n_workers`` processes: half its share of the cores
    for intra-op work (at least one), two inter-op threads."""
    share = max(1, cores() // max(1, n_workers))
    return {"TF_NUM_INTRAOP_THREADS": str(max(1, share // 2)), "TF_NUM_INTEROP_THREADS": "2"}


def use_threads(n_workers: int = 1) -> None:
    """Set this process's thread-pool variables unless the environment already has them."""
    for key, value in thread_env(n_workers).items():
        os.environ.setdefault(key, value)
