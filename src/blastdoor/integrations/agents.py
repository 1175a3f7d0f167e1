"""The agents Blastdoor integrates with, by the name users type."""

from __future__ import annotations

from blastdoor.errors import InputError
from blastdoor.integrations.adapter import Adapter

AGENTS = ("claude-code", "codex", "gemini", "cursor", "copilot")


def adapter_for(name: str) -> Adapter:
    """A fresh adapter for ``name``; :class:`InputError` naming the known agents otherwise."""
    if name == "claude-code":
        from blastdoor.integrations.claude_code import ClaudeCode

        return ClaudeCode()
    if name == "codex":
        from blastdoor.integrations.codex import Codex

        return Codex()
    if name == "gemini":
        from blastdoor.integrations.gemini import Gemini

        return Gemini()
    if name == "cursor":
        from blastdoor.integrations.cursor import Cursor

        return Cursor()
    if name == "copilot":
        from blastdoor.integrations.copilot import Copilot

        return Copilot()
    raise InputError(f"unknown agent {name!r}", hint=f"use one of: {', '.join(AGENTS)}")
