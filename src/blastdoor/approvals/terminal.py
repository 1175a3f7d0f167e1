"""Reading a passphrase from the person at the terminal, and nowhere else.

Never from a flag, a file, the environment or a pipe: only the controlling terminal
(``/dev/tty``), with echo off. A process without one (an agent's tool call, ``echo pw | ...``) is
refused. A command an agent runs also carries its agent's marker in the environment
(``CLAUDECODE``, ``GEMINI_CLI``, ...); approving from there is refused before any prompt.
"""

from __future__ import annotations

import os
import termios
from collections.abc import Mapping

from blastdoor.approvals.errors import ApprovalError

# Variables the agents set in the environment of the commands they run (docs/integrations.md).
AGENT_MARKERS = ("CLAUDECODE", "CLAUDE_CODE_ENTRYPOINT", "GEMINI_CLI", "CODEX_SANDBOX",
                 "CODEX_SANDBOX_NETWORK_DISABLED", "CURSOR_AGENT", "BLASTDOOR_RUN_ID")  # fmt: skip
MAX_PASSPHRASE = 1024


def agent_marker(env: Mapping[str, str]) -> str:
    """The name of the agent marker in ``env``, or ''."""
    return next((name for name in AGENT_MARKERS if env.get(name)), "")


def read_passphrase(prompt: str, *, tty: str = "/dev/tty") -> str:
    """One line typed at the controlling terminal, not echoed."""
    try:
        fd = os.open(tty, os.O_RDWR | os.O_NOCTTY)
    except OSError:
        raise ApprovalError("no terminal to read the passphrase from",
                            hint="approve from your own terminal, not from a script or an agent") from None  # fmt: skip
    try:
        if not os.isatty(fd):
            raise ApprovalError(f"{tty} is not a terminal", hint="approve from your own terminal")
        before = termios.tcgetattr(fd)
        quiet = list(before)
        quiet[3] &= ~termios.ECHO
        termios.tcsetattr(
            fd, termios.TCSAFLUSH, quiet
        )  # echo off (and typed-ahead input dropped) first
        os.write(fd, prompt.encode())
        try:
            typed = _line(fd)
        finally:
            termios.tcsetattr(fd, termios.TCSAFLUSH, before)
            os.write(fd, b"\n")
    finally:
        os.close(fd)
    return typed


def _line(fd: int) -> str:
    data = b""
    while not data.endswith(b"\n"):
        chunk = os.read(fd, 256)
        if not chunk:
            break
        data += chunk
        if len(data) > MAX_PASSPHRASE:
            raise ApprovalError(
                "the passphrase is too long", hint=f"use at most {MAX_PASSPHRASE} bytes"
            )
    return data.rstrip(b"\r\n").decode("utf-8", "replace")
