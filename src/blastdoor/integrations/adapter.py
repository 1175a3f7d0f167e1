"""What every agent adapter provides: read the agent's hook JSON, write the agent's answer.

An adapter is pure translation. :mod:`blastdoor.integrations.service` does the judging and the
recording; the adapter turns the agent's payload into a :class:`HookCall` and a :class:`Verdict`
into the exact bytes and exit code that agent expects (docs/integrations.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from blastdoor.model import ActionKind, DecisionKind


@dataclass(frozen=True, kw_only=True)
class HookCall:
    """One tool call an agent is about to make, in Blastdoor's terms.

    ``kind`` is None for a tool Blastdoor does not judge (a file read, a search): the agent's own
    permission flow applies to it unchanged.
    """

    agent: str
    tool: str
    kind: ActionKind | None
    text: str = ""  # the command, the paths written (one per line) or the MCP arguments as JSON
    server: str = ""  # for MCP calls: the server's name
    session_id: str = ""
    tool_use_id: str = ""
    cwd: str = ""
    event: str = ""


@dataclass(frozen=True)
class Verdict:
    """What the agent must be told: the decision and a message written for the agent to read."""

    kind: DecisionKind | None  # None: no opinion (a tool Blastdoor does not judge, observe mode)
    message: str = ""


@dataclass(frozen=True)
class Reply:
    """The hook process's whole answer."""

    stdout: str
    exit_code: int = 0
    stderr: str = ""


class Adapter(Protocol):
    """One agent's hook dialect."""

    name: str  # the name users type: claude-code, codex, gemini, cursor, copilot
    title: str  # the product's name, for messages

    def parse(self, payload: Mapping[str, Any]) -> HookCall:
        """The tool call in ``payload``; raises :class:`blastdoor.errors.InputError` when unusable."""
        ...

    def reply(self, verdict: Verdict) -> Reply:
        """The answer for ``verdict``, in the agent's format."""
        ...

    # installing ---------------------------------------------------------------------------------
    def config_path(self, scope: str, *, project: Path, home: Path) -> Path:
        """The settings file for ``scope`` (project, user or managed); ConfigError when it has none."""
        ...

    def install(self, config: dict[str, Any], command: str, *, scope: str) -> dict[str, Any]:
        """``config`` with Blastdoor's hook entries running ``command`` (replacing older ones)."""
        ...

    def uninstall(self, config: dict[str, Any]) -> dict[str, Any]:
        """``config`` without Blastdoor's entries."""
        ...

    def failure_shell(self) -> str:
        """Shell code the installed command runs when the hook client fails: the agent's block."""
        ...

    def sample(self, command: str, cwd: str) -> dict[str, Any]:
        """A payload for a shell call of ``command`` as this agent sends it (for doctor)."""
        ...

    def blocked(self, reply: Reply) -> bool:
        """Whether the agent would refuse the call on ``reply`` (for doctor)."""
        ...
