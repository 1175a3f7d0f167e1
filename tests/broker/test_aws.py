"""Per-call AWS credentials through STS, against a moto server: the program gets a role session
named after its run, never the stored keys, and the ledger says which session it was."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from tests.broker.aws_server import AwsServer, user_keys
from tests.broker.conftest import add_profile, cli, entries, ledger_bytes

WHOAMI = f"""#!{sys.executable}
import json, os, boto3
identity = boto3.client("sts").get_caller_identity()
print(json.dumps({{"arn": identity["Arn"], "key": os.environ["AWS_ACCESS_KEY_ID"],
                  "secret": os.environ["AWS_SECRET_ACCESS_KEY"], "token": bool(os.environ.get("AWS_SESSION_TOKEN"))}}))
"""


def _program(folder: Path) -> Path:
    path = folder / "aws-whoami"
    path.write_text(WHOAMI)
    path.chmod(0o755)
    return path


def test_each_call_runs_as_a_role_session_named_by_its_run(aws: AwsServer, env: dict[str, str], isolated_home: Path,
                                                           tmp_path: Path) -> None:  # fmt: skip
    keys, role = user_keys(aws, "agent-deploy")
    add_profile(env, "aws-dev", scope="development", allow=["*"], values=keys, extra=("--aws-role", role))
    program = _program(tmp_path)
    seen = []
    for run in ("run-aws-1", "run-aws-2"):
        done = cli(env, "exec", "--profile", "aws-dev", "--run", run, "--session", "s-9", "--", str(program), cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        seen.append(json.loads(done.stdout))
    for run, child in zip(("run-aws-1", "run-aws-2"), seen, strict=True):
        assert child["arn"] == f"arn:aws:sts::123456789012:assumed-role/agent-deploy/blastdoor-exec-{run}"
        assert child["key"] != keys["AWS_ACCESS_KEY_ID"] and child["token"]  # temporary keys, not the stored ones
        assert child["secret"] == "[secret removed: AWS_SECRET_ACCESS_KEY]"  # and scrubbed from what it prints
    assert seen[0]["key"] != seen[1]["key"]  # one session per call
    # what went over the wire: the run as SourceIdentity, the call's ids as session tags, 15 minutes
    calls = aws.calls("AssumeRole")
    assert [c["SourceIdentity"] for c in calls] == [["run-aws-1"], ["run-aws-2"]]
    names = {calls[0][f"Tags.member.{n}.Key"][0]: calls[0][f"Tags.member.{n}.Value"][0]
             for n in range(1, 10) if f"Tags.member.{n}.Key" in calls[0]}  # fmt: skip
    assert names["blastdoor:run"] == "run-aws-1" and names["blastdoor:session"] == "s-9" and names["blastdoor:entry"].isdigit()
    assert calls[0]["DurationSeconds"] == ["900"] and calls[0]["RoleArn"] == [role]
    outcomes = [e for e in entries(isolated_home) if e["type"] == "broker-exec"]
    assert [o["aws"]["source_identity"] for o in outcomes] == ["run-aws-1", "run-aws-2"]
    assert outcomes[0]["aws"]["assumed"] == seen[0]["arn"] and outcomes[0]["aws"]["role"] == role
    stored = ledger_bytes(isolated_home).decode("latin-1")
    assert keys["AWS_SECRET_ACCESS_KEY"] not in stored and seen[0]["key"] not in stored


def test_no_role_session_means_nothing_runs(env: dict[str, str], isolated_home: Path, tmp_path: Path) -> None:
    # AWS unreachable (nothing listens on port 9): the call fails closed with one line, recorded
    keys = {"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE0000000001", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMIxK7MDENGxbPxRfiCYzEXAMPLEKEY",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}  # fmt: skip
    add_profile(env, "aws-dev", scope="development", allow=["*"], values=keys,
                extra=("--aws-role", "arn:aws:iam::123456789012:role/agent-deploy"))  # fmt: skip
    marker = tmp_path / "ran"
    program = tmp_path / "touch-it"
    program.write_text(f"#!/bin/sh\ntouch {marker}\n")
    program.chmod(0o755)
    done = cli(env, "exec", "--profile", "aws-dev", "--", str(program), cwd=tmp_path)
    assert done.returncode != 0 and not marker.exists()
    assert "could not get per-call AWS credentials for profile aws-dev" in done.stderr
    assert "Traceback" not in done.stderr and keys["AWS_SECRET_ACCESS_KEY"] not in done.stderr
    outcome = next(e for e in entries(isolated_home) if e["type"] == "broker-exec")
    assert outcome["result"] == "not-started" and "AWS credentials" in outcome["error"]


def test_a_role_profile_is_checked_before_any_secret_is_read(env: dict[str, str], isolated_home: Path) -> None:
    for extra, values, message in (
        (("--aws-role", "arn:aws:iam::1234:role/x"), {"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"}, "is not an IAM role ARN"),
        (("--aws-role", "arn:aws:iam::123456789012:role/x"), {"AWS_ACCESS_KEY_ID": "a"}, "--secret AWS_SECRET_ACCESS_KEY"),
        (("--aws-role", "arn:aws:iam::123456789012:role/x", "--aws-minutes", "5"),
         {"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"}, "--aws-minutes 5 is out of range"),
    ):  # fmt: skip
        args = ["profile", "add", "aws", "--scope", "production", "--purpose", "p", *extra]
        for variable in values:
            args += ["--secret", variable]
        done = cli(env, *args, stdin="".join(v + "\n" for v in values.values()))
        assert done.returncode != 0 and message in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert not (isolated_home / "profiles").exists() or not os.listdir(isolated_home / "profiles")


def test_production_never_hands_a_program_long_lived_aws_keys(env: dict[str, str], isolated_home: Path,
                                                               tmp_path: Path) -> None:  # fmt: skip
    """Without --aws-role, exec would give the child the stored keys themselves (what PocketOS's
    agent found and used): denied on production, with the way to store the profile instead."""
    keys = {"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE0000000001", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMIxK7MDENGxbPxRfiCYzEXAMPLEKEY"}
    add_profile(env, "aws-prod", scope="production", allow=["*"], values=keys)
    program = _program(tmp_path)
    done = cli(env, "exec", "--profile", "aws-prod", "--", str(program), cwd=tmp_path)
    assert done.returncode == 5 and "broker.static-aws-keys" in done.stderr and "--aws-role ARN" in done.stderr
    assert done.stdout == "" and not [e for e in entries(isolated_home) if e["type"] == "broker-exec"]
    add_profile(env, "aws-dev", scope="development", allow=["*"], values=keys)  # development: the stored keys, as before
    assert "broker.static-aws-keys" not in cli(env, "exec", "--profile", "aws-dev", "--", "true", cwd=tmp_path).stderr
