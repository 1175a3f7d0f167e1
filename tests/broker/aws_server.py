"""A moto server in a process of its own (the AWS APIs the broker calls, offline), recording every
request it receives so a test can read what actually went over the wire."""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from tests.conftest import required

ACCOUNT = "123456789012"  # moto's default account
REGION = "eu-west-1"  # the stored profiles' region


@dataclass(frozen=True)
class AwsServer:
    url: str
    recording: Path

    def client(self, service: str, region: str = "us-east-1") -> Any:
        import boto3

        return boto3.client(service, endpoint_url=self.url, region_name=region,
                            aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip

    def calls(self, action: str) -> list[dict[str, list[str]]]:
        """The form fields of every query-protocol request for ``action`` (AssumeRole, ...)."""
        found = []
        for line in self.recording.read_text().splitlines() if self.recording.exists() else []:
            request = json.loads(line)
            body = request.get("body") or ""
            text = base64.b64decode(body).decode("latin-1") if request.get("body_encoded") else body
            fields = parse_qs(text)
            if fields.get("Action") == [action]:
                found.append(fields)
        return found


@pytest.fixture
def aws(tmp_path: Path) -> Iterator[AwsServer]:
    required("moto.server", reason="the AWS tests need moto[server] (pip install -e '.[test]')")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    recording = tmp_path / "aws-requests.jsonl"
    env = {"MOTO_ENABLE_RECORDING": "1", "MOTO_RECORDER_FILEPATH": str(recording), "PATH": "/usr/bin:/bin"}
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("the moto server did not start")
                time.sleep(0.1)
        yield AwsServer(url, recording)
    finally:
        server.terminate()
        server.wait(timeout=10)


def user_keys(aws: AwsServer, role: str) -> tuple[dict[str, str], str]:
    """An IAM user whose keys the broker stores, and the role it may assume (its ARN)."""
    iam = aws.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                                                    "Action": ["sts:AssumeRole", "sts:SetSourceIdentity", "sts:TagSession"]}]}  # fmt: skip
    arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.create_user(UserName="blastdoor-broker")
    key = iam.create_access_key(UserName="blastdoor-broker")["AccessKey"]
    return {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
            "AWS_ENDPOINT_URL": aws.url, "AWS_REGION": REGION}, arn  # fmt: skip
