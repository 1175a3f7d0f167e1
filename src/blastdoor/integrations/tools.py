"""Agents' tool names → what Blastdoor judges: a shell command, files written, or an MCP call.

Each agent names its tools differently (``Bash``, ``run_shell_command``, ``shell``; ``Write``,
``write_file``, ``create``; ``mcp__server__tool``); the tables here hold every name the adapters
meet, so one agent's adapter never needs another's.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from typing import Any

from blastdoor.errors import InputError
from blastdoor.model import ActionKind

SHELL_TOOLS = frozenset({
    "bash", "shell", "run_shell_command", "exec_command", "local_shell", "container.exec",
    "run_terminal_cmd", "terminal", "powershell",
})  # fmt: skip
WRITE_TOOLS = frozenset({
    "write", "edit", "multiedit", "notebookedit", "write_file", "replace", "create", "edit_file",
    "create_file", "str_replace", "str_replace_editor", "str_replace_based_edit_tool", "apply_patch",
    "search_replace", "insert", "write_to_file",
})  # fmt: skip
DELETE_TOOLS = frozenset({"delete", "delete_file"})  # judged as the rm they amount to
_PATH_KEYS = ("file_path", "path", "notebook_path", "filePath", "target_file", "filename", "file")
_COMMAND_KEYS = ("command", "cmd", "commandLine", "script")
_PATCH_FILE = re.compile(
    r"^\*\*\* (?:Add|Update|Delete) File: (.+)$|^\*\*\* Move to: (.+)$", re.MULTILINE
)


def judged(
    tool: str, arguments: Mapping[str, Any], *, mcp: tuple[str, str] | None = None
) -> tuple[ActionKind | None, str]:
    """What ``tool`` called with ``arguments`` is judged as, and the text to judge.

    ``mcp`` is (server, tool) when the adapter recognised an MCP tool by its naming scheme.
    """
    if mcp is not None:
        return ActionKind.MCP_CALL, json.dumps(arguments, ensure_ascii=False, sort_keys=True)
    name = tool.lower()
    if name in SHELL_TOOLS:
        return ActionKind.SHELL, command_of(arguments)
    if name in WRITE_TOOLS:
        return ActionKind.FILE_WRITE, "\n".join(paths_of(arguments))
    if name in DELETE_TOOLS:
        return ActionKind.SHELL, shlex.join(["rm", "--", *paths_of(arguments)])
    return None, ""


def command_of(arguments: Mapping[str, Any]) -> str:
    for key in _COMMAND_KEYS:
        value = arguments.get(key)
        if isinstance(value, str) and value.strip():
            return value
        if isinstance(value, list) and value and all(isinstance(part, str) for part in value):
            return _argv_text(value)
    raise InputError(
        "the shell tool call carries no command", hint="the agent sent a shell call without one"
    )


def _argv_text(argv: list[str]) -> str:
    """An argv as shell text; ``["bash", "-lc", "script"]`` is the script itself."""
    if (
        len(argv) == 3
        and argv[0].rsplit("/", 1)[-1] in ("bash", "sh", "zsh")
        and argv[1] in ("-c", "-lc")
    ):
        return argv[2]
    return shlex.join(argv)


def paths_of(arguments: Mapping[str, Any]) -> list[str]:
    """The files a write tool touches (a patch may name several)."""
    for key in _PATH_KEYS:
        value = arguments.get(key)
        if isinstance(value, str) and value.strip():
            return [value]
    patch = arguments.get("input") or arguments.get("patch") or arguments.get("command")
    if isinstance(patch, str):
        named = [a or b for a, b in _PATCH_FILE.findall(patch)]
        if named:
            return [name.strip() for name in named]
    raise InputError(
        "the file tool call names no file", hint="the agent sent a write without a path"
    )


def mcp_parts(tool: str, *, prefix: str = "mcp__", separator: str = "__") -> tuple[str, str] | None:
    """``mcp__github__delete_repo`` → (``github``, ``delete_repo``); None for other tools."""
    if not tool.startswith(prefix):
        return None
    server, sep, name = tool[len(prefix) :].partition(separator)
    return (server, name) if sep and server and name else None
