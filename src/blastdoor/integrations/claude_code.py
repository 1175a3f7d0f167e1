"""Claude Code: the PreToolUse hook (docs/integrations.md#claude-code).

Blastdoor's allow is "no objection": the hook prints nothing and Claude Code's own permission rules
still apply, so Blastdoor never widens what a user allowed. ``ask`` becomes Claude Code's own
confirmation prompt; ``hold`` and ``deny`` become a deny whose reason the model reads. Exit code 2
is the only failure code that blocks, so the installed command exits 2 whenever the client fails.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from blastdoor.integrations import hookfiles
from blastdoor.integrations.adapter import HookCall, Reply, Verdict
from blastdoor.integrations.install import HOOK_TIMEOUT_SECONDS, not_supported
from blastdoor.model import DecisionKind

EVENT = hookfiles.PRE_TOOL_USE
MANAGED = {"linux": Path("/etc/claude-code/managed-settings.json"),
           "darwin": Path("/Library/Application Support/ClaudeCode/managed-settings.json")}  # fmt: skip


class ClaudeCode:
    name = "claude-code"
    title = "Claude Code"

    def parse(self, payload: Mapping[str, Any]) -> HookCall:
        return hookfiles.pre_tool_use_call(self.name, payload)

    def reply(self, verdict: Verdict) -> Reply:
        if verdict.kind is None or verdict.kind is DecisionKind.ALLOW:
            return Reply("")
        return hookfiles.pre_tool_use_reply(
            "ask" if verdict.kind is DecisionKind.ASK else "deny", verdict.message
        )

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
