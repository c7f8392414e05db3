"""Stopping a run cleanly on SIGTERM or Ctrl-C: finish the step, write a checkpoint, say how to resume.

The first SIGTERM or SIGINT only records the request; the step loop sees it after the current step,
saves atomically and ends the stage as stopped, and the pipeline turns that into ``RunInterrupted``
(exit 143 or 130).  A second SIGINT while the checkpoint is pending stops at once (Python's usual
``KeyboardInterrupt``): the last checkpoint on disk is still whole, since checkpoints are written atomically.
Where nothing is left to save (the final evaluation, after every stage is written), ``at_once`` makes the
first signal stop the work where it is, rather than minutes later when the evaluation ends.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

#: Signals that ask for a clean stop, by name; their numbers give the exit codes (128 + n).
STOP_SIGNALS = {"SIGTERM": signal.SIGTERM, "SIGINT": signal.SIGINT}


class StopNow(BaseException):
    """Raised by the signal handler inside ``StopRequest.at_once``.  A ``BaseException``, as
    ``KeyboardInterrupt`` is, so that no ``except Exception`` on the way up takes it for a failure."""


class StopRequest:
    """The pending stop of this process, if any: which signal asked for it."""

    def __init__(self) -> None:
        self.signal: signal.Signals | None = None
        self.immediate = False

    @property
    def requested(self) -> bool:
        return self.signal is not None

    def handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signal is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt  # a second Ctrl-C: stop now
        self.signal = signal.Signals(signum)
        if self.immediate:
            raise StopNow(self.signal.name)

    @contextlib.contextmanager
    def at_once(self) -> Iterator[None]:
        """Within the block a stop request raises ``StopNow`` where the work is (one already pending, on entry)."""
        if self.signal is not None:
            raise StopNow(self.signal.name)
        self.immediate = True
        try:
            yield
        finally:
            self.immediate = False

    @property
    def exit_code(self) -> int:
        return 128 + int(self.signal) if self.signal is not None else 0


#: The stop request of the run in progress in this process (one run at a time).
current = StopRequest()


@contextlib.contextmanager
def stop_on_signals() -> Iterator[StopRequest]:
    """Within the block, SIGTERM and SIGINT request a clean stop (main thread only; elsewhere a no-op)."""
    global current
    current = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield current
        return
    previous = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS.values()}
    for sig in STOP_SIGNALS.values():
        signal.signal(sig, current.handle)
    try:
        yield current
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
