"""Witnesses: copies of the signed checkpoints kept outside the agent's reach.

A witness is a folder (e.g. a mount only a human or another machine can write) or an HTTP endpoint.
Truncating the ledger and rebuilding it with fresh checkpoints cannot fool ``verify`` while a witness
still holds a signed checkpoint of the original tree: the rebuilt tree is smaller or has another root.

- Folder: ``<origin>.checkpoints`` (``/`` in the origin becomes ``_``) is an append-only log of every
  checkpoint (signed notes, one after another). Nothing is ever rewritten, so ``chattr +a`` on it
  is a fine extra guard; ``verify`` checks every note in it.
- HTTP: ``GET URL`` returns the latest signed note the witness holds (404 when none). ``POST URL``
  sends JSON ``{"checkpoint": NOTE, "old_size": N, "proof": [hex, ...]}``: an RFC 9162 consistency
  proof (2.1.4) from the witness's note to the new one. A witness must check the signature and the
  proof and refuse (409) a checkpoint that does not extend the tree it holds.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

from blastdoor.errors import BlastdoorError
from blastdoor.ledger.checkpoint import unverified

TIMEOUT = 3.0
_GAP = "\n\n"  # written after each note in a folder witness; a note never holds three newlines in a row

# proves(old_size) -> the consistency proof from old_size to the checkpoint being published, or
# raises when the ledger's tree at old_size is not the one the witness holds
Prover = Callable[[int, bytes], list[bytes]]


def _is_url(target: str) -> bool:
    return target.startswith(("http://", "https://"))


def slug(origin: str) -> str:
    """How a ledger's origin names its file in a folder witness and its path on an HTTP witness."""
    return origin.replace("/", "_")


def _file(folder: str, origin: str) -> Path:
    return Path(folder).expanduser() / (slug(origin) + ".checkpoints")


def publish(witnesses: Sequence[str], *, note: str, origin: str, prover: Prover) -> list[str]:
    """Copy ``note`` to every witness; the problems met (a witness that fails never stops recording)."""
    problems = []
    for target in witnesses:
        try:
            if _is_url(target):
                _post(target, note, origin, prover)
            else:
                keep(target, origin, note)
        except (OSError, ValueError, BlastdoorError) as error:
            problems.append(f"witness {target}: {error}")
    return problems


def keep(folder: str, origin: str, note: str) -> None:
    """Append ``note`` to a folder witness's file for ``origin``, fsynced (OSError when it cannot)."""
    path = _file(folder, origin)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (note + _GAP).encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def _post(url: str, note: str, origin: str, prover: Prover) -> None:
    held = fetch(url, origin=origin)
    old_size, proof = 0, []
    if held:
        checkpoint = unverified(held[-1])
        old_size = checkpoint.size
        proof = prover(old_size, checkpoint.root)
    document = {"checkpoint": note, "old_size": old_size, "proof": [node.hex() for node in proof]}
    request = urllib.request.Request(url, data=json.dumps(document).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
            answer.read()
    except urllib.error.HTTPError as error:
        raise OSError(f"refused the checkpoint (HTTP {error.code})") from None


def fetch(target: str, *, origin: str) -> list[str]:
    """The checkpoints a witness holds (a folder: all of them; HTTP: the latest). Raises OSError when unreachable."""
    if not _is_url(target):
        try:
            text = _file(target, origin).read_text("utf-8")
        except FileNotFoundError:
            return []
        return [part + "\n" for part in text.split("\n" + _GAP) if part.strip()]
    try:
        with urllib.request.urlopen(target, timeout=TIMEOUT) as answer:
            return [bytes(answer.read()).decode("utf-8")]
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return []
        raise
