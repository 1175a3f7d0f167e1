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
