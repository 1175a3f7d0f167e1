"""The resident hook daemon: Blastdoor loaded once, answering hook clients on a Unix socket.

One daemon per home. It holds an exclusive lock on ``run/daemon.lock`` while it lives, so a second
start is a no-op; it answers one connection at a time (each takes about a millisecond, and the ledger
serialises writes anyway), refuses callers of another user (the socket's peer credentials), reloads
the policy when its files change, and exits after ``idle`` seconds without a call, or after a call
when Blastdoor's own files changed (an upgrade; looked at most once a second), so a stale daemon
does not outlive its code.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import socket
import struct
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

from blastdoor.config import Settings
from blastdoor.integrations import hook_client
from blastdoor.integrations.adapter import Reply
from blastdoor.integrations.service import Runtime, handle

IDLE_SECONDS = 900.0
READ_TIMEOUT = 2.0  # a client that connects and says nothing loses its turn, not the daemon


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


def serve(settings: Settings, *, idle: float = IDLE_SECONDS) -> bool:
    """Serve until idle; False when another daemon already serves this home."""
    folder = run_folder(settings)
    with _exclusive(folder / "daemon.lock") as mine:
        if not mine:
            return False
        path = hook_client.socket_path(str(settings.home))
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_mask = os.umask(0o177)
        try:
            _bind(server, path)
        finally:
            os.umask(old_mask)
        server.listen(64)
        server.settimeout(idle)
        runtime = Runtime(settings)
        stamp, next_look = code_stamp(), time.monotonic() + 1.0
        stopping = False

        def stop(_signum: int, _frame: FrameType | None) -> None:
            nonlocal stopping
            stopping = True
            server.close()

        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                try:
                    conn, _ = server.accept()
                except (TimeoutError, OSError):
                    break
                with conn:
                    _answer(conn, runtime)
                if time.monotonic() >= next_look:  # a walk over the package, at most once a second
                    next_look = time.monotonic() + 1.0
                    if code_stamp() != stamp:
                        break  # upgraded: the next call starts a daemon with the new code
        finally:
            runtime.close()
            with contextlib.suppress(OSError):
                os.unlink(path)
            server.close()
    return True


def _bind(server: socket.socket, path: str) -> None:
    if len(path.encode()) < 100:
        server.bind(path)
        return
    here = os.getcwd()
    os.chdir(os.path.dirname(path))
    try:
        server.bind(os.path.basename(path))
    finally:
        os.chdir(here)


def _peer_uid(conn: socket.socket) -> int | None:
    if not hasattr(socket, "SO_PEERCRED"):
        return None
    raw = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return int(struct.unpack("3i", raw)[1])


def _answer(conn: socket.socket, runtime: Runtime) -> None:
    conn.settimeout(READ_TIMEOUT)
    try:
        uid = _peer_uid(conn)
        request = hook_client.recv_frame(conn, 1 << 20)
        raw = hook_client.recv_frame(conn)
    except OSError:
        return  # the client gets no answer and blocks the call
    try:
        agent, cwd, env = hook_client.decode_request(request)
    except ValueError:
        reply = Reply(
            "", 1, "blastdoor: hook client and daemon differ; run `blastdoor daemon stop`\n"
        )
    else:
        if uid is not None and uid != os.getuid():
            reply = Reply("", 1, "blastdoor: the daemon serves only its own user\n")
        else:
            reply = handle(agent, raw, env=env, cwd=cwd, runtime=runtime)
    with contextlib.suppress(OSError):
        for part in (str(reply.exit_code).encode(), reply.stdout.encode(), reply.stderr.encode()):
            hook_client.send_frame(conn, part)


def stop(settings: Settings) -> int | None:
    """Ask the running daemon to stop; its pid, or None when none was running."""
    pid = running_pid(settings)
    if pid is None or pid <= 0:
        return None
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    return pid
