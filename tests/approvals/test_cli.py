"""The people's side, as people run it: enroll and approve on a real terminal; the agent's side as
the agent runs it: the hook in a subprocess, retrying the held action."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from blastdoor.config import Settings
from blastdoor.ledger.ledger import Ledger
from tests.approvals.terminal import on_terminal

DESTROY = "terraform destroy -auto-approve"
PASSPHRASE = "correct horse battery"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("CLAUDECODE", "GEMINI_CLI", "BLASTDOOR_RUN_ID")
    }
    return clean | {"BLASTDOOR_APPROVER_KEYS": str(tmp_path / "keys"), "BLASTDOOR_DAEMON": "0"}


def hook(home: Path, command: str, env: dict[str, str], cwd: Path) -> str:
    payload = {"session_id": "s1", "cwd": str(cwd), "hook_event_name": "PreToolUse", "tool_name": "Bash",
               "tool_input": {"command": command}, "tool_use_id": "t1"}  # fmt: skip
    done = subprocess.run([sys.executable, "-m", "blastdoor", "--home", str(home), "hook", "claude-code"],
                          input=json.dumps(payload).encode(), capture_output=True, env=env, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.decode()


def cli(
    home: Path, env: dict[str, str], *args: str, **options: Any
) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "blastdoor", "--home", str(home), *args], capture_output=True,
                          text=True, env=env, timeout=60, check=False, **options)  # fmt: skip


def ledger_types(home: Path) -> list[dict[str, Any]]:
    with Ledger.open(Settings.resolve(home=str(home))) as ledger:
        return [json.loads(row.body) for row in ledger.store.scan()]


def enroll(home: Path, env: dict[str, str], name: str = "alice") -> None:
    code, screen = on_terminal(["approver", "add", name], [("new passphrase", PASSPHRASE), ("again", PASSPHRASE)],
                               home=home, env=env)  # fmt: skip
    assert code == 0 and f"enrolled approver {name}" in screen
    assert PASSPHRASE not in screen  # not echoed


def held(output: str) -> str:
    found = re.search(r"Approval request (r-[0-9a-f]{12}(?:-\d+)?)", output)
    assert found, output
    return found.group(1)


def test_hold_approve_on_the_terminal_retry_once(
    isolated_home: Path, env: dict[str, str], tmp_path: Path
) -> None:
    enroll(isolated_home, env)
    request = held(hook(isolated_home, DESTROY, env, tmp_path))
    listed = cli(isolated_home, env, "requests")
    assert (
        request in listed.stdout
        and "terraform destroy" in listed.stdout
        and "0/1 approvals" in listed.stdout
    )

    code, screen = on_terminal(
        ["approve", request],
        [("passphrase for", "not the passphrase")],
        home=isolated_home,
        env=env,
    )
    assert code == 1 and "wrong passphrase" in screen
    assert held(hook(isolated_home, DESTROY, env, tmp_path)) == request  # still held

    code, screen = on_terminal(
        ["approve", request], [("passphrase for", PASSPHRASE)], home=isolated_home, env=env
    )
    assert code == 0 and f"approved {request}" in screen
    assert (
        hook(isolated_home, DESTROY + " -lock=false", env, tmp_path) != ""
    )  # another action: still held
    assert (
        hook(isolated_home, DESTROY, env, tmp_path) == ""
    )  # allowed: the agent's own permissions apply
    assert held(hook(isolated_home, DESTROY, env, tmp_path)) != request  # used up

    entries = ledger_types(isolated_home)
    kinds = [e["type"] for e in entries]
    assert (
        kinds.count("approval-refused") == 1
        and kinds.count("approval-granted") == 1
        and kinds.count("approval-used") == 1
    )
    allowed = [
        e for e in entries if e["type"] == "decision" and e["decision"]["decision"] == "allow"
    ]
    assert [a["decision"]["rules"][-1] for a in allowed] == ["approval.granted"]
    assert all(PASSPHRASE not in json.dumps(e) for e in entries)


def test_piped_input_and_agent_shells_cannot_approve(
    isolated_home: Path, env: dict[str, str], tmp_path: Path
) -> None:
    enroll(isolated_home, env)
    request = held(hook(isolated_home, DESTROY, env, tmp_path))
    piped = cli(
        isolated_home, env, "approve", request, input=PASSPHRASE + "\n", start_new_session=True
    )
    assert piped.returncode == 1 and "no terminal to read the passphrase from" in piped.stderr
    from_agent = cli(
        isolated_home, env | {"CLAUDECODE": "1"}, "approve", request, start_new_session=True
    )
    assert (
        from_agent.returncode == 1
        and "this shell belongs to an agent (CLAUDECODE is set)" in from_agent.stderr
    )
    code, screen = on_terminal(
        ["approve", request], [], home=isolated_home, env=env | {"GEMINI_CLI": "1"}
    )
    assert (
        code == 1 and "passphrase for" not in screen
    )  # refused before any prompt, even on a terminal
    refused = [e for e in ledger_types(isolated_home) if e["type"] == "approval-refused"]
    assert len(refused) == 3 and {e["request"] for e in refused} == {request}
    assert held(hook(isolated_home, DESTROY, env, tmp_path)) == request


def test_enrolling_from_an_agents_shell_or_a_pipe_is_refused_and_recorded(
    isolated_home: Path, env: dict[str, str], tmp_path: Path
) -> None:
    from_agent = cli(isolated_home, env | {"CLAUDECODE": "1"}, "approver", "add", "mallory", start_new_session=True)
    marker = "enrollment refused: this shell belongs to an agent (CLAUDECODE is set)"
    assert from_agent.returncode == 1 and marker in from_agent.stderr
    piped = cli(isolated_home, env, "approver", "add", "mallory", input=PASSPHRASE + "\n", start_new_session=True)
    pipe = "enrollment refused: no terminal to read the passphrase from"
    assert piped.returncode == 1 and pipe in piped.stderr
    refused = [e for e in ledger_types(isolated_home) if e["type"] == "approval-refused"]
    assert [e["why"] for e in refused] == [marker, pipe]
    assert all(e["uid"] == os.getuid() and e["source"] == "cli" and e["request"] == "" for e in refused)
    assert not list((tmp_path / "keys").glob("*")) and "mallory" not in cli(isolated_home, env, "approver", "list").stdout


def test_a_denied_action_stays_denied(
    isolated_home: Path, env: dict[str, str], tmp_path: Path
) -> None:
    request = held(hook(isolated_home, DESTROY, env, tmp_path))
    assert (
        cli(isolated_home, env, "deny", request, "--reason", "not during the freeze").returncode
        == 0
    )
    answer = json.loads(hook(isolated_home, DESTROY, env, tmp_path))["hookSpecificOutput"]
    assert (
        answer["permissionDecision"] == "deny"
        and "not during the freeze" in answer["permissionDecisionReason"]
    )
    assert cli(isolated_home, env, "deny", request, "--reason", "again").returncode == 1


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()


def test_new_requests_are_announced_to_a_slack_webhook(isolated_home: Path, env: dict[str, str], tmp_path: Path,
                                                       webhook: tuple[str, list[dict[str, Any]]]) -> None:  # fmt: skip
    url, received = webhook
    (isolated_home / "config.toml").write_text(
        f'[approvals]\nwebhook = "{url}"\nwebhook_format = "slack"\n'
    )
    request = held(hook(isolated_home, DESTROY, env, tmp_path))
    held(hook(isolated_home, DESTROY, env, tmp_path))  # the same request: announced once
    notices = _wait_for(lambda: [e for e in ledger_types(isolated_home) if e["type"] == "approval-notice"])
    assert len(received) == 1 and notices == [notices[0]] and notices[0]["result"] == "sent"
    assert request in received[0]["text"] and "terraform destroy" in received[0]["text"]
    assert received[0]["blocks"][0]["text"]["type"] == "mrkdwn"
    created = next(e for e in ledger_types(isolated_home) if e["type"] == "approval-request")
    assert created["notified"] == "queued (slack)" and notices[0]["request"] == request


def test_a_slow_webhook_does_not_hold_up_the_hook(isolated_home: Path, env: dict[str, str], tmp_path: Path) -> None:
    # a webhook that accepts the connection and never answers: the hook answers at once anyway,
    # and the notifier records the failure after its timeout
    import socket
    import time

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        (isolated_home / "config.toml").write_text(f'[approvals]\nwebhook = "http://127.0.0.1:{silent.getsockname()[1]}/"\n')
        started = time.monotonic()
        request = held(hook(isolated_home, DESTROY, env, tmp_path))
        assert time.monotonic() - started < 3.0  # the POST alone would take its full 3 s timeout
        notices = _wait_for(lambda: [e for e in ledger_types(isolated_home) if e["type"] == "approval-notice"], seconds=15)
        assert notices[0]["request"] == request and notices[0]["result"] == "failed" and "timed out" in notices[0]["error"]
    finally:
        silent.close()


def _wait_for(found: Any, *, seconds: float = 10) -> Any:
    import time

    deadline = time.monotonic() + seconds
    while not (value := found()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return value


def test_new_requests_are_announced_as_generic_json(isolated_home: Path, env: dict[str, str], tmp_path: Path,
                                                    webhook: tuple[str, list[dict[str, Any]]]) -> None:  # fmt: skip
    """The default format: the request as one JSON object a receiver can act on."""
    url, received = webhook
    (isolated_home / "config.toml").write_text(f'[approvals]\nwebhook = "{url}"\n')
    request = held(hook(isolated_home, DESTROY, env, tmp_path))
    _wait_for(lambda: [e for e in ledger_types(isolated_home) if e["type"] == "approval-notice"])
    assert len(received) == 1
    sent = received[0]
    assert sent["type"] == "blastdoor.approval-request" and sent["id"] == request
    assert sent["approve"] == f"blastdoor approve {request}" and sent["required"] == 1
    assert sent["action"]["input"] == DESTROY and sent["requester"]["session"] == "s1"
    assert sent["digest"] and sent["expires"] > sent["created"] and sent["effects"]


def test_requests_watch_shows_each_new_request_as_it_comes(isolated_home: Path, env: dict[str, str], tmp_path: Path) -> None:
    """`requests --watch` keeps listing: a request opened while it runs is shown, once."""
    import select
    import time

    watching = subprocess.Popen([sys.executable, "-m", "blastdoor", "--home", str(isolated_home), "requests", "--watch", "--json"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)  # fmt: skip
    try:
        assert watching.stdout is not None
        time.sleep(1.5)  # it has listed the (empty) book at least once
        request = held(hook(isolated_home, DESTROY, env, tmp_path))
        ready, _, _ = select.select([watching.stdout], [], [], 30)
        assert ready, "the new request was not shown"
        shown = json.loads(watching.stdout.readline())
        assert shown["id"] == request and shown["state"] == "pending"
        held(hook(isolated_home, DESTROY, env, tmp_path))  # the same request again: not shown again
        ready, _, _ = select.select([watching.stdout], [], [], 3)
        assert not ready
    finally:
        watching.kill()
        watching.wait()


def test_ledger_verify_exposes_a_planted_key_and_a_replayed_approval(isolated_home: Path, env: dict[str, str],
                                                                      tmp_path: Path) -> None:  # fmt: skip
    """Single-user mode: the agent's user can write the approvers' folder and the request book, so
    the files cannot refuse these attacks, but the ledger shows them: a key that was never enrolled,
    and one approval used twice after the book was rewritten."""
    import base64
    import sqlite3

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    enroll(isolated_home, env)
    assert cli(isolated_home, env, "ledger", "verify").returncode == 0
    request = held(hook(isolated_home, DESTROY, env, tmp_path))
    code, screen = on_terminal(["approve", request], [("passphrase for", PASSPHRASE)], home=isolated_home, env=env)
    assert code == 0, screen
    assert hook(isolated_home, DESTROY, env, tmp_path) == ""  # used
    ok = cli(isolated_home, env, "ledger", "verify")
    assert ok.returncode == 0 and "agree with it" in ok.stdout, ok.stdout

    # the replay: the book's request and grant marked unused again, and the action retried
    database = next(isolated_home.glob("*.db"))
    with sqlite3.connect(database) as book:
        book.execute("UPDATE approval_requests SET state = 'approved', closed = '' WHERE id = ?", (request,))
        book.execute("UPDATE approval_grants SET used = '' WHERE request_id = ?", (request,))
    assert hook(isolated_home, DESTROY, env, tmp_path) == ""  # the files alone let it through
    replayed = cli(isolated_home, env, "ledger", "verify")
    assert replayed.returncode != 0 and f"approval request {request} was used 2 times" in replayed.stdout, replayed.stdout

    # the planted key: an approver file written by hand, as enrolment writes one
    alice = (isolated_home / "approvers" / "alice.pub").read_text()
    raw = Ed25519PrivateKey.generate().public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    planted = [f"key {base64.b64encode(raw).decode()}" if line.startswith("key ") else
               "name mallory" if line.startswith("name ") else line for line in alice.splitlines()]  # fmt: skip
    (isolated_home / "approvers" / "mallory.pub").write_text("\n".join(planted) + "\n")
    found = cli(isolated_home, env, "ledger", "verify")
    assert found.returncode != 0 and "approver mallory's key" in found.stdout and "never enrolled" in found.stdout
