"""The command line, run as a user runs it: a real subprocess, real exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def blastdoor(
    *args: str, home: Path, stdin: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BLASTDOOR_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "blastdoor", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=60,
        stdin=None if stdin is not None else subprocess.DEVNULL,
    )


@pytest.mark.parametrize(
    ("command", "code"),
    [(["--", "ls", "-la"], 0), (["--", "rm -rf src"], 3), (["--", "rm", "-rf", "/"], 5)],
)
def test_exit_codes_per_decision(
    isolated_home: Path, tmp_path: Path, command: list[str], code: int
) -> None:
    result = blastdoor("check", "--cwd", str(tmp_path), *command, home=isolated_home)
    assert result.returncode == code, result.stdout + result.stderr


def test_several_words_are_an_argv_not_shell_text(isolated_home: Path) -> None:
    result = blastdoor(
        "check", "--json", "--", "git", "commit", "-m", "rm -rf /", home=isolated_home
    )
    assert result.returncode == 0
    assert json.loads(result.stdout)["decision"] == "allow"


def test_first_use_creates_the_home(tmp_path: Path) -> None:
    home = tmp_path / "fresh"
    result = blastdoor("init", home=home)
    assert result.returncode == 0
    assert (home / "policy.toml").is_file()
    assert (home / "keys" / "install.ed25519").stat().st_mode & 0o077 == 0
    assert (home / "blastdoor.db").is_file()
    again = blastdoor("init", home=home)
    assert again.returncode == 0


def test_batch_reads_stdin(isolated_home: Path) -> None:
    lines = "\n".join(
        json.dumps({"id": i, "input": cmd}) for i, cmd in enumerate(["ls", "rm -rf ~"])
    )
    result = blastdoor("check", "--batch", "-", home=isolated_home, stdin=lines + "\n")
    assert result.returncode == 0
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["decision"] for o in out] == ["allow", "deny"]


def test_errors_are_one_line_without_traceback(isolated_home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("mode = [", encoding="utf-8")
    for args in (
        ["check", "--policy", str(bad), "--", "ls"],
        ["check"],
        ["check", "--env", "NOEQUALS", "--", "ls"],
        ["check", "--batch", str(tmp_path / "missing.jsonl")],
        ["policy", "test", str(tmp_path / "nope.toml")],
    ):
        result = blastdoor(*args, home=isolated_home)
        assert result.returncode == 1, args
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_freeze_then_unfreeze_needs_a_terminal(isolated_home: Path) -> None:
    assert blastdoor("freeze", "--reason", "launch", home=isolated_home).returncode == 0
    env = ["--env", "DATABASE_URL=postgres://db.prod.internal/app"]
    frozen = blastdoor(
        "check",
        "--json",
        *env,
        "--",
        "psql \"$DATABASE_URL\" -c 'DELETE FROM users'",
        home=isolated_home,
    )
    assert json.loads(frozen.stdout)["decision"] == "deny"
    refused = subprocess.run(
        [sys.executable, "-m", "blastdoor", "unfreeze"],
        input="unfreeze\n",
        capture_output=True,
        text=True,
        env={**os.environ, "BLASTDOOR_HOME": str(isolated_home)},
        start_new_session=True,
        timeout=60,
    )  # no controlling terminal: piping the word in must not work
    assert refused.returncode == 1
    assert (isolated_home / "freeze.json").exists()


def test_policy_test_runs_a_users_table(isolated_home: Path, tmp_path: Path) -> None:
    table = tmp_path / "cases.toml"
    table.write_text(
        '[[case]]\ncommand = "rm -rf ~"\nexpect = "deny"\n\n[[case]]\ncommand = "ls"\nexpect = "deny"\n'
    )
    result = blastdoor("policy", "test", str(table), home=isolated_home)
    assert result.returncode == 1
    assert "1 passed, 1 failed" in result.stdout


def test_policy_show_prints_the_layers(isolated_home: Path) -> None:
    result = blastdoor("policy", "show", home=isolated_home)
    assert result.returncode == 0
    assert "guard.self-protection" in result.stdout and "user policy" in result.stdout
