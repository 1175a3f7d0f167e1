"""[credentials] in config.toml: a credential used outside its purpose is denied, approval or not
(PocketOS: a token made for custom domains deleted a production volume)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TOKEN = "rw_live_4f9a8c7d6e5b4a3f2e1d0c9b"
CONFIG = f"""
[credentials.railway-domains]
env = ["RAILWAY_TOKEN"]
digests = ["sha256:{hashlib.sha256(TOKEN.encode()).hexdigest()}"]
purpose = "manage custom domains"
allow = ["read", "create", "modify"]
"""
VOLUME_DELETE = ("curl -X POST https://backboard.railway.app/graphql/v2 -H \"Authorization: Bearer ${VAR}\" "
                 "-d '{\"query\":\"mutation { volumeDelete(volumeId: \\\"vol-1\\\") }\"}'")  # fmt: skip


def run(home: Path, *args: str, env: dict[str, str] | None = None, stdin: str = "") -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("RAILWAY_TOKEN", "CLAUDECODE")}
    return subprocess.run([sys.executable, "-m", "blastdoor", "--home", str(home), *args], input=stdin,
                          capture_output=True, text=True, env=clean | {"BLASTDOOR_DAEMON": "0"} | (env or {}),
                          timeout=60, check=False)  # fmt: skip


@pytest.fixture
def home(isolated_home: Path) -> Path:
    (isolated_home / "config.toml").write_text(CONFIG)
    return isolated_home


def test_a_described_credential_outside_its_purpose_is_denied(home: Path) -> None:
    done = run(home, "check", "--no-record", "--", VOLUME_DELETE.replace("VAR", "RAILWAY_TOKEN"))
    assert done.returncode == 5 and "credential.out-of-purpose" in done.stdout
    assert "manage custom domains" in done.stdout
    read = run(home, "check", "--no-record", "--", "curl -H \"Authorization: Bearer $RAILWAY_TOKEN\" "
               "https://backboard.railway.app/graphql/v2 -d '{\"query\":\"{ me { id } }\"}'")  # fmt: skip
    assert read.returncode == 0, read.stdout


def test_the_token_is_recognised_by_its_digest_under_any_name(home: Path) -> None:
    done = run(home, "check", "--no-record", "--env", f"SOME_VAR={TOKEN}", "--",
               VOLUME_DELETE.replace("VAR", "SOME_VAR"))  # fmt: skip
    assert done.returncode == 5 and "credential.out-of-purpose" in done.stdout
    literal = run(home, "check", "--no-record", "--", VOLUME_DELETE.replace("${VAR}", TOKEN))
    assert literal.returncode == 5 and "credential.out-of-purpose" in literal.stdout


def test_a_cli_that_reads_the_token_from_its_environment_counts(home: Path) -> None:
    command = "railway volume delete --volume vol-1"
    found = run(home, "check", "--no-record", "--env", "RAILWAY_TOKEN=x", "--env", "APP_ENV=production", "--", command)
    assert found.returncode == 5 and "credential.out-of-purpose" in found.stdout
    absent = run(home, "check", "--no-record", "--env", "APP_ENV=production", "--", command)
    assert absent.returncode == 4 and "credential." not in absent.stdout  # no token: the ordinary hold


def test_an_undescribed_secret_used_against_production_is_out_of_purpose(home: Path) -> None:
    """The issue's rule: an unknown credential has no purpose, so none covers production, to
    change it or to read it (a read is how data leaves); a described one reads as it allows."""
    url = "https://api.prod.example.com/v1/customers/1"
    change = run(home, "check", "--no-record", "--", f'curl -X DELETE -H "Authorization: Bearer $STRIPE_SECRET_KEY" {url}')
    assert change.returncode == 5 and "credential.unknown" in change.stdout and "$STRIPE_SECRET_KEY" in change.stdout
    read = run(home, "check", "--no-record", "--", f'curl -H "Authorization: Bearer $STRIPE_SECRET_KEY" {url}')
    assert read.returncode == 5 and "credential.unknown" in read.stdout and "describe it there" in read.stdout


def test_without_descriptions_nothing_changes(isolated_home: Path) -> None:
    done = run(isolated_home, "check", "--no-record", "--", VOLUME_DELETE.replace("VAR", "RAILWAY_TOKEN"))
    assert done.returncode == 4 and "credential." not in done.stdout


def test_the_hook_denies_it_too(home: Path, tmp_path: Path) -> None:
    payload = {"session_id": "s1", "cwd": str(tmp_path), "hook_event_name": "PreToolUse", "tool_name": "Bash",
               "tool_input": {"command": VOLUME_DELETE.replace("VAR", "RAILWAY_TOKEN")}, "tool_use_id": "t1"}  # fmt: skip
    done = run(home, "hook", "claude-code", env={"RAILWAY_TOKEN": TOKEN}, stdin=json.dumps(payload))
    answer = json.loads(done.stdout)["hookSpecificOutput"]
    assert answer["permissionDecision"] == "deny" and "credential.out-of-purpose" in answer["permissionDecisionReason"]
    assert TOKEN not in done.stdout


@pytest.mark.parametrize("table, message", [
    ('[credentials.x]\nenv = ["A"]\npurpose = "p"\nallow = ["obliterate"]', "not a verb"),
    ('[credentials.x]\npurpose = "p"\nallow = ["read"]', "names no env, files or digests"),
    ('[credentials.x]\nenv = "A"\nallow = ["read"]', "malformed"),
    ('credentials = 3', "must hold [credentials.NAME] tables"),
])  # fmt: skip
def test_a_bad_description_is_a_one_line_error(isolated_home: Path, table: str, message: str) -> None:
    (isolated_home / "config.toml").write_text(table)
    done = run(isolated_home, "check", "--no-record", "--", "ls")
    assert done.returncode == 1 and message in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_a_batch_is_judged_against_the_credentials_as_check_is(home: Path) -> None:
    line = {"id": "v", "kind": "shell", "input": VOLUME_DELETE.replace("VAR", "RAILWAY_TOKEN"), "context": {"env": {}}}
    done = run(home, "check", "--batch", "-", stdin=json.dumps(line))
    answer = json.loads(done.stdout)
    assert answer["decision"] == "deny" and "credential.out-of-purpose" in answer["rules"], done.stdout
