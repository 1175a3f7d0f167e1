"""``blastdoor install --system`` arguments that are refused before anything is made."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize("runners", ["0", "33"])
def test_a_pool_size_out_of_range_is_one_line(tmp_path: Path, runners: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("install --system runs as root")
    done = subprocess.run([sys.executable, "-m", "blastdoor", "install", "--system", "--root", str(tmp_path),
                           "--system-user", "bd-never-made", "--runners", runners], capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip
    assert done.returncode == 1 and done.stderr.count("\n") == 1
    assert f"the pool needs 1 to 32 runners, not {runners}" in done.stderr
    assert list(tmp_path.iterdir()) == []  # nothing made


def test_the_units_supervise_and_restrict_the_runners(tmp_path: Path) -> None:
    """Under systemd, root's socket unit keeps each runner's socket listening and the runner is
    started again when it dies; the runner's unit forbids set-user-ID files and privileges."""
    import shutil

    from blastdoor.hardened import install

    units = {
        "blastdoor-runner@.service": install.RUNNER_UNIT.format(python="/usr/bin/python3", socket="/run/blastdoor/blastdoor.sock",
                                                                user="blastdoor"),
        "blastdoor-runner@.socket": install.RUNNER_SOCKET_UNIT.format(folder="/run/blastdoor-runner", group="blastdoor"),
        "blastdoor.service": install.UNIT.format(user="blastdoor", python="/usr/bin/python3", home="/var/lib/blastdoor",
                                                 socket="/run/blastdoor/blastdoor.sock", runners="blastdoor-runner@0.service"),
    }  # fmt: skip
    for name, text in units.items():
        (tmp_path / name).write_text(text)
    runner, listening = units["blastdoor-runner@.service"], units["blastdoor-runner@.socket"]
    for line in ("Restart=always", "RestrictSUIDSGID=yes", "NoNewPrivileges=yes", "PrivateTmp=yes",
                 "Requires=blastdoor-runner@%i.socket"):  # fmt: skip
        assert line + "\n" in runner
    for line in ("ListenStream=/run/blastdoor-runner%i/runner.sock", "SocketUser=root", "SocketGroup=blastdoor",
                 "SocketMode=0660", "DirectoryMode=0710"):  # fmt: skip
        assert line + "\n" in listening
    if shutil.which("systemd-analyze") is None:
        return
    for name in ("blastdoor-runner@0.service", "blastdoor-runner@0.socket"):
        (tmp_path / name).symlink_to(name.replace("@0", "@"))
    checked = subprocess.run(["systemd-analyze", "verify", "--man=no", *(str(tmp_path / n) for n in
                              ("blastdoor-runner@0.socket", "blastdoor-runner@0.service", "blastdoor.service"))],
                             capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert checked.returncode == 0, checked.stderr
