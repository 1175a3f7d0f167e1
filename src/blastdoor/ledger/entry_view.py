"""What an export reads from a ledger entry: its payload's fields, read once, wrongly typed ones
read as empty (used by the OCSF and OpenTelemetry forms, export.py and export_otel.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from blastdoor.ledger.entry import Entry

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


def mapping(data: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _list(data: Mapping[str, Any], key: str, kind: type) -> list[Any]:
    value = data.get(key)
    return [item for item in value if isinstance(item, kind)] if isinstance(value, list) else []


def _epoch_ns(text: str) -> int:
    """Nanoseconds since the Unix epoch for an RFC 3339 time; 0 (unknown) if it cannot be read."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return 0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(microseconds=1) * 1000


@dataclass(frozen=True, kw_only=True)
class EntryView:
    """The payload fields an export uses, read once; wrongly typed fields read as empty."""

    type: str
    seq: int
    leaf: str
    chain: str
    nanos: int
    agent: str
    session: str
    run: str
    tool_use: str
    cwd: str
    source: str
    policy_digest: str
    credential: str
    rules_files: dict[str, Any]
    kind: str
    input: str
    target: str
    verdict: str
    enforced: bool | None
    reasons: list[str]
    rules: list[str]
    effects: list[dict[str, Any]]

    @classmethod
    def of(cls, entry: Entry) -> EntryView:
        p = entry.payload
        action, decision = mapping(p, "action"), mapping(p, "decision")
        enforced = decision.get("enforced")
        return cls(
            type=entry.type, seq=entry.seq, leaf=entry.leaf_hash.hex(), chain=entry.chain_hash.hex(),
            nanos=_epoch_ns(entry.time), agent=_text(p, "agent"), session=_text(p, "session"),
            run=_text(p, "run"), tool_use=_text(p, "tool_use"), cwd=_text(p, "cwd"),
            source=_text(p, "source"), policy_digest=_text(p, "policy_digest"),
            credential=_text(p, "credential"), rules_files=mapping(p, "rules_files"),
            kind=_text(action, "kind"), input=_text(action, "input"), target=_text(action, "target"),
            verdict=_text(decision, "decision"), enforced=enforced if isinstance(enforced, bool) else None,
            reasons=_list(decision, "reasons", str), rules=_list(decision, "rules", str),
            effects=_list(decision, "effects", dict),
        )  # fmt: skip

    @property
    def message(self) -> str:
        head = f"Blastdoor {self.type or 'entry'}" + (f": {self.verdict}" if self.verdict else "")
        return f"{head} - {'; '.join(self.reasons)}" if self.reasons else head

    @property
    def ref(self) -> str:
        """The producer's id for the activity: the agent's tool-use id, else the leaf hash."""
        return self.tool_use or self.leaf


def present(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value not in ("", None, [], {})}
