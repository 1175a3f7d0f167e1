"""Witnesses: copies of the latest checkpoint kept outside the agent's reach.

A witness is a folder (e.g. a mount only a human or another machine can write) or an HTTP endpoint.
Truncating the ledger and rebuilding it with fresh checkpoints cannot fool ``verify`` while a witness
still holds an older, signed checkpoint: the rebuilt tree either is smaller or has another root.

Protocol for an HTTP witness: ``POST URL`` with the signed note as ``text/plain`` stores it (a witness
should refuse a note whose tree size is smaller than the one it holds); ``GET URL`` returns the latest
note it holds (404 when none). A folder witness holds ``<origin>.checkpoint`` (``/`` in the origin
becomes ``_``); Blastdoor never replaces a larger checkpoint there with a smaller one.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from blastdoor.ledger.checkpoint import CheckpointError, parse_text

TIMEOUT = 3.0


def _is_url(target: str) -> bool:
    return target.startswith(("http://", "https://"))


def _file(folder: str, origin: str) -> Path:
    return Path(folder).expanduser() / (origin.replace("/", "_") + ".checkpoint")


def publish(witnesses: Sequence[str], *, note: str, size: int, origin: str) -> list[str]:
    """Copy ``note`` to every witness; the problems met (a witness that fails never stops recording)."""
    problems = []
    for target in witnesses:
        try:
            if _is_url(target):
                _post(target, note)
            else:
                _write(_file(target, origin), note, size)
        except (OSError, ValueError, CheckpointError) as error:
            problems.append(f"witness {target}: {error}")
    return problems


def _size_of(note: str) -> int:
    return parse_text(note[: note.rfind("\n\n") + 1]).size


def _write(path: Path, note: str, size: int) -> None:
    try:
        held = _size_of(path.read_text("utf-8"))
    except FileNotFoundError:
        held = -1
    except (OSError, UnicodeDecodeError, CheckpointError):
        held = -1  # unreadable: replace it; verify reports what was there only if it still is
    if held > size:
        raise ValueError(f"holds a checkpoint of {held} entries, more than the ledger's {size}: the ledger shrank")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(note)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _post(url: str, note: str) -> None:
    request = urllib.request.Request(url, data=note.encode(), method="POST", headers={"Content-Type": "text/plain; charset=utf-8"})
    with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
        answer.read()


def fetch(target: str, *, origin: str) -> str | None:
    """The latest checkpoint a witness holds, or None when it holds none. Raises OSError when unreachable."""
    if not _is_url(target):
        try:
            return _file(target, origin).read_text("utf-8")
        except FileNotFoundError:
            return None
    try:
        with urllib.request.urlopen(target, timeout=TIMEOUT) as answer:
            return bytes(answer.read()).decode("utf-8")
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        raise
