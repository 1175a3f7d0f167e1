"""The gateway's judgement: every ``tools/call`` judged and recorded, every tool listing pinned.

Transport-free: :meth:`Gateway.from_client` and :meth:`Gateway.from_server` take one JSON-RPC line
and say what to pass on and what to answer. Everything else (initialize, resources, prompts,
notifications, the server's own requests) passes through unchanged, byte for byte.

A blocked call is answered as a tool result with ``isError`` set, the way MCP reports a tool's
own failure, so the model reads the reason; the server never sees the call. MCP has no
confirmation prompt a gateway can count on, so ``ask`` is refused with instructions, as for the
agents without one.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

from blastdoor.errors import BlastdoorError
from blastdoor.integrations.hookfiles import ask_as_deny
from blastdoor.integrations.mcp_gateway.pins import PinStore, Sight
from blastdoor.integrations.service import Runtime, failure_verdict, run_id, verdict_of
from blastdoor.model import Action, ActionKind, Context, Decision, DecisionKind

MAX_LINE_BYTES = 32 * 1024 * 1024
# The per-request envelope (protocol 2026-07-28) carries these in every request's params._meta.
CLIENT_INFO_META_KEY = "io.modelcontextprotocol/clientInfo"
PROTOCOL_VERSION_META_KEY = "io.modelcontextprotocol/protocolVersion"
PIN_RULE = "mcp.tool-pin"
PARSE_ERROR = -32700
INVALID_REQUEST = -32600


@dataclass
class Routed:
    """Where one client line goes: on to the server, and/or answers straight back to the client."""

    upstream: list[bytes] = field(default_factory=list)
    downstream: list[bytes] = field(default_factory=list)


@dataclass
class Gateway:
    """One client's connection to one MCP server, through Blastdoor."""

    server: str  # the server's identity: the --name given, else its command line or URL
    runtime: Runtime
    pins: PinStore
    env: Mapping[str, str]
    cwd: str
    session: str = field(default_factory=lambda: "mcp-" + uuid.uuid4().hex[:16])
    agent: str = "mcp-client"
    log: TextIO = sys.stderr
    _listing: set[str] = field(default_factory=set)  # ids of tools/list requests in flight
    _hidden: dict[str, str] = field(default_factory=dict)  # tool → why it is hidden

    # client → server ---------------------------------------------------------------------------
    def from_client(self, line: bytes) -> Routed:
        if len(line) > MAX_LINE_BYTES:
            return Routed(
                downstream=[
                    _error(None, INVALID_REQUEST, "message too large for Blastdoor's MCP gateway")
                ]
            )
        try:
            message = json.loads(line)
        except ValueError:
            return Routed(
                downstream=[
                    _error(
                        None,
                        PARSE_ERROR,
                        "not JSON: Blastdoor's MCP gateway passes on only JSON-RPC messages",
                    )
                ]
            )
        if isinstance(message, list):
            return self._batch(line, message)
        answer = self._client_message(message)
        return Routed(downstream=[_line(answer)]) if answer is not None else Routed(upstream=[line])

    def _batch(self, line: bytes, messages: list[Any]) -> Routed:
        answers = [self._client_message(message) for message in messages]
        if all(answer is None for answer in answers):
            return Routed(upstream=[line])
        # Not half a batch: the calls that would have passed are not sent either.
        replies = [
            answer if answer is not None else _error_object(_id_of(message), INVALID_REQUEST,
                "not sent: Blastdoor blocked another call in the same batch; send it on its own")
            for message, answer in zip(messages, answers, strict=True)
            if answer is not None or (isinstance(message, dict) and "id" in message)
        ]  # fmt: skip
        return Routed(downstream=[_line(replies)] if replies else [])

    def _client_message(self, message: Any) -> dict[str, Any] | None:
        """None to pass ``message`` on; otherwise the answer that replaces it."""
        if not isinstance(message, dict):
            return _error_object(None, INVALID_REQUEST, "a JSON-RPC message must be an object")
        method = message.get("method")
        given = message.get("params")
        params: dict[str, Any] = given if isinstance(given, dict) else {}
        self._note_client(method, params)
        if "id" in message and method == "tools/list":
            self._listing.add(_key(message["id"]))
        if method == "tools/call":
            if "id" not in message:  # a notification cannot carry a call, but do not pass it on
                return _error_object(
                    None, INVALID_REQUEST, "tools/call must be a request with an id"
                )
            answer = self._judge_call(message["id"], params)
            if answer is not None and _modern(params):
                answer["result"]["resultType"] = "complete"  # required by the 2026-07-28 envelope
            return answer
        return None

    def _note_client(self, method: Any, params: Mapping[str, Any]) -> None:
        info = params.get("clientInfo") if method == "initialize" else None
        meta = params.get("_meta")
        if info is None and isinstance(meta, Mapping):
            info = meta.get(CLIENT_INFO_META_KEY)
        if isinstance(info, Mapping) and isinstance(info.get("name"), str) and info["name"].strip():
            self.agent = info["name"].strip()[:100]

    def _judge_call(self, call_id: Any, params: Mapping[str, Any]) -> dict[str, Any] | None:
        name = params.get("name")
        arguments = params.get("arguments", {})
        if not isinstance(name, str) or not name or not isinstance(arguments, dict):
            return _tool_error(
                call_id,
                "Blastdoor blocked this call: tools/call needs a tool name and an object of arguments",
            )
        action = self._action(call_id, name, arguments)
        try:
            why = self._pinned_out(name)
            if why:
                decision = Decision(
                    kind=DecisionKind.DENY, reasons=(why,), rule_ids=(PIN_RULE,), effects=()
                )
                self._record(action, decision, policy_digest="")
                return _tool_error(call_id, (
                    f"Blastdoor blocked this call: {why}. A person must review it with `blastdoor mcp "
                    f"pins` and accept it with `blastdoor mcp trust`; do not try to reach the same "
                    "result another way."
                ))  # fmt: skip
            return self._judged(call_id, action)
        except BlastdoorError as error:
            return _tool_error(call_id, failure_verdict(error.diagnostics()).message)
        except Exception as error:  # fail closed: the call is not passed on
            return _tool_error(
                call_id,
                failure_verdict(f"internal error ({type(error).__name__}: {error})").message,
            )

    def _judged(self, call_id: Any, action: Action) -> dict[str, Any] | None:
        policy, decision, request = self.runtime.decide(action)
        self._record(action, decision, policy_digest=policy.digest, request=request)
        verdict = verdict_of(decision, request=request)
        if verdict.kind in (None, DecisionKind.ALLOW):
            return None
        verdict = ask_as_deny(verdict, "", asker="the MCP gateway", noun="call", doing="make it")
        return _tool_error(call_id, verdict.message)

    def _action(self, call_id: Any, name: str, arguments: Mapping[str, Any]) -> Action:
        context = Context.create(
            env=self.env, cwd=os.path.abspath(self.cwd), agent=self.agent, session_id=self.session,
            run_id=run_id(self.agent, self.session, self.env), tool_use_id=str(call_id)[:200],
            tool=name, target=self.server,
        )  # fmt: skip
        text = json.dumps(arguments, ensure_ascii=False, sort_keys=True)
        return Action(kind=ActionKind.MCP_CALL, input=text, context=context)

    def _record(
        self, action: Action, decision: Decision, *, policy_digest: str, request: str = ""
    ) -> None:
        from blastdoor.ledger.record import decision_payload

        payload = decision_payload(action, decision, policy_digest=policy_digest, source="mcp-proxy",
                                   rules_files=self.runtime.rules_files(self.cwd), request=request)  # fmt: skip
        self.runtime.record(payload)

    def _pinned_out(self, tool: str) -> str:
        """Why calls to ``tool`` are refused (changed or flagged and not yet trusted), or ''."""
        if tool in self._hidden:
            return self._hidden[tool]
        try:
            pending = self.pins.entries().get(self.server, {}).get("pending", {})
        except BlastdoorError:
            return "Blastdoor's MCP tool pins cannot be read"
        if tool in pending:
            return f"tool {tool} of MCP server {self.server} is waiting for review ({pending[tool].get('why', 'changed')})"
        return ""

    # server → client ---------------------------------------------------------------------------
    def from_server(self, line: bytes) -> bytes | None:
        """What to pass to the client for one server line (None: nothing)."""
        if not self._listing:
            return line
        try:
            message = json.loads(line)
        except ValueError:
            return line
        if not isinstance(message, dict) or "id" not in message or "method" in message:
            return line
        key = _key(message["id"])
        if key not in self._listing:
            return line
        self._listing.discard(key)
        result = message.get("result")
        if not isinstance(result, dict) or not isinstance(result.get("tools"), list):
            return line
        tools = [tool for tool in result["tools"] if isinstance(tool, dict)]
        sights = self.pins.check(self.server, tools)
        self._note_sights(sights)
        shown = [tool for tool, sight in zip(tools, sights, strict=True) if not sight.hidden]
        if len(shown) == len(result["tools"]):
            return line
        return _line(message | {"result": result | {"tools": shown}})

    def _note_sights(self, sights: list[Sight]) -> None:
        for sight in sights:
            if sight.hidden:
                self._hidden[sight.tool] = sight.why(self.server)
                print(f"blastdoor: hid {sight.why(self.server)}; review with `blastdoor mcp pins`",
                      file=self.log)  # fmt: skip
            else:
                self._hidden.pop(sight.tool, None)
        news = [s for s in sights if s.status != "same"]
        if not news:
            return
        from blastdoor.ledger.entry import ENTRY_VERSION, now

        self.runtime.record({
            "v": ENTRY_VERSION, "type": "mcp-tools", "time": now(), "source": "mcp-proxy",
            "agent": self.agent, "session": self.session, "server": self.server,
            "tools": [{"tool": s.tool, "status": s.status, "digest": s.digest, "pinned": s.pinned,
                       "signs": list(s.signs)} for s in news],
        })  # fmt: skip


def _modern(params: Mapping[str, Any]) -> bool:
    meta = params.get("_meta")
    return isinstance(meta, Mapping) and PROTOCOL_VERSION_META_KEY in meta


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _id_of(message: Any) -> Any:
    return message.get("id") if isinstance(message, dict) else None


def _line(message: Any) -> bytes:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def _error_object(call_id: Any, code: int, text: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": call_id, "error": {"code": code, "message": text}}


def _error(call_id: Any, code: int, text: str) -> bytes:
    return _line(_error_object(call_id, code, text))


def _tool_error(call_id: Any, text: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": call_id,
            "result": {"content": [{"type": "text", "text": text}], "isError": True}}  # fmt: skip
