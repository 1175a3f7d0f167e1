"""The runner: where a brokered ``exec`` runs in hardened mode, under a user of its own.

The daemon's user owns the keys, the ledger and the stored credentials, so a program it starts
with inputs an agent controls (a Terraform provider, a script) must not run as that user. The
runner is a small resident process running as ``<user>-run``, a user with no access to the
daemon's home. It serves one peer only, the daemon's user (checked by the socket's peer
credentials, behind a folder only that user's group can enter), and does one thing: start a
program with the argv, environment and folder it is given, its output on the two descriptors
passed with the request (SCM_RIGHTS), its input closed, in a session of its own; then answer with
the exit code. When the program ends, or the daemon's side hangs up, whatever is left of the
program's process group is killed.

Programs run one at a time, and after each one every other process of the runner's user is
killed: a child that left the process group (``setsid``, a double fork) would otherwise live on
as the same user and could read the environment, secrets included, of the next program. That
sweep runs only under a dedicated user (never as root, never as the daemon's user).

Wire format, one request per connection: 8 bytes (big-endian length) sent with the two
descriptors, then that many bytes of JSON ``{"argv", "env", "cwd"}``. The answer is one line of
JSON: ``{"exit": N}`` or ``{"error": "..."}``.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from blastdoor.errors import BlastdoorError
from blastdoor.integrations import hook_client

MAX_REQUEST = 4 << 20
SWEEP_ROUNDS = 50
_ONE_AT_A_TIME = threading.Lock()
CONNECT_SECONDS = 10.0
HEADER = 8


def runner_socket(daemon_socket: Path) -> Path:
    """The runner's socket for the daemon listening on ``daemon_socket`` (``run/blastdoor`` →
    ``run/blastdoor-runner``)."""
    return daemon_socket.parent.parent / f"{daemon_socket.parent.name}-runner" / "runner.sock"


# ---------------------------------------------------------------- the daemon's side (client)


def run(
    path: str, argv: Sequence[str], *, env: Mapping[str, str], cwd: str, stdout: int, stderr: int
) -> int:
    """Have the runner at ``path`` run ``argv``; its exit code (128+N for signal N). Raises
    BlastdoorError when the runner cannot be reached or cannot start the program."""
    payload = json.dumps({"argv": list(argv), "env": dict(env), "cwd": cwd}).encode()
    try:
        sock = socket.socket(fileno=hook_client.connect(path, CONNECT_SECONDS).detach())  # the full socket API
    except OSError as error:
        raise BlastdoorError(f"the runner at {path} is not answering ({error.strerror or error})",
                             hint="a person restarts hardened mode: sudo blastdoor install --system") from None  # fmt: skip
    try:
        sock.settimeout(None)  # the answer comes when the program ends
        try:
            socket.send_fds(sock, [len(payload).to_bytes(HEADER, "big")], [stdout, stderr])
            sock.sendall(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before it read the request: its answer says why
        answer = _line(sock)
        if not answer:
            raise OSError("no answer")
    except OSError as error:
        raise BlastdoorError(f"the runner at {path} stopped answering ({error.strerror or error})",
                             hint="a person restarts hardened mode: sudo blastdoor install --system") from None  # fmt: skip
    finally:
        sock.close()
    if isinstance(answer.get("exit"), int):
        return int(answer["exit"])
    raise BlastdoorError(str(answer.get("error", "the runner's answer is malformed"))[:300],
                         hint="check the program's name and that the runner user may enter its folder")  # fmt: skip


def _line(sock: socket.socket) -> dict[str, Any]:
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
        if len(data) > 65536:
            break
    try:
        found = json.loads(data)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


# ---------------------------------------------------------------- the runner's side (server)


def serve(path: Path, *, peer_uid: int) -> None:
    """Serve at ``path`` until SIGTERM, for the user ``peer_uid`` only."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o111)  # the folder's mode and the peer check decide who gets in
    try:
        server.bind(str(path))
    finally:
        os.umask(old)
    server.listen(16)

    def stop(_signum: int, _frame: object) -> None:
        server.close()

    signal.signal(signal.SIGTERM, stop)
    try:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                break
            threading.Thread(target=_serve_one, args=(conn, peer_uid), daemon=True).start()
    finally:
        with contextlib.suppress(OSError):
            path.unlink()


def _serve_one(conn: socket.socket, peer_uid: int) -> None:
    fds: list[int] = []
    try:
        conn.settimeout(30)
        found = hook_client.peer_credentials(conn)
        if found is None or found[1] != peer_uid:
            _answer(conn, {"error": "the runner serves only the Blastdoor daemon's user"})
            return
        head, fds, _flags, _addr = socket.recv_fds(conn, HEADER, 2)
        if len(head) != HEADER or len(fds) != 2:
            _answer(conn, {"error": "the request lacks its output descriptors"})
            return
        size = int.from_bytes(head, "big")
        if size > MAX_REQUEST:
            _answer(conn, {"error": f"the request is larger than {MAX_REQUEST} bytes"})
            return
        argv, env, cwd = _request(hook_client.recv_exact(conn, size))
        with _ONE_AT_A_TIME:
            try:
                child = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=fds[0], stderr=fds[1],
                                         start_new_session=True, close_fds=True)  # fmt: skip
            except OSError as error:
                _answer(conn, {"error": f"cannot start {argv[0][:200]!r}: {error.strerror or error}"})
                return
            for fd in fds:
                os.close(fd)
            fds = []
            code = _wait(child, conn)
            if dedicated(peer_uid):
                sweep()
        _answer(conn, {"exit": code})
    except (OSError, ValueError) as error:
        with contextlib.suppress(OSError):
            _answer(conn, {"error": f"the runner refused a malformed request ({error})"})
    finally:
        for fd in fds:
            os.close(fd)
        conn.close()


def _request(data: bytes) -> tuple[list[str], dict[str, str], str]:
    found = json.loads(data)
    argv, env, cwd = found.get("argv"), found.get("env"), found.get("cwd")
    if not (
        isinstance(argv, list) and argv and all(isinstance(a, str) and "\0" not in a for a in argv)
    ):
        raise ValueError("argv is not a list of words")
    if not (isinstance(env, dict) and all(isinstance(k, str) and isinstance(v, str) and k and "=" not in k
                                          and "\0" not in k + v for k, v in env.items())):  # fmt: skip
        raise ValueError("env is not a map of names to values")
    if not (isinstance(cwd, str) and cwd.startswith("/") and "\0" not in cwd):
        raise ValueError("cwd is not an absolute path")
    return argv, env, cwd


def _wait(child: subprocess.Popen[bytes], conn: socket.socket) -> int:
    """The program's exit code; it is stopped when the daemon's side hangs up first. Either way
    what is left of its process group is killed."""
    try:
        while True:
            try:
                code = child.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                readable, _, _ = select.select([conn], [], [], 0)
                if readable and not conn.recv(1, socket.MSG_PEEK):
                    os.killpg(child.pid, signal.SIGKILL)
    finally:
        with contextlib.suppress(OSError):
            os.killpg(child.pid, signal.SIGKILL)
    return 128 - code if code < 0 else code


def dedicated(peer_uid: int) -> bool:
    """Whether this process runs as a user of its own: not root, not the daemon's user."""
    return 0 not in (os.getuid(), os.geteuid()) and os.getuid() != peer_uid


def sweep() -> None:
    """Kill every process of this user but this one (``kill(-1)`` never signals its caller),
    again until none is left, so a process forked during one round dies in the next."""
    for _ in range(SWEEP_ROUNDS):
        try:
            os.kill(-1, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            return  # nothing left to signal (or nothing this user may signal)
        time.sleep(0.01)


def _answer(conn: socket.socket, message: Mapping[str, Any]) -> None:
    conn.sendall(json.dumps(message).encode() + b"\n")
