"""Ctrl-C during a brokered call: passed on to the program, never raised wherever Python happens to be.

A :class:`Relay` counts the interrupts asked for, by a signal to this process (:func:`caught`:
SIGINT, and SIGTERM and SIGHUP, how harnesses cancel and terminals hang up) or by a message from
the daemon's caller, and passes each on to what runs now (:meth:`Relay.passing_to`). Every layer
does the same with them: the first asks the program to stop (SIGINT: Terraform, for one, then
finishes what it is in the middle of and saves its state), a second one ends it (SIGKILL), as at a
terminal. An interrupt that arrives before the program started keeps it from starting. The call is
then recorded as interrupted and ``blastdoor exec`` exits with 130 (128 + SIGINT).

Once the call's decision is written (:meth:`Relay.hold`), its outcome is always written too: from
then on no interrupt raises, however many come.

Python runs a signal's handler in the main thread, between two steps of its own code; a signal that
lands just before the main thread goes to sleep in a ``recv`` or a ``wait`` (or one taken by another
thread meanwhile) would be noted only when that sleep ends, perhaps a minute later. So a call waits
through :meth:`Relay.await_readable`, which also wakes for a byte :func:`caught` has each signal
write to a pipe (``signal.set_wakeup_fd``): no signal can slip in before the sleep.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import threading
import time
from collections.abc import Callable, Iterator
from types import FrameType

EXIT_INTERRUPTED = 128 + signal.SIGINT
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)  # each is an interrupt while a call runs

# called with the interrupt's number: 1 for the first, 2 for the next ...
Forward = Callable[[int], None]


def stop_signal(number: int) -> signal.Signals:
    """What interrupt ``number`` is to the program itself: the first asks it to stop (SIGINT),
    any later one ends it (SIGKILL)."""
    return signal.SIGINT if number == 1 else signal.SIGKILL


class Relay:
    def __init__(self) -> None:
        self.count = 0
        self.held = False  # the decision is written: the outcome must be too, so nothing raises
        self._forward: Forward | None = None
        self._lock = threading.RLock()  # a signal handler may run while its own thread holds it
        self.wakeup: int | None = None  # readable once a signal came (caught), till drained

    def note(self) -> bool:
        """One more interrupt: passed on at once when something runs (True), else only counted."""
        with self._lock:
            self.count += 1
            if self._forward is None:
                return False
            self._forward(self.count)
            return True

    def hold(self) -> None:
        """From now on an interrupt is never raised (:func:`caught`), only counted and passed on."""
        self.held = True

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

    def await_readable(self, fd: int, timeout: float | None = None) -> None:
        """Return once ``fd`` can be read (or is closed), noting each interrupt that comes
        meanwhile as it comes (its handler runs here, and passes it on); TimeoutError after
        ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        if self.wakeup is not None:
            poller.register(self.wakeup, select.POLLIN)
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready = {found for found, _ in poller.poll(None if left is None else left * 1000)}
            if self.wakeup in ready:
                with contextlib.suppress(BlockingIOError):
                    while os.read(self.wakeup, 512):  # back in Python: the handlers have run
                        pass
            if fd in ready:
                return
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError("timed out")


@contextlib.contextmanager
def caught(relay: Relay) -> Iterator[Relay]:
    """SIGINT, SIGTERM and SIGHUP noted by ``relay`` instead of acted on while the block runs. With
    nothing to pass it to, a second one raises KeyboardInterrupt, so a call stuck before its
    decision can still be left; once the relay holds (the decision is written) none raises. Only
    the main thread receives signals; elsewhere this changes nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield relay
        return

    def noted(_signum: int, _frame: FrameType | None) -> None:
        if not relay.note() and relay.count > 1 and not relay.held:
            raise KeyboardInterrupt

    wakeup, woken = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    previous_fd = signal.set_wakeup_fd(woken, warn_on_full_buffer=False)
    relay.wakeup = wakeup
    previous = {number: signal.signal(number, noted) for number in SIGNALS}
    try:
        yield relay
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        signal.set_wakeup_fd(previous_fd)
        relay.wakeup = None
        os.close(wakeup)
        os.close(woken)
