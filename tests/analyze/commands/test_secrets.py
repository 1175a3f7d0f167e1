"""Secrets read into the agent's context are asked about (sending them away: test_transfers.py)."""

from __future__ import annotations

import pytest

from tests.conftest import decide


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("printenv", "ask"),
        ("printenv HOME PATH", "allow"),
        ("printenv OPENAI_API_KEY", "ask"),
        ("printenv DATABASE_URL", "ask"),
        ("printenv STRIPE_SECRET", "ask"),
        ("security find-generic-password -s deploy -w", "ask"),
        ("security find-generic-password -s deploy", "allow"),
        ("pass show infra/db", "ask"),
        ("pass ls", "allow"),
        ("sops --decrypt secrets.enc.yaml", "ask"),
        ("gh auth token", "ask"),
        ("heroku config -a shop-api", "ask"),
        ("chamber exec api -- ./server", "ask"),
    ],
)
def test_secret_decisions(command: str, expected: str) -> None:
    assert decide(command).kind.value == expected


@pytest.mark.parametrize(
    "command",
    [
        "echo $AWS_SECRET_ACCESS_KEY",
        'echo "key=${GITHUB_TOKEN}"',
        "printf '%s\\n' \"$STRIPE_SECRET_KEY\"",
        "echo $OPENAI_API_KEY >&2",
        "printenv",
        "env",
        "set",
        "export -p",
        "export",
        "declare -p",
        "declare -p DATABASE_URL",
        "typeset -x",
        "aws configure get aws_secret_access_key",
        "aws configure get default.aws_session_token",
        "aws configure export-credentials --profile ci",
        "op read op://Private/db/password",
        "op inject -i config.tpl.yml",
        "gcloud auth print-access-token",
        "cat ~/.ssh/id_rsa",
    ],
)
def test_secret_exposure_is_credential_use(command: str) -> None:
    decision = decide(command)
    assert decision.kind.value == "ask", command
    assert any(e.verb.value == "credential-use" for e in decision.effects)


@pytest.mark.parametrize(
    "command",
    [
        "echo hello",
        "echo $HOME $PATH",
        'echo "${GITHUB_TOKEN:+token is set}"',
        "echo ${#GITHUB_TOKEN}",
        "echo $GITHUB_TOKEN > .token",
        "TOKEN=abc; echo $TOKEN",
        "env FOO=1 ls",
        "set -euo pipefail",
        "export NODE_ENV=test",
        "declare -a files",
        "aws configure get region",
        "aws configure list",
        "op item list",
        "op inject -i config.tpl.yml -o config.yml",
    ],
)
def test_ordinary_shell_use_is_not_secret_exposure(command: str) -> None:
    assert decide(command).kind.value == "allow", command


def test_op_metadata_is_not_a_secret() -> None:
    assert decide("op vault get Engineering").kind.value == "allow"
    assert decide("op account get").kind.value == "allow"
