"""The forgery suite, in hardened mode: every way an agent's user might approve its own action, or
reach Blastdoor's files, refused and recorded, with the caller named by the kernel (peer
credentials), not by what it says."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from tests.approvals.terminal import on_terminal
from tests.hardened.conftest import Machine, User

PASSPHRASE = "correct horse battery"
DROP = "psql -h db.prod.internal -c 'DROP TABLE customers'"

# Run as some user: sign a grant with a key from that user's folder, as blastdoor approve would,
# after tampering with it as told, and hand it to the daemon directly.
FORGE = """
import base64, json, sys
from blastdoor.approvals.grant import sign
from blastdoor.approvals.keys import Approver, unlock
from blastdoor.approvals.request import Request
from blastdoor.hardened.client import call
from blastdoor.hardened.layout import read
spec = json.loads(sys.stdin.read())
system = read()
if "replay" in spec:
    print(json.dumps(call(system, "grant", grant=spec["replay"]))); sys.exit()
found = json.loads(call(system, "request", id=spec["request"])[1])
request = Request(id=found["id"], digest=spec.get("digest", found["digest"]), created="", expires="", state="", required=1, body={})
private = unlock(spec["key"], spec["passphrase"], secret_folder=__import__("pathlib").Path(spec["folder"]))
approver = Approver(spec["name"], 0, private.public_key(), spec["key_id"])
grant = sign(request, approver, private, ttl_minutes=spec.get("ttl", 10))
body = dict(grant.body)
sent = {"id": grant.id, "request": grant.request_id, "approver": grant.approver, "body": body,
        "signature": grant.signature, "expires": grant.expires}
print(json.dumps(call(system, "grant", grant=sent)), json.dumps(sent), sep="\\n")
"""


def hook(machine: Machine, user: User, command: str, session: str) -> tuple[int, str]:
    """A Claude Code PreToolUse call through the installed hook client, as ``user``."""
    from blastdoor.integrations import hook_client

    payload = json.dumps({"session_id": session, "hook_event_name": "PreToolUse", "tool_name": "Bash",
                          "tool_input": {"command": command}, "cwd": str(machine.folder), "tool_use_id": "t1"})  # fmt: skip
    done = machine.python_as(user, "-I", "-S", hook_client.__file__, "claude-code", "--system", str(machine.socket), stdin=payload)
    return done.returncode, done.stdout + done.stderr


def at_terminal(machine: Machine, user: User, *args: str, answers: list[tuple[str, str]]) -> tuple[int, str]:
    """``blastdoor ARGS`` as ``user`` on a terminal of their own, typing ``answers``."""
    return on_terminal(list(args), answers, home=None, python=machine.python, user=(user.uid, user.gid),
                       env={"PATH": "/usr/bin:/bin", "BLASTDOOR_SYSTEM_CONFIG": str(machine.config),
                            "BLASTDOOR_APPROVER_KEYS": str(user.keys), "HOME": str(user.keys)})  # fmt: skip


def enroll(machine: Machine, user: User, name: str) -> dict[str, Any]:
    code, screen = at_terminal(machine, user, "approver", "add", name, answers=[("new passphrase", PASSPHRASE), ("again", PASSPHRASE)])
    assert code == 0, screen
    key = re.search(r"key ([0-9a-f]{16})", screen)
    assert key, screen
    return {"name": name, "key": name, "key_id": key.group(1), "passphrase": PASSPHRASE, "folder": str(user.keys)}


def forge(machine: Machine, user: User, spec: dict[str, Any]) -> tuple[tuple[int, str, str], dict[str, Any]]:
    done = machine.python_as(user, "-c", FORGE, stdin=json.dumps(spec))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    return tuple(json.loads(lines[0])), json.loads(lines[1]) if len(lines) > 1 else {}  # type: ignore[return-value]


def refusals(machine: Machine) -> list[dict[str, Any]]:
    return [e for e in machine.entries() if e["type"] == "approval-refused"]


def test_the_agents_user_cannot_read_or_write_blastdoors_files(machine: Machine) -> None:
    probe = machine.python_as(machine.agent, "-c", f"""
import os, sqlite3
home = {str(machine.home)!r}
for attempt in (lambda: os.listdir(home), lambda: open(home + "/blastdoor.db", "ab"),
                lambda: open(home + "/keys/ledger.key", "rb"), lambda: open(home + "/policy.toml", "a"),
                lambda: os.mkdir(home + "/approvers/x"), lambda: open(home + "/keys/broker.key", "rb"),
                lambda: open(home + "/profiles/planted.json", "w"), lambda: os.listdir(home + "/profiles")):
    try:
        attempt(); print("ALLOWED")
    except PermissionError:
        print("refused")
""")
    assert probe.stdout.split() == ["refused"] * 8, probe.stdout + probe.stderr
    assert oct(machine.home.stat().st_mode & 0o777) == "0o700"
    assert machine.home.stat().st_uid not in (0, machine.agent.uid)


def test_hook_calls_are_judged_by_the_daemon_for_the_calling_user(machine: Machine) -> None:
    code, said = hook(machine, machine.agent, "git status", "s-read")
    assert code == 0, said
    code, said = hook(machine, machine.agent, DROP, "s-drop")
    assert "holding this action" in said and re.search(r"Approval request r-\w+", said), said
    mine = [e for e in machine.entries() if e["type"] == "decision" and e.get("session") == "s-drop"]
    assert mine and mine[-1]["uid"] == machine.agent.uid  # named by the kernel, not by the payload
    request = [e for e in machine.entries() if e["type"] == "approval-request"][-1]
    assert request["session"] == "s-drop"


def test_a_hook_blocks_when_the_daemon_does_not_answer(machine: Machine) -> None:
    from blastdoor.integrations import hook_client

    payload = json.dumps({"session_id": "s", "hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_input": {"command": "ls"}})
    done = machine.python_as(machine.agent, "-I", "-S", hook_client.__file__, "claude-code", "--system",
                             str(machine.folder / "no-such.sock"), stdin=payload)  # fmt: skip
    assert done.returncode == 1 and "not answering; the call is blocked" in done.stderr


def test_forged_grants_are_refused_and_recorded(machine: Machine) -> None:
    alice = enroll(machine, machine.alice, "alice")
    code, screen = at_terminal(machine, machine.agent, "approver", "add", "agentkey",
                               answers=[("new passphrase", PASSPHRASE), ("again", PASSPHRASE)])  # fmt: skip
    assert code != 0 and "may not enroll approvers" in screen, screen
    assert not list(machine.agent.keys.glob("*.key"))  # nothing left behind
    agents_own = alice | {"folder": str(machine.agent.keys)}
    machine.python_as(machine.agent, "-c", "from blastdoor.approvals.keys import make_key; from pathlib import Path; "
                      f"make_key('alice', {PASSPHRASE!r}, secret_folder=Path({str(machine.agent.keys)!r}))")  # fmt: skip
    _, said = hook(machine, machine.agent, DROP, "s-forge")
    request = re.search(r"Approval request (r-\w+)", said).group(1)  # type: ignore[union-attr]
    other_said = hook(machine, machine.agent, DROP.replace("customers", "orders"), "s-other")[1]
    other = re.search(r"Approval request (r-\w+)", other_said).group(1)  # type: ignore[union-attr]
    before = len(refusals(machine))

    # a person approving what their own user (their own agent) asked for
    _, own_said = hook(machine, machine.alice, DROP.replace("customers", "ledger"), "s-own")
    own = re.search(r"Approval request (r-\w+)", own_said).group(1)  # type: ignore[union-attr]
    (code, _, err), _ = forge(machine, machine.alice, alice | {"request": own})
    assert code == 1 and "requester's own user" in err
    # the agent signing in alice's name with a key of its own
    (code, _, err), _ = forge(machine, machine.agent, agents_own | {"request": request})
    assert code == 1 and "sent by another OS user" in err
    # a key nobody enrolled
    (code, _, err), _ = forge(machine, machine.agent, agents_own | {"request": request, "name": "mallory"})
    assert code == 1 and "mallory is not registered" in err
    # alice's real signature over another action's digest
    other_digest = json.loads(machine.run(machine.alice, "requests", "--json").stdout.splitlines()[-1])
    (code, _, err), _ = forge(machine, machine.alice, alice | {"request": request, "digest": other_digest["digest"]})
    assert code == 1 and "signed for another action" in err
    # expired, and too long-lived
    (code, _, err), _ = forge(machine, machine.alice, alice | {"request": request, "ttl": -1})
    assert code == 1 and "expired" in err
    (code, _, err), _ = forge(machine, machine.alice, alice | {"request": request, "ttl": 60 * 24})
    assert code == 1 and "lives longer than" in err
    # the agent denying (or approving) as if it were a person
    denied = machine.run(machine.agent, "deny", other, "--reason", "agent says no")
    assert denied.returncode == 1 and "not an enrolled approver's user" in denied.stderr

    recorded = refusals(machine)[before:]
    assert any("may not enroll approvers" in e["why"] and e["uid"] == machine.agent.uid for e in refusals(machine)[:before])
    assert len(recorded) == 7 and {e["uid"] for e in recorded} == {machine.agent.uid, machine.alice.uid}
    assert all(e["source"] == "daemon" and e["pid"] > 0 for e in recorded)

    # alice's real grant: counted once, used once, and useless when replayed
    (code, _, err), sent = forge(machine, machine.alice, alice | {"request": request})
    assert code == 0, err
    code, said = hook(machine, machine.agent, DROP, "s-forge")
    assert code == 0 and "Blastdoor" not in said, said  # the very same action now runs
    (code, _, err), _ = forge(machine, machine.agent, {"replay": sent})
    assert code == 1 and ("already" in err or "is used" in err)
    code, said = hook(machine, machine.agent, DROP, "s-forge")
    assert "holding this action" in said  # single use: a retry needs a new approval


def test_an_approver_approves_at_their_own_terminal(machine: Machine) -> None:
    _, said = hook(machine, machine.agent, DROP.replace("customers", "invoices"), "s-tty")
    request = re.search(r"Approval request (r-\w+)", said).group(1)  # type: ignore[union-attr]
    env = {"PATH": "/usr/bin:/bin", "BLASTDOOR_SYSTEM_CONFIG": str(machine.config),
           "BLASTDOOR_APPROVER_KEYS": str(machine.alice.keys), "HOME": str(machine.alice.keys)}  # fmt: skip
    if not list(machine.alice.keys.glob("*.key")):
        enroll(machine, machine.alice, "alice")
    code, screen = on_terminal(["approve", request, "--as", "alice"], [("passphrase", PASSPHRASE)], home=None,
                               python=machine.python, user=(machine.alice.uid, machine.alice.gid), env=env)  # fmt: skip
    assert code == 0 and f"approved {request}" in screen, screen
    before = len(refusals(machine))
    piped = machine.run(machine.agent, "approve", request, stdin=PASSPHRASE + "\n")
    assert piped.returncode == 1  # no terminal (or no key of its own): refused before anything is signed
    from_agent = machine.run(machine.agent, "approve", request, env={"CLAUDECODE": "1"})
    assert from_agent.returncode == 1 and "approval refused: this shell belongs to an agent (CLAUDECODE is set)" in from_agent.stderr
    granted = [e for e in machine.entries() if e["type"] == "approval-granted" and e["request"] == request]
    assert granted and granted[-1]["uid"] == machine.alice.uid and granted[-1]["source"] == "daemon"

    # refused in the approver's CLI, and still in the daemon's ledger, named by the kernel
    recorded = refusals(machine)[before:]
    assert [(e["request"], e["uid"], e["source"], e["refused_at"]) for e in recorded] == [(request, machine.agent.uid, "daemon", "client")] * 2
    assert recorded[0]["why"].startswith("approval refused: ") and recorded[0]["why"] in piped.stderr
    assert recorded[1]["why"] == "approval refused: this shell belongs to an agent (CLAUDECODE is set)"

    # a request that does not exist: refused, and recorded as single-user mode records it
    unknown = machine.run(machine.alice, "approve", "r-000000000000")
    assert unknown.returncode == 1 and "no approval request r-000000000000" in unknown.stderr
    last = refusals(machine)[-1]
    assert last["request"] == "r-000000000000" and last["uid"] == machine.alice.uid and "no approval request" in last["why"]


def test_one_user_holds_one_approver_name_and_counts_as_one_person(machine: Machine) -> None:
    from blastdoor.approvals.keys import register

    if not list(machine.alice.keys.glob("*.key")):
        enroll(machine, machine.alice, "alice")
    before = len(refusals(machine))
    code, screen = at_terminal(machine, machine.alice, "approver", "add", "alice2",
                               answers=[("new passphrase", PASSPHRASE), ("again", PASSPHRASE)])  # fmt: skip
    assert code == 1 and f"uid {machine.alice.uid} already holds approver alice; one OS user may hold one approver name" in screen, screen
    assert not (machine.alice.keys / "alice2.key").exists()  # not registered: no key left behind
    from_agent = machine.run(machine.agent, "approver", "add", "agentkey", env={"CLAUDECODE": "1"})
    assert from_agent.returncode == 1 and "enrollment refused: this shell belongs to an agent" in from_agent.stderr
    recorded = refusals(machine)[before:]
    assert [(e["uid"], e["request"]) for e in recorded] == [(machine.alice.uid, ""), (machine.agent.uid, "")]
    assert "one approver name" in recorded[0]["why"] and recorded[1]["refused_at"] == "client"

    # two names of one user from before this rule (written here by root) still count as one person
    made = machine.python_as(machine.alice, "-c", "import base64; from pathlib import Path; from blastdoor.approvals.keys import make_key; "
                             f"print(base64.b64encode(make_key('alice-old', {PASSPHRASE!r}, secret_folder=Path({str(machine.alice.keys)!r}))).decode())")  # fmt: skip
    assert made.returncode == 0, made.stderr
    try:
        register("alice-old", machine.alice.uid, base64.b64decode(made.stdout), public_folder=machine.home / "approvers")
        statement = DROP.replace("customers", "payroll")
        request = re.search(r"Approval request (r-\w+)", hook(machine, machine.agent, statement, "s-two")[1]).group(1)  # type: ignore[union-attr]
        require(machine, request, 2)
        for name in ("alice", "alice-old"):
            code, screen = at_terminal(machine, machine.alice, "approve", request, "--as", name, answers=[("passphrase", PASSPHRASE)])
            assert code == 0 and f"signed {request}: 1 of 2 approvals" in screen, screen
        assert "holding this action" in hook(machine, machine.agent, statement, "s-two")[1]
        granted = [e for e in machine.entries() if e["type"] == "approval-granted" and e["request"] == request]
        assert [(e["approver"], e["approvals"]) for e in granted] == [("alice", 1), ("alice-old", 1)]
    finally:
        (machine.home / "approvers" / "alice-old.pub").unlink(missing_ok=True)
        (machine.alice.keys / "alice-old.key").unlink(missing_ok=True)


def require(machine: Machine, request: str, approvals: int) -> None:
    """Make ``request`` need ``approvals`` approvers, as ``approvals.required`` would have when it was
    opened (the daemon reads its settings once, when it starts)."""
    from blastdoor.approvals.book import Book
    from blastdoor.config import Settings
    from blastdoor.ledger.ledger import Ledger

    with Ledger.open(Settings.resolve(home=str(machine.home), env={})) as ledger:
        Book(ledger.store).tables.change("UPDATE approval_requests SET required = ? WHERE id = ?", (approvals, request))
