"""Hardened mode for real: root installs it below a folder of the test's own, with a system user, an
agent's user and an approver's user made for the test (and removed after). Needs root on Linux;
CI runs as root, so there it must not skip."""

from __future__ import annotations

import json
import os
import pwd
import secrets
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import blastdoor


def _unavailable() -> str:
    if not sys.platform.startswith("linux"):
        return "hardened mode needs Linux (SO_PEERCRED)"
    if os.geteuid() != 0:
        return "hardened-mode tests create OS users, so they run as root (CI does)"
    if shutil.which("useradd") is None:
        return "useradd is missing"
    return ""


@dataclass(frozen=True)
class User:
    name: str
    uid: int
    gid: int
    keys: Path  # this user's own folder (approver keys live here)


@dataclass(frozen=True)
class Machine:
    folder: Path
    python: str  # an interpreter every user may run, with Blastdoor importable
    config: Path  # ROOT/etc/blastdoor/system.toml
    home: Path
    socket: Path
    agent: User
    alice: User

    def run(self, user: User | None, *args: str, stdin: str = "", env: dict[str, str] | None = None,
            cwd: Path | None = None) -> subprocess.CompletedProcess[str]:  # fmt: skip
        """``blastdoor ARGS`` as ``user`` (root when None), told where the system is."""
        return self.python_as(user, "-m", "blastdoor", *args, stdin=stdin, env=env, cwd=cwd)

    def python_as(self, user: User | None, *args: str, stdin: str = "", env: dict[str, str] | None = None,
                  cwd: Path | None = None) -> subprocess.CompletedProcess[str]:  # fmt: skip
        base = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "BLASTDOOR_SYSTEM_CONFIG": str(self.config),
                "HOME": str(user.keys if user else self.folder), "BLASTDOOR_APPROVER_KEYS": str(user.keys if user else self.folder)}  # fmt: skip
        who: dict[str, Any] = {"user": user.uid, "group": user.gid, "extra_groups": []} if user else {}
        return subprocess.run([self.python, *args], input=stdin, capture_output=True, text=True, timeout=120,
                              env=base | (env or {}), cwd=cwd or self.folder, check=False, **who)  # fmt: skip

    def start(self, user: User, *args: str, cwd: Path) -> subprocess.Popen[str]:
        """``blastdoor ARGS`` as ``user``, started: its output read as it comes."""
        base = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "BLASTDOOR_SYSTEM_CONFIG": str(self.config),
                "HOME": str(user.keys), "BLASTDOOR_APPROVER_KEYS": str(user.keys)}  # fmt: skip
        return subprocess.Popen([self.python, "-m", "blastdoor", *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=base, cwd=cwd, user=user.uid, group=user.gid,
                                extra_groups=[])  # fmt: skip

    def entries(self) -> list[dict[str, Any]]:
        """The daemon's ledger, read by root."""
        from blastdoor.config import Settings
        from blastdoor.ledger.ledger import Ledger

        with Ledger.open(Settings.resolve(home=str(self.home), env={})) as ledger:
            return [json.loads(row.body) for row in ledger.store.scan()]


def _shared_python(folder: Path) -> str:
    """This interpreter when every user can run it and it imports this Blastdoor even as the daemon
    starts it (``-I``: no PYTHONPATH, so a worktree's tests would otherwise test an editable
    install's code); otherwise a venv of the system's Python of the same version that sees this
    one's libraries and Blastdoor's source (CI's Python lives in /root)."""
    try:
        probe = subprocess.run([sys.executable, "-I", "-c", "import blastdoor; print(blastdoor.__file__)"], user="nobody",
                               capture_output=True, text=True, check=False, cwd="/")  # fmt: skip
    except PermissionError:
        probe = None
    if probe is not None and probe.returncode == 0 and Path(probe.stdout.strip()).resolve() == Path(blastdoor.__file__).resolve():
        return sys.executable
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    system = next((p for p in (f"/usr/bin/{version}", f"/usr/local/bin/{version}") if os.access(p, os.X_OK)), "")
    if not system:
        pytest.fail(f"no {version} that other users can run (install Debian's {version}, or Blastdoor where everyone can read it)")
    venv = folder / "venv"
    subprocess.run([system, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next(venv.glob("lib/python3*/site-packages"))
    paths = dict.fromkeys([str(Path(blastdoor.__file__).resolve().parents[1]), sysconfig.get_paths()["purelib"],
                           sysconfig.get_paths()["platlib"]])  # fmt: skip
    (site / "blastdoor-test.pth").write_text("".join(p + "\n" for p in paths))
    return str(venv / "bin" / "python")


def _user(name: str, folder: Path) -> User:
    subprocess.run(["useradd", "--no-create-home", "--shell", "/bin/false", "--user-group", name], check=True)
    found = pwd.getpwnam(name)
    keys = folder / name
    keys.mkdir(mode=0o700)
    os.chown(keys, found.pw_uid, found.pw_gid)
    return User(name, found.pw_uid, found.pw_gid, keys)


@pytest.fixture(scope="session")
def machine() -> Iterator[Machine]:
    problem = _unavailable()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"hardened-mode tests must run in CI: {problem}")
        pytest.skip(f"{problem}; run the suite as root on Linux to include them")
    tag = secrets.token_hex(3)
    folder = Path(tempfile.mkdtemp(prefix="bd-hardened-", dir="/tmp"))
    folder.chmod(0o755)
    names = [f"bdsys{tag}", f"bdagent{tag}", f"bdalice{tag}"]
    made: list[str] = []
    try:
        python = _shared_python(folder)
        agent, alice = (_user(name, folder) for name in names[1:])
        made += names[1:]
        root = folder / "root"
        done = subprocess.run([python, "-m", "blastdoor", "install", "--system", "--root", str(root), "--system-user", names[0],
                               "--python", python], capture_output=True, text=True, timeout=180, check=False)  # fmt: skip
        made += [names[0], f"{names[0]}-run0", f"{names[0]}-run1"]  # the daemon's user, the runners' (install's default: 2)
        assert done.returncode == 0, done.stdout + done.stderr
        subprocess.run(["usermod", "-aG", f"{names[0]}-approvers", alice.name], check=True)  # a person's step
        home = root / "var/lib/blastdoor"
        yield Machine(folder=folder, python=python, config=root / "etc/blastdoor/system.toml", home=home,
                      socket=root / "run/blastdoor/blastdoor.sock", agent=agent, alice=alice)  # fmt: skip
    finally:
        for name in made:  # the daemon first: a user with a running process cannot be removed
            subprocess.run(["pkill", "-TERM", "-u", name], capture_output=True, check=False)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(
                subprocess.run(["pgrep", "-u", name], capture_output=True, check=False).returncode == 0 for name in made):
            time.sleep(0.1)
        for name in made:
            subprocess.run(["userdel", name], capture_output=True, check=False)
            subprocess.run(["groupdel", name], capture_output=True, check=False)
        for group in (f"{names[0]}-approvers", f"{names[0]}-run"):
            subprocess.run(["groupdel", group], capture_output=True, check=False)
        shutil.rmtree(folder, ignore_errors=True)
