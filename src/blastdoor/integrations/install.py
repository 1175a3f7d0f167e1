"""Writing an agent's hook configuration: merge, back up, undo, and change nothing the second time.

Every agent keeps its hooks in a JSON file; each agent module says where (per scope) and how its
entry looks. Blastdoor's entries are recognised by the hook client's path in their command, so
``uninstall`` removes exactly them and leaves the rest of the file as the user wrote it.
"""

from __future__ import annotations

import json
import shlex
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from blastdoor.errors import BlastdoorError, ConfigError
from blastdoor.files import write_atomic
from blastdoor.integrations import hook_client

MARKER = "hook_client.py"  # every command Blastdoor installs runs the hook client
BACKUP_SUFFIX = ".blastdoor-backup"
MAX_CONFIG_BYTES = 4 * 1024 * 1024
HOOK_TIMEOUT_SECONDS = 20  # what the agent waits; the client's own deadline is below it
SCOPES = ("project", "user", "managed")


class InstallError(BlastdoorError):
    """A hook configuration cannot be read or written."""


@dataclass(frozen=True)
class Change:
    path: Path
    changed: bool
    backup: Path | None = None
    removed_file: bool = False


def client_command(agent: str, home: Path, *, block: str, socket: str = "") -> str:
    """The hook command: the client under this Python, and ``block`` when it fails or is missing.

    ``block`` is shell code that makes the agent refuse the call (its blocking exit code, and the
    deny JSON for agents that read only stdout). It runs when the interpreter or the client is
    gone (the shell's 127), when the client crashes, and when it gives up at its deadline.
    """
    where = ["--system", socket] if socket else [str(home)]  # hardened mode: the daemon's socket
    parts = [sys.executable, "-I", "-S", hook_client.__file__, agent, *where]
    return f"{shlex.join(parts)} || {{ {block}; }}"


def read_config(path: Path) -> dict[str, Any]:
    """The JSON object in ``path`` ({} when the file does not exist)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise InstallError(
            f"cannot read {path}: {error.strerror}", hint="check its permissions"
        ) from None
    if len(data) > MAX_CONFIG_BYTES:
        raise InstallError(
            f"{path} is larger than {MAX_CONFIG_BYTES} bytes", hint="is it really a settings file?"
        )
    if not data.strip():
        return {}
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise InstallError(
            f"{path} is not valid JSON ({error})", hint="fix or move it, then install again"
        ) from None
    if not isinstance(value, dict):
        raise InstallError(
            f"{path} does not hold a JSON object", hint="fix or move it, then install again"
        )
    return value


def write_config(
    path: Path, before: dict[str, Any], after: dict[str, Any], *, existed: bool
) -> Change:
    """Write ``after`` atomically when it differs, keeping the first original as a backup."""
    if after == before and existed:
        return Change(path, changed=False)
    backup = path.with_name(path.name + BACKUP_SUFFIX)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if existed and not backup.exists():
            shutil.copy2(path, backup)
        write_atomic(path, json.dumps(after, indent=2, ensure_ascii=False) + "\n")
    except OSError as error:
        raise InstallError(
            f"cannot write {path}: {error.strerror}", hint="check the folder's permissions"
        ) from None
    return Change(path, changed=True, backup=backup if existed else None)


def ours(entry: Any) -> bool:
    """Whether a hook entry (any shape) is one Blastdoor installed."""
    text = json.dumps(entry)
    return MARKER in text and "blastdoor" in text


def apply(path: Path, edit: Callable[[dict[str, Any]], dict[str, Any]]) -> Change:
    existed = path.exists()
    before = read_config(path)
    after = edit(json.loads(json.dumps(before)))
    return write_config(path, before, after, existed=existed)


def remove(path: Path, edit: Callable[[dict[str, Any]], dict[str, Any]]) -> Change:
    """Take Blastdoor's entries out; a file Blastdoor created and left empty goes away."""
    if not path.exists():
        return Change(path, changed=False)
    before = read_config(path)
    after = edit(json.loads(json.dumps(before)))
    if after == before:
        return Change(path, changed=False)
    backup = path.with_name(path.name + BACKUP_SUFFIX)
    if not after and not backup.exists():
        try:
            path.unlink()
        except OSError as error:
            raise InstallError(
                f"cannot remove {path}: {error.strerror}", hint="check its permissions"
            ) from None
        return Change(path, changed=True, removed_file=True)
    return write_config(path, before, after, existed=True)


def not_supported(agent: str, scope: str) -> ConfigError:
    return ConfigError(
        f"{agent} has no {scope} hook settings", hint=f"use one of: {', '.join(SCOPES)}"
    )
