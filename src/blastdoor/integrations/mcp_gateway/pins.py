"""Tool pins: what each MCP server's tools looked like when first seen, and what changed since.

A server can change a tool's description after a user has come to trust it (a "rug pull"), so the
first clean sight of every tool is pinned: a digest of its name, title, description, schemas and
annotations. Later listings are compared with the pin. A changed tool, or a new one whose text
shows signs of speaking to the model (:mod:`.poisoning`), is kept *pending*: the gateway hides it
and refuses calls to it until a person runs ``blastdoor mcp trust``.

Pins live in ``HOME/mcp/pins.json``, rewritten atomically under a lock, so several proxies can
share them. An unreadable pins file fails closed: every tool is treated as pending.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from blastdoor.errors import GatewayError
from blastdoor.files import write_atomic
from blastdoor.integrations.mcp_gateway.poisoning import signs, tool_text
from blastdoor.ledger.entry import now

PINNED_FIELDS = ("name", "title", "description", "inputSchema", "outputSchema", "annotations")
MAX_KEPT_TEXT = 4000  # of a description, kept so a person can see what changed


@dataclass(frozen=True)
class Sight:
    """One tool in one listing, compared with its pin."""

    tool: str
    status: str  # new (pinned now) | same | changed | flagged (new, with signs) | unreadable
    digest: str
    pinned: str = ""  # the pinned digest, when there is one
    signs: tuple[str, ...] = ()

    @property
    def hidden(self) -> bool:
        return self.status in ("changed", "flagged", "unreadable")

    def why(self, server: str) -> str:
        if self.status == "changed":
            flags = (
                f"; it now shows signs of instructions ({', '.join(self.signs)})"
                if self.signs
                else ""
            )
            return (f"tool {self.tool} of MCP server {server} changed since it was pinned "
                    f"({self.pinned[:19]} → {self.digest[:19]}){flags}")  # fmt: skip
        if self.status == "flagged":
            return (f"the description of tool {self.tool} of MCP server {server} carries "
                    f"instructions for the model ({', '.join(self.signs)})")  # fmt: skip
        if self.status == "unreadable":
            return "Blastdoor's MCP tool pins cannot be read"
        return ""


def digest(tool: Mapping[str, Any]) -> str:
    pinned = {key: tool[key] for key in PINNED_FIELDS if key in tool}
    text = json.dumps(pinned, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class PinStore:
    """The pins file for one Blastdoor home."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / "pins.json"
        self._seen: tuple[tuple[int, int, int], dict[str, Any]] | None = None  # (file stamp, what it held)

    def check(self, server: str, tools: Sequence[Mapping[str, Any]]) -> list[Sight]:
        """Compare a listing with the pins; pin clean new tools and keep the rest pending."""
        try:
            with self._locked() as state:
                pins = state.setdefault(server, {"pinned": {}, "pending": {}})
                return [self._see(pins, tool) for tool in tools]
        except GatewayError:
            return [Sight(str(tool.get("name", "")), "unreadable", digest(tool)) for tool in tools]

    def _see(self, pins: dict[str, Any], tool: Mapping[str, Any]) -> Sight:
        name = str(tool.get("name", ""))
        found = digest(tool)
        pinned = pins["pinned"].get(name)
        record = {"digest": found, "seen": now(),
                  "description": str(tool.get("description", ""))[:MAX_KEPT_TEXT]}  # fmt: skip
        if pinned and pinned["digest"] == found:
            pins["pending"].pop(name, None)
            return Sight(name, "same", found, pinned=found)
        flags = tuple(signs(tool_text(tool)))
        if pinned:
            pins["pending"][name] = record | {"why": "changed", "signs": list(flags)}
            return Sight(name, "changed", found, pinned=pinned["digest"], signs=flags)
        if flags:
            pins["pending"][name] = record | {"why": "flagged", "signs": list(flags)}
            return Sight(name, "flagged", found, signs=flags)
        pins["pinned"][name] = record
        return Sight(name, "new", found)

    def trust(self, server: str, tools: Sequence[str] = ()) -> list[str]:
        """Accept what is pending for ``server`` (only ``tools`` when given); the names accepted."""
        with self._locked() as state:
            pins = state.get(server)
            if not pins:
                return []
            names = [name for name in pins["pending"] if not tools or name in tools]
            for name in names:
                record = pins["pending"].pop(name)
                pins["pinned"][name] = {
                    k: v for k, v in record.items() if k not in ("why", "signs")
                }
            return names

    def forget(self, server: str) -> bool:
        """Drop every pin of ``server``: its tools will be pinned afresh on next sight."""
        with self._locked() as state:
            return state.pop(server, None) is not None

    def entries(self) -> dict[str, Any]:
        """Everything pinned and pending, by server (read without taking the lock). Read again
        only when the file changed: every write replaces it, so its inode, size or time moves."""
        try:
            info = self.path.stat()
        except OSError:
            return _read(self.path)  # missing: {}; unreadable: the error
        stamp = (info.st_ino, info.st_size, info.st_mtime_ns)
        if self._seen is None or self._seen[0] != stamp:
            self._seen = (stamp, _read(self.path))
        return self._seen[1]

    @contextmanager
    def _locked(self) -> Iterator[dict[str, Any]]:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            lock = os.open(self.folder / "pins.lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as error:
            raise GatewayError(f"cannot open the MCP pins in {self.folder}: {error.strerror}",
                               hint="check the folder's permissions") from None  # fmt: skip
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            state = _read(self.path)
            before = json.dumps(state, sort_keys=True)
            yield state
            if json.dumps(state, sort_keys=True) != before:
                _write(self.path, state)
        finally:
            os.close(lock)


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as error:
        raise GatewayError(f"cannot read the MCP pins {path}: {error}",
                           hint="restore it or delete it to pin every tool afresh") from None  # fmt: skip
    try:
        state = json.loads(text)
    except ValueError:
        state = None
    if not isinstance(state, dict) or not all(
        isinstance(v, dict)
        and isinstance(v.get("pinned"), dict)
        and isinstance(v.get("pending"), dict)
        for v in state.values()
    ):
        raise GatewayError(f"the MCP pins {path} are not in Blastdoor's format",
                           hint="restore it or delete it to pin every tool afresh")  # fmt: skip
    return state


def _write(path: Path, state: Mapping[str, Any]) -> None:
    try:
        write_atomic(path, json.dumps(state, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    except OSError as error:
        raise GatewayError(f"cannot write the MCP pins {path}: {error.strerror}",
                           hint="check the folder's permissions") from None  # fmt: skip
