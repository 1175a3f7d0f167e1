"""One ledger entry: its canonical bytes (RFC 8785), its place in the chain and in the Merkle tree.

An entry's *payload* is a JSON object written by whoever records (``blastdoor check``, an agent hook,
an approval, the broker). Its *body* is the payload in the JSON Canonicalization Scheme of RFC 8785,
stored as UTF-8 text, so the same payload always hashes the same and anyone can read it.

Payload fields (empty ones are left out):

- ``v`` (1), ``type`` (``decision``, ``approval``, ``grant-use``, ``execution``, ``outcome``,
  ``ledger-created``), ``time`` (UTC, RFC 3339 with microseconds, ``Z``);
- ``agent``, ``session``, ``run``, ``tool_use``, ``cwd``, ``source`` (what recorded it);
- ``action``: ``{"kind", "input", "target"}``;
- ``decision``: :meth:`blastdoor.model.Decision.to_json`;
- ``policy_digest``, ``rules_files`` (``{path: "sha256:..."}``), ``credential_name`` (never its value).

Entry ids (``seq``) start at 1; entry ``seq`` is Merkle leaf ``seq - 1`` (RFC 9162, section 2.1).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

ENTRY_VERSION = 1
GENESIS_CHAIN = bytes(32)  # the "previous chain hash" of entry 1


def canonical(payload: Mapping[str, Any]) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of ``payload``.

    A payload of strings, safe integers, booleans and nulls (every entry Blastdoor writes) has the
    same canonical form as ``json.dumps`` with sorted keys, no spaces and no ASCII escaping: the same
    string escapes, and key order by UTF-16 code units equals order by code points while no key
    holds a character beyond U+FFFF. Anything else (floats, big integers, such keys) goes through
    the ``rfc8785`` library; the two are compared on generated payloads in the tests."""
    value = dict(payload)
    if _plain(value):
        return _PLAIN_JSON.encode(value).encode("utf-8")
    import rfc8785

    return rfc8785.dumps(value)


_SAFE_INTEGER = 2**53 - 1
_PLAIN_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)  # made once: it keeps no state


def _plain(value: Any) -> bool:
    pending = [value]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind is str or item is None or kind is bool:
            continue
        if kind is dict:
            try:
                keys = "".join(item)  # every key at once, in C: TypeError when one is not text
            except TypeError:
                return False
            if not (keys.isascii() or max(keys) <= "\uffff"):
                return False
            pending.extend(item.values())
        elif kind is list:
            pending.extend(item)
        elif kind is int:
            if not -_SAFE_INTEGER <= item <= _SAFE_INTEGER:
                return False
        elif not isinstance(item, str):
            return False
    return True


def leaf_hash(body: bytes) -> bytes:
    """RFC 9162, section 2.1.1: MTH({d}) = SHA-256(0x00 || d)."""
    return hashlib.sha256(b"\x00" + body).digest()


def chain_hash(previous: bytes, leaf: bytes) -> bytes:
    """The hash chain: each entry's link commits to every entry before it."""
    return hashlib.sha256(previous + leaf).digest()


def person_entry(kind: str, **fields: Any) -> dict[str, Any]:
    """An entry for something a person did at the command line (who: $USER and uid)."""
    return {"v": ENTRY_VERSION, "type": kind, "time": now(), **person(), **fields}


def person() -> dict[str, Any]:
    """Who is at this command line, as entries name them: ``source``, ``by`` ($USER) and ``uid``."""
    import os

    return {"source": "cli", "by": os.environ.get("USER", ""), "uid": os.getuid()}


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, kw_only=True)
class Entry:
    """One stored entry, as a store returns it."""

    seq: int
    body: bytes
    leaf_hash: bytes
    chain_hash: bytes

    @cached_property
    def payload(self) -> dict[str, Any]:
        value = json.loads(self.body)
        return value if isinstance(value, dict) else {}

    @property
    def time(self) -> str:
        return str(self.payload.get("time", ""))

    @property
    def type(self) -> str:
        return str(self.payload.get("type", ""))

    def body_intact(self) -> bool:
        """Whether the stored bytes still hash to the stored leaf hash."""
        return leaf_hash(self.body) == self.leaf_hash
