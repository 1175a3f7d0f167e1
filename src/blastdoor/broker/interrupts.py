"""Ctrl-C during a brokered call: passed on to the program, never raised wherever Python happens to be.

A :class:`Relay` counts the interrupts asked for, by SIGINT in this process (:func:`caught`) or
by a message from the daemon's caller, and passes each on to what runs now (:meth:`Relay.passing_to`).
Every layer does the same with them: the first asks the program to stop (SIGINT: Terraform, for one,
then finishes what it is in the middle of and saves its state), a second one ends it (SIGKILL), as
at a terminal. An interrupt that arrives before the program started keeps it from starting. The
call is then recorded as interrupted and ``blastdoor exec`` exits with 130 (128 + SIGINT).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType

EXIT_INTERRUPTED = 128 + signal.SIGINT

# called with the interrupt's number: 1 for the first, 2 for the next ...
Forward = Callable[[int], None]


class Relay:
    def __init__(self) -> None:
        self.count = 0
        self._forward: Forward | None = None
        self._lock = threading.RLock()  # a signal handler may run while its own thread holds it

    def note(self) -> bool:
        """One more interrupt: passed on at once when something runs (True), else only counted."""
        with self._lock:
            self.count += 1
            if self._forward is None:
                return False
            self._forward(self.count)
            return True

    @contextlib.contextmanager
    def passing_to(self, forward: Forward) -> Iterator[None]:
        """While the block runs, each interrupt goes to ``forward``; those that came before go
        at once."""
        with self._lock:
            self._forward = forward
            for number in range(1, self.count + 1):
                forward(number)
        try:
            yield
        finally:
            with self._lock:
                self._forward = None


@contextlib.contextmanager
def caught(relay: Relay) -> Iterator[Relay]:
    """SIGINT noted by ``relay`` instead of raised while the block runs. With nothing to pass it to,
    a second one raises KeyboardInterrupt, so a call stuck before its program starts can still be
    left. Only the main thread receives signals; elsewhere this changes nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield relay
        return

    def noted(_signum: int, _frame: FrameType | None) -> None:
        if not relay.note() and relay.count > 1:
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, noted)
    try:
        yield relay
    finally:
        signal.signal(signal.SIGINT, previous)
