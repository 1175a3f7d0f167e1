"""Asking the hardened daemon: one operation per connection, its answer as the daemon wrote it."""

from __future__ import annotations

import _socket
import contextlib
import functools
import json
from typing import Any, BinaryIO

from blastdoor.broker.interrupts import Relay
from blastdoor.errors import HomeError
from blastdoor.hardened.layout import System
from blastdoor.integrations import hook_client

TIMEOUT_SECONDS = 30.0
BROKERED_SECONDS = 6 * 3600  # a brokered call (a restore, a backup check) answers when it is done
MAX_GATHERED = 16 * 1024 * 1024  # of a streamed output nobody passes on, what is kept


def call(system: System, op: str, *, timeout: float = TIMEOUT_SECONDS, out: BinaryIO | None = None,
         err: BinaryIO | None = None, interrupts: Relay | None = None, **fields: Any) -> tuple[int, str, str]:  # fmt: skip
    """(exit code, stdout, stderr) of ``op`` run by the daemon for this process's user. A brokered
    call's output streams in as the call prints it: passed on to ``out`` / ``err`` as it comes
    when they are given (and then not returned), else gathered. ``interrupts`` noted meanwhile
    are sent to the daemon for an interruptible call, two at most (SIGINT, then SIGKILL for the
    program); one more, or any for another call, stops waiting (KeyboardInterrupt: the daemon runs
    the call on). One noted before the call was sent keeps it from being sent (:class:`NotSent`)."""
    message = hook_client.OP_PROTOCOL + b"\0" + json.dumps({"op": op, **fields}).encode()
    interrupts = interrupts or Relay()
    try:
        try:
            sock = hook_client.connect(str(system.socket), timeout)
        except KeyboardInterrupt:
            raise NotSent from None
        try:
            if interrupts.count:
                raise NotSent
            hook_client.send_frame(sock, message)
            with interrupts.passing_to(functools.partial(_interrupt, sock, limit=2 if op in INTERRUPTIBLE else 0)):
                code, stdout, stderr = _answer(sock, out, err, interrupts)
        finally:
            sock.close()
    except OSError as error:
        raise HomeError(f"the Blastdoor daemon at {system.socket} is not answering ({error.strerror or error})",
                        hint="a person starts it: sudo blastdoor install --system") from None  # fmt: skip
    if not code.lstrip(b"-").isdigit():
        raise HomeError("the daemon's answer is malformed", hint="is this Blastdoor the daemon's version?")
    return int(code), stdout.decode("utf-8", "replace"), stderr.decode("utf-8", "replace")


class NotSent(KeyboardInterrupt):
    """Interrupted before the call reached the daemon: nothing of it ran."""


def _interrupt(sock: _socket.socket, number: int, *, limit: int) -> None:
    if number > limit:
        raise KeyboardInterrupt  # the daemon does not act on more: stop waiting
    with contextlib.suppress(OSError):  # gone: the answer that does not come says so
        hook_client.send_frame(sock, hook_client.INTERRUPT)


def _answer(sock: _socket.socket, out: BinaryIO | None, err: BinaryIO | None,
            interrupts: Relay) -> tuple[bytes, bytes, bytes]:  # fmt: skip
    """The exit code and the two outputs, from three frames, or from a streamed answer. Each
    frame is awaited through ``interrupts``, so one noted meanwhile is sent on at once."""

    def next_frame() -> bytes:
        interrupts.await_readable(sock.fileno(), sock.gettimeout())
        return hook_client.recv_frame(sock)

    first = next_frame()
    if first != hook_client.STREAMED:
        return first, next_frame(), next_frame()
    sock.settimeout(BROKERED_SECONDS)
    stdout, stderr = hook_client.STDOUT, hook_client.STDERR
    gathered = {stdout: bytearray(), stderr: bytearray()}
    sinks = {stdout: out, stderr: err}
    while True:
        frame = next_frame()
        tag, data = frame[:1], frame[1:]
        if tag == hook_client.EXIT:
            return data, bytes(gathered[stdout]), bytes(gathered[stderr])
        sink = sinks.get(tag)
        if sink is not None:
            sink.write(data)
            sink.flush()
        elif tag in gathered:
            gathered[tag] += data[: MAX_GATHERED - len(gathered[tag])]


def ask(system: System, op: str, **fields: Any) -> str:
    """The standard output of ``op``; its error, raised as one line, when it failed."""
    code, out, err = call(system, op, **fields)
    if code != 0:
        from blastdoor.errors import BlastdoorError

        raise BlastdoorError(err.strip().removeprefix("blastdoor: ") or f"the daemon refused {op}")
    return out


INTERRUPTIBLE = frozenset({"exec"})  # brokered calls a Ctrl-C stops; the others run to their end


def relayed(op: str, **fields: Any) -> int | None:
    """In hardened mode, for any user but the daemon's: run brokered call ``op`` in the daemon and
    pass on what it prints as it prints it; its exit code. None otherwise: the caller does the work
    itself. A Ctrl-C (or SIGTERM, SIGHUP) reaches an ``exec`` (which then says so and exits 130);
    any other call runs on in the daemon, and this process says so and exits 130. One that comes
    before the call reached the daemon sends nothing."""
    import sys

    from blastdoor.broker.interrupts import EXIT_INTERRUPTED, caught
    from blastdoor.hardened.layout import served_by_daemon

    system = served_by_daemon()
    if system is None:
        return None
    sys.stdout.flush()
    sys.stderr.flush()
    interrupts = Relay()
    try:
        with caught(interrupts):  # SIGINT, SIGTERM and SIGHUP
            code, out, err = call(system, op, timeout=BROKERED_SECONDS, out=sys.stdout.buffer, err=sys.stderr.buffer,
                                  interrupts=interrupts, **fields)  # fmt: skip
    except NotSent:
        print("blastdoor: interrupted before the call reached the daemon; nothing ran", file=sys.stderr)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        print("blastdoor: interrupted; the daemon runs the call to its end and records how it ended", file=sys.stderr)
        return EXIT_INTERRUPTED
    sys.stdout.write(out)  # an answer that was not streamed: a refusal
    sys.stderr.write(err)
    return code
