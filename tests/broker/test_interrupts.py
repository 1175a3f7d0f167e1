"""Ctrl-C during ``blastdoor exec`` (single-user mode), with real processes and real signals: the
program is stopped (SIGINT, then SIGKILL), the ledger says the call was interrupted, and exec
exits with 130 and one line. Hardened mode's path is in tests/hardened/test_exec.py."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.approvals.terminal import on_terminal
from tests.broker.conftest import add_profile, entries

# prints "ready" once its SIGINT handling is in place, then waits; what it does on SIGINT is the test's
PROGRAM = """import os, signal, sys, time
{on_sigint}
sys.stdout.write("ready"); sys.stdout.flush()
deadline = time.time() + 60
while time.time() < deadline:
    time.sleep(0.05)
print("never interrupted")
"""
STOPS = """def stop(*_):
    print(" got SIGINT", flush=True)
    sys.exit(3)
signal.signal(signal.SIGINT, stop)"""
IGNORES = "signal.signal(signal.SIGINT, signal.SIG_IGN)"
COUNTS = """count = 0
def note(*_):
    global count
    count += 1
    if count == 1:
        signal.alarm(2)
def report(*_):
    print(f" {count} SIGINT", flush=True)
    sys.exit(0)
signal.signal(signal.SIGINT, note)
signal.signal(signal.SIGALRM, report)"""


def _started(env: dict[str, str], tmp_path: Path, on_sigint: str, session: str) -> subprocess.Popen[bytes]:
    """``blastdoor exec`` of the program, in a session of its own (no terminal: a signal reaches
    blastdoor alone), once the program said it is ready."""
    add_profile(env, "dev", scope="development", allow=["*"], values={"API_TOKEN": "t0ken-value-1"})
    (tmp_path / "waits.py").write_text(PROGRAM.format(on_sigint=on_sigint))
    started = subprocess.Popen([sys.executable, "-m", "blastdoor", "exec", "--profile", "dev", "--session", session, "--",
                                sys.executable, "waits.py"], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, start_new_session=True)  # fmt: skip
    assert started.stdout is not None
    ready, _, _ = select.select([started.stdout], [], [], 60)
    assert ready and os.read(started.stdout.fileno(), 5) == b"ready", "the program did not start"
    return started


def _outcome(home: Path, session: str) -> dict[str, object]:
    return next(e for e in entries(home) if e["type"] == "broker-exec" and e.get("session") == session)


def test_ctrl_c_stops_the_program_and_is_recorded(env: dict[str, str], isolated_home: Path, tmp_path: Path) -> None:
    started = _started(env, tmp_path, STOPS, "s-stop")
    os.kill(started.pid, signal.SIGINT)
    out, err = started.communicate(timeout=60)
    assert started.returncode == 130
    assert out == b" got SIGINT\n"  # the program got the SIGINT and stopped its own way
    name = Path(sys.executable).name
    assert err.decode() == f"blastdoor: interrupted; {name} was stopped (exit 3) and the ledger records the call as interrupted\n"
    outcome = _outcome(isolated_home, "s-stop")
    assert outcome["result"] == "interrupted" and outcome["exit"] == 3


def test_a_second_ctrl_c_kills_a_program_that_ignores_the_first(env: dict[str, str], isolated_home: Path,
                                                                tmp_path: Path) -> None:  # fmt: skip
    started = _started(env, tmp_path, IGNORES, "s-kill")
    os.kill(started.pid, signal.SIGINT)
    time.sleep(1.0)
    assert started.poll() is None  # the program ignores SIGINT, and blastdoor waits for it
    os.kill(started.pid, signal.SIGINT)
    out, err = started.communicate(timeout=60)
    assert started.returncode == 130 and b"never interrupted" not in out
    assert err.decode().count("\n") == 1 and "was stopped (exit 137)" in err.decode()
    outcome = _outcome(isolated_home, "s-kill")
    assert outcome["result"] == "interrupted" and outcome["exit"] == 128 + signal.SIGKILL


def test_ctrl_c_typed_at_a_terminal_reaches_the_program_once(env: dict[str, str], isolated_home: Path,
                                                             tmp_path: Path) -> None:  # fmt: skip
    """The terminal signals its whole foreground group, the program included: blastdoor does not
    add a second SIGINT, which would make Terraform quit at once instead of finishing its change."""
    add_profile(env, "dev", scope="development", allow=["*"], values={"API_TOKEN": "t0ken-value-1"})
    (tmp_path / "counts.py").write_text(PROGRAM.format(on_sigint=COUNTS))
    code, screen = on_terminal(["exec", "--profile", "dev", "--session", "s-tty", "--", sys.executable,
                                str(tmp_path / "counts.py")], [("ready", "\x03")], home=None, env=env)  # fmt: skip
    assert code == 130, screen
    assert "\n 1 SIGINT\n" in screen and "interrupted" in screen.splitlines()[-1], screen
    assert _outcome(isolated_home, "s-tty")["result"] == "interrupted"


def test_without_a_ctrl_c_the_outcome_is_exited(env: dict[str, str], isolated_home: Path, tmp_path: Path) -> None:
    add_profile(env, "dev", scope="development", allow=["*"], values={"API_TOKEN": "t0ken-value-1"})
    done = subprocess.run([sys.executable, "-m", "blastdoor", "exec", "--profile", "dev", "--session", "s-plain", "--",
                           sys.executable, "-c", "raise SystemExit(7)"], env=env, cwd=tmp_path, capture_output=True,
                          timeout=60, check=False)  # fmt: skip
    assert done.returncode == 7 and done.stderr == b""
    assert _outcome(isolated_home, "s-plain")["result"] == "exited"


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGHUP], ids=["sigterm", "sighup"])
def test_sigterm_and_sighup_stop_the_program_as_ctrl_c_does(env: dict[str, str], isolated_home: Path, tmp_path: Path,
                                                           number: int) -> None:  # fmt: skip
    """How harnesses cancel (SIGTERM) and terminals hang up (SIGHUP): the program is asked to stop,
    not orphaned with its secrets, and the outcome is recorded."""
    session = f"s-signal-{number}"
    started = _started(env, tmp_path, STOPS, session)
    os.kill(started.pid, number)
    out, err = started.communicate(timeout=60)
    assert started.returncode == 130 and out == b" got SIGINT\n", err
    outcome = _outcome(isolated_home, session)
    assert outcome["result"] == "interrupted" and outcome["exit"] == 3


def test_interrupts_while_the_outcome_is_written_never_lose_it(env: dict[str, str], isolated_home: Path,
                                                               tmp_path: Path) -> None:  # fmt: skip
    """Ctrl-C after Ctrl-C, until blastdoor exits: the program is stopped, and however many come
    while the outcome is written, it is written."""
    started = _started(env, tmp_path, IGNORES, "s-many")
    while started.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(started.pid, signal.SIGINT)
        time.sleep(0.002)
    _out, err = started.communicate(timeout=60)
    # 130 with its line, or killed by one of the Ctrl-Cs that came after it had said so, on its way out
    assert b"was stopped (exit 137) and the ledger records the call as interrupted" in err, err
    assert started.returncode in (130, -signal.SIGINT)
    outcome = _outcome(isolated_home, "s-many")
    assert outcome["result"] == "interrupted" and outcome["exit"] == 128 + signal.SIGKILL


def test_an_interrupt_noted_before_the_start_keeps_the_program_from_starting(tmp_path: Path) -> None:
    from blastdoor.broker.exec_run import run_program
    from blastdoor.broker.interrupts import Relay

    relay, marker = Relay(), tmp_path / "ran"
    relay.note()  # came after the call's own check, just before the program would start
    with (tmp_path / "out").open("wb") as out:
        outcome = run_program(["touch", str(marker)], secrets={}, hidden=[], cwd=str(tmp_path), stdout=out, stderr=out,
                              interrupts=relay)  # fmt: skip
    time.sleep(0.2)
    assert not outcome.started and outcome.interrupted and not marker.exists()


LEAVES_A_CHILD = """import os, signal, subprocess, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])  # holds the output pipes
open("child.pid", "w").write(str(child.pid))
sys.stdout.write("ready"); sys.stdout.flush()
time.sleep(60)
"""


def test_a_second_ctrl_c_kills_what_the_program_started_too(env: dict[str, str], isolated_home: Path,
                                                             tmp_path: Path) -> None:  # fmt: skip
    """The second Ctrl-C kills the program's whole process group: a child it started, holding its
    output, neither lives on nor keeps blastdoor waiting."""
    add_profile(env, "dev", scope="development", allow=["*"], values={"API_TOKEN": "t0ken-value-1"})
    (tmp_path / "leaves.py").write_text(LEAVES_A_CHILD)
    started = subprocess.Popen([sys.executable, "-m", "blastdoor", "exec", "--profile", "dev", "--session", "s-group", "--",
                                sys.executable, "leaves.py"], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, start_new_session=True)  # fmt: skip
    assert started.stdout is not None
    ready, _, _ = select.select([started.stdout], [], [], 60)
    assert ready and os.read(started.stdout.fileno(), 5) == b"ready"
    child = int((tmp_path / "child.pid").read_text())
    begun = time.monotonic()
    for _ in range(2):
        os.kill(started.pid, signal.SIGINT)
        time.sleep(0.5)
    started.communicate(timeout=60)
    assert started.returncode == 130 and time.monotonic() - begun < 10
    time.sleep(0.2)
    assert _state(child) in ("gone", "Z")  # killed (a zombie until whoever adopted it reaps it)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return "gone"


# Each round: the main thread waits on a socket through the relay while a helper thread (as the
# output pumps are) is alive; two signals come back to back; the second one's handler ends the wait.
ROUNDS = """import socket, sys, threading
from blastdoor.broker.interrupts import Relay, caught
for _ in range(int(sys.argv[1])):
    mine, theirs = socket.socketpair()
    relay, stop = Relay(), threading.Event()
    helper = threading.Thread(target=stop.wait, daemon=True)
    helper.start()
    with caught(relay), relay.passing_to(lambda number: number == 2 and theirs.send(b"x")):
        print("ready", flush=True)
        try:
            relay.await_readable(mine.fileno(), timeout=5)
        except TimeoutError:
            print("lost", relay.count, flush=True)
            raise SystemExit(1)
    stop.set()
    helper.join()
    print("both", flush=True)
"""


def test_two_signals_back_to_back_are_both_noted_at_once_however_they_land(tmp_path: Path) -> None:
    """A signal can land just before the main thread goes to sleep, or be taken by another thread
    while the main one still has one pending; a bare recv then slept on with the signal unnoted (a
    second Ctrl-C lost until the program ended on its own: seen in a few rounds in 300). Through
    the relay's wait, every round ends at once."""
    script = tmp_path / "rounds.py"
    script.write_text(ROUNDS)
    rounds = 300
    child = subprocess.Popen([sys.executable, str(script), str(rounds)], stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})  # fmt: skip
    assert child.stdout is not None
    try:
        for number in range(rounds):
            assert child.stdout.readline() == "ready\n"
            child.send_signal(signal.SIGINT)
            child.send_signal(signal.SIGTERM)
            said = child.stdout.readline()
            assert said == "both\n", f"round {number}: {said.strip()}"
    finally:
        child.kill()
        child.wait()


def test_sigint_and_sigterm_back_to_back_kill_a_program_that_ignores_sigint(env: dict[str, str], isolated_home: Path,
                                                                           tmp_path: Path) -> None:  # fmt: skip
    """How a harness that cancels twice in a row is served: the first is the program's SIGINT,
    the second its SIGKILL, both passed on as they come, not when the program ends on its own."""
    started = _started(env, tmp_path, IGNORES, "s-twice")
    os.kill(started.pid, signal.SIGINT)
    os.kill(started.pid, signal.SIGTERM)
    out, err = started.communicate(timeout=20)
    assert started.returncode == 130 and b"never interrupted" not in out, err
    assert "was stopped (exit 137)" in err.decode()
    assert _outcome(isolated_home, "s-twice")["result"] == "interrupted"
