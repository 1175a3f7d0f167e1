"""The command an agent runs for every tool call: small, standard library only, fails closed.

Installed hooks run ``python -I -S hook_client.py AGENT HOME`` (``-S``: no site-packages, so start-up
costs almost nothing); in hardened mode ``AGENT --system SOCKET``, where only the daemon decides and
a daemon that does not answer blocks the call. The client forwards the agent's JSON to the resident daemon on
``HOME/run/hook.sock`` and prints its answer. When the daemon is not running it decides in process
(importing Blastdoor then) and starts the daemon for the next call. Whatever goes wrong, and when no
answer comes within the deadline, it exits 1 without output, and the installed wrapper command turns
that into the agent's block.

This file must not import Blastdoor at module level: the daemon imports its framing helpers.
"""

from __future__ import annotations

import _socket
import os
import sys

TYPE_CHECKING = False  # what ``typing`` says, without importing it (which costs a hook ~20 ms)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeVar

    Reached = TypeVar("Reached")

_signal = __import__("_signal")  # the C module: ``signal`` and ``socket`` would import enum

PROTOCOL = b"blastdoor-hook/1"
DEADLINE_SECONDS = 8.0  # below every hook timeout the installer configures (docs/integrations.md)
MAX_INPUT_BYTES = 8 * 1024 * 1024
MAX_FRAME_BYTES = MAX_INPUT_BYTES + 1024 * 1024
SOCKET_NAME = "hook.sock"

# The wire format, kept free of json (whose import costs more than the rest of the client):
# request = frame(PROTOCOL NUL agent NUL cwd [NUL NAME=VALUE]...) frame(the agent's raw input);
# reply = frame(exit code in ASCII) frame(stdout) frame(stderr). A frame is a 4-byte big-endian
# length and that many bytes.
#
# Hardened mode's other calls (hardened/client.py) come on the same socket: request =
# frame(OP_PROTOCOL NUL a JSON object); the reply is the one above, or, for a brokered call,
# streamed: frame(STREAMED), then frames of a tag and a chunk of output (STDOUT, STDERR), the last
# one EXIT and the exit code in ASCII. While a brokered ``exec`` streams, the caller may send
# frame(INTERRUPT) for each Ctrl-C (broker/interrupts.py). Both sides take these from here, a module
# that costs nothing to import.
OP_PROTOCOL = b"blastdoor-op/1"
STREAMED = b"\0streamed"
INTERRUPT = b"\0interrupt"
STDOUT, STDERR, EXIT = b"1", b"2", b"x"


def send_frame(sock: _socket.socket, data: bytes) -> None:
    sock.sendall(len(data).to_bytes(4, "big") + data)


def recv_frame(sock: _socket.socket, limit: int = MAX_FRAME_BYTES) -> bytes:
    size = int.from_bytes(recv_exact(sock, 4), "big")
    if size > limit:
        raise OSError(f"frame of {size} bytes is too large")
    return recv_exact(sock, size)


def recv_exact(sock: _socket.socket, size: int) -> bytes:
    chunks = []
    while size:
        chunk = sock.recv(min(size, 1 << 20))
        if not chunk:
            raise OSError("connection closed early")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def encode_request(agent: str, cwd: str, env: dict[str, str]) -> bytes:
    fields = [PROTOCOL, agent.encode(), os.fsencode(cwd)]
    fields += [os.fsencode(k) + b"=" + os.fsencode(v) for k, v in env.items() if "\0" not in k + v]
    return b"\0".join(fields)


def decode_request(data: bytes) -> tuple[str, str, dict[str, str]]:
    """(agent, cwd, env); ValueError when ``data`` is not a request of this protocol."""
    fields = data.split(b"\0")
    if len(fields) < 3 or fields[0] != PROTOCOL:
        raise ValueError("not a blastdoor-hook/1 request")
    env = {}
    for item in fields[3:]:
        name, sep, value = item.partition(b"=")
        if sep:
            env[os.fsdecode(name)] = os.fsdecode(value)
    return fields[1].decode("utf-8", "replace"), os.fsdecode(fields[2]), env


def socket_path(home: str) -> str:
    return os.path.join(home, "run", SOCKET_NAME)


def connect(path: str, timeout: float) -> _socket.socket:
    """A connection to the daemon's socket (a long path is reached with :func:`reach`)."""
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        reach(path, sock.connect)
    except BaseException:
        sock.close()
        raise
    return sock


# --- Unix sockets between Blastdoor's own processes (this client and the daemon, the hardened
# runner, the ledger's appender and its writers): here, because this file imports nothing else.


def reach(path: str, act: Callable[[str], Reached]) -> Reached:
    """``act(name)``, a ``bind`` or ``connect``, with a name that reaches the Unix socket ``path``.
    Socket names are limited to 107 bytes, so a longer path is reached through its folder: on
    Linux by the folder's descriptor (``/proc/self/fd/N/NAME``, which, unlike a chdir, is safe
    while other threads run; the descriptor is kept for the process's life, one per folder),
    elsewhere by changing into the folder for the call."""
    if len(os.fsencode(path)) < 100:
        return act(path)
    folder, name = os.path.split(path)
    if sys.platform.startswith("linux"):
        if folder not in _FOLDERS:
            _FOLDERS[folder] = os.open(folder, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        return act(f"/proc/self/fd/{_FOLDERS[folder]}/{name}")
    here = os.getcwd()
    os.chdir(folder)
    try:
        return act(name)
    finally:
        os.chdir(here)


_FOLDERS: dict[str, int] = {}


def peer_credentials(sock: _socket.socket) -> tuple[int, int, int] | None:
    """(pid, uid, gid) of the process at the other end of ``sock``, as the kernel says (Linux's
    SO_PEERCRED); None where the system cannot tell."""
    option = getattr(_socket, "SO_PEERCRED", None)
    if option is None:
        return None
    raw = sock.getsockopt(_socket.SOL_SOCKET, option, 12)  # struct ucred: three 32-bit ints
    pid, uid, gid = (int.from_bytes(raw[at : at + 4], sys.byteorder, signed=True) for at in (0, 4, 8))
    return pid, uid, gid


def ask_daemon(
    path: str, agent: str, raw: bytes, cwd: str, timeout: float
) -> tuple[int, bytes, bytes]:
    """(exit code, stdout, stderr) from the daemon on socket ``path``; OSError when there is none."""
    sock = connect(path, timeout)
    try:
        send_frame(sock, encode_request(agent, cwd, dict(os.environ)))
        send_frame(sock, raw)
        code, out, err = recv_frame(sock), recv_frame(sock), recv_frame(sock)
    finally:
        sock.close()
    if not code.lstrip(b"-").isdigit():
        raise OSError("the daemon's answer is malformed")
    return int(code), out, err


def decide_in_process(home: str, agent: str, raw: bytes, cwd: str) -> tuple[int, bytes, bytes]:
    import site

    site.main()  # the interpreter started with -S: now find Blastdoor and its libraries
    from blastdoor.integrations.local import decide_once

    reply = decide_once(home=home, agent=agent, raw=raw, cwd=cwd, env=dict(os.environ))
    return reply.exit_code, reply.stdout.encode(), reply.stderr.encode()


def start_daemon(home: str) -> None:
    """Start the resident daemon for the next call (it exits by itself when idle)."""
    import contextlib
    import subprocess

    with contextlib.suppress(OSError):  # deciding in process still works; the next call tries again
        subprocess.Popen(
            [sys.executable, "-I", "-m", "blastdoor", "--home", home, "daemon", "run"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, close_fds=True,
        )  # fmt: skip


def _decide(home: str, agent: str, raw: bytes, cwd: str, deadline: float) -> tuple[int, bytes, bytes]:
    """The home's daemon's answer; decided in process (and the daemon started) when it has none."""
    use_daemon = os.environ.get("BLASTDOOR_DAEMON", "1") != "0"  # 0: always decide in process
    try:
        if not use_daemon:
            raise OSError("the daemon is switched off")
        return ask_daemon(socket_path(home), agent, raw, cwd, timeout=deadline)
    except OSError:
        answer = decide_in_process(home, agent, raw, cwd)
        if use_daemon:
            start_daemon(home)
        return answer


def _expired(_signum: int, _frame: object) -> None:
    sys.stderr.write("blastdoor: no decision within the deadline; the call is blocked\n")
    sys.stderr.flush()
    os._exit(1)


def main(argv: list[str]) -> int:
    deadline = float(os.environ.get("BLASTDOOR_HOOK_DEADLINE") or DEADLINE_SECONDS)
    _signal.signal(_signal.SIGALRM, _expired)
    _signal.setitimer(_signal.ITIMER_REAL, deadline)
    if len(argv) < 2:
        sys.stderr.write("blastdoor: usage: hook_client.py AGENT [HOME]\n")
        return 1
    agent = argv[1]
    raw = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
    cwd = os.getcwd()
    if len(argv) > 3 and argv[2] == "--system":  # hardened mode: only the daemon decides
        try:
            code, out, err = ask_daemon(argv[3], agent, raw, cwd, timeout=deadline)
        except OSError:
            code, out, err = 1, b"", f"blastdoor: the Blastdoor daemon at {argv[3]} is not answering; the call is blocked\n".encode()
    else:
        home = (
            argv[2]
            if len(argv) > 2
            else os.environ.get("BLASTDOOR_HOME") or os.path.expanduser("~/.blastdoor")
        )
        code, out, err = _decide(home, agent, raw, cwd, deadline)
    _signal.setitimer(_signal.ITIMER_REAL, 0)
    sys.stdout.buffer.write(out)
    sys.stdout.flush()
    sys.stderr.buffer.write(err)
    return code


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except SystemExit:
        raise
    except BaseException as error:  # fail closed: the wrapper blocks on any non-zero exit
        sys.stderr.write(
            f"blastdoor: the hook failed ({type(error).__name__}: {error}); the call is blocked\n"
        )
        sys.exit(1)
