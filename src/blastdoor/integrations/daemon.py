"""The resident hook daemon: Blastdoor loaded once, answering hook clients on a Unix socket.

One daemon per home. It holds an exclusive lock on ``run/daemon.lock`` while it lives, so a second
start is a no-op; it answers one connection at a time (each takes about a millisecond, and the ledger
serialises writes anyway), refuses callers of another user (the socket's peer credentials), reloads
the policy when its files change, and exits after ``idle`` seconds without a call, or after a call
when Blastdoor's own files changed (an upgrade; looked at most once a second), so a stale daemon
does not outlive its code. It also runs the home's ledger appender (ledger/appender.py) on a thread:
its own entries and those of every other writer of the home go through it while it lives.

In hardened mode (``shared``: the socket named by ``/etc/blastdoor/system.toml``) the daemon runs as
the ``blastdoor`` user, its socket is open to every user of the machine, it never idles out, and
each call is answered for the user the socket's peer credentials name: hook calls are judged and
recorded with that uid, and the other operations (:mod:`blastdoor.hardened.ops`) check it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from blastdoor.config import Settings
from blastdoor.integrations import hook_client
from blastdoor.integrations.adapter import Reply
from blastdoor.integrations.service import Runtime, handle
from blastdoor.ledger.appender import Running

if TYPE_CHECKING:
    from blastdoor.broker.interrupts import Relay
    from blastdoor.hardened.broker_ops import Deferred

IDLE_SECONDS = 900.0
READ_TIMEOUT = 2.0  # a client that connects and says nothing loses its turn, not the daemon


@dataclass(frozen=True)
class Peer:
    """The process at the other end of a connection, as the kernel names it."""

    pid: int
    uid: int
    gid: int

    def who(self) -> dict[str, Any]:
        return {"source": "daemon", "uid": self.uid, "pid": self.pid}


def run_folder(settings: Settings) -> Path:
    folder = settings.home / "run"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[bool]:
    with open(path, "a+b") as handle_:
        try:
            fcntl.flock(handle_, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            yield False
            return
        handle_.seek(0)
        handle_.truncate()
        handle_.write(str(os.getpid()).encode())
        handle_.flush()
        yield True


def running_pid(settings: Settings) -> int | None:
    """The daemon's process id when one holds the lock, else None."""
    path = settings.home / "run" / "daemon.lock"
    try:
        with open(path, "rb") as handle_:
            try:
                fcntl.flock(handle_, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except OSError:
                text = handle_.read().strip()
                return int(text) if text.isdigit() else -1
            fcntl.flock(handle_, fcntl.LOCK_UN)
    except OSError:
        return None
    return None


def code_stamp() -> int:
    """The newest modification time of Blastdoor's own files: a change means an upgrade."""
    root = Path(__file__).resolve().parent.parent
    newest = 0
    for folder, _dirs, files in os.walk(root):
        for name in files:
            if name.endswith((".py", ".toml")):
                with contextlib.suppress(OSError):
                    newest = max(newest, os.stat(os.path.join(folder, name)).st_mtime_ns)
    return newest


def serve(settings: Settings, *, idle: float = IDLE_SECONDS, shared: Path | None = None) -> bool:
    """Serve until idle (or, ``shared``, until stopped); False when another daemon already serves
    this home."""
    folder = run_folder(settings)
    with _exclusive(folder / "daemon.lock") as mine:
        if not mine:
            return False
        path = str(shared) if shared else hook_client.socket_path(str(settings.home))
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_mask = os.umask(0o111 if shared else 0o177)  # shared: every user may connect, and is told apart
        try:
            hook_client.reach(path, server.bind)
        finally:
            os.umask(old_mask)
        server.listen(64)
        server.settimeout(None if shared else idle)
        stopping = False

        def stop(_signum: int, _frame: FrameType | None) -> None:
            nonlocal stopping
            stopping = True
            server.close()

        signal.signal(signal.SIGTERM, stop)  # before the slow start below: a stop asked meanwhile is a clean stop
        runtime = Runtime(settings)
        appender = Running(settings)  # this home's ledger appender, for the daemon and every other writer
        stamp, next_look = code_stamp(), time.monotonic() + 1.0
        try:
            while not stopping:
                try:
                    conn, _ = server.accept()
                except (TimeoutError, OSError):
                    break
                if not _answer(conn, runtime, shared=shared):
                    conn.close()
                if shared is None and time.monotonic() >= next_look:  # a walk over the package, at most once a second
                    next_look = time.monotonic() + 1.0
                    if code_stamp() != stamp:
                        break  # upgraded: the next call starts a daemon with the new code
        finally:
            runtime.close()
            appender.stop()
            with contextlib.suppress(OSError):
                os.unlink(path)
            server.close()
    return True


def _peer(conn: socket.socket) -> Peer | None:
    """Who is at the other end, as the kernel says."""
    found = hook_client.peer_credentials(conn)
    return Peer(pid=found[0], uid=found[1], gid=found[2]) if found else None


def _answer(conn: socket.socket, runtime: Runtime, *, shared: Path | None) -> bool:
    """Answer one connection; True when a thread took it over (a brokered call, which may run
    long: hooks keep being answered meanwhile), False when it is answered and may be closed."""
    conn.settimeout(READ_TIMEOUT)
    try:
        peer = _peer(conn)
        request = hook_client.recv_frame(conn, 1 << 20)
        operation = request.startswith(hook_client.OP_PROTOCOL + b"\0")
        raw = b"" if operation else hook_client.recv_frame(conn)
    except OSError:
        return False  # the client gets no answer and blocks the call
    if shared and peer is None:
        reply = Reply("", 1, "blastdoor: this system cannot tell who is calling; the daemon refuses\n")
    elif not shared and peer is not None and peer.uid != os.getuid():
        reply = Reply("", 1, "blastdoor: the daemon serves only its own user\n")
    elif operation:
        from blastdoor.hardened import ops
        from blastdoor.hardened.runner import runner_sockets

        pool = os.pathsep.join(str(path) for path in runner_sockets(shared)) if shared else ""
        answered = ops.answer(request[len(hook_client.OP_PROTOCOL) + 1:], peer, runtime, runner=pool) if shared and peer else Reply(
            "", 2, "blastdoor: only the hardened daemon takes operations\n")  # fmt: skip
        if not isinstance(answered, Reply):
            home = str(runtime.settings.home)
            try:
                threading.Thread(target=_stream, args=(conn, answered, home), daemon=True).start()
                return True
            except RuntimeError:  # no thread to be had: the call is refused, the daemon keeps serving
                answered.release()
                answered = Reply("", 1, "blastdoor: the daemon is too busy for this call; try again shortly\n")
        reply = answered
    else:
        try:
            agent, cwd, env = hook_client.decode_request(request)
        except ValueError:
            reply = Reply("", 1, "blastdoor: hook client and daemon differ; run `blastdoor daemon stop`\n")
        else:
            reply = handle(agent, raw, env=env, cwd=cwd, runtime=runtime, uid=peer.uid if shared and peer else None)
    _send(conn, reply)
    return False


def _send(conn: socket.socket, reply: Reply) -> None:
    with contextlib.suppress(OSError):
        for part in (str(reply.exit_code).encode(), reply.stdout.encode(), reply.stderr.encode()):
            hook_client.send_frame(conn, part)


def _stream(conn: socket.socket, call: Deferred, home: str) -> None:
    """On a thread of its own: run a brokered call, passing on its output as it comes, and the
    caller's Ctrl-C to it (broker/interrupts.py), then close. A client that hangs up is no longer
    written to; an interruptible call (exec) takes the hang-up as an interrupt, the others run to
    their end."""
    from blastdoor.broker.interrupts import Relay

    lock, gone, ended, interrupts = threading.Lock(), threading.Event(), threading.Event(), Relay()

    def emit(tag: bytes, data: bytes) -> None:
        with lock:
            if gone.is_set():
                return
            try:
                hook_client.send_frame(conn, tag + data)
            except OSError:
                gone.set()

    try:
        conn.settimeout(None)
        emit(b"", hook_client.STREAMED)  # then tagged frames (hook_client.py has the format)
        with contextlib.suppress(RuntimeError):  # no thread to be had: the call runs, uninterruptible
            threading.Thread(target=_listen, args=(conn, interrupts, ended), daemon=True).start()
        call.stream(home, emit, interrupts)
    finally:
        ended.set()
        with contextlib.suppress(OSError):
            conn.shutdown(socket.SHUT_RDWR)  # wakes the listener
        conn.close()


def _listen(conn: socket.socket, interrupts: Relay, ended: threading.Event) -> None:
    """Note each INTERRUPT frame the caller sends, until it hangs up or the call ends. A caller
    that hangs up while the call runs (killed, cancelled) counts as one more interrupt: its
    program is asked to stop rather than left running for nobody."""
    with contextlib.suppress(OSError):
        while hook_client.recv_frame(conn, 64) == hook_client.INTERRUPT:
            interrupts.note()
    if not ended.is_set():
        interrupts.note()


def stop(settings: Settings) -> int | None:
    """Ask the running daemon to stop; its pid, or None when none was running."""
    pid = running_pid(settings)
    if pid is None or pid <= 0:
        return None
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    return pid
