"""Gemini CLI: the BeforeTool hook (docs/integrations.md#gemini-cli).

Gemini CLI has no confirmation answer for hooks, so ask becomes a deny with instructions. Its
timeouts are in milliseconds; exit 2 blocks only with text on stderr.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from blastdoor.errors import InputError
from blastdoor.integrations import hookfiles
from blastdoor.integrations.adapter import HookCall, Reply, Verdict
from blastdoor.integrations.install import HOOK_TIMEOUT_SECONDS, not_supported
from blastdoor.integrations.payload import mapping, text
from blastdoor.integrations.tools import judged, mcp_parts
from blastdoor.model import ActionKind, DecisionKind

EVENT = "BeforeTool"
MANAGED = {"linux": Path("/etc/gemini-cli/settings.json"),
           "darwin": Path("/Library/Application Support/GeminiCli/settings.json")}  # fmt: skip


class Gemini:
    name = "gemini"
    title = "Gemini CLI"

    def parse(self, payload: Mapping[str, Any]) -> HookCall:
        event = text(payload, "hook_event_name")
        if event and event != EVENT:
            raise InputError(
                f"Blastdoor handles BeforeTool, not {event}",
                hint="install it with blastdoor install gemini",
            )
        tool = text(payload, "tool_name")
        if not tool:
            raise InputError("the hook input names no tool", hint="the agent must send tool_name")
        arguments = mapping(payload, "tool_input")
        context = mapping(payload, "mcp_context")
        mcp = mcp_parts(tool)
        if context and text(context, "server_name"):
            mcp = (
                text(context, "server_name"),
                text(context, "tool_name") or (mcp[1] if mcp else tool),
            )
        kind, judged_text = judged(mcp[1] if mcp else tool, arguments, mcp=mcp)
        cwd = text(payload, "cwd")
        folder = text(arguments, "dir_path", "directory")  # the shell tool may run in a subfolder
        if kind is ActionKind.SHELL and folder:
            cwd = os.path.join(cwd, folder) if cwd else folder
        return HookCall(
            agent=self.name, tool=mcp[1] if mcp else tool, kind=kind, text=judged_text,
            server=mcp[0] if mcp else "", session_id=text(payload, "session_id"), cwd=cwd,
            event=event or EVENT,
        )  # fmt: skip

    def reply(self, verdict: Verdict) -> Reply:
        verdict = hookfiles.ask_as_deny(verdict, self.title)
        if verdict.kind is None or verdict.kind is DecisionKind.ALLOW:
            return Reply("")
        output = {"decision": "deny", "reason": verdict.message or "Blastdoor denied it"}
        return Reply(json.dumps(output, ensure_ascii=False) + "\n")

    def config_path(self, scope: str, *, project: Path, home: Path) -> Path:
        if scope == "project":
            return project / ".gemini" / "settings.json"
        if scope == "user":
            return home / ".gemini" / "settings.json"
        import sys

        if scope == "managed" and sys.platform in MANAGED:
            return MANAGED[sys.platform]
        raise not_supported(self.title, scope)

    def install(self, config: dict[str, Any], command: str, *, scope: str) -> dict[str, Any]:
        entry = {
            "name": "blastdoor",
            "type": "command",
            "command": command,
            "timeout": HOOK_TIMEOUT_SECONDS * 1000,
        }
        switch = config.setdefault("hooksConfig", {})
        if isinstance(switch, dict):
            switch["enabled"] = True
        return hookfiles.add_grouped(config, EVENT, "*", entry)

    def uninstall(self, config: dict[str, Any]) -> dict[str, Any]:
        hookfiles.remove_ours(config)
        if "hooks" not in config and config.get("hooksConfig") == {"enabled": True}:
            del config["hooksConfig"]  # what install added to a file without hooks of its own
        return config

    def failure_shell(self) -> str:
        return hookfiles.stderr_block(hookfiles.FAILED)

    def sample(self, command: str, cwd: str) -> dict[str, Any]:
        return {"session_id": "blastdoor-doctor", "cwd": cwd, "hook_event_name": EVENT,
                "timestamp": "2026-01-01T00:00:00Z", "tool_name": "run_shell_command",
                "tool_input": {"command": command}}  # fmt: skip

    def blocked(self, reply: Reply) -> bool:
        if reply.exit_code == 2 and reply.stderr.strip():
            return True
        return reply.exit_code == 0 and '"decision": "deny"' in reply.stdout
