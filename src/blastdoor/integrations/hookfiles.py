"""The hook-list shapes agents share, added to and removed from a settings object in place.

Claude Code, Codex and Gemini CLI nest hooks as ``hooks.<Event>[] = {matcher, hooks: [entry]}``;
Cursor and Copilot CLI list entries directly under ``hooks.<event>[]``.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from typing import Any

from blastdoor.errors import InputError
from blastdoor.integrations.adapter import HookCall, Reply, Verdict
from blastdoor.integrations.install import InstallError, ours
from blastdoor.integrations.payload import mapping, text
from blastdoor.integrations.tools import judged, mcp_parts
from blastdoor.model import DecisionKind

PRE_TOOL_USE = "PreToolUse"


def _events(config: dict[str, Any]) -> dict[str, Any]:
    hooks = config.setdefault("hooks", {})
    if not isinstance(hooks, dict):
        raise InstallError(
            "the settings' hooks key is not an object", hint="fix it by hand, then install again"
        )
    return hooks


def add_grouped(
    config: dict[str, Any], event: str, matcher: str, entry: dict[str, Any]
) -> dict[str, Any]:
    """Put ``entry`` in its own ``{matcher, hooks}`` group under ``event``, replacing an older one."""
    groups = [g for g in _events(config).get(event, []) if not ours(g)]
    groups.append({"matcher": matcher, "hooks": [entry]})
    _events(config)[event] = groups
    return config


def add_flat(config: dict[str, Any], event: str, entry: dict[str, Any]) -> dict[str, Any]:
    """Put ``entry`` straight in the list under ``event``, replacing an older one."""
    entries = [e for e in _events(config).get(event, []) if not ours(e)]
    entries.append(entry)
    _events(config)[event] = entries
    return config


def remove_ours(config: dict[str, Any]) -> dict[str, Any]:
    """Take every Blastdoor entry out, and the lists and keys that only held them."""
    hooks = config.get("hooks")
    if not isinstance(hooks, dict):
        return config
    for event in list(hooks):
        kept = []
        for item in hooks[event] if isinstance(hooks[event], list) else []:
            inner = item.get("hooks") if isinstance(item, dict) else None
            if isinstance(inner, list):
                mine = [h for h in inner if ours(h)]
                if mine:
                    rest = [h for h in inner if not ours(h)]
                    if rest:
                        kept.append({**item, "hooks": rest})
                    continue
            if not ours(item):
                kept.append(item)
        if kept:
            hooks[event] = kept
        else:
            del hooks[event]
    if not hooks:
        del config["hooks"]
    return config


def stderr_block(message: str, code: int = 2) -> str:
    """Shell code: ``message`` on stderr, then exit ``code``."""
    return f"echo {shlex.quote(message)} >&2; exit {code}"


def json_block(document: str, message: str, code: int = 2) -> str:
    """Shell code: ``document`` on stdout, ``message`` on stderr, exit ``code``."""
    return f"printf '%s\\n' {shlex.quote(document)}; {stderr_block(message, code)}"


FAILED = "Blastdoor blocked this call: its hook is missing, failed or was too slow (run blastdoor doctor)"


def ask_as_deny(verdict: Verdict, title: str, *, asker: str = "", noun: str = "action",
                doing: str = "run it") -> Verdict:  # fmt: skip
    """For agents without a confirmation prompt: ``ask`` becomes a deny that says what to do.
    ``asker`` names what cannot ask (default: TITLE's hooks)."""
    if verdict.kind is not DecisionKind.ASK:
        return verdict
    reason = verdict.message.removeprefix("Blastdoor asks for confirmation: ")
    return Verdict(DecisionKind.DENY, (
        f"Blastdoor needs a person to confirm this {noun} and {asker or f'{title} hooks'} cannot ask: {reason}. "
        f"Do not retry it or reach the same result another way; show the user the exact {noun} so "
        f"they can {doing} themselves if they want it."
    ))  # fmt: skip


def pre_tool_use_call(agent: str, payload: Mapping[str, Any]) -> HookCall:
    """The PreToolUse payload Claude Code and Codex share: ``tool_name``, ``tool_input``,
    ``session_id``, ``tool_use_id``, ``cwd``; MCP tools named ``mcp__server__tool``."""
    event = text(payload, "hook_event_name")
    if event and event != PRE_TOOL_USE:
        raise InputError(
            f"Blastdoor handles PreToolUse, not {event}",
            hint=f"install it with blastdoor install {agent}",
        )
    tool = text(payload, "tool_name")
    if not tool:
        raise InputError("the hook input names no tool", hint="the agent must send tool_name")
    mcp = mcp_parts(tool)
    kind, judged_text = judged(mcp[1] if mcp else tool, mapping(payload, "tool_input"), mcp=mcp)
    return HookCall(
        agent=agent, tool=mcp[1] if mcp else tool, kind=kind, text=judged_text,
        server=mcp[0] if mcp else "", session_id=text(payload, "session_id"),
        tool_use_id=text(payload, "tool_use_id"), cwd=text(payload, "cwd"), event=PRE_TOOL_USE,
    )  # fmt: skip


def pre_tool_use_reply(decision: str, reason: str) -> Reply:
    """``hookSpecificOutput`` with ``permissionDecision`` (ask or deny) and its reason."""
    output = {"hookSpecificOutput": {"hookEventName": PRE_TOOL_USE, "permissionDecision": decision,
                                     "permissionDecisionReason": reason or "Blastdoor denied it"}}  # fmt: skip
    return Reply(json.dumps(output, ensure_ascii=False) + "\n")
