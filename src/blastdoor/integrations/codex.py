"""OpenAI Codex CLI: the PreToolUse hook in hooks.json (docs/integrations.md#openai-codex-cli).

Codex lets a call through when a hook answers ``ask``, so ask becomes a deny with instructions; a
deny without a reason is invalid (and passes), so every deny carries one. Exit 2 blocks only with
text on stderr.
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


class Codex:
    name = "codex"
    title = "Codex"

    def parse(self, payload: Mapping[str, Any]) -> HookCall:
        event = text(payload, "hook_event_name")
        if event and event != EVENT:
            raise InputError(
                f"Blastdoor handles PreToolUse, not {event}",
                hint="install it with blastdoor install codex",
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
        verdict = hookfiles.ask_as_deny(verdict, self.title)
        if verdict.kind is None or verdict.kind is DecisionKind.ALLOW:
            return Reply("")
        output = {"hookSpecificOutput": {"hookEventName": EVENT, "permissionDecision": "deny",
                                         "permissionDecisionReason": verdict.message or "Blastdoor denied it"}}  # fmt: skip
        return Reply(json.dumps(output, ensure_ascii=False) + "\n")

    def config_path(self, scope: str, *, project: Path, home: Path) -> Path:
        if scope == "project":
            return project / ".codex" / "hooks.json"
        if scope == "user":
            return home / ".codex" / "hooks.json"
        raise not_supported(self.title, scope)  # managed hooks live in requirements.toml (TOML)

    def install(self, config: dict[str, Any], command: str, *, scope: str) -> dict[str, Any]:
        entry = {"type": "command", "command": command, "timeout": HOOK_TIMEOUT_SECONDS}
        return hookfiles.add_grouped(config, EVENT, "*", entry)

    def uninstall(self, config: dict[str, Any]) -> dict[str, Any]:
        return hookfiles.remove_ours(config)

    def failure_shell(self) -> str:
        return hookfiles.stderr_block(hookfiles.FAILED)

    def sample(self, command: str, cwd: str) -> dict[str, Any]:
        return {"session_id": "blastdoor-doctor", "turn_id": "doctor", "cwd": cwd, "hook_event_name": EVENT,
                "tool_name": "Bash", "tool_input": {"command": command}, "tool_use_id": "doctor"}  # fmt: skip

    def blocked(self, reply: Reply) -> bool:
        if reply.exit_code == 2 and reply.stderr.strip():
            return True
        return reply.exit_code == 0 and '"permissionDecision": "deny"' in reply.stdout
