"""``install --system`` run again: what an older install left is taken down, and what changed restarts.

- The single runner of installs before the pool (user ``<user>-run``, whose group is now the
  pool's; its folder ``run/<name>-runner/``; ``blastdoor-runner.service``): its processes are
  killed, its unit and folder removed, and the user deleted (its group stays: the pool's).
- Runners beyond a smaller pool: their processes killed, their units disabled, their users deleted
  (their folders go with the pool's, in install.py).
- When the code, the interpreter or the units differ from what the running daemon and runners were
  started with (``etc/blastdoor/installed``), the daemon is stopped and started again, and so is
  each runner that is not running a program. A runner that is, is asked (SIGUSR1) to start anew
  itself, in its own process and on its own socket, once the program ended; when the interpreter
  changed too, it is left alone and named: install run again once its program ended restarts it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pwd
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from blastdoor.errors import HomeError
from blastdoor.files import write_atomic
from blastdoor.hardened.layout import System

STOP_SECONDS = 30.0
KILL_ROUNDS = 100  # kill(-1) rounds at most when a user is removed
Say = Callable[[str], None]


def remove_old_runner(system: System, units: Path, *, systemd: bool, say: Say) -> None:
    """Take down the single runner of installs before the pool, if there is one."""
    name = f"{system.user}-run"
    if systemd and (units / "blastdoor-runner.service").exists():
        subprocess.run(["systemctl", "disable", "--now", "blastdoor-runner.service"], capture_output=True, check=False)
    with contextlib.suppress(FileNotFoundError):
        (units / "blastdoor-runner.service").unlink()
    folder = system.socket.parent.parent / f"{system.socket.parent.name}-runner"
    if folder.is_dir():
        shutil.rmtree(folder, ignore_errors=True)
    if _exists(name):
        kill_user(name)
        _userdel(name)
        say(f"removed the single runner of the earlier install ({name}); the pool's runners take its place")


def remove_surplus(system: System, runners: int, *, systemd: bool, say: Say) -> None:
    """Runners beyond the pool's ``runners``: stopped, their users deleted."""
    index = runners
    while _exists(name := f"{system.user}-run{index}"):
        if systemd:
            subprocess.run(["systemctl", "disable", "--now", f"blastdoor-runner@{index}.socket",
                            f"blastdoor-runner@{index}.service"], capture_output=True, check=False)  # fmt: skip
        kill_user(name)
        _userdel(name)
        say(f"removed runner {index} ({name}): the pool now has {runners}")
        index += 1


def kill_user(name: str) -> None:
    """Kill every process of user ``name``, as that user (the runner's sweep, in a child that
    becomes that user)."""
    from blastdoor.hardened.runner import sweep

    found = pwd.getpwnam(name)
    child = os.fork()
    if child == 0:  # pragma: no cover  (the child only signals and leaves)
        try:
            os.setgroups([])
            os.setgid(found.pw_gid)
            os.setuid(found.pw_uid)
            sweep(rounds=KILL_ROUNDS)
        finally:
            os._exit(0)
    os.waitpid(child, 0)


def stamp(python: str, units: list[str]) -> str:
    """What the daemon and the runners run: the code's newest change, the interpreter, the units."""
    from blastdoor.integrations.daemon import code_stamp

    return hashlib.sha256("\0".join([str(code_stamp()), python, *units]).encode()).hexdigest()


def restart_if_changed(system: System, root: Path, new: str, *, python: str, runners: int, systemd: bool,
                       say: Say) -> bool:  # fmt: skip
    """Stop the daemon and the idle runners when ``new`` differs from the stamp they were started
    with, so install starts them anew, and ask a busy runner of the same interpreter (``python``) to
    start anew itself once its program ends (SIGUSR1, hardened/runner.py); True when none is left
    with the old code for good."""
    path = root / "etc" / "blastdoor" / "installed"
    try:
        old = path.read_text().strip()
    except FileNotFoundError:
        old = ""
    if old == new:
        return True
    everything = True
    if systemd:
        subprocess.run(["systemctl", "daemon-reload"], capture_output=True, check=False)
    _stop_daemon(system, systemd=systemd)
    for index in range(runners):
        pid = _runner_pid(f"{system.user}-run{index}")
        if pid is None:
            continue
        if _children(pid):
            if _interpreter(pid) == python:  # it starts anew itself once the program ended
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGUSR1)
                say(f"runner {index} is running a program; it starts anew with this code once that ends")
                continue
            everything = False
            say(f"runner {index} is running a program and keeps the code and interpreter it started with; "
                "run install --system again once it has ended")  # fmt: skip
            continue
        if systemd:
            subprocess.run(["systemctl", "stop", f"blastdoor-runner@{index}.service"], capture_output=True, check=False)
        else:
            _stop(pid)
    if everything:
        write_atomic(path, new + "\n", mode=0o644)
    return everything


def _stop_daemon(system: System, *, systemd: bool) -> None:
    if systemd:
        subprocess.run(["systemctl", "stop", "blastdoor.service"], capture_output=True, check=False)
        return
    lock = system.home / "run" / "daemon.lock"
    with contextlib.suppress(OSError, ValueError):
        text = lock.read_text().strip()
        if text.isdigit() and _is_daemon(int(text), system):
            _stop(int(text))


def _is_daemon(pid: int, system: System) -> bool:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"daemon" in command and str(system.socket).encode() in command


def _runner_pid(name: str) -> int | None:
    """The process of user ``name`` that is its runner (``blastdoor daemon runner``)."""
    uid = pwd.getpwnam(name).pw_uid
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if entry.stat().st_uid == uid and b"\0runner\0" in (entry / "cmdline").read_bytes():
                return int(entry.name)
    return None


def _interpreter(pid: int) -> str:
    """The program ``pid`` was started as (its argv[0])."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode("utf-8", "replace")
    except OSError:
        return ""


def _children(pid: int) -> bool:
    """Whether ``pid`` has a child process: a runner that has one is running a program."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                if int(_stat(entry)[1]) == pid:
                    return True
    return False


def _stop(pid: int) -> None:
    """SIGTERM, then wait for it to be gone (SIGKILL after STOP_SECONDS)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    while _alive(pid):
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        state = _stat(Path(f"/proc/{pid}"))[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _stat(process: Path) -> list[str]:
    """The fields of ``/proc/PID/stat`` after the program's name (which may hold spaces and
    parentheses): its state, its parent's pid, ..."""
    return (process / "stat").read_text().rsplit(")", 1)[1].split()


def _exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _userdel(name: str) -> None:
    done = subprocess.run(["userdel", name], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise HomeError(f"userdel {name} failed: {done.stderr.strip()[:200]}", hint=f"remove the user {name} by hand")
