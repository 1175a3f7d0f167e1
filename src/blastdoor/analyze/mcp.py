"""An MCP ``tools/call`` (tool name, arguments, server) → effects.

MCP tools are arbitrary, so the tool's own name says what it does (``delete_project``,
``list_issues``), SQL or shell text in its arguments is analyzed like any other SQL or shell, and
arguments that name an environment (``project_id``, ``environment``, ``branch``, ``database``)
become scope hints. A tool whose name says nothing is ``execute-unknown``: never silently safe.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from typing import Any

from blastdoor.analyze.commands.verbs import HINT_OPTIONS
from blastdoor.model import Effect, Reversibility, Scope, Target, Verb

MAX_ARGUMENT_CHARS = 1_000_000
ShellAnalyzer = Callable[[str], list[Effect]]
SqlAnalyzer = Callable[[str, str], list[Effect]]

# The first word of a tool's name that says what it does decides its verb.
_WORDS: tuple[tuple[Verb, Reversibility, frozenset[str]], ...] = (
    (Verb.DESTROY, Reversibility.IRREVERSIBLE, frozenset({
        "delete", "drop", "destroy", "remove", "rm", "purge", "truncate", "wipe", "erase",
        "terminate", "reset", "uninstall", "prune", "nuke", "clear", "deprovision", "teardown",
    })),
    (Verb.ESCALATE, Reversibility.REVERSIBLE, frozenset({"grant", "elevate", "impersonate", "sudo"})),
    (Verb.MODIFY, Reversibility.REVERSIBLE, frozenset({
        "update", "edit", "set", "patch", "write", "put", "insert", "apply", "merge", "push", "move",
        "rename", "restore", "deploy", "rollback", "revert", "migrate", "upsert", "replace", "scale",
        "restart", "stop", "pause", "disable", "revoke", "close", "archive", "transfer", "rotate",
        "upload", "publish", "release", "commit", "assign", "cancel", "kill", "send",
        "post", "comment", "reply", "execute", "exec", "run", "invoke", "call", "trigger", "start",
    })),
    (Verb.CREATE, Reversibility.REVERSIBLE, frozenset({
        "create", "add", "new", "make", "generate", "fork", "clone", "copy", "open", "init", "enable",
    })),
    (Verb.READ, Reversibility.REVERSIBLE, frozenset({
        "get", "list", "read", "search", "describe", "fetch", "find", "show", "view", "count",
        "inspect", "check", "status", "browse", "lookup", "query", "select", "explain", "diff",
        "download", "export", "preview", "plan", "validate", "lint", "watch", "tail", "logs", "info",
        "summarize", "analyze", "resolve", "navigate", "snapshot", "screenshot", "take",
        "wait", "hover", "evaluate", "think", "echo", "ping", "health", "whoami", "me",
    })),
)  # fmt: skip
_SQL_KEYS = frozenset({"sql", "query", "statement", "statements", "migration"})
_SHELL_KEYS = frozenset({"command", "cmd", "script", "shell", "commandline", "command_line"})
_SQL_START = re.compile(
    r"^\s*(select|insert|update|delete|drop|truncate|alter|create|grant|revoke|with|merge|copy|do|"
    r"begin|set|explain|vacuum|reindex|comment|call|replace|upsert)\b",
    re.IGNORECASE,
)
_SPLIT = re.compile(r"[_\-.\s/]+|(?<=[a-z0-9])(?=[A-Z])")


def tool_words(name: str) -> list[str]:
    """``deleteProject`` / ``delete_project`` / ``mcp__db__delete-project`` → its lower-case words."""
    return [w.lower() for w in _SPLIT.split(name) if w]


def analyze_mcp_call(
    arguments_json: str,
    *,
    tool: str,
    server: str,
    shell: ShellAnalyzer,
    sql: SqlAnalyzer,
) -> list[Effect]:
    """The effects of calling ``tool`` on ``server`` with ``arguments_json`` (a JSON object)."""
    evidence = f"{server}/{tool}" if server else tool
    try:
        arguments = (
            json.loads(arguments_json or "{}")
            if len(arguments_json) <= MAX_ARGUMENT_CHARS
            else None
        )
    except ValueError:
        arguments = None
    if not isinstance(arguments, dict):
        return [_unknown(tool, evidence, "its arguments are not a JSON object Blastdoor can read")]
    hints = _hints(arguments)
    effects: list[Effect] = []
    for key, value in _strings(arguments):
        if key in _SQL_KEYS and _SQL_START.match(value):
            target = _target_hint(hints) or server
            effects += [_tagged(found, hints) for found in sql(value, target)]
        elif key in _SHELL_KEYS and _runs_commands(tool):
            effects += [_tagged(found, hints) for found in shell(value)]
    named = _from_name(tool, evidence, hints)
    if effects and named.verb in (Verb.READ, Verb.EXECUTE_UNKNOWN, Verb.MODIFY):
        return effects  # the SQL or command it carries says more than a generic name
    return [named, *effects]


def _runs_commands(tool: str) -> bool:
    words = set(tool_words(tool))
    return bool(
        words & {"run", "exec", "execute", "shell", "bash", "terminal", "command", "cmd", "sh"}
    )


def _from_name(tool: str, evidence: str, hints: set[str]) -> Effect:
    words = tool_words(tool.split("__")[-1])
    target = Target("mcp-tool", evidence)
    for word in words:
        for verb, reversibility, names in _WORDS:
            if word in names:
                return Effect(
                    verb=verb, target=target, detail=f"MCP tool {evidence}: {word}",
                    evidence=evidence, reversibility=reversibility,
                    tags=frozenset(hints | {"mcp"}),
                )  # fmt: skip
    return _unknown(tool, evidence, "its name does not say what it does", hints)


def _unknown(tool: str, evidence: str, why: str, hints: set[str] | None = None) -> Effect:
    return Effect(
        verb=Verb.EXECUTE_UNKNOWN, target=Target("mcp-tool", evidence),
        detail=f"MCP tool {evidence}: {why}", evidence=evidence,
        reversibility=Reversibility.IRREVERSIBLE, tags=frozenset((hints or set()) | {"mcp"}),
    )  # fmt: skip


def _strings(value: Any, key: str = "", depth: int = 0) -> Iterator[tuple[str, str]]:
    """Every string in the arguments with the (lower-case) key it sits under."""
    if depth > 8:
        return
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, Mapping):
        for name, inner in value.items():
            yield from _strings(inner, str(name).lower(), depth + 1)
    elif isinstance(value, list):
        for inner in value[:1000]:
            yield from _strings(inner, key, depth + 1)


def _hints(arguments: Mapping[str, Any]) -> set[str]:
    """``project_id: prod-db`` → ``project=prod-db``: the arguments that say where it lands."""
    tags = set()
    for name, value in arguments.items():
        if not isinstance(value, str | int) or isinstance(value, bool) or not str(value).strip():
            continue
        key = HINT_OPTIONS.get(str(name).lower().replace("_", "-"))
        if key:
            tags.add(f"{key}={str(value)[:200]}")
    return tags


def _target_hint(hints: set[str]) -> str:
    for prefer in ("url=", "database=", "host=", "project=", "env="):
        for tag in sorted(hints):
            if tag.startswith(prefer):
                return tag.split("=", 1)[1]
    return ""


def _tagged(found: Effect, hints: set[str]) -> Effect:
    if found.scope is not Scope.UNKNOWN or not hints:
        return found
    return replace(found, tags=found.tags | hints | {"mcp"})
