"""Running one program with a profile's secrets in its environment, and only in its environment.

No shell: argv runs as given. The child's standard input is closed (everything it does must be in
the judged argv); its output is passed on through a :class:`~blastdoor.broker.scrub.Scrubber` per
stream and digested after scrubbing, so the ledger's digest matches what the agent was shown.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

from blastdoor.broker.errors import BrokerError
from blastdoor.broker.interrupts import EXIT_INTERRUPTED, Relay, stop_signal
from blastdoor.broker.scrub import Scrubber

CHUNK = 64 * 1024


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    stdout_sha256: str
    stderr_sha256: str
    output_bytes: int
    seconds: float
    interrupted: bool = False  # a Ctrl-C was passed on to the program (broker/interrupts.py)
    started: bool = True

    @classmethod
    def not_started(cls) -> Outcome:
        """A call interrupted before its program started."""
        empty = hashlib.sha256(b"").hexdigest()
        return cls(EXIT_INTERRUPTED, empty, empty, output_bytes=0, seconds=0.0, interrupted=True, started=False)


def run_program(argv: Sequence[str], *, secrets: Mapping[str, str], hidden: Sequence[tuple[str, str]], cwd: str,
                stdout: BinaryIO, stderr: BinaryIO, runner: str = "", files: Mapping[int, Path] | None = None,
                interrupts: Relay | None = None) -> Outcome:  # fmt: skip
    """Run ``argv`` with ``secrets`` added to its environment; ``hidden`` are the (name, value)
    pairs removed from its output. With ``runner`` (hardened mode: the runners' sockets, joined by
    ``os.pathsep``) a free runner starts it under its user, with a plain environment and the
    secrets; ``files`` are the argv
    words naming files of this user's (a pinned plan) that the runner's user gets private copies of.
    ``interrupts`` noted while it runs are passed on to it: SIGINT, then SIGKILL."""
    interrupts = interrupts or Relay()
    if runner:
        return _through_runner(runner, argv, secrets=secrets, hidden=hidden, cwd=cwd, stdout=stdout, stderr=stderr,
                               files=files or {}, interrupts=interrupts)  # fmt: skip
    env = {**os.environ, **secrets}
    started = time.monotonic()
    if interrupts.count:  # again, just before it starts: an interrupt that came meanwhile keeps it from starting
        return Outcome.not_started()
    try:
        # a session of its own: it is signalled by blastdoor alone, and its whole process group can be
        child = subprocess.Popen(list(argv), env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, start_new_session=True)  # fmt: skip
    except FileNotFoundError:
        raise BrokerError(f"program {argv[0][:200]!r} not found", hint="name a program on PATH or give its full path") from None
    except OSError as error:
        raise BrokerError(f"cannot start {argv[0][:200]!r}: {error.strerror or error}",
                          hint="check that it is an executable program") from None  # fmt: skip
    assert child.stdout is not None and child.stderr is not None
    pumps = _pumps(child.stdout, child.stderr, stdout, stderr, hidden)
    passed: list[int] = []
    with interrupts.passing_to(functools.partial(_stop, child, passed)):
        code = _wait(child, interrupts)
        _drain(pumps, interrupts)
    return _outcome(128 - code if code < 0 else code, pumps, started, interrupted=bool(passed))


def _wait(child: subprocess.Popen[bytes], interrupts: Relay) -> int:
    """The program's exit code, awaited through ``interrupts`` on a descriptor that becomes
    readable when it ends, so each interrupt reaches it as it comes. Without one (not Linux 5.3
    or later), by Popen's own polling, which runs the handlers between its short sleeps."""
    try:
        ended = os.pidfd_open(child.pid)
    except (AttributeError, OSError):
        while True:
            with contextlib.suppress(subprocess.TimeoutExpired):
                return child.wait(timeout=1)
    try:
        interrupts.await_readable(ended)
    finally:
        os.close(ended)
    return child.wait()


PUMP_SECONDS = 30


def _drain(pumps: list[_Pump], interrupts: Relay) -> None:
    """Wait for the output to end; once interrupted, for PUMP_SECONDS at most (a process the
    program left holding its pipes is not waited for)."""
    deadline = 0.0
    for pump in pumps:
        while pump.is_alive():
            pump.join(0.2)
            if interrupts.count:
                deadline = deadline or time.monotonic() + PUMP_SECONDS
                if time.monotonic() > deadline:
                    return


def _stop(child: subprocess.Popen[bytes], passed: list[int], number: int) -> None:
    """Pass interrupt ``number`` on to ``child``'s process group, as a terminal would: the first
    as SIGINT, the next ones as SIGKILL (its children too). ``passed`` notes each one sent while
    it still ran."""
    if child.returncode is not None:
        return  # it ended already: nothing was interrupted
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, stop_signal(number))
        passed.append(number)


RUNNER_ENV = ("PATH", "LANG", "LC_ALL", "TZ")  # all the daemon passes on besides the secrets


def _through_runner(runner: str, argv: Sequence[str], *, secrets: Mapping[str, str], hidden: Sequence[tuple[str, str]],
                    cwd: str, stdout: BinaryIO, stderr: BinaryIO, files: Mapping[int, Path], interrupts: Relay) -> Outcome:  # fmt: skip
    from blastdoor.hardened import runner as runner_socket

    env = {k: v for k in RUNNER_ENV if (v := os.environ.get(k))} | {"HOME": "/nonexistent", **secrets}
    started = time.monotonic()
    handed = _opened(files)
    (out_r, out_w), (err_r, err_w) = os.pipe(), os.pipe()
    pumps = _pumps(os.fdopen(out_r, "rb"), os.fdopen(err_r, "rb"), stdout, stderr, hidden)
    try:
        ran = runner_socket.run(runner, argv, env=env, cwd=cwd, stdout=out_w, stderr=err_w, files=handed,
                                interrupts=interrupts)  # fmt: skip
    except runner_socket.NotStarted:
        ran = None
    finally:
        for fd in (out_w, err_w, *handed.values()):
            os.close(fd)
        for pump in pumps:  # a process the program left holding the pipes is not waited for
            pump.join(timeout=PUMP_SECONDS)
    if ran is None:
        return Outcome.not_started()
    return _outcome(ran.exit, pumps, started, interrupted=ran.interrupted)


def _opened(files: Mapping[int, Path]) -> dict[int, int]:
    """A read-only descriptor for each file, by argv position (what the runner copies from)."""
    opened: dict[int, int] = {}
    try:
        for position, path in files.items():
            opened[position] = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as error:
        for fd in opened.values():
            os.close(fd)
        raise BrokerError(f"cannot open {path.name} to hand it to the runner: {error.strerror or error}",
                          hint="run the call again; the pinned copy is made anew") from None  # fmt: skip
    return opened


def _pumps(out: IO[bytes], err: IO[bytes], stdout: BinaryIO, stderr: BinaryIO,
           hidden: Sequence[tuple[str, str]]) -> list[_Pump]:  # fmt: skip
    """One started pump per stream, each scrubbing ``hidden`` from what it passes on."""
    pumps = [_Pump(out, stdout, Scrubber(hidden)), _Pump(err, stderr, Scrubber(hidden))]
    for pump in pumps:
        pump.start()
    return pumps


def _outcome(code: int, pumps: list[_Pump], started: float, *, interrupted: bool) -> Outcome:
    return Outcome(exit_code=code, stdout_sha256=pumps[0].digest.hexdigest(), stderr_sha256=pumps[1].digest.hexdigest(),
                   output_bytes=pumps[0].size + pumps[1].size, seconds=time.monotonic() - started,
                   interrupted=interrupted)  # fmt: skip


class _Pump(threading.Thread):
    def __init__(self, source: IO[bytes], sink: BinaryIO, scrubber: Scrubber) -> None:
        super().__init__(daemon=True)
        self.source, self.sink, self.scrubber = source, sink, scrubber
        self.digest = hashlib.sha256()
        self.size = 0

    def run(self) -> None:
        while True:
            chunk = self.source.read1(CHUNK)  # type: ignore[attr-defined]
            if not chunk:
                break
            self._emit(self.scrubber.feed(chunk))
        self._emit(self.scrubber.flush())
        self.source.close()

    def _emit(self, data: bytes) -> None:
        if not data:
            return
        self.digest.update(data)
        self.size += len(data)
        try:
            self.sink.write(data)
            self.sink.flush()
        except (BrokenPipeError, ValueError):
            pass  # the reader went away; keep draining so the child is not blocked
