"""Ctrl-C and SIGTERM for ``run`` and ``worker``: stop cleanly once, at once the second time.

The first SIGINT or SIGTERM (a cluster scheduler's preemption) raises KeyboardInterrupt in
the training loop: the running trial is recorded as failed ("interrupted"), its budget slot
is released, and the process exits 130. A second signal while that happens exits at once;
the heartbeat then fails the trial and a later run retries it.

While a model trains, the first signal is not raised where it lands: Keras and TensorFlow
have code that catches everything (bare ``except:`` around graph tracing, for one) and would
swallow it, and the run would go on. Inside :func:`deferred` the handler only records the
signal, and :class:`~hpsearch.engine.trial.StopOnSignal` raises it at the next batch or epoch
boundary, from our own code.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

INTERRUPTED = 130


class Interrupted(Exception):  # noqa: N818 - an event, as KeyboardInterrupt is
    """A run stopped by its first signal, after recording it. Not a KeyboardInterrupt, so
    that click passes it to the CLI's edge untouched (click answers KeyboardInterrupt with a
    blank line on stderr, which made the one-line message two when stderr is not a terminal)."""


@contextmanager
def interruptible() -> Iterator[None]:
    """Install the two-stage handler for the duration of a run (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    seen = 0

    def handler(signum: int, frame: FrameType | None) -> None:
        nonlocal seen
        seen += 1
        if seen > 1:
            os._exit(INTERRUPTED)
        if _state["deferring"]:
            _state["pending"] = True
            return
        raise KeyboardInterrupt

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    except KeyboardInterrupt:
        raise Interrupted from None
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


_state = {"deferring": False, "pending": False}


@contextmanager
def deferred() -> Iterator[None]:
    """While training: a first signal is recorded, and raised by :func:`raise_pending`."""
    _state["deferring"] = True
    try:
        yield
        raise_pending()
    finally:
        _state["deferring"] = False


def raise_pending() -> None:
    """Raise the KeyboardInterrupt a signal left pending (a safe point: our own code)."""
    if _state["pending"]:
        _state["pending"] = False
        raise KeyboardInterrupt
