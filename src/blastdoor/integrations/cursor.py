"""Cursor: beforeShellExecution, beforeMCPExecution and preToolUse in hooks.json
(docs/integrations.md#cursor).

Cursor reads only JSON on stdout, so every answer (allow included) prints one; its ``ask`` works on
shell and MCP events but not on preToolUse, where it becomes a deny with instructions. Entries are
installed with ``failClosed`` so a crash or timeout blocks too.
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
from blastdoor.integrations.tools import judged
from blastdoor.model import ActionKind, DecisionKind

SHELL, MCP, TOOL = "beforeShellExecution", "beforeMCPExecution", "preToolUse"
FILE_TOOLS = "Write|Edit|Delete|MultiEdit|StrReplace"
MANAGED = {"linux": Path("/etc/cursor/hooks.json"),
           "darwin": Path("/Library/Application Support/Cursor/hooks.json")}  # fmt: skip
DENY_ON_FAILURE = json.dumps(
    {"permission": "deny", "user_message": hookfiles.FAILED, "agent_message": hookfiles.FAILED}
)


class Cursor:
    name = "cursor"
    title = "Cursor"

    def __init__(self) -> None:
        self._event = SHELL

    def parse(self, payload: Mapping[str, Any]) -> HookCall:
        event = text(payload, "hook_event_name")
        self._event = event
        common = {"agent": self.name, "session_id": text(payload, "conversation_id"),
                  "tool_use_id": text(payload, "tool_use_id", "generation_id"), "event": event,
                  "cwd": text(payload, "cwd") or _first(payload.get("workspace_roots"))}  # fmt: skip
        if event == SHELL:
            command = text(payload, "command")
            if not command.strip():
                raise InputError(
                    "the shell hook carries no command", hint="Cursor must send command"
                )
            return HookCall(tool="shell", kind=ActionKind.SHELL, text=command, **common)
        if event == MCP:
            tool = text(payload, "tool_name")
            server = text(payload, "url", "command") or "mcp"
            arguments = mapping(payload, "tool_input")
            kind, judged_text = judged(tool, arguments, mcp=(server, tool))
            return HookCall(tool=tool, kind=kind, text=judged_text, server=server, **common)
        if event == TOOL:
            tool = text(payload, "tool_name")
            kind, judged_text = judged(tool, mapping(payload, "tool_input"))
            return HookCall(tool=tool, kind=kind, text=judged_text, **common)
        raise InputError(f"Blastdoor does not handle Cursor's {event or 'unnamed'} event",
                         hint="install it with blastdoor install cursor")  # fmt: skip

    def reply(self, verdict: Verdict) -> Reply:
        if self._event == TOOL:
            verdict = hookfiles.ask_as_deny(verdict, f"{self.title}'s preToolUse")
        if verdict.kind is None or verdict.kind is DecisionKind.ALLOW:
            return Reply(json.dumps({"permission": "allow"}) + "\n")
        permission = "ask" if verdict.kind is DecisionKind.ASK else "deny"
        output = {
            "permission": permission,
            "user_message": verdict.message,
            "agent_message": verdict.message,
        }
        return Reply(json.dumps(output, ensure_ascii=False) + "\n")

    def config_path(self, scope: str, *, project: Path, home: Path) -> Path:
        if scope == "project":
            return project / ".cursor" / "hooks.json"
        if scope == "user":
            return home / ".cursor" / "hooks.json"
        import sys

        if scope == "managed" and sys.platform in MANAGED:
            return MANAGED[sys.platform]
        raise not_supported(self.title, scope)

    def install(self, config: dict[str, Any], command: str, *, scope: str) -> dict[str, Any]:
        config.setdefault("version", 1)
        entry = {"command": command, "timeout": HOOK_TIMEOUT_SECONDS, "failClosed": True}
        hookfiles.add_flat(config, SHELL, dict(entry))
        hookfiles.add_flat(config, MCP, dict(entry))
        return hookfiles.add_flat(config, TOOL, {**entry, "matcher": FILE_TOOLS})

    def uninstall(self, config: dict[str, Any]) -> dict[str, Any]:
        hookfiles.remove_ours(config)
        if set(config) == {"version"}:
            config.clear()  # only what install added is left
        return config

    def failure_shell(self) -> str:
        return hookfiles.json_block(DENY_ON_FAILURE, hookfiles.FAILED)

    def sample(self, command: str, cwd: str) -> dict[str, Any]:
        return {"conversation_id": "blastdoor-doctor", "generation_id": "doctor", "hook_event_name": SHELL,
                "workspace_roots": [cwd], "command": command, "cwd": cwd}  # fmt: skip

    def blocked(self, reply: Reply) -> bool:
        return reply.exit_code == 2 or '"permission": "deny"' in reply.stdout


def _first(roots: object) -> str:
    return roots[0] if isinstance(roots, list) and roots and isinstance(roots[0], str) else ""
