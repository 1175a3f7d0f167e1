"""The runner: where a brokered ``exec`` runs in hardened mode, under a user of its own.

The daemon's user owns the keys, the ledger and the stored credentials, so a program it starts
with inputs an agent controls (a Terraform provider, a script) must not run as that user. The
runner is a small resident process running as ``<user>-runN``, a user with no access to the
daemon's home. It serves one peer only, the daemon's user (checked by the socket's peer
credentials). Root binds its socket (``install --system``, or systemd's ``blastdoor-runner@.socket``)
in a folder only the daemon's group may enter and the runner's user may not write, and hands the
runner the listening descriptor: a program the runner starts runs as the same user, and must not
be able to put a socket of its own in that place. The runner makes itself undumpable, so such a
program can neither read its memory nor take its descriptors. It does one thing: start a
program with the argv, environment and folder it is given, its output on the two descriptors
passed with the request (SCM_RIGHTS), its input closed, in a session of its own; then answer with
the exit code. While it runs, the daemon's side may pass on a Ctrl-C (one byte, :data:`INTERRUPT`):
the first reaches the program's process group as SIGINT, the next as SIGKILL. When the program
ends, or the daemon's side hangs up, whatever is left of the program's process group is killed.

Files the program needs but the runner's user may not read (a pinned Terraform plan, kept in the
daemon's home) come as further descriptors, each standing for one argv word. The runner copies
each into a fresh folder of its own (mode 0700 under its own user, so neither the agent's user nor
another user of the machine can read it), puts the copy's path in that word, and removes the
folder when the program ends. No path to the file is ever readable by anyone else, and the
daemon needs no group or folder shared with the runner.

Each runner runs one program at a time, and after each one every other process of its user is
killed: a child that left the process group (``setsid``, a double fork) would otherwise live on
as the same user and could read the environment, secrets included, of the next program. That
sweep runs only under a dedicated user (never as root, never as the daemon's user). So that
programs need not queue behind each other, ``install --system`` starts a pool of runners, each
under a user of its own (``<user>-run0``, ``<user>-run1``, ...; they share the group
``<user>-run`` for the files their programs write, umask 0007): the daemon's side asks each in
turn and the first free one runs the program. A program's leftovers cannot read a program that
another runner runs meanwhile (another uid: no ``/proc/PID/environ``, no signals).

Wire format, one call per connection, each message 8 bytes (big-endian length) then that many
bytes of JSON, each answer one line of JSON. First the daemon's side claims the runner with
``{"claim": true}``, which carries nothing secret: a busy runner answers ``{"busy": true}`` at
once (the daemon's side tries another, and asks again later while all are busy), a free one takes
its one-at-a-time lock and answers ``{"ready": true}``. Only then does the call itself go, sent
with the two output descriptors and any file descriptors (SCM_RIGHTS): ``{"argv", "env", "cwd",
"files"}`` (``files``: the argv positions the file descriptors stand for, in their order). So the
secrets in ``env`` reach only a runner that holds its lock for this call, never one that is
running another program. The answer: ``{"exit": N, "interrupted": bool}``, ``{"started": false}``
(an interrupt came before the program started, so it was not), or ``{"error": "..."}``.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from blastdoor.broker.interrupts import Relay, stop_signal
from blastdoor.errors import BlastdoorError
from blastdoor.integrations import hook_client

MAX_REQUEST = 4 << 20
MAX_FILES = 4  # file descriptors besides the two outputs
MAX_FILE_BYTES = 256 * 1024 * 1024  # a pinned plan's limit (broker/plan_pin.py)
COPIES_PREFIX = "blastdoor-files-"
INTERRUPT = b"i"  # sent by the daemon's side while the program runs: a Ctrl-C to pass on
SWEEP_ROUNDS = 50
_ONE_AT_A_TIME = threading.Lock()
_RESTART = threading.Event()  # install asked (SIGUSR1): start anew with the code now installed once idle
_SERVER: list[socket.socket] = []  # the listening socket, which a restart keeps
CONNECT_SECONDS = 10.0
CLAIM_SECONDS = 10.0  # a runner that does not say "ready" or "busy" by then is passed over
FIRST_DELAY, LAST_DELAY = 0.05, 0.5  # while all runners are busy: ask again after these, doubling
REQUEST_SECONDS = 30.0  # a claimed runner waits this long for the call, then frees itself
HEADER = 8


def runner_socket(daemon_socket: Path, index: int) -> Path:
    """Runner ``index``'s socket for the daemon listening on ``daemon_socket`` (``run/blastdoor`` →
    ``run/blastdoor-runner0``), in a folder of its own."""
    return daemon_socket.parent.parent / f"{daemon_socket.parent.name}-runner{index}" / "runner.sock"


def runner_sockets(daemon_socket: Path) -> list[Path]:
    """The pool's sockets: one per runner folder ``install --system`` made, counting from 0."""
    found: list[Path] = []
    while (path := runner_socket(daemon_socket, len(found))).parent.is_dir():
        found.append(path)
    return found


# ---------------------------------------------------------------- the daemon's side (client)


@dataclass(frozen=True)
class Ran:
    exit: int  # 128+N for signal N
    interrupted: bool  # an interrupt was passed on to the program


class NotStarted(BlastdoorError):
    """An interrupt came before the program started, so it was not started."""


def run(paths: str, argv: Sequence[str], *, env: Mapping[str, str], cwd: str, stdout: int, stderr: int,
        files: Mapping[int, int] | None = None, interrupts: Relay | None = None) -> Ran:  # fmt: skip
    """Have a runner run ``argv``. ``paths`` is the runner's socket, or a pool's sockets joined by
    ``os.pathsep``: the first free runner runs it, and while all are busy they are asked again,
    less and less often. ``files`` maps argv positions to readable descriptors of files the
    runner's user may not open itself: the program gets a private copy of each in that word's
    place. ``interrupts`` noted meanwhile are passed on (:data:`INTERRUPT`); one noted before the
    program started keeps it from starting (:class:`NotStarted`). Raises BlastdoorError when no
    runner can be reached or the program cannot start, :class:`Lost` when the runner stops
    answering once it has the program."""
    pool = [path for path in paths.split(os.pathsep) if path]
    files, interrupts = dict(files or {}), interrupts or Relay()
    path, sock = _free_runner(pool, interrupts)
    request = {"argv": list(argv), "env": dict(env), "cwd": cwd, "files": list(files)}
    try:
        answer = _hand_over(path, sock, request, [stdout, stderr, *files.values()], interrupts)
    finally:
        sock.close()
    if answer.get("started") is False:
        raise NotStarted("interrupted before the program started")
    return Ran(_exit_code(answer), answer.get("interrupted") is True)


class _Unreachable(BlastdoorError):
    pass


class Lost(BlastdoorError):
    """The runner stopped answering after it was given the program: it may have run."""

    started = True


RESTART_HINT = "a person restarts hardened mode: sudo blastdoor install --system"


def _free_runner(pool: list[str], interrupts: Relay) -> tuple[str, socket.socket]:
    """A connection to the first runner of ``pool`` that is free, holding itself for this call."""
    delay = FIRST_DELAY
    while True:
        unreachable, busy = None, False
        for path in pool:
            if interrupts.count:
                raise NotStarted("interrupted before the program started")
            try:
                claimed = _claim(path)
            except _Unreachable as error:
                unreachable = error
                continue
            if claimed is not None:
                return path, claimed
            busy = True
        if not busy:
            raise unreachable or BlastdoorError("no runner is named", hint="run blastdoor install --system again")
        deadline = time.monotonic() + delay  # all busy: ask again shortly, an interrupt ends the wait
        while time.monotonic() < deadline and not interrupts.count:
            time.sleep(0.02)
        delay = min(delay * 2, LAST_DELAY)


def _claim(path: str) -> socket.socket | None:
    """The runner at ``path``, connected and holding itself for this call; None when it is busy."""
    try:
        sock = socket.socket(fileno=hook_client.connect(path, CONNECT_SECONDS).detach())  # the full socket API
    except OSError as error:
        raise _Unreachable(f"the runner at {path} is not answering ({error.strerror or error})", hint=RESTART_HINT) from None
    try:
        sock.settimeout(CLAIM_SECONDS)  # a free runner answers at once, and so does a busy one
        sock.sendall(_message({"claim": True}))
        answer = _line(sock)
    except OSError as error:
        sock.close()
        raise _Unreachable(f"the runner at {path} is not answering ({error.strerror or error})", hint=RESTART_HINT) from None
    if answer.get("ready") is True:
        return sock
    sock.close()
    if answer.get("busy") is True:
        return None
    if "error" in answer:
        raise BlastdoorError(str(answer["error"])[:300], hint="run blastdoor install --system again")
    raise _Unreachable(f"the runner at {path} did not answer", hint=RESTART_HINT)


def ping(path: str, seconds: float = 1.0) -> bool:
    """Whether a runner serves at ``path``: it answers a claim at all (a busy one, or one that
    refuses the asker, answers too)."""
    try:
        with socket.socket(fileno=hook_client.connect(path, seconds).detach()) as sock:
            sock.settimeout(seconds)
            sock.sendall(_message({"claim": True}))
            return bool(_line(sock))
    except OSError:
        return False


def _hand_over(path: str, sock: socket.socket, request: Mapping[str, Any], fds: list[int],
               interrupts: Relay) -> dict[str, Any]:  # fmt: skip
    """Send the call to the runner that holds itself for it; its answer."""
    if interrupts.count:
        return {"started": False}  # closing the connection frees the runner
    payload = json.dumps(request).encode()
    try:
        sock.settimeout(None)  # the answer comes when the program ends
        socket.send_fds(sock, [len(payload).to_bytes(HEADER, "big")], fds)
        sock.sendall(payload)
        with interrupts.passing_to(lambda _number: _interrupt(sock)):
            interrupts.await_readable(sock.fileno())  # the answer is one line, sent when the program ended
            answer = _line(sock)
        if not answer:
            raise OSError("no answer")
    except OSError as error:
        raise Lost(f"the runner at {path} stopped answering ({error.strerror or error})", hint=RESTART_HINT) from None
    return answer


def _message(found: Mapping[str, Any]) -> bytes:
    payload = json.dumps(found).encode()
    return len(payload).to_bytes(HEADER, "big") + payload


def _exit_code(answer: Mapping[str, Any]) -> int:
    if isinstance(answer.get("exit"), int):
        return int(answer["exit"])
    raise BlastdoorError(str(answer.get("error", "the runner's answer is malformed"))[:300],
                         hint="check the program's name and that the runner user may enter its folder")  # fmt: skip


def _interrupt(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # gone: its answer (or its silence) tells
        sock.send(INTERRUPT)


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


def bind(path: Path, *, group: int) -> socket.socket:
    """A listening socket at ``path`` that the daemon's group may connect to (0660), made by root
    (``install --system``) in a folder the runner's user cannot write: the runner gets the socket,
    never the folder, so nothing it runs can put a socket of its own in that place."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        old = os.umask(0o177)
        try:
            hook_client.reach(str(path), server.bind)  # a long path through its folder, as the daemon connects
        finally:
            os.umask(old)
        os.chown(path, os.geteuid(), group)
        path.chmod(0o660)
        server.listen(16)
    except BaseException:
        server.close()
        raise
    return server


def given_socket(fd: int | None) -> socket.socket:
    """The listening socket this runner was started with: descriptor ``fd`` (``install --system``),
    else the one systemd passes (``LISTEN_FDS=1``: descriptor 3). Raises BlastdoorError otherwise:
    a runner never binds a socket itself."""
    if fd is None and os.environ.get("LISTEN_FDS") == "1" and os.environ.get("LISTEN_PID") in (None, str(os.getpid())):
        fd = 3
    if fd is None:
        raise BlastdoorError("the runner was started without its socket",
                             hint="systemd (blastdoor-runner@.socket) or blastdoor install --system starts it")  # fmt: skip
    try:
        server = socket.socket(fileno=fd)
    except OSError as error:
        raise BlastdoorError(f"descriptor {fd} is not the runner's socket ({error.strerror or error})",
                             hint="systemd (blastdoor-runner@.socket) or blastdoor install --system starts it") from None  # fmt: skip
    if server.family != socket.AF_UNIX or server.type != socket.SOCK_STREAM:
        raise BlastdoorError(f"descriptor {fd} is not a Unix stream socket", hint="start the runner through its socket unit")
    os.set_inheritable(fd, False)  # no program it starts gets it
    return server


def serve(server: socket.socket, *, peer_uid: int) -> None:
    """Serve on the listening socket ``server`` until SIGTERM, for the user ``peer_uid`` only.

    First the runner makes itself undumpable: a program it ran, under the same user, may neither
    ptrace it, read its memory (``/proc/PID/mem``: the requests, secrets included) nor take its
    descriptors (``pidfd_getfd``: the listening socket). Before that it forbids itself and all it
    starts to make set-user-ID or set-group-ID files (hardened/nosuid.py), and refuses to serve
    when it cannot (:class:`~blastdoor.hardened.nosuid.Unavailable`)."""
    from blastdoor.hardened import nosuid

    nosuid.forbid_setid_files()
    _undumpable()
    if dedicated(peer_uid):  # what a runner that stopped (or was killed) mid-call left: gone before the first call
        sweep()
        _remove_stale_copies()
        os.umask(0o007)  # what programs write: for the pool's group (one user runs what another wrote), not others

    def stop(_signum: int, _frame: object) -> None:
        server.close()

    def restart(_signum: int, _frame: object) -> None:
        _RESTART.set()
        _restart_if_asked()

    _SERVER[:] = [server]
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGUSR1, restart)
    while True:
        try:
            conn, _ = server.accept()
        except OSError:
            break
        threading.Thread(target=_serve_one, args=(conn, peer_uid), daemon=True).start()


PR_SET_DUMPABLE = 4


def _undumpable() -> None:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        raise BlastdoorError(f"the runner cannot make itself undumpable ({os.strerror(ctypes.get_errno())})",
                             hint="the runner needs Linux")  # fmt: skip


def _serve_one(conn: socket.socket, peer_uid: int) -> None:
    fds: list[int] = []
    try:
        conn.settimeout(REQUEST_SECONDS)
        found = hook_client.peer_credentials(conn)
        if found is None or found[1] != peer_uid:
            _answer(conn, {"error": "the runner serves only the Blastdoor daemon's user"})
            return
        if _received(conn, 4096).get("claim") is not True:
            _answer(conn, {"error": "the runner is claimed before it is given a call"})
            return
        if not _ONE_AT_A_TIME.acquire(blocking=False):
            _answer(conn, {"busy": True})  # the daemon's side asks another runner of the pool
            return
        try:
            _answer(conn, {"ready": True})
            head, fds, _flags, _addr = socket.recv_fds(conn, HEADER, 2 + MAX_FILES)
            if not head:
                return  # the daemon's side went away (interrupted) before it sent the call
            if len(head) != HEADER or len(fds) < 2:
                _answer(conn, {"error": "the request lacks its output descriptors"})
                return
            size = int.from_bytes(head, "big")
            if size > MAX_REQUEST:
                _answer(conn, {"error": f"the request is larger than {MAX_REQUEST} bytes"})
                return
            argv, env, cwd, positions = _request(hook_client.recv_exact(conn, size), files=len(fds) - 2)
            taken, fds = fds, []  # _run_one closes them
            answer = _run_one(conn, argv, env=env, cwd=cwd, fds=taken, positions=positions)
            if dedicated(peer_uid) and "exit" in answer:
                sweep()
        finally:
            _ONE_AT_A_TIME.release()
        _answer(conn, answer)
    except (OSError, ValueError) as error:
        with contextlib.suppress(OSError):
            _answer(conn, {"error": f"the runner refused a malformed request ({error})"})
    finally:
        for fd in fds:
            os.close(fd)
        conn.close()
        _restart_if_asked()


def _restart_if_asked() -> None:
    """Once install asked (SIGUSR1: the code changed while this runner ran a program) and no call
    runs, start anew in this process with the code now installed: the same command line, the same
    listening socket (connections that come meanwhile wait in its queue), the same user. When that
    fails, serve on with the code it started with."""
    if not (_RESTART.is_set() and _SERVER and _ONE_AT_A_TIME.acquire(blocking=False)):
        return
    fd = _SERVER[0].fileno()
    try:
        print("blastdoor runner: starting anew with the code now installed", file=sys.stderr, flush=True)
        os.set_inheritable(fd, True)
        os.execv(sys.executable, sys.orig_argv)
    except OSError as error:
        print(f"blastdoor runner: could not start anew ({error}); serving on with the code it started with",
              file=sys.stderr, flush=True)  # fmt: skip
        _RESTART.clear()
        with contextlib.suppress(OSError):
            os.set_inheritable(fd, False)
    finally:
        _ONE_AT_A_TIME.release()  # reached only when the exec failed


def _received(conn: socket.socket, limit: int) -> dict[str, Any]:
    """One message: its 8-byte length, then that much JSON (an object)."""
    size = int.from_bytes(hook_client.recv_exact(conn, HEADER), "big")
    if size > limit:
        raise ValueError(f"a message is larger than {limit} bytes")
    found = json.loads(hook_client.recv_exact(conn, size))
    if not isinstance(found, dict):
        raise ValueError("a message is not a JSON object")
    return found


def _run_one(conn: socket.socket, argv: list[str], *, env: dict[str, str], cwd: str, fds: list[int],
             positions: list[int]) -> dict[str, Any]:  # fmt: skip
    """Run one program with private copies of its files; the answer for the daemon's side. It is
    not started when an interrupt (or a hang-up) came first. Closes ``fds``; the copies are removed
    when the program ends."""
    folder = None
    try:
        try:
            folder = _private_copies(argv, positions, fds[2:]) if positions else None
            if _interrupted(conn):
                return {"started": False}
            child = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=fds[0], stderr=fds[1],
                                     start_new_session=True, close_fds=True)  # fmt: skip
        except OSError as error:
            what = f"start {argv[0][:200]!r}" if folder or not positions else "copy the files handed over"
            return {"error": f"cannot {what}: {error.strerror or error}"}
        finally:
            for fd in fds:
                os.close(fd)
        code, asked = _wait(child, conn)
        return {"exit": code, "interrupted": asked > 0}
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def _interrupted(conn: socket.socket) -> bool:
    """Whether the daemon's side already passed on an interrupt, or hung up (nothing is read)."""
    readable, _, _ = select.select([conn], [], [], 0)
    return bool(readable) and conn.recv(1, socket.MSG_PEEK) in (INTERRUPT, b"")


def _private_copies(argv: list[str], positions: list[int], fds: list[int]) -> Path:
    """Copy what each descriptor reads into a fresh folder only this user may enter, and name the
    copy in its argv word (the file's own name is kept: Terraform reads a plan by its path)."""
    folder = Path(tempfile.mkdtemp(prefix=COPIES_PREFIX))  # mode 0700, this user's
    try:
        for index, (position, fd) in enumerate(zip(positions, fds, strict=True)):
            copy = folder / f"{index}-{os.path.basename(argv[position])[-100:] or 'file'}"
            with open(os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as target:
                while chunk := os.read(fd, 1 << 20):
                    if target.tell() + len(chunk) > MAX_FILE_BYTES:
                        raise OSError(f"a file handed over is larger than {MAX_FILE_BYTES:,} bytes")
                    target.write(chunk)
            argv[position] = str(copy)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder


def _request(data: bytes, *, files: int) -> tuple[list[str], dict[str, str], str, list[int]]:
    found = json.loads(data)
    if not isinstance(found, dict):
        raise ValueError("the request is not a JSON object")
    argv, env, cwd, positions = found.get("argv"), found.get("env"), found.get("cwd"), found.get("files", [])
    if not (
        isinstance(argv, list) and argv and all(isinstance(a, str) and "\0" not in a for a in argv)
    ):
        raise ValueError("argv is not a list of words")
    if not (isinstance(env, dict) and all(isinstance(k, str) and isinstance(v, str) and k and "=" not in k
                                          and "\0" not in k + v for k, v in env.items())):  # fmt: skip
        raise ValueError("env is not a map of names to values")
    if not (isinstance(cwd, str) and cwd.startswith("/") and "\0" not in cwd):
        raise ValueError("cwd is not an absolute path")
    if not (isinstance(positions, list) and len(positions) == files and len(set(positions)) == files
            and all(type(p) is int and 0 < p < len(argv) for p in positions)):  # fmt: skip
        raise ValueError("files does not name one argv word per file descriptor")
    return argv, env, cwd, positions


def _wait(child: subprocess.Popen[bytes], conn: socket.socket) -> tuple[int, int]:
    """The program's exit code, and how many interrupts were passed on to it. Each :data:`INTERRUPT` the daemon's side sends is passed on to the
    program's process group, the first as SIGINT, the next as SIGKILL; it is killed when the
    daemon's side hangs up first. Either way what is left of its process group is killed."""
    asked = 0
    try:
        while True:
            try:
                code = child.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                readable, _, _ = select.select([conn], [], [], 0)
                said = conn.recv(1) if readable else None
                asked += said == INTERRUPT
                if said is not None:  # an interrupt, or the daemon's side hung up (b"")
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(child.pid, stop_signal(asked) if said == INTERRUPT else signal.SIGKILL)
    finally:
        with contextlib.suppress(OSError):
            os.killpg(child.pid, signal.SIGKILL)
    return 128 - code if code < 0 else code, asked


def dedicated(peer_uid: int) -> bool:
    """Whether this process runs as a user of its own: not root, not the daemon's user."""
    return 0 not in (os.getuid(), os.geteuid()) and os.getuid() != peer_uid


def sweep(rounds: int = SWEEP_ROUNDS) -> None:
    """Kill every process of this user but this one (``kill(-1)`` never signals its caller),
    again until none is left (``rounds`` at most), so a process forked during one round dies in
    the next."""
    for _ in range(rounds):
        try:
            os.kill(-1, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            return  # nothing left to signal (or nothing this user may signal)
        time.sleep(0.01)


def _remove_stale_copies() -> None:
    """Copies a runner that stopped mid-call left behind (only this user's: only it can enter them)."""
    for folder in Path(tempfile.gettempdir()).glob(COPIES_PREFIX + "*"):
        with contextlib.suppress(OSError):
            if folder.lstat().st_uid == os.getuid() and folder.is_dir() and not folder.is_symlink():
                shutil.rmtree(folder, ignore_errors=True)


def _answer(conn: socket.socket, message: Mapping[str, Any]) -> None:
    conn.sendall(json.dumps(message).encode() + b"\n")
