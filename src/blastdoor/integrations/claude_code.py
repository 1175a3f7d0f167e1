"""Claude Code: the PreToolUse hook (docs/integrations.md#claude-code).

Blastdoor's allow is "no objection": the hook prints nothing and Claude Code's own permission rules
still apply, so Blastdoor never widens what a user allowed. ``ask`` becomes Claude Code's own
confirmation prompt; ``hold`` and ``deny`` become a deny whose reason the model reads.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from blastdoor.errors import InputError
from blastdoor.integrations.adapter import HookCall, Reply, Verdict
from blastdoor.integrations.payload import mapping, text
from blastdoor.integrations.tools import judged, mcp_parts
from blastdoor.model import DecisionKind

EVENT = "PreToolUse"
BLOCK_EXIT = 2  # the only exit code that blocks; any other non-zero code lets the call through


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
        output = {
            "hookSpecificOutput": {
                "hookEventName": EVENT,
                "permissionDecision": decision,
                "permissionDecisionReason": verdict.message,
            }
        }
        return Reply(json.dumps(output, ensure_ascii=False) + "\n")
