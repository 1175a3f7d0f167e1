"""The hook-list shapes agents share, added to and removed from a settings object in place.

Claude Code, Codex and Gemini CLI nest hooks as ``hooks.<Event>[] = {matcher, hooks: [entry]}``;
Cursor and Copilot CLI list entries directly under ``hooks.<event>[]``.
"""

from __future__ import annotations

import shlex
from typing import Any

from blastdoor.integrations.adapter import Verdict
from blastdoor.integrations.install import InstallError, ours
from blastdoor.model import DecisionKind


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


def installed(config: dict[str, Any]) -> list[str]:
    """The events under which ``config`` holds a Blastdoor entry."""
    hooks = config.get("hooks")
    if not isinstance(hooks, dict):
        return []
    return sorted(event for event, items in hooks.items() if ours(items))


def stderr_block(message: str, code: int = 2) -> str:
    """Shell code: ``message`` on stderr, then exit ``code``."""
    return f"echo {shlex.quote(message)} >&2; exit {code}"


def json_block(document: str, message: str, code: int = 2) -> str:
    """Shell code: ``document`` on stdout, ``message`` on stderr, exit ``code``."""
    return f"printf '%s\\n' {shlex.quote(document)}; {stderr_block(message, code)}"


FAILED = "Blastdoor blocked this call: its hook is missing, failed or was too slow (run blastdoor doctor)"


def ask_as_deny(verdict: Verdict, title: str) -> Verdict:
    """For agents without a confirmation prompt: ``ask`` becomes a deny that says what to do."""
    if verdict.kind is not DecisionKind.ASK:
        return verdict
    reason = verdict.message.removeprefix("Blastdoor asks for confirmation: ")
    return Verdict(DecisionKind.DENY, (
        f"Blastdoor needs a person to confirm this action and {title} hooks cannot ask: {reason}. "
        "Do not retry it or reach the same result another way; show the user the exact action so "
        "they can run it themselves if they want it."
    ))  # fmt: skip
