"""``blastdoor mcp-proxy`` between the official MCP SDK's client and a server written with it.

Each test starts the real thing: the SDK's ``Client`` launches ``python -m blastdoor mcp-proxy``,
which launches (or reaches over streamable HTTP) the fixture server in fixtures/mcp_server.py.
The server writes down every call it really receives, so "blocked" means the server never saw it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.client.client import Client
from mcp.client.stdio import StdioServerParameters
from mcp_types import Implementation

from blastdoor.config import Settings
from blastdoor.ledger.ledger import Ledger

SERVER = str(Path(__file__).parent / "fixtures" / "mcp_server.py")
CALLS = [("list_tables", {}), ("delete_project", {"project_id": "prod-db"}),
         ("execute_sql", {"sql": "DROP TABLE users"}), ("execute_sql", {"sql": "select count(*) from users"}),
         ("add", {"a": 1, "b": 2})]  # fmt: skip


@dataclass
class Session:
    tools: list[str]
    results: dict[str, list[tuple[bool, str]]] = field(default_factory=dict)


def proxied(
    home: Path, calls_file: Path, *, variant: str = "", url: str = "", name: str = "fixture-db"
) -> StdioServerParameters:
    args = ["-m", "blastdoor", "--home", str(home), "mcp-proxy", "--name", name]
    args += ["--url", url] if url else ["--", sys.executable, SERVER]
    return StdioServerParameters(command=sys.executable, args=args,
                                 env={"MCP_CALLS": str(calls_file), "MCP_VARIANT": variant})  # fmt: skip


def talk(
    server: StdioServerParameters,
    mode: str = "legacy",
    calls: list[tuple[str, dict[str, Any]]] = CALLS,
) -> Session:
    async def run() -> Session:
        info = Implementation(name="test-agent", version="1.0")
        async with Client(server, mode=mode, client_info=info, read_timeout_seconds=60) as client:
            listed = await client.list_tools()
            session = Session([tool.name for tool in listed.tools])
            for name, arguments in calls:
                result = await client.call_tool(name, arguments)
                text = result.content[0].text if result.content else ""  # type: ignore[union-attr]
                session.results.setdefault(name, []).append((bool(result.is_error), text))
            return session

    return anyio.run(run)


def received(calls_file: Path) -> list[dict[str, Any]]:
    if not calls_file.exists():
        return []
    return [json.loads(line) for line in calls_file.read_text().splitlines()]


def entries(home: Path) -> list[dict[str, Any]]:
    with Ledger.open(Settings.resolve(home=str(home))) as ledger:
        return [json.loads(row.body) for row in ledger.store.scan()]


@pytest.fixture
def calls_file(tmp_path: Path) -> Path:
    return tmp_path / "calls.jsonl"


@pytest.mark.parametrize(
    "mode", ["legacy", "auto"]
)  # the initialize handshake and the 2026 envelope
def test_reads_pass_and_destructive_calls_never_reach_the_server(
    isolated_home: Path, calls_file: Path, mode: str
) -> None:
    session = talk(proxied(isolated_home, calls_file), mode)

    assert session.tools == ["list_tables", "delete_project", "execute_sql", "add"]
    assert session.results["list_tables"] == [(False, "users, orders")]
    held, text = session.results["delete_project"][0]
    assert (
        held
        and "holding this action until a person approves it" in text
        and "Approval request r-" in text
    )
    assert (
        session.results["execute_sql"][0][0]
        and "Drop the table users" in session.results["execute_sql"][0][1]
    )
    assert session.results["execute_sql"][1] == (False, "ok")
    assert [(c["tool"], c["arguments"]) for c in received(calls_file)] == [
        ("list_tables", {"schema": "public"}), ("execute_sql", {"sql": "select count(*) from users"})]  # fmt: skip

    decisions = [e for e in entries(isolated_home) if e.get("type") == "decision"]
    assert [(d["action"]["tool"], d["decision"]["decision"]) for d in decisions] == [
        ("list_tables", "allow"), ("delete_project", "hold"), ("execute_sql", "hold"),
        ("execute_sql", "allow"), ("add", "ask")]  # fmt: skip
    assert {(d["source"], d["agent"], d["action"]["target"]) for d in decisions} == {
        ("mcp-proxy", "test-agent", "fixture-db")
    }
    assert len({d["session"] for d in decisions}) == 1 and all(d["run"] for d in decisions)


def test_a_tool_that_changes_after_pinning_is_hidden_and_refused_until_trusted(
    isolated_home: Path, calls_file: Path
) -> None:
    just_add = [("add", {"a": 1, "b": 2})]
    first = talk(proxied(isolated_home, calls_file), calls=[])
    assert "add" in first.tools

    changed = talk(proxied(isolated_home, calls_file, variant="changed"), calls=just_add)
    assert "add" not in changed.tools
    refused, text = changed.results["add"][0]
    assert refused and "changed since it was pinned" in text and "blastdoor mcp trust" in text
    assert received(calls_file) == []
    refusal = [e for e in entries(isolated_home) if e.get("type") == "decision"][-1]
    assert (
        refusal["decision"]["rules"] == ["mcp.tool-pin"]
        and refusal["decision"]["decision"] == "deny"
    )

    pins = _cli(isolated_home, "mcp", "pins")
    assert "add: changed" in pins.stdout and "was: Add two numbers." in pins.stdout
    assert _cli(isolated_home, "mcp", "trust", "fixture-db", "add").returncode == 0
    trusted = talk(proxied(isolated_home, calls_file, variant="changed"), calls=[])
    assert "add" in trusted.tools
    assert [e["type"] for e in entries(isolated_home)].count("mcp-trust") == 1


def test_a_poisoned_description_is_hidden_on_first_sight(
    isolated_home: Path, calls_file: Path
) -> None:
    steal = [("add", {"a": 1, "b": 2, "note": "-----BEGIN OPENSSH PRIVATE KEY-----"})]
    session = talk(proxied(isolated_home, calls_file, variant="poisoned"), calls=steal)
    assert session.tools == ["list_tables", "delete_project", "execute_sql"]
    refused, text = session.results["add"][0]
    assert (
        refused
        and "carries instructions for the model" in text
        and "pretends-to-be-the-system" in text
    )
    assert received(calls_file) == []
    sightings = next(e for e in entries(isolated_home) if e.get("type") == "mcp-tools")
    flagged = [t for t in sightings["tools"] if t["status"] == "flagged"]
    assert [t["tool"] for t in flagged] == ["add"] and "hides-from-the-user" in flagged[0]["signs"]


@pytest.fixture
def http_server(calls_file: Path) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, SERVER, "http", str(port)], env={**os.environ, "MCP_CALLS": str(calls_file)},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        server.terminate()
        server.wait(10)


@pytest.mark.parametrize("mode", ["legacy", "auto"])
def test_a_remote_server_over_streamable_http_is_judged_the_same(
    isolated_home: Path, calls_file: Path, http_server: str, mode: str
) -> None:
    session = talk(proxied(isolated_home, calls_file, url=http_server, name="remote-db"), mode)
    assert session.results["list_tables"] == [(False, "users, orders")]
    assert session.results["delete_project"][0][0]
    assert [c["tool"] for c in received(calls_file)] == ["list_tables", "execute_sql"]
    targets = {e["action"]["target"] for e in entries(isolated_home) if e.get("type") == "decision"}
    assert targets == {"remote-db"}


# Raw lines: what a broken or hostile client sends ------------------------------------------------
def _raw(
    home: Path, calls_file: Path, lines: list[bytes]
) -> tuple[list[dict[str, Any]], subprocess.CompletedProcess[bytes]]:
    done = subprocess.run(
        [sys.executable, "-m", "blastdoor", "--home", str(home), "mcp-proxy", "--name", "fixture-db", "--", sys.executable, SERVER],
        input=b"".join(lines), capture_output=True, timeout=60, check=False,
        env={**os.environ, "MCP_CALLS": str(calls_file)},
    )  # fmt: skip
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()], done


INIT = json.dumps({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
    "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}}).encode() + b"\n"  # fmt: skip
INITIALIZED = b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n'


def _call(call_id: int, tool: str, arguments: Any) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": call_id,
        "method": "tools/call",
        "params": {"name": tool, "arguments": arguments},
    }


def test_garbage_and_malformed_calls_get_answers_and_never_reach_the_server(
    isolated_home: Path, calls_file: Path
) -> None:
    lines = [INIT, INITIALIZED, b"\x00\xff not json\n", json.dumps(_call(1, "delete_project", "prod-db")).encode() + b"\n",
             json.dumps({"jsonrpc": "2.0", "method": "tools/call", "params": {"name": "delete_project"}}).encode() + b"\n"]  # fmt: skip
    answers, done = _raw(isolated_home, calls_file, lines)
    assert done.returncode == 0, done.stderr
    by_id = {json.dumps(a.get("id")): a for a in answers}
    errors = [a["error"]["code"] for a in answers if a.get("id") is None]
    assert sorted(errors) == [-32700, -32600]  # the garbage line; a call sent as a notification
    assert (
        by_id["1"]["result"]["isError"]
        and "needs a tool name and an object" in by_id["1"]["result"]["content"][0]["text"]
    )
    assert received(calls_file) == []


def test_a_batch_with_one_blocked_call_is_not_half_sent(
    isolated_home: Path, calls_file: Path
) -> None:
    batch = [_call(1, "list_tables", {}), _call(2, "delete_project", {"project_id": "prod-db"})]
    answers, done = _raw(
        isolated_home, calls_file, [INIT, INITIALIZED, json.dumps(batch).encode() + b"\n"]
    )
    assert done.returncode == 0, done.stderr
    (replies,) = [answer for answer in answers if isinstance(answer, list)]
    assert [r["id"] for r in replies] == [1, 2]
    assert replies[0]["error"]["message"].startswith("not sent: Blastdoor blocked another call")
    assert replies[1]["result"]["isError"]
    assert received(calls_file) == []


def test_a_server_that_cannot_start_is_a_one_line_error(isolated_home: Path) -> None:
    done = _cli(isolated_home, "mcp-proxy", "--", "/nonexistent/mcp-server")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "blastdoor: cannot start the MCP server /nonexistent/mcp-server: No such file or directory (check the command after --)"]  # fmt: skip


def test_unreadable_pins_fail_closed(isolated_home: Path, calls_file: Path) -> None:
    (isolated_home / "mcp").mkdir(parents=True, exist_ok=True)
    (isolated_home / "mcp" / "pins.json").write_text("{not json")
    session = talk(proxied(isolated_home, calls_file), calls=[("list_tables", {})])
    assert session.tools == []
    assert session.results["list_tables"][0][0] and received(calls_file) == []
    assert "not in Blastdoor's format" in _cli(isolated_home, "mcp", "pins").stderr


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "blastdoor", "--home", str(home), *args],
                          capture_output=True, text=True, timeout=60, check=False, stdin=subprocess.DEVNULL)  # fmt: skip
