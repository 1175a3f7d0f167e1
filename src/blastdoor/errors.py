"""One error root for everything Blastdoor raises on purpose.

The CLI catches :class:`BlastdoorError` once, in ``main``, and prints :meth:`diagnostics`: a one-line
message that says what went wrong and what to do about it.
"""

from __future__ import annotations


class BlastdoorError(Exception):
    """Root of every error Blastdoor raises deliberately."""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def diagnostics(self) -> str:
        """One line for a person: the problem, then what to do."""
        if self.hint:
            return f"{self.message} ({self.hint})"
        return self.message


def first_line(text: str, *, limit: int = 300, default: str = "no message") -> str:
    """The first non-empty line of a program's or a library's message, for a one-line error."""
    return (text.strip().splitlines() or [default])[0][:limit]


def error_line(error: BaseException, *, limit: int = 500) -> str:
    """A library's exception (a database driver's, most often) as one line: its message's first
    line, else its class name."""
    return first_line(str(error), limit=limit, default=type(error).__name__)


class ConfigError(BlastdoorError):
    """A policy or configuration file is missing, unreadable or invalid."""


class InputError(BlastdoorError):
    """An action given to Blastdoor cannot be read at all (not JSON, wrong shape, ...)."""


class HomeError(BlastdoorError):
    """Blastdoor's home folder cannot be created or read."""


class FreezeError(BlastdoorError):
    """A freeze or unfreeze could not be carried out."""


class GatewayError(BlastdoorError):
    """The MCP gateway cannot start, reach its server or read its tool pins."""
