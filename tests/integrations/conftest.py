"""Running hooks the way agents run them: a subprocess, the agent's JSON on stdin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from blastdoor.integrations import hook_client

CLIENT = hook_client.__file__


@dataclass(frozen=True)
class Ran:
    stdout: str
    stderr: str
    code: int

    @property
    def json(self) -> Any:
        return json.loads(self.stdout)


def run_client(agent: str, payload: Mapping[str, Any] | bytes, *, home: Path, cwd: Path,
               env: Mapping[str, str] | None = None) -> Ran:  # fmt: skip
    """The hook client under ``python -I -S``, as the installed command starts it."""
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    done = subprocess.run(
        [sys.executable, "-I", "-S", CLIENT, agent, str(home)], input=data, capture_output=True,
        cwd=cwd, env={**os.environ, "BLASTDOOR_DAEMON": "0", **(env or {})}, timeout=60, check=False,
    )  # fmt: skip
    return Ran(done.stdout.decode(), done.stderr.decode(), done.returncode)


def run_shell(command: str, payload: Mapping[str, Any] | bytes, *, cwd: Path,
              env: Mapping[str, str] | None = None) -> Ran:  # fmt: skip
    """An installed hook command, run through a shell as agents do."""
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    done = subprocess.run(
        ["/bin/sh", "-c", command], input=data, capture_output=True, cwd=cwd,
        env={**os.environ, "BLASTDOOR_DAEMON": "0", **(env or {})}, timeout=60, check=False,
    )  # fmt: skip
    return Ran(done.stdout.decode(), done.stderr.decode(), done.returncode)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    folder = tmp_path / "shop"
    folder.mkdir()
    return folder


@pytest.fixture
def user_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A user home outside /tmp-looking paths is not needed: Blastdoor treats any home as a home."""
    home = tmp_path / "me"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    yield home
