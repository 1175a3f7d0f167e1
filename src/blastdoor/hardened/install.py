"""``blastdoor install --system``: the ``blastdoor`` OS user, its home, the daemon and its socket.

Run as root. It creates the system user (``useradd --system``, no login shell) unless it exists,
the runners' users ``<user>-run0`` ... ``<user>-run{N-1}`` in the group ``<user>-run`` (brokered
programs run as them, never as the daemon's user; ``runners`` of them, so that programs run side
by side), the group ``<user>-approvers`` (its members may enroll as approvers; it starts empty),
the home (mode 0700, owned by that user: ledger, keys, policy, profiles), the socket's folder
(mode 0755: every user may connect; the daemon tells them apart by peer credentials), writes
``etc/blastdoor/system.toml`` (root's, 0644) and the systemd units, initialises the home *as that
user*, and starts the runners (each as its user, its socket in a folder only the daemon's group
may enter) and the daemon (as that user). Run again, it changes nothing that is already right;
what an older install left, runners beyond a smaller pool, and a daemon and runners started with
other code or units are taken care of by upgrade.py. Under systemd (``root`` ``/``), the units
start and supervise the daemon and the runners; otherwise install starts them itself.

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
from blastdoor.hardened import upgrade
from blastdoor.hardened.layout import RUNNERS, System
from blastdoor.hardened.runner import bind, runner_socket

START_SECONDS = 30.0
MAX_RUNNERS = 32
UNIT = """[Unit]
Description=Blastdoor daemon (hardened mode): judges, records and approves agents' actions
After=network.target {runners}
Wants={runners}

[Service]
User={user}
ExecStart={python} -I -m blastdoor --home {home} daemon run --system {socket}
Restart=always
UMask=0077
NoNewPrivileges=yes

[Install]
WantedBy=multi-user.target
"""
RUNNER_UNIT = """[Unit]
Description=Blastdoor runner %i (hardened mode): starts brokered programs under a user of its own
Requires=blastdoor-runner@%i.socket
After=blastdoor-runner@%i.socket
Before=blastdoor.service

[Service]
User={user}-run%i
Group={user}-run
ExecStart={python} -I -m blastdoor daemon runner --system {socket} --for-user {user} --index %i
Restart=always
UMask=0007
NoNewPrivileges=yes
RestrictSUIDSGID=yes
PrivateTmp=yes

[Install]
WantedBy=multi-user.target
"""
# root binds the socket in a folder the runner's user cannot write, and hands it to the runner
RUNNER_SOCKET_UNIT = """[Unit]
Description=Blastdoor runner %i's socket (hardened mode): bound by root, the daemon's group connects

[Socket]
ListenStream={folder}%i/runner.sock
SocketUser=root
SocketGroup={group}
SocketMode=0660
DirectoryMode=0710
Service=blastdoor-runner@%i.service

[Install]
WantedBy=sockets.target
"""


def install(root: Path, *, user: str, python: str = sys.executable, start: bool = True, runners: int = RUNNERS,
            say: Callable[[str], None] = lambda _line: None) -> System:  # fmt: skip
    """Set up (or check, or upgrade) hardened mode below ``root``; the daemon runs under ``python``,
    beside a pool of ``runners`` runners. ``say`` is told what an upgrade changed (upgrade.py)."""
    if os.geteuid() != 0:
        raise HomeError("hardened mode is set up by root", hint="run: sudo blastdoor install --system")
    if not 1 <= runners <= MAX_RUNNERS:
        raise HomeError(f"the pool needs 1 to {MAX_RUNNERS} runners, not {runners}", hint="for example --runners 2")
    system = System.under(root, user)
    systemd = start and _systemd(root)
    uid, gid = _user(user, system.home)
    _group(runner_group(user))
    pool = [_user(runner_user(user, index), Path("/nonexistent"), group=runner_group(user)) for index in range(runners)]
    _group(f"{user}-approvers")
    for ids in ((uid, gid), *pool):
        _check_python(python, *ids)
    units = root / "etc" / "systemd" / "system"
    units.mkdir(parents=True, exist_ok=True)
    upgrade.remove_old_runner(system, units, systemd=systemd, say=say)
    upgrade.remove_surplus(system, runners, systemd=systemd, say=say)
    system.home.mkdir(parents=True, exist_ok=True)
    os.chown(system.home, uid, gid)
    system.home.chmod(0o700)
    system.socket.parent.mkdir(parents=True, exist_ok=True)
    os.chown(system.socket.parent, uid, gid)
    system.socket.parent.chmod(0o755)
    _runner_folders(system, pool, gid)
    etc = root / "etc" / "blastdoor"
    etc.mkdir(parents=True, exist_ok=True)
    write_atomic(etc / "system.toml", system.text(), mode=0o644, sync=True)
    texts = _units(system, python, runners, gid)
    for name, text in texts.items():
        write_atomic(units / name, text, mode=0o644)
    _as(uid, gid, [python, "-I", "-m", "blastdoor", "--home", str(system.home), "init"])
    if start:
        upgrade.restart_if_changed(system, root, upgrade.stamp(python, list(texts.values())), python=python,
                                   runners=runners, systemd=systemd, say=say)  # fmt: skip
    if systemd:
        _start_units(system, runners)
    elif start:
        for index, (run_uid, run_gid) in enumerate(pool):
            _start_runner(system, python, run_uid, run_gid, index, log_owner=uid)
        _start(system, python, uid, gid)
    return system


def _units(system: System, python: str, runners: int, gid: int) -> dict[str, str]:
    """The systemd units, by file name."""
    instances = " ".join(f"blastdoor-runner@{index}.service" for index in range(runners))
    folder = str(runner_socket(system.socket, 0).parent).removesuffix("0")
    return {
        "blastdoor.service": UNIT.format(user=system.user, python=python, home=system.home, socket=system.socket,
                                         runners=instances),
        "blastdoor-runner@.service": RUNNER_UNIT.format(python=python, socket=system.socket, user=system.user),
        "blastdoor-runner@.socket": RUNNER_SOCKET_UNIT.format(folder=folder, group=_group_name(gid)),
    }  # fmt: skip


def _systemd(root: Path) -> bool:
    """Whether systemd runs this machine and this install is the machine's own: then it starts
    and supervises the daemon and the runners (a runner that dies is started again, on the socket
    systemd keeps listening on)."""
    return root == Path("/") and Path("/run/systemd/system").is_dir() and shutil.which("systemctl") is not None


def _start_units(system: System, runners: int) -> None:
    _systemctl("daemon-reload")
    for index in range(runners):
        _systemctl("enable", "--now", f"blastdoor-runner@{index}.socket")
        _systemctl("enable", f"blastdoor-runner@{index}.service")
    _systemctl("enable", "--now", "blastdoor.service")
    _wait_for(lambda: running(system), "the daemon", "journalctl -u blastdoor.service")


def _systemctl(*args: str) -> None:
    done = subprocess.run(["systemctl", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise HomeError(f"systemctl {' '.join(args)} failed: {done.stderr.strip()[:200]}",
                        hint="see journalctl -u blastdoor.service and the blastdoor-runner@ units")  # fmt: skip


def runner_user(user: str, index: int) -> str:
    """The users brokered programs run as: not the daemon's, so they cannot read its home; one per
    runner of the pool."""
    return f"{user}-run{index}"


def runner_group(user: str) -> str:
    """The pool's group: what one runner's program writes, another's may change (umask 0007)."""
    return f"{user}-run"


def _runner_folders(system: System, pool: list[tuple[int, int]], gid: int) -> None:
    """A folder per runner, for its socket: root's, entered by the daemon's group alone (0710). The
    runner's user may not write it, so a program it runs can neither remove the socket nor bind
    one of its own there. Folders of runners beyond the pool are removed: the daemon uses the
    folders it finds."""
    for index in range(len(pool)):
        folder = runner_socket(system.socket, index).parent
        folder.mkdir(parents=True, exist_ok=True)
        os.chown(folder, 0, gid)
        folder.chmod(0o710)
    index = len(pool)
    while (surplus := runner_socket(system.socket, index).parent).is_dir():
        shutil.rmtree(surplus, ignore_errors=True)
        index += 1


def _group_name(gid: int) -> str:
    import grp

    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


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


def _user(name: str, home: Path, *, group: str = "") -> tuple[int, int]:
    """The system user ``name`` (made when missing): its uid and gid, ``group`` or its own group."""
    try:
        found = pwd.getpwnam(name)
    except KeyError:
        program = shutil.which("useradd")
        if program is None:
            raise HomeError("useradd is not installed, so the blastdoor user cannot be made",
                            hint=f"create a system user named {name} and run this again") from None  # fmt: skip
        shell = "/usr/sbin/nologin" if os.path.exists("/usr/sbin/nologin") else "/bin/false"
        done = subprocess.run([program, "--system", "--home-dir", str(home), "--no-create-home", "--shell", shell,
                               *(["--gid", group] if group else ["--user-group"]), name],
                              capture_output=True, text=True, check=False)  # fmt: skip
        if done.returncode != 0:
            raise HomeError(f"useradd failed: {done.stderr.strip()[:200]}", hint=f"create the system user {name} by hand") from None
        found = pwd.getpwnam(name)
    return found.pw_uid, found.pw_gid


def _group(name: str) -> None:
    """A system group (made empty when missing): the approvers' (a person adds people), the runners'."""
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
    _spawn([python, "-I", "-m", "blastdoor", "--home", str(system.home), "daemon", "run", "--system", str(system.socket)],
           uid, gid, log=system.home / "daemon.log", log_owner=uid)  # fmt: skip
    _wait_for(lambda: running(system), "the daemon", str(system.home / "daemon.log"))


def _start_runner(system: System, python: str, uid: int, gid: int, index: int, *, log_owner: int) -> None:
    """Bind runner ``index``'s socket (as root, for the daemon's group) and start the runner with it."""
    path, log = runner_socket(system.socket, index), system.home / f"runner{index}.log"
    if _answers(path) or _still_serving(path, pwd.getpwuid(uid).pw_name):
        return
    server = bind(path, group=pwd.getpwuid(log_owner).pw_gid)
    try:
        _spawn([python, "-I", "-m", "blastdoor", "daemon", "runner", "--system", str(system.socket), "--for-user", system.user,
                "--index", str(index), "--listen-fd", str(server.fileno())], uid, gid, log=log, log_owner=log_owner,
               keep=server.fileno())  # fmt: skip
    finally:
        server.close()  # the runner holds it now
    _wait_for(lambda: _answers(path), f"runner {index}", str(log))


def _still_serving(path: Path, user: str) -> bool:
    """Whether the runner process of ``user`` that is there (slow to answer on a loaded machine,
    or busy) answers within START_SECONDS. One that does not is stopped: a new runner starting
    beside it would sweep its user, and the program the old one runs with it."""
    pid = upgrade._runner_pid(user)
    if pid is None:
        return False
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if _answers(path):
            return True
        time.sleep(0.2)
    upgrade._stop(pid)
    return False


def _answers(path: Path) -> bool:
    """Whether a runner serves at ``path``: it answers (root is refused, which is an answer). A
    socket that only accepts (bound, its runner not yet serving) is not enough."""
    from blastdoor.hardened.runner import ping

    return ping(str(path))


def _spawn(argv: list[str], uid: int, gid: int, *, log: Path, log_owner: int, keep: int | None = None) -> None:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "HOME": "/nonexistent"}
    handle = open(log, "ab")  # noqa: SIM115  (handed to the child, closed below)
    try:
        os.chown(log, log_owner, -1)
        subprocess.Popen(argv, user=uid, group=gid, extra_groups=[], env=env, cwd="/", stdin=subprocess.DEVNULL,
                         stdout=handle, stderr=handle, start_new_session=True, close_fds=True,
                         pass_fds=() if keep is None else (keep,))  # fmt: skip
    finally:
        handle.close()


def _wait_for(ready: Callable[[], bool], what: str, log: str) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.1)
    raise HomeError(f"{what} did not start within {START_SECONDS:.0f} s", hint=f"see {log}")
