"""The hardened runner's protocol, served in this process for this user: a program runs with the
argv, environment and folder it is given, its output on the descriptors passed along, and nothing
it leaves behind outlives it."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from blastdoor.broker.interrupts import Relay
from blastdoor.errors import BlastdoorError
from blastdoor.hardened import runner


@contextlib.contextmanager
def _serving(path: Path | None = None) -> Iterator[str]:
    """A runner in a process of its own, serving this user, on a socket bound here and handed to it
    (as install --system and systemd do)."""
    path = path or Path(f"/tmp/bd-runner-{os.getpid()}-{time.monotonic_ns()}.sock")
    server = runner.bind(path, group=os.getgid())
    code = f"from blastdoor.hardened import runner; runner.serve(runner.given_socket({server.fileno()}), peer_uid={os.getuid()})"
    process = subprocess.Popen([sys.executable, "-c", code], pass_fds=(server.fileno(),))
    server.close()
    try:
        yield str(path)
    finally:
        process.terminate()
        process.wait(timeout=20)
        path.unlink()


@pytest.fixture
def served() -> Iterator[str]:
    with _serving() as path:
        yield path


@pytest.fixture
def second() -> Iterator[str]:
    """Another runner: with ``served``, a pool of two."""
    with _serving() as path:
        yield path


def _run(path: str, argv: list[str], tmp_path: Path, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = tmp_path / "out", tmp_path / "err"
    with out.open("wb") as o, err.open("wb") as e:
        ran = runner.run(path, argv, env=env or {"PATH": "/usr/bin:/bin"}, cwd=str(tmp_path), stdout=o.fileno(), stderr=e.fileno())
    return ran.exit, out.read_text(), err.read_text()


def _claimed(path: str) -> socket.socket:
    """A connection to the runner at ``path`` that claimed it, as the daemon's side does."""
    sock = socket.socket(socket.AF_UNIX)
    sock.connect(path)
    sock.sendall(_message(b'{"claim": true}'))
    assert sock.recv(4096) == b'{"ready": true}\n'
    return sock


def _message(payload: bytes) -> bytes:
    return len(payload).to_bytes(8, "big") + payload


def test_the_program_gets_its_argv_env_and_folder(served: str, tmp_path: Path) -> None:
    code, out, err = _run(served, ["sh", "-c", 'echo "$TOKEN $(pwd)"; echo oops >&2; exit 3'], tmp_path,
                          env={"PATH": "/usr/bin:/bin", "TOKEN": "t-1"})  # fmt: skip
    assert (code, out, err) == (3, f"t-1 {tmp_path}\n", "oops\n")


def test_a_runner_socket_past_the_name_limit_is_bound_and_reached(tmp_path: Path) -> None:
    folder = tmp_path / ("long-" * 20)
    folder.mkdir()
    path = folder / "runner.sock"
    assert len(str(path).encode()) > 107  # longer than a Unix socket name may be
    with _serving(path) as served:
        assert (path.stat().st_mode & 0o777) == 0o660
        assert _run(served, ["sh", "-c", "echo reached"], tmp_path) == (0, "reached\n", "")


def test_a_missing_program_is_one_line(served: str, tmp_path: Path) -> None:
    with pytest.raises(BlastdoorError, match="cannot start 'no-such-program-here'"):
        _run(served, ["no-such-program-here"], tmp_path)


def test_a_malformed_request_is_refused(served: str, tmp_path: Path) -> None:
    payload = b'{"argv": [], "env": {}, "cwd": "relative"}'
    with _claimed(served) as sock, (tmp_path / "o").open("wb") as o:
        socket.send_fds(sock, [len(payload).to_bytes(8, "big")], [o.fileno(), o.fileno()])
        sock.sendall(payload)
        answer = sock.recv(4096)
    assert b"refused a malformed request" in answer and b"argv is not a list" in answer


def test_nothing_the_program_leaves_behind_outlives_it(served: str, tmp_path: Path) -> None:
    marker = tmp_path / "late"
    code, _out, _err = _run(served, ["sh", "-c", f"(sleep 1; touch {marker}) >/dev/null 2>&1 & exit 0"], tmp_path)
    assert code == 0
    time.sleep(1.5)
    assert not marker.exists()


def test_a_signal_is_reported_as_128_plus_its_number(served: str, tmp_path: Path) -> None:
    code, _out, _err = _run(served, ["sh", "-c", "kill -TERM $$"], tmp_path)
    assert code == 128 + 15


def test_a_file_handed_over_is_a_private_copy_removed_afterwards(served: str, tmp_path: Path) -> None:
    source = tmp_path / "plan.tfplan"
    source.write_bytes(b"PK\x03\x04 the plan")
    script = 'echo "$(stat -c %a "$(dirname "$1")") $(stat -c %a "$1")"; echo "$1"; cat "$1"'
    out, err = tmp_path / "out", tmp_path / "err"
    fd = os.open(source, os.O_RDONLY)
    try:
        with out.open("wb") as o, err.open("wb") as e:
            code = runner.run(served, ["sh", "-c", script, "sh", str(source)], env={"PATH": "/usr/bin:/bin"},
                              cwd=str(tmp_path), stdout=o.fileno(), stderr=e.fileno(), files={4: fd}).exit  # fmt: skip
    finally:
        os.close(fd)
    modes, path, content = out.read_text().splitlines()
    assert code == 0 and err.read_text() == ""
    assert modes == "700 600" and path.endswith("/0-plan.tfplan") and content == "PK\x03\x04 the plan"
    assert not Path(path).parent.exists()  # removed once the program ended


def test_files_must_match_their_descriptors(served: str, tmp_path: Path) -> None:
    payload = b'{"argv": ["cat", "x"], "env": {}, "cwd": "/", "files": [1, 1]}'
    with _claimed(served) as sock, (tmp_path / "o").open("wb") as o:
        socket.send_fds(sock, [len(payload).to_bytes(8, "big")], [o.fileno(), o.fileno(), o.fileno()])
        sock.sendall(payload)
        answer = sock.recv(4096)
    assert b"files does not name one argv word per file descriptor" in answer


def _interrupted(served: str, tmp_path: Path, script: str, times: int) -> tuple[int, str]:
    """Run ``script`` in the runner; once it printed "ready", note ``times`` interrupts, a second
    apart. Its exit code and its output."""
    out = tmp_path / "out"
    relay, answer = Relay(), {}
    with out.open("wb") as o:
        call = threading.Thread(target=lambda: answer.update(code=runner.run(
            served, ["sh", "-c", script], env={"PATH": "/usr/bin:/bin"}, cwd=str(tmp_path), stdout=o.fileno(),
            stderr=o.fileno(), interrupts=relay).exit))  # fmt: skip
        call.start()
        deadline = time.monotonic() + 30
        while b"ready" not in out.read_bytes() and time.monotonic() < deadline:
            time.sleep(0.05)
        for number in range(times):
            relay.note()
            if number + 1 < times:
                time.sleep(1.0)
                assert call.is_alive()  # a first interrupt the program ignores leaves it running
        call.join(timeout=30)
    return answer["code"], out.read_text()


def test_an_interrupt_reaches_the_program_as_sigint(served: str, tmp_path: Path) -> None:
    code, out = _interrupted(served, tmp_path, 'trap "echo stopping; exit 4" INT; echo ready; while :; do sleep 0.1; done', 1)
    assert (code, out) == (4, "ready\nstopping\n")


def test_a_second_interrupt_kills_it(served: str, tmp_path: Path) -> None:
    code, out = _interrupted(served, tmp_path, 'trap "" INT; echo ready; while :; do sleep 0.1; done', 2)
    assert (code, out) == (128 + 9, "ready\n")


def _in_background(path: str, argv: list[str], tmp_path: Path, name: str, relay: Relay | None = None) -> threading.Thread:
    """``argv`` run by the runner(s) at ``path`` on a thread, its output in ``tmp_path / name``
    (and ``NotStarted`` there when it was not started)."""
    (tmp_path / name).touch()

    def call() -> None:
        with (tmp_path / name).open("wb") as output:
            try:
                runner.run(path, argv, env={"PATH": "/usr/bin:/bin"}, cwd=str(tmp_path), stdout=output.fileno(),
                           stderr=output.fileno(), interrupts=relay)  # fmt: skip
            except runner.NotStarted:
                output.write(b"NotStarted")

    thread = threading.Thread(target=call)
    thread.start()
    return thread


def test_a_pool_runs_the_program_on_a_free_runner_and_waits_when_none_is(served: str, second: str, tmp_path: Path) -> None:
    go = tmp_path / "go"
    busy = _in_background(served, ["sh", "-c", f"echo busy; while [ ! -e {go} ]; do sleep 0.05; done"], tmp_path, "busy")
    deadline = time.monotonic() + 30
    while b"busy" not in (tmp_path / "busy").read_bytes() and time.monotonic() < deadline:
        time.sleep(0.05)
    # the first runner is busy: the pool's second one runs it at once
    assert _run(f"{served}{os.pathsep}{second}", ["echo", "ran"], tmp_path)[:2] == (0, "ran\n")
    assert busy.is_alive()
    # a runner that is busy and alone is waited for
    queued = _in_background(served, ["echo", "queued"], tmp_path, "queued")
    time.sleep(1.0)
    assert queued.is_alive() and (tmp_path / "queued").read_bytes() == b""
    go.touch()
    for thread in (busy, queued):
        thread.join(timeout=30)
    assert (tmp_path / "queued").read_bytes() == b"queued\n"


def _busy(path: str, tmp_path: Path, name: str) -> tuple[threading.Thread, Path]:
    """The runner at ``path`` busy with a program that runs until the returned file exists."""
    go = tmp_path / f"go-{name}"
    thread = _in_background(path, ["sh", "-c", f"echo busy; while [ ! -e {go} ]; do sleep 0.05; done"], tmp_path, name)
    deadline = time.monotonic() + 30
    while b"busy" not in (tmp_path / name).read_bytes() and time.monotonic() < deadline:
        time.sleep(0.05)
    return thread, go


def test_a_busy_runner_is_never_sent_the_secrets(served: str, tmp_path: Path) -> None:
    """Asking whether a runner is free carries nothing of the call: the secrets and descriptors
    go only to the runner that holds itself for it. A stand-in for a busy runner records what it
    was sent."""
    busy = Path(f"/tmp/bd-busy-{os.getpid()}-{time.monotonic_ns()}.sock")
    listening = socket.socket(socket.AF_UNIX)
    listening.bind(str(busy))
    listening.listen(4)
    received: list[bytes] = []
    descriptors: list[int] = []

    def answer_busy() -> None:
        conn, _ = listening.accept()
        with conn:
            conn.settimeout(2)
            data, fds, _flags, _addr = socket.recv_fds(conn, 65536, 8)
            received.append(data)
            descriptors.extend(fds)
            conn.sendall(b'{"busy": true}\n')

    stand_in = threading.Thread(target=answer_busy)
    stand_in.start()
    try:
        code, out, _err = _run(f"{busy}{os.pathsep}{served}", ["sh", "-c", 'echo "$TOKEN"'], tmp_path,
                               env={"PATH": "/usr/bin:/bin", "TOKEN": "s3cret-t0ken"})  # fmt: skip
        stand_in.join(timeout=10)
    finally:
        listening.close()
        busy.unlink()
        for fd in descriptors:
            os.close(fd)
    assert (code, out) == (0, "s3cret-t0ken\n")  # the free runner ran it
    assert received and b"s3cret" not in b"".join(received) and b"TOKEN" not in b"".join(received)
    assert descriptors == []  # neither the output pipes nor a plan went to the busy one


def test_an_interrupt_while_queued_keeps_the_program_from_starting(served: str, tmp_path: Path) -> None:
    busy, go = _busy(served, tmp_path, "busy")
    marker, relay = tmp_path / "ran", Relay()
    queued = _in_background(served, ["touch", str(marker)], tmp_path, "queued", relay)
    time.sleep(0.5)
    relay.note()
    queued.join(timeout=10)
    assert not queued.is_alive() and busy.is_alive()  # it gave up at once, while the runner was still busy
    go.touch()
    busy.join(timeout=30)
    time.sleep(0.3)
    assert (tmp_path / "queued").read_bytes() == b"NotStarted" and not marker.exists()


def test_an_interrupt_sent_with_the_call_keeps_the_program_from_starting(served: str, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    payload = json.dumps({"argv": ["touch", str(marker)], "env": {}, "cwd": "/"}).encode()
    with _claimed(served) as sock, (tmp_path / "o").open("wb") as o:
        socket.send_fds(sock, [len(payload).to_bytes(8, "big")], [o.fileno(), o.fileno()])
        sock.sendall(payload + runner.INTERRUPT)
        answer = sock.recv(4096)
    assert answer == b'{"started": false}\n' and not marker.exists()


def test_a_queued_call_takes_whichever_runner_frees_first(served: str, second: str, tmp_path: Path) -> None:
    for first_free in (0, 1):  # either runner of the pool
        paths = [served, second]
        busy = [_busy(path, tmp_path, f"busy{first_free}{index}") for index, path in enumerate(paths)]
        queued = _in_background(os.pathsep.join(paths), ["echo", "queued"], tmp_path, f"queued{first_free}")
        time.sleep(0.3)
        busy[first_free][1].touch()
        queued.join(timeout=10)
        assert not queued.is_alive() and (tmp_path / f"queued{first_free}").read_bytes() == b"queued\n"
        assert busy[1 - first_free][0].is_alive()  # the other is still busy
        busy[1 - first_free][1].touch()
        busy[1 - first_free][0].join(timeout=30)


SETID = """import os, shutil, stat
shutil.copy("/bin/true", "p")
for what, action in (("chmod 4755", lambda: os.chmod("p", 0o4755)), ("chmod 2755", lambda: os.chmod("p", 0o2755)),
                     ("fchmod", lambda: os.fchmod(os.open("p", os.O_RDONLY), stat.S_ISUID | 0o755)),
                     ("create 4755", lambda: os.open("q", os.O_CREAT | os.O_WRONLY, 0o4755)),
                     ("mkdir 2775", lambda: os.mkdir("d", 0o2775))):
    try:
        action()
        print(what, "done")
    except PermissionError:
        print(what, "refused")
print("modes", oct(os.stat("p").st_mode), os.path.exists("q"), os.path.exists("d"))
"""


def test_a_program_cannot_make_a_set_user_id_file(served: str, tmp_path: Path) -> None:
    (tmp_path / "setid.py").write_text(SETID)
    code, out, err = _run(served, [sys.executable, "setid.py"], tmp_path)
    assert code == 0, err
    assert out.splitlines() == ["chmod 4755 refused", "chmod 2755 refused", "fchmod refused", "create 4755 refused",
                                "mkdir 2775 refused", "modes 0o100755 False False"]  # fmt: skip

