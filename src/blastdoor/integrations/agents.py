"""The agents Blastdoor integrates with, by the name users type."""

from __future__ import annotations

from blastdoor.errors import InputError
from blastdoor.integrations.adapter import Adapter

AGENTS = ("claude-code", "codex", "gemini", "cursor", "copilot")


def adapter_for(name: str) -> Adapter:
    """The adapter for ``name``; :class:`InputError` naming the known agents otherwise."""
    if name == "claude-code":
        from blastdoor.integrations.claude_code import ClaudeCode

        return ClaudeCode()
    raise InputError(f"unknown agent {name!r}", hint=f"use one of: {', '.join(AGENTS)}")
