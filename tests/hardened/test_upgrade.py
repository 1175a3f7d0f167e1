"""``install --system`` over an older install: the single runner of installs before the pool is
taken down, a smaller pool loses its surplus runners (processes and users), and a daemon and
runners started with other code are started again. A system of the test's own, beside the
session's, with users made for it and removed after."""

from __future__ import annotations

import pwd
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from blastdoor.hardened import upgrade
from tests.hardened.conftest import Machine


@pytest.fixture
def name(machine: Machine) -> Iterator[str]:
    """The system user's name for this test; every user and group made under it is removed after."""
    user = f"bdup{secrets.token_hex(3)}"
    yield user
    users = [user, f"{user}-run", *(f"{user}-run{index}" for index in range(3))]
    for each in users:
        subprocess.run(["pkill", "-KILL", "-u", each], capture_output=True, check=False)
    for each in users:
        subprocess.run(["userdel", each], capture_output=True, check=False)
    for group in (user, f"{user}-run", f"{user}-approvers"):
        subprocess.run(["groupdel", group], capture_output=True, check=False)


def _install(machine: Machine, root: Path, user: str, runners: int) -> str:
    done = subprocess.run([machine.python, "-m", "blastdoor", "install", "--system", "--root", str(root), "--system-user",
                           user, "--python", machine.python, "--runners", str(runners)], capture_output=True, text=True,
                          timeout=180, check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _exists(user: str) -> bool:
    return subprocess.run(["getent", "passwd", user], capture_output=True, check=False).returncode == 0


def _alive(pid: int) -> bool:
    return upgrade._alive(pid)


def test_an_older_install_is_taken_down_and_what_changed_restarts(machine: Machine, name: str) -> None:
    root = machine.folder / f"upgrade-{name}"
    # what an install before the pool left: its runner's user (whose group the pool now shares), its
    # folder, its unit, and its runner, still running
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/bin/false", "--user-group", f"{name}-run"],
                   check=True)  # fmt: skip
    old = pwd.getpwnam(f"{name}-run")
    folder = root / "run" / "blastdoor-runner"
    folder.mkdir(parents=True)
    units = root / "etc" / "systemd" / "system"
    units.mkdir(parents=True)
    (units / "blastdoor-runner.service").write_text("[Service]\nUser=old\n")
    runner = subprocess.Popen(["sleep", "300"], user=old.pw_uid, group=old.pw_gid, start_new_session=True)

    said = _install(machine, root, name, 3)
    assert f"removed the single runner of the earlier install ({name}-run)" in said
    runner.wait(timeout=10)  # killed
    assert not _exists(f"{name}-run") and not folder.exists() and not (units / "blastdoor-runner.service").exists()
    group = subprocess.run(["getent", "group", f"{name}-run"], capture_output=True, text=True, check=False)
    assert group.returncode == 0 and int(group.stdout.split(":")[2]) == old.pw_gid  # the pool's group, as it was
    assert all(pwd.getpwnam(f"{name}-run{index}").pw_gid == old.pw_gid for index in range(3))

    # a smaller pool: the surplus runners stop, and their users go
    surplus = [upgrade._runner_pid(f"{name}-run{index}") for index in (1, 2)]
    assert all(surplus)
    said = _install(machine, root, name, 1)
    assert "removed runner 1" in said and "removed runner 2" in said
    assert not any(_alive(pid) for pid in surplus if pid)
    assert not _exists(f"{name}-run1") and not _exists(f"{name}-run2") and _exists(f"{name}-run0")
    assert sorted(p.name for p in (root / "run").iterdir()) == ["blastdoor", "blastdoor-runner0"]

    # installed again with the same code: nothing restarts; with other code (another stamp): both do
    home = root / "var/lib/blastdoor"
    daemon, runner0 = int((home / "run" / "daemon.lock").read_text()), upgrade._runner_pid(f"{name}-run0")
    _install(machine, root, name, 1)
    assert (int((home / "run" / "daemon.lock").read_text()), upgrade._runner_pid(f"{name}-run0")) == (daemon, runner0)
    (root / "etc" / "blastdoor" / "installed").write_text("an earlier version\n")
    _install(machine, root, name, 1)
    again = int((home / "run" / "daemon.lock").read_text()), upgrade._runner_pid(f"{name}-run0")
    assert again[0] != daemon and again[1] not in (None, runner0)
    assert _alive(again[0]) and not _alive(daemon) and runner0 is not None and not _alive(runner0)


CALL = """import sys
from blastdoor.hardened import runner
ran = runner.run(sys.argv[1], sys.argv[2:], env={"PATH": "/usr/bin:/bin"}, cwd="/", stdout=1, stderr=2)
print("exit", ran.exit, flush=True)
"""
# a program that runs until the file GO exists (two minutes at most)
UNTIL = 'for i in $(seq 1200); do [ -e "$0" ] && exit 0; sleep 0.1; done'


def _call(machine: Machine, user: str, socket: Path, *argv: str) -> subprocess.Popen[str]:
    """A call of the daemon's user (``user``) to the runner at ``socket``: ``argv``."""
    who = pwd.getpwnam(user)
    return subprocess.Popen([machine.python, "-c", CALL, str(socket), *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, user=who.pw_uid, group=who.pw_gid, extra_groups=[],
                            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}, cwd="/")  # fmt: skip


def test_a_runner_busy_during_an_upgrade_starts_anew_once_its_program_ends(machine: Machine, name: str) -> None:
    """It is not stopped mid-program, and not left on the old code either: asked by install, it
    starts anew in its own process, on its own socket, once the program ended, and serves on."""
    import time

    root = machine.folder / f"upgrade-{name}"
    _install(machine, root, name, 1)
    socket, log = root / "run" / "blastdoor-runner0" / "runner.sock", root / "var/lib/blastdoor" / "runner0.log"
    pid = upgrade._runner_pid(f"{name}-run0")
    go = machine.folder / f"go-{name}"
    go.unlink(missing_ok=True)
    busy = _call(machine, name, socket, "/bin/sh", "-c", UNTIL, str(go))
    try:
        deadline = time.monotonic() + 30
        while not (pid and upgrade._children(pid)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert pid and upgrade._children(pid), "the runner did not start the program"
        (root / "etc" / "blastdoor" / "installed").write_text("an earlier version\n")
        said = _install(machine, root, name, 1)
        assert "runner 0 is running a program; it starts anew with this code once that ends" in said
        assert upgrade._runner_pid(f"{name}-run0") == pid, "install started another runner beside the busy one"
        assert upgrade._children(pid) and "starting anew" not in log.read_text()  # the program runs on
        go.touch()
        out, err = busy.communicate(timeout=60)
    finally:
        busy.kill()
    assert out == "exit 0\n", err  # its answer came before the runner started anew
    deadline = time.monotonic() + 30
    while "starting anew" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "blastdoor runner: starting anew with the code now installed" in log.read_text()
    assert upgrade._runner_pid(f"{name}-run0") == pid  # the same process, on the same socket
    again = _call(machine, name, socket, "/bin/true")
    assert again.communicate(timeout=60)[0] == "exit 0\n"
    assert (root / "etc" / "blastdoor" / "installed").read_text() != "an earlier version\n"
