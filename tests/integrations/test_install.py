"""install / uninstall / doctor on real settings files, and the installed command run through sh."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from blastdoor.integrations import manage
from blastdoor.integrations.agents import AGENTS, adapter_for
from blastdoor.integrations.claude_code import ClaudeCode
from tests.integrations.conftest import run_shell


def blastdoor(
    *argv: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "blastdoor", *argv], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "BLASTDOOR_DAEMON": "0", **(env or {})}, timeout=120, check=False)  # fmt: skip


def place(workspace: Path, user_home: Path, isolated_home: Path) -> manage.Place:
    return manage.Place(project=workspace, home=user_home, blastdoor_home=isolated_home)


USER_SETTINGS = {
    "permissions": {"allow": ["Bash(npm test)"]},
    "hooks": {
        "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "lint-hook"}]}]
    },
    "model": "opus",
}


def test_install_merges_backs_up_and_installing_twice_changes_nothing(
    workspace: Path, user_home: Path, isolated_home: Path
) -> None:
    settings = workspace / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(json.dumps(USER_SETTINGS))
    first = blastdoor("install", "claude-code", "--project", cwd=workspace)
    assert first.returncode == 0 and "installed the claude-code hook" in first.stdout
    merged = json.loads(settings.read_text())
    assert merged["permissions"] == USER_SETTINGS["permissions"] and merged["model"] == "opus"
    groups = merged["hooks"]["PreToolUse"]
    assert (
        groups[0] == USER_SETTINGS["hooks"]["PreToolUse"][0]
    )  # the user's own hook is kept, first
    assert groups[1]["matcher"] == "*" and groups[1]["hooks"][0]["timeout"] == 20
    assert (
        json.loads((settings.parent / "settings.json.blastdoor-backup").read_text())
        == USER_SETTINGS
    )
    before = settings.read_bytes()
    second = blastdoor("install", "claude-code", "--project", cwd=workspace)
    assert "nothing changed" in second.stdout and settings.read_bytes() == before
    gone = blastdoor("uninstall", "claude-code", "--project", cwd=workspace)
    assert gone.returncode == 0 and json.loads(settings.read_text()) == USER_SETTINGS


@pytest.mark.parametrize("agent", AGENTS)
def test_every_agent_installs_and_uninstalls_cleanly(
    agent: str, workspace: Path, user_home: Path, isolated_home: Path
) -> None:
    where = place(workspace, user_home, isolated_home)
    for scope in ("project", "user"):
        change = manage.install_agent(agent, scope, where)
        assert change.changed and change.path.exists()
        assert not manage.install_agent(agent, scope, where).changed
        found = [
            item for item in manage.installed(where) if item.agent == agent and item.scope == scope
        ]
        assert len(found) == 1 and found[0].path == change.path
        removed = manage.uninstall_agent(agent, scope, where)
        assert removed.removed_file and not change.path.exists()


def test_a_broken_settings_file_is_refused_and_left_alone(workspace: Path, user_home: Path) -> None:
    settings = workspace / ".gemini" / "settings.json"
    settings.parent.mkdir()
    settings.write_text('{"theme": "dark",,}')
    ran = blastdoor("install", "gemini", "--project", cwd=workspace)
    assert (
        ran.returncode == 1 and "is not valid JSON" in ran.stderr and "Traceback" not in ran.stderr
    )
    assert settings.read_text() == '{"theme": "dark",,}'


def test_managed_claude_settings_allow_only_managed_hooks_and_no_bypass() -> None:
    config = ClaudeCode().install(
        {}, "python hook_client.py claude-code /h || { exit 2; }", scope="managed"
    )
    assert config["allowManagedHooksOnly"] is True
    assert config["permissions"] == {"disableBypassPermissionsMode": "disable"}


@pytest.mark.parametrize("agent", AGENTS)
def test_the_installed_command_blocks_when_blastdoor_is_missing_crashes_or_is_slow(
    agent: str, workspace: Path, user_home: Path, isolated_home: Path
) -> None:
    adapter = adapter_for(agent)
    command = manage.command_for(adapter, place(workspace, user_home, isolated_home))
    payload = adapter.sample("git status", str(workspace))
    fine = run_shell(command, payload, cwd=workspace)
    assert not adapter.blocked(manage.Reply(fine.stdout, fine.code, fine.stderr))
    missing = command.replace(sys.executable, "/nonexistent/python3", 1)
    slow = {"BLASTDOOR_HOOK_DEADLINE": "0.000001"}
    for ran in (run_shell(missing, payload, cwd=workspace), run_shell(command, payload, cwd=workspace, env=slow),
                run_shell(command.replace(f" {agent} ", " no-such-agent ", 1), payload, cwd=workspace)):  # fmt: skip
        assert ran.code == 2, ran
        assert ran.stderr.strip()  # Codex and Gemini block on exit 2 only with a reason on stderr
        assert adapter.blocked(manage.Reply(ran.stdout, ran.code, ran.stderr))


def test_doctor_proves_hooks_block_and_names_credentials_without_values(
    workspace: Path, user_home: Path
) -> None:
    assert blastdoor("install", "claude-code", "--project", cwd=workspace).returncode == 0
    assert blastdoor("install", "cursor", "--user", cwd=workspace).returncode == 0
    env = {
        "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI-secret",
        "DATABASE_URL": "postgres://app:pw@db.prod.acme.io/app",
    }
    ran = blastdoor("doctor", cwd=workspace, env=env)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "claude-code (project)" in ran.stdout and "cursor (user)" in ran.stdout
    assert ran.stdout.count("ok  ") == 8 and "FAIL" not in ran.stdout
    assert (
        "AWS_SECRET_ACCESS_KEY" in ran.stdout
        and "DATABASE_URL (points at db.prod.acme.io)" in ran.stdout
    )
    assert "wJalrXUtnFEMI" not in ran.stdout and "pw@" not in ran.stdout


def test_doctor_fails_on_a_hook_that_does_not_block(workspace: Path, user_home: Path) -> None:
    settings = workspace / ".claude" / "settings.json"
    blastdoor("install", "claude-code", "--project", cwd=workspace)
    text = settings.read_text().replace("-I -S ", "-I -S -c pass ")  # runs nothing: always exit 0
    settings.write_text(text)
    ran = blastdoor("doctor", cwd=workspace)
    assert ran.returncode == 1 and "FAIL blocks `rm -rf ~`" in ran.stdout
