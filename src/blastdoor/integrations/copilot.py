"""GitHub Copilot CLI: the preToolUse hook (docs/integrations.md#github-copilot-cli).

Blastdoor installs its own hook file (Copilot CLI reads every file in its hook folders). Whether
``ask`` prompts depends on the Copilot version, so ask becomes a deny with instructions. A timeout
lets the call through in every version, so the client's deadline sits well below ``timeoutSec``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from blastdoor.errors import InputError
from blastdoor.integrations import hookfiles
from blastdoor.integrations.adapter import HookCall, Reply, Verdict
from blastdoor.integrations.install import HOOK_TIMEOUT_SECONDS, not_supported
from blastdoor.integrations.payload import mapping, text
from blastdoor.integrations.tools import SHELL_TOOLS, WRITE_TOOLS, judged
from blastdoor.model import DecisionKind

EVENT = "preToolUse"
FILE_NAME = "blastdoor.json"
# Copilot's own tools; any other name with a dash is taken to be ``<server>-<tool>`` of an MCP
# server (the naming is reported by users, not documented: docs/integrations.md).
BUILT_IN = frozenset({"bash", "edit", "create", "view", "read", "glob", "grep", "fetch", "web_fetch",
                      "report_intent", "think", "task", "read_bash", "write_bash", "stop_bash",
                      "list_bash", "update_todo"}) | SHELL_TOOLS | WRITE_TOOLS  # fmt: skip
DENY_ON_FAILURE = json.dumps(
    {"permissionDecision": "deny", "permissionDecisionReason": hookfiles.FAILED}
)


class Copilot:
    name = "copilot"
    title = "GitHub Copilot CLI"

    def parse(self, payload: Mapping[str, Any]) -> HookCall:
        tool = text(payload, "toolName", "tool_name")
        if not tool:
            raise InputError("the hook input names no tool", hint="Copilot CLI must send toolName")
        arguments = mapping(payload, "toolArgs", "tool_input")
        server, _, name = tool.partition("-")
        mcp = (server, name) if tool.lower() not in BUILT_IN and server and name else None
        kind, judged_text = judged(name if mcp else tool, arguments, mcp=mcp)
        return HookCall(
            agent=self.name, tool=name if mcp else tool, kind=kind, text=judged_text,
            server=server if mcp else "", session_id=text(payload, "sessionId", "session_id"),
            tool_use_id=text(payload, "toolCallId", "tool_use_id"), cwd=text(payload, "cwd"), event=EVENT,
        )  # fmt: skip

    def reply(self, verdict: Verdict) -> Reply:
        verdict = hookfiles.ask_as_deny(verdict, self.title)
        if verdict.kind is None or verdict.kind is DecisionKind.ALLOW:
            return Reply("")
        output = {
            "permissionDecision": "deny",
            "permissionDecisionReason": verdict.message or "Blastdoor denied it",
        }
        return Reply(json.dumps(output, ensure_ascii=False) + "\n")

    def config_path(self, scope: str, *, project: Path, home: Path) -> Path:
        if scope == "project":
            return project / ".github" / "hooks" / FILE_NAME
        if scope == "user":
            return home / ".copilot" / "hooks" / FILE_NAME
        import sys

        if scope == "managed" and sys.platform.startswith("linux"):
            return Path("/etc/github-copilot/policy.d") / FILE_NAME
        raise not_supported(self.title, scope)

    def install(self, config: dict[str, Any], command: str, *, scope: str) -> dict[str, Any]:
        config.setdefault("version", 1)
        return hookfiles.add_flat(
            config, EVENT, {"type": "command", "bash": command, "timeoutSec": HOOK_TIMEOUT_SECONDS}
        )

    def uninstall(self, config: dict[str, Any]) -> dict[str, Any]:
        hookfiles.remove_ours(config)
        if set(config) == {"version"}:
            config.clear()
        return config

    def failure_shell(self) -> str:
        return hookfiles.json_block(DENY_ON_FAILURE, hookfiles.FAILED)

    def sample(self, command: str, cwd: str) -> dict[str, Any]:
        return {"sessionId": "blastdoor-doctor", "timestamp": 1704614600000, "cwd": cwd, "toolName": "bash",
                "toolArgs": json.dumps({"command": command, "description": "doctor"})}  # fmt: skip

    def blocked(self, reply: Reply) -> bool:
        return reply.exit_code == 2 or '"permissionDecision": "deny"' in reply.stdout
