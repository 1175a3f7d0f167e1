"""The resident daemon: started by the first hook call, answers the same, records, stops, restarts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from blastdoor.config import Settings
from blastdoor.integrations import daemon
from blastdoor.ledger.ledger import Ledger
from tests.integrations.conftest import run_client
from tests.integrations.test_adapters import DENY_HOME, claude


@pytest.fixture
def settings(isolated_home: Path) -> Iterator[Settings]:
    resolved = Settings.resolve(home=str(isolated_home))
    yield resolved
    pid = daemon.stop(resolved)
    if pid:
        for _ in range(100):
            if daemon.running_pid(resolved) is None:
                break
            time.sleep(0.05)


def _wait_for(settings: Settings) -> int:
    for _ in range(200):
        pid = daemon.running_pid(settings)
        if pid and (settings.home / "run" / "hook.sock").exists():
            return pid
        time.sleep(0.05)
    raise AssertionError("the daemon did not start")


def test_the_first_call_starts_the_daemon_and_later_calls_use_it(
    settings: Settings, workspace: Path, user_home: Path
) -> None:
    first = run_client("claude-code", claude("rm -rf ~", workspace), home=settings.home, cwd=workspace,
                       env={"BLASTDOOR_DAEMON": "1"})  # fmt: skip
    pid = _wait_for(settings)
    second = run_client("claude-code", claude("rm -rf ~", workspace), home=settings.home, cwd=workspace,
                        env={"BLASTDOOR_DAEMON": "1"})  # fmt: skip
    assert first.stdout == second.stdout and DENY_HOME in second.stdout
    assert daemon.running_pid(settings) == pid  # the second call was answered, not a new daemon
    with Ledger.open(settings) as ledger:
        decisions = [
            json.loads(row.body) for row in ledger.store.scan() if b'"decision"' in row.body
        ]
    assert len([d for d in decisions if d.get("type") == "decision"]) == 2


def test_a_second_daemon_for_the_same_home_steps_aside(settings: Settings) -> None:
    started = subprocess.Popen([sys.executable, "-m", "blastdoor", "daemon", "run", "--idle", "60"],
                               stderr=subprocess.PIPE, text=True)  # fmt: skip
    _wait_for(settings)
    other = subprocess.run([sys.executable, "-m", "blastdoor", "daemon", "run", "--idle", "60"],
                           capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert other.returncode == 0 and "already serves" in other.stderr
    stopped = subprocess.run([sys.executable, "-m", "blastdoor", "daemon", "stop"], capture_output=True,
                             text=True, timeout=60, check=False)  # fmt: skip
    assert "stopped the daemon" in stopped.stdout
    assert started.wait(timeout=30) == 0
    assert not (settings.home / "run" / "hook.sock").exists()


def test_an_idle_daemon_exits_by_itself(settings: Settings) -> None:
    started = subprocess.Popen(
        [sys.executable, "-m", "blastdoor", "daemon", "run", "--idle", "0.5"]
    )
    assert started.wait(timeout=30) == 0
    assert daemon.running_pid(settings) is None


def test_a_client_speaking_another_protocol_is_refused(settings: Settings, workspace: Path) -> None:
    from blastdoor.integrations import hook_client

    subprocess.Popen([sys.executable, "-m", "blastdoor", "daemon", "run", "--idle", "60"])
    _wait_for(settings)
    sock = hook_client.connect(hook_client.socket_path(str(settings.home)), 10)
    try:
        hook_client.send_frame(sock, b"blastdoor-hook/0\0claude-code\0/")
        hook_client.send_frame(sock, b"{}")
        code, out, err = (hook_client.recv_frame(sock) for _ in range(3))
    finally:
        sock.close()
    assert (code, out) == (b"1", b"") and b"daemon differ" in err


def test_long_home_paths_still_reach_the_socket(
    tmp_path: Path, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / ("h" * 90) / "blastdoor"
    monkeypatch.setenv("BLASTDOOR_HOME", str(home))
    resolved = Settings.resolve(home=str(home))
    try:
        subprocess.Popen(
            [sys.executable, "-m", "blastdoor", "daemon", "run", "--idle", "60"],
            env=os.environ.copy(),
        )
        _wait_for(resolved)
        ran = run_client(
            "claude-code",
            claude("git status", workspace),
            home=home,
            cwd=workspace,
            env={"BLASTDOOR_DAEMON": "1"},
        )
        assert (ran.code, ran.stdout) == (0, "")
    finally:
        daemon.stop(resolved)


def test_while_the_daemon_runs_the_homes_writers_append_through_its_appender(settings: Settings) -> None:
    from blastdoor.ledger.entry import now
    from blastdoor.ledger.ledger import appender_socket

    started = subprocess.Popen([sys.executable, "-m", "blastdoor", "daemon", "run", "--idle", "60"])
    _wait_for(settings)
    for _ in range(200):
        if appender_socket(settings.home).exists():
            break
        time.sleep(0.05)
    with Ledger.open(settings) as ledger:
        first = ledger.record({"v": 1, "type": "decision", "time": now(), "n": 1})
        assert ledger._link is not None and ledger._link._sock is not None  # handed to the daemon's appender
        daemon.stop(settings)
        assert started.wait(timeout=30) == 0
        assert not appender_socket(settings.home).exists()
        second = ledger.record({"v": 1, "type": "decision", "time": now(), "n": 2})  # appended directly
        assert second.seq == first.seq + 1 and ledger._link._sock is None
