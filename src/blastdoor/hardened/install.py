"""``blastdoor install --system``: the ``blastdoor`` OS user, its home, the daemon and its socket.

Run as root. It creates the system user (``useradd --system``, no login shell) unless it exists,
the runner's user ``<user>-run`` (brokered programs run as it, never as the daemon's user), the
group ``<user>-approvers`` (its members may enroll as approvers; it starts empty), the home
(mode 0700, owned by that user: ledger, keys, policy, profiles), the socket's folder (mode
0755: every user may connect; the daemon tells them apart by peer credentials), writes
``etc/blastdoor/system.toml`` (root's, 0644) and the systemd units, initialises the home *as that
user*, and starts the runner (as the runner's user, its socket in a folder only the daemon's group
may enter) and the daemon (as that user). Run again, it changes nothing that is already right and
restarts nothing that is running.

``root`` puts everything below another folder than ``/`` (a test, a container image being built).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from blastdoor.errors import HomeError
from blastdoor.files import write_atomic
from blastdoor.hardened.layout import System
from blastdoor.hardened.runner import runner_socket

START_SECONDS = 30.0
UNIT = """[Unit]
Description=Blastdoor daemon (hardened mode): judges, records and approves agents' actions
After=network.target blastdoor-runner.service
Wants=blastdoor-runner.service

[Service]
User={user}
ExecStart={python} -m blastdoor --home {home} daemon run --system {socket}
Restart=always
UMask=0077
NoNewPrivileges=yes

[Install]
WantedBy=multi-user.target
"""
RUNNER_UNIT = """[Unit]
Description=Blastdoor runner (hardened mode): starts brokered programs under a user of its own
Before=blastdoor.service

[Service]
User={runner}
ExecStart={python} -m blastdoor daemon runner --system {socket} --for-user {user}
Restart=always
UMask=0077
NoNewPrivileges=yes

[Install]
WantedBy=multi-user.target
"""


def install(root: Path, *, user: str, python: str = sys.executable, start: bool = True) -> System:
    """Set up (or check) hardened mode below ``root``; the daemon runs under ``python``."""
    if os.geteuid() != 0:
        raise HomeError("hardened mode is set up by root", hint="run: sudo blastdoor install --system")
    system = System.under(root, user)
    uid, gid = _user(user, system.home)
    run_uid, run_gid = _user(runner_user(user), Path("/nonexistent"))
    _group(f"{user}-approvers")
    _check_python(python, uid, gid)
    _check_python(python, run_uid, run_gid)
    system.home.mkdir(parents=True, exist_ok=True)
    os.chown(system.home, uid, gid)
    system.home.chmod(0o700)
    system.socket.parent.mkdir(parents=True, exist_ok=True)
    os.chown(system.socket.parent, uid, gid)
    system.socket.parent.chmod(0o755)
    runner = runner_socket(system.socket).parent  # the runner makes its socket here; only the daemon's group enters
    runner.mkdir(parents=True, exist_ok=True)
    os.chown(runner, run_uid, gid)
    runner.chmod(0o710)
    etc = root / "etc" / "blastdoor"
    etc.mkdir(parents=True, exist_ok=True)
    write_atomic(etc / "system.toml", system.text(), mode=0o644, sync=True)
    units = root / "etc" / "systemd" / "system"
    units.mkdir(parents=True, exist_ok=True)
    write_atomic(units / "blastdoor.service", UNIT.format(user=user, python=python, home=system.home,
                                                         socket=system.socket), mode=0o644)  # fmt: skip
    write_atomic(units / "blastdoor-runner.service", RUNNER_UNIT.format(runner=runner_user(user), python=python,
                                                                       socket=system.socket, user=user), mode=0o644)  # fmt: skip
    _as(uid, gid, [python, "-m", "blastdoor", "--home", str(system.home), "init"])
    if start:
        _start_runner(system, python, run_uid, run_gid, log_owner=uid)
        _start(system, python, uid, gid)
    return system


def runner_user(user: str) -> str:
    """The user brokered programs run as: not the daemon's, so they cannot read its home."""
    return f"{user}-run"


def _check_python(python: str, uid: int, gid: int) -> None:
    """The blastdoor user must be able to run ``python`` and import Blastdoor with it."""
    try:
        done = subprocess.run([python, "-c", "import blastdoor.cli.main"], user=uid, group=gid, extra_groups=[],
                              env={"PATH": "/usr/bin:/bin"}, cwd="/", capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    except OSError as error:
        done = None
        said = str(error)
    if done is None or done.returncode != 0:
        said = done.stderr.strip().splitlines()[-1][:200] if done is not None and done.stderr.strip() else said if done is None else "no message"
        raise HomeError(f"the blastdoor user cannot run Blastdoor with {python} ({said})",
                        hint="install Blastdoor where every user can read it (python3 -m venv /opt/blastdoor && "
                        "/opt/blastdoor/bin/pip install blastdoor), or name such an interpreter with --python")  # fmt: skip


def _user(name: str, home: Path) -> tuple[int, int]:
    try:
        found = pwd.getpwnam(name)
    except KeyError:
        program = shutil.which("useradd")
        if program is None:
            raise HomeError("useradd is not installed, so the blastdoor user cannot be made",
                            hint=f"create a system user named {name} and run this again") from None  # fmt: skip
        shell = "/usr/sbin/nologin" if os.path.exists("/usr/sbin/nologin") else "/bin/false"
        done = subprocess.run([program, "--system", "--home-dir", str(home), "--no-create-home", "--shell", shell,
                               "--user-group", name], capture_output=True, text=True, check=False)  # fmt: skip
        if done.returncode != 0:
            raise HomeError(f"useradd failed: {done.stderr.strip()[:200]}", hint=f"create the system user {name} by hand") from None
        found = pwd.getpwnam(name)
    return found.pw_uid, found.pw_gid


def _group(name: str) -> None:
    """The group whose members may enroll as approvers (made empty; a person adds people)."""
    import grp

    try:
        grp.getgrnam(name)
    except KeyError:
        done = subprocess.run(["groupadd", "--system", name], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise HomeError(f"groupadd {name} failed: {done.stderr.strip()[:200]}", hint=f"create the group {name} by hand") from None


def _as(uid: int, gid: int, argv: list[str]) -> None:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "HOME": "/nonexistent"}
    done = subprocess.run(argv, user=uid, group=gid, extra_groups=[], env=env, cwd="/", capture_output=True,
                          text=True, check=False)  # fmt: skip
    if done.returncode != 0:
        raise HomeError(f"{' '.join(argv[3:])} as the blastdoor user failed: {done.stderr.strip()[:300]}",
                        hint="check that the blastdoor user can read Blastdoor's installed files") from None  # fmt: skip


def running(system: System) -> bool:
    from blastdoor.hardened.client import call

    try:
        call(system, "approvers")
    except Exception:
        return False
    return True


def _start(system: System, python: str, uid: int, gid: int) -> None:
    if running(system):
        return
    _spawn([python, "-m", "blastdoor", "--home", str(system.home), "daemon", "run", "--system", str(system.socket)],
           uid, gid, log=system.home / "daemon.log", log_owner=uid)  # fmt: skip
    _wait_for(lambda: running(system), "the daemon", system.home / "daemon.log")


def _start_runner(system: System, python: str, uid: int, gid: int, *, log_owner: int) -> None:
    path = runner_socket(system.socket)
    if _answers(path):
        return
    _spawn([python, "-m", "blastdoor", "daemon", "runner", "--system", str(system.socket), "--for-user", system.user],
           uid, gid, log=system.home / "runner.log", log_owner=log_owner)  # fmt: skip
    _wait_for(lambda: _answers(path), "the runner", system.home / "runner.log")


def _answers(path: Path) -> bool:
    from blastdoor.integrations import hook_client

    try:
        hook_client.connect(str(path), 1.0).close()
    except OSError:
        return False
    return True


def _spawn(argv: list[str], uid: int, gid: int, *, log: Path, log_owner: int) -> None:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "HOME": "/nonexistent"}
    handle = open(log, "ab")  # noqa: SIM115  (handed to the child, closed below)
    try:
        os.chown(log, log_owner, -1)
        subprocess.Popen(argv, user=uid, group=gid, extra_groups=[], env=env, cwd="/", stdin=subprocess.DEVNULL,
                         stdout=handle, stderr=handle, start_new_session=True, close_fds=True)  # fmt: skip
    finally:
        handle.close()


def _wait_for(ready: Callable[[], bool], what: str, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.1)
    raise HomeError(f"{what} did not start within {START_SECONDS:.0f} s", hint=f"see {log}")
