"""Claude Code: the PreToolUse hook (docs/integrations.md#claude-code).

Blastdoor's allow is "no objection": the hook prints nothing and Claude Code's own permission rules
still apply, so Blastdoor never widens what a user allowed. ``ask`` becomes Claude Code's own
confirmation prompt; ``hold`` and ``deny`` become a deny whose reason the model reads. Exit code 2
is the only failure code that blocks, so the installed command exits 2 whenever the client fails.
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
from blastdoor.integrations.tools import judged, mcp_parts
from blastdoor.model import DecisionKind

EVENT = "PreToolUse"
MANAGED = {"linux": Path("/etc/claude-code/managed-settings.json"),
           "darwin": Path("/Library/Application Support/ClaudeCode/managed-settings.json")}  # fmt: skip


class ClaudeCode:
    name = "claude-code"
    title = "Claude Code"

    def parse(self, payload: Mapping[str, Any]) -> HookCall:
        event = text(payload, "hook_event_name")
        if event and event != EVENT:
            raise InputError(
                f"Blastdoor handles PreToolUse, not {event}",
                hint="install it with blastdoor install claude-code",
            )
        tool = text(payload, "tool_name")
        if not tool:
            raise InputError("the hook input names no tool", hint="the agent must send tool_name")
        mcp = mcp_parts(tool)
        kind, judged_text = judged(mcp[1] if mcp else tool, mapping(payload, "tool_input"), mcp=mcp)
        return HookCall(
            agent=self.name, tool=mcp[1] if mcp else tool, kind=kind, text=judged_text,
            server=mcp[0] if mcp else "", session_id=text(payload, "session_id"),
            tool_use_id=text(payload, "tool_use_id"), cwd=text(payload, "cwd"), event=event or EVENT,
        )  # fmt: skip

    def reply(self, verdict: Verdict) -> Reply:
        if verdict.kind is None or verdict.kind is DecisionKind.ALLOW:
            return Reply("")
        decision = "ask" if verdict.kind is DecisionKind.ASK else "deny"
        output = {"hookSpecificOutput": {"hookEventName": EVENT, "permissionDecision": decision,
                                         "permissionDecisionReason": verdict.message}}  # fmt: skip
        return Reply(json.dumps(output, ensure_ascii=False) + "\n")

    def config_path(self, scope: str, *, project: Path, home: Path) -> Path:
        if scope == "project":
            return project / ".claude" / "settings.json"
        if scope == "user":
            return home / ".claude" / "settings.json"
        import sys

        if scope == "managed" and sys.platform in MANAGED:
            return MANAGED[sys.platform]
        raise not_supported(self.title, scope)

    def install(self, config: dict[str, Any], command: str, *, scope: str) -> dict[str, Any]:
        entry = {"type": "command", "command": command, "timeout": HOOK_TIMEOUT_SECONDS}
        hookfiles.add_grouped(config, EVENT, "*", entry)
        if scope == "managed":  # only managed hooks run, and nobody can switch permissions off
            config["allowManagedHooksOnly"] = True
            permissions = config.setdefault("permissions", {})
            if isinstance(permissions, dict):
                permissions["disableBypassPermissionsMode"] = "disable"
        return config

    def uninstall(self, config: dict[str, Any]) -> dict[str, Any]:
        return hookfiles.remove_ours(config)

    def failure_shell(self) -> str:
        return hookfiles.stderr_block(hookfiles.FAILED)

    def sample(self, command: str, cwd: str) -> dict[str, Any]:
        return {"session_id": "blastdoor-doctor", "cwd": cwd, "hook_event_name": EVENT, "tool_name": "Bash",
                "tool_input": {"command": command}, "tool_use_id": "doctor"}  # fmt: skip

    def blocked(self, reply: Reply) -> bool:
        if reply.exit_code == 2:
            return True
        return reply.exit_code == 0 and '"permissionDecision": "deny"' in reply.stdout
