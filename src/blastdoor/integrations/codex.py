"""OpenAI Codex CLI: the PreToolUse hook in hooks.json (docs/integrations.md#openai-codex-cli).

Codex lets a call through when a hook answers ``ask``, so ask becomes a deny with instructions; a
deny without a reason is invalid (and passes), so every deny carries one. Exit 2 blocks only with
text on stderr.
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


class Codex:
    name = "codex"
    title = "Codex"

    def parse(self, payload: Mapping[str, Any]) -> HookCall:
        return hookfiles.pre_tool_use_call(self.name, payload)

    def reply(self, verdict: Verdict) -> Reply:
        verdict = hookfiles.ask_as_deny(verdict, self.title)  # Codex lets an ask through
        if verdict.kind is None or verdict.kind is DecisionKind.ALLOW:
            return Reply("")
        return hookfiles.pre_tool_use_reply("deny", verdict.message)

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
