"""A program run through the broker plays the attacker against its own runner: it shares the
runner's user, so it tries what that user could do. Each attempt must fail, and the next call must
still be served by a real runner (or refused cleanly), never by anything the program left behind."""

from __future__ import annotations

import grp
import hashlib
import os
import pwd
import socket
import stat
import subprocess
from pathlib import Path

import pytest

from blastdoor.hardened.runner import runner_socket
from tests.hardened.conftest import Machine
from tests.hardened.test_exec import _profile

# run as <user>-runN by that runner: looks into the runner (its parent), then kills it and tries to
# put a socket of its own in its place; a child keeps trying for a while, as a real attacker would
TAKEOVER = """import ctypes, errno, os, pwd, signal, socket, sys, time
runner, me = os.getppid(), pwd.getpwuid(os.getuid()).pw_name
index = int(me.rsplit("-run", 1)[1])
path = sys.argv[1].replace("-runner0/", f"-runner{index}/")
print("user", me, flush=True)

def tried(what, action):
    try:
        action()
        print(what, "done", flush=True)
    except OSError as error:
        print(what, errno.errorcode.get(error.errno, error.errno), flush=True)

tried("mem", lambda: open(f"/proc/{runner}/mem", "rb").close())
tried("environ", lambda: open(f"/proc/{runner}/environ", "rb").read())
tried("fds", lambda: os.listdir(f"/proc/{runner}/fd"))
libc = ctypes.CDLL(None, use_errno=True)
pidfd = os.pidfd_open(runner)
taken = [fd for fd in range(64) if libc.syscall(438, pidfd, fd, 0) >= 0]  # pidfd_getfd
print("taken", len(taken), flush=True)
os.kill(runner, signal.SIGKILL)
time.sleep(0.3)
tried("unlink", lambda: os.unlink(path))
tried("bind", lambda: socket.socket(socket.AF_UNIX).bind(path))
if os.fork() == 0:  # lingers, trying to take the place over
    os.setsid()
    null = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            os.unlink(path)
        except OSError:
            pass
        try:
            fake = socket.socket(socket.AF_UNIX)
            fake.bind(path)
            fake.listen(8)
            while True:
                conn, _ = fake.accept()
                conn.sendall(b'{"ready": true}\\n{"exit": 0}\\n')
        except OSError:
            time.sleep(0.1)
    os._exit(0)
"""
WHO = "import hashlib, os, pwd; print(pwd.getpwuid(os.getuid()).pw_name, hashlib.sha256(os.environ['API_TOKEN'].encode()).hexdigest())"


def _reinstall(machine: Machine) -> None:
    """A person runs install again: it starts the runners that are not running."""
    done = subprocess.run([machine.python, "-m", "blastdoor", "install", "--system", "--root", str(machine.home.parents[2]),
                           "--system-user", _daemon_user(machine), "--python", machine.python], capture_output=True,
                          text=True, timeout=180, check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def _daemon_user(machine: Machine) -> str:
    return pwd.getpwuid(machine.home.stat().st_uid).pw_name


def test_a_program_cannot_take_over_its_runners_socket_or_read_the_runner(machine: Machine) -> None:
    from tests.broker.conftest import SECRET

    _profile(machine, "ci-token")
    work = machine.folder / "attack-work"
    work.mkdir(mode=0o755, exist_ok=True)
    (work / "takeover.py").write_text(TAKEOVER)
    (work / "who.py").write_text(WHO)
    user = _daemon_user(machine)
    try:
        attack = machine.run(machine.agent, "exec", "--profile", "ci-token", "--session", "s-takeover", "--", "python3",
                             "takeover.py", str(runner_socket(machine.socket, 0)), cwd=work)  # fmt: skip
        said = dict(line.split(" ", 1) for line in attack.stdout.splitlines())
        assert said["user"].startswith(f"{user}-run"), attack.stdout + attack.stderr
        # the runner is undumpable: no memory, no environment, no descriptors for a program of its user
        assert (said["mem"], said["environ"], said["fds"]) == ("EACCES", "EACCES", "EACCES"), (
            attack.stdout
        )
        assert said["taken"] == "0"
        # its socket's folder is root's: the socket stays, and nothing else can be bound there
        assert (said["unlink"], said["bind"]) == ("EACCES", "EACCES"), attack.stdout
        assert attack.returncode == 1 and "stopped answering" in attack.stderr, attack.stderr
        # the next calls are served by a real runner of the pool (the killed one no longer answers)
        for _ in range(3):
            done = machine.run(machine.agent, "exec", "--profile", "ci-token", "--session", "s-after-takeover", "--",
                               "python3", "who.py", cwd=work)  # fmt: skip
            assert done.returncode == 0, done.stdout + done.stderr
            name, token = done.stdout.split()
            assert (
                name != said["user"]
                and name.startswith(f"{user}-run")
                and token == hashlib.sha256(f"tok-{SECRET}".encode()).hexdigest()
            )
        outcomes = [
            e
            for e in machine.entries()
            if e.get("session") == "s-after-takeover" and e["type"] == "broker-exec"
        ]
        assert [e["result"] for e in outcomes] == ["exited"] * 3 and all(
            e["runner"] for e in outcomes
        )
        lost = [
            e
            for e in machine.entries()
            if e.get("session") == "s-takeover" and e["type"] == "broker-exec"
        ]
        assert lost[-1]["result"] == "lost"  # not a forged exit
    finally:
        subprocess.run(
            ["pkill", "-KILL", "-u", f"{user}-run0,{user}-run1", "-f", "takeover.py"], check=False
        )
        _reinstall(machine)
    for index in range(2):  # the sockets' folders stay root's, for the daemon's group to enter
        folder = runner_socket(machine.socket, index).parent.stat()
        assert (folder.st_uid, folder.st_mode & 0o777) == (0, 0o710)


def test_a_runner_without_its_filter_does_not_start(machine: Machine) -> None:
    """Fail closed: a runner that cannot forbid set-user-ID files says so in one line and serves nothing."""
    from blastdoor.hardened import runner

    path = machine.folder / "filterless.sock"
    server = runner.bind(path, group=0)
    code = ("import sys; from blastdoor.hardened import nosuid; nosuid.LIBRARY = 'libseccomp-missing.so.9'; "
            "from blastdoor.cli.main import main; sys.exit(main(sys.argv[1:]))")  # fmt: skip
    try:
        done = subprocess.run([machine.python, "-c", code, "daemon", "runner", "--system", str(machine.socket),
                               "--for-user", _daemon_user(machine), "--listen-fd", str(server.fileno())],
                              pass_fds=(server.fileno(),), user=machine.agent.uid, group=machine.agent.gid,
                              extra_groups=[], capture_output=True, text=True, timeout=60, check=False, cwd="/")  # fmt: skip
    finally:
        server.close()
    assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
    assert "libseccomp-missing.so.9 is missing, so programs could make set-user-ID files" in done.stderr
    with socket.socket(socket.AF_UNIX) as sock, pytest.raises(ConnectionRefusedError):
        sock.connect(str(path))


SETUID_COPY = """import os, shutil, stat, sys
shutil.copy(sys.executable, "p")
for what, action in (("chmod", lambda: os.chmod("p", 0o4755)), ("chmod-g", lambda: os.chmod("p", 0o2755)),
                     ("create", lambda: os.open("q", os.O_CREAT | os.O_WRONLY, 0o6755))):
    try:
        action()
        print(what, "done", flush=True)
    except PermissionError:
        print(what, "refused", flush=True)
"""


def test_a_program_cannot_leave_the_agent_a_set_user_id_copy(machine: Machine) -> None:
    """The agent's folder is writable by the runners' group; a program run there tries to leave a
    set-user-ID copy of Python that the agent's user would then run as the runner's user."""
    _profile(machine, "ci-token")
    work = machine.folder / "setuid-work"
    work.mkdir(exist_ok=True)
    os.chown(work, machine.agent.uid, grp.getgrnam(f"{_daemon_user(machine)}-run").gr_gid)
    work.chmod(0o775)  # the daemon reads its policy file; the runners write
    (work / "setid_copy.py").write_text(SETUID_COPY)
    done = machine.run(machine.agent, "exec", "--profile", "ci-token", "--", "python3", "setid_copy.py", cwd=work)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.split("\n")[:3] == ["chmod refused", "chmod-g refused", "create refused"], done.stdout
    copy = (work / "p").stat()
    assert copy.st_mode & (stat.S_ISUID | stat.S_ISGID) == 0 and not (work / "q").exists()
    ran = subprocess.run([str(work / "p"), "-c", "import os; print(os.geteuid())"], user=machine.agent.uid,
                         group=machine.agent.gid, extra_groups=[], capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert ran.stdout.strip() == str(machine.agent.uid), ran.stderr  # the copy runs as the agent, not as a runner


LEAVES_AND_KILLS = """import os, signal, tempfile, time
print("stale", tempfile.mkdtemp(prefix="blastdoor-files-"), flush=True)  # as a runner killed mid-copy leaves it
if os.fork() == 0:  # a process of the runner's user that outlives the call, in a session of its own
    os.setsid()
    null = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    time.sleep(120)
    os._exit(0)
time.sleep(0.3)
print("left", [pid for pid in os.listdir("/proc") if pid.isdigit() and os.stat(f"/proc/{pid}").st_uid == os.getuid()
               and int(pid) not in (os.getpid(), os.getppid())][0], flush=True)
os.kill(os.getppid(), signal.SIGKILL)  # the runner: no sweep after this call
"""


def test_a_runner_sweeps_its_user_when_it_starts(machine: Machine) -> None:
    """A runner killed mid-call could not sweep what the call left; the runner started in its
    place kills it before it takes its first call."""
    _profile(machine, "ci-token")
    work = machine.folder / "sweep-work"
    work.mkdir(mode=0o755, exist_ok=True)
    (work / "leaves.py").write_text(LEAVES_AND_KILLS)
    try:
        done = machine.run(machine.agent, "exec", "--profile", "ci-token", "--", "python3", "leaves.py", cwd=work)
        assert "stopped answering" in done.stderr, done.stdout + done.stderr
        said = dict(line.split(" ", 1) for line in done.stdout.splitlines())
        left, stale = int(said["left"]), Path(said["stale"])
        assert _state(left) not in ("gone", "Z") and stale.is_dir()  # its runner is gone, so nothing swept it
    finally:
        _reinstall(machine)  # starts the runner again
    assert _state(left) in ("gone", "Z") and not stale.exists()


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return "gone"
