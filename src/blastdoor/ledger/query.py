"""Reading the ledger for people: filters, and a check of every entry on the way out.

``show``, ``export`` and ``tail`` hand out only entries whose bytes still hash to their stored leaf
hash and whose chain link to the entry before holds; every other entry is counted in
:attr:`Reader.rejected`, so the command can say loudly that the ledger was altered.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from blastdoor.errors import InputError
from blastdoor.ledger.entry import GENESIS_CHAIN, Entry, chain_hash, leaf_hash
from blastdoor.ledger.store import Store

_RELATIVE = re.compile(r"^(\d+)([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str, *, now: datetime | None = None) -> str:
    """``--since`` as canonical UTC text (how entry times are stored), see :func:`since_moment`."""
    return since_moment(text, now=now).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def since_moment(text: str, *, now: datetime | None = None) -> datetime:
    """``--since``: an ISO date/time (UTC when no zone is given) or an age such as ``30m``, ``2h``,
    ``7d``; the moment it names, in UTC."""
    relative = _RELATIVE.match(text.strip())
    if relative:
        return (now or datetime.now(UTC)) - timedelta(**{_UNITS[relative.group(2)]: int(relative.group(1))})
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"--since wants a time or an age, not {text[:40]!r}",
                         hint="write e.g. --since 2026-11-22T10:00 or --since 2h") from None  # fmt: skip
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


@dataclass(frozen=True, kw_only=True)
class Filters:
    session: str = ""
    run: str = ""
    decision: str = ""
    since: str = ""  # canonical UTC time, see parse_since

    def match(self, entry: Entry) -> bool:
        payload = entry.payload
        if self.session and payload.get("session") != self.session:
            return False
        if self.run and payload.get("run") != self.run:
            return False
        if self.decision:
            verdict = payload.get("decision")
            if not isinstance(verdict, dict) or verdict.get("decision") != self.decision:
                return False
        return not self.since or entry.time >= self.since


@dataclass(kw_only=True)
class Reader:
    store: Store
    rejected: list[int] = field(default_factory=list)
    last: int = 0

    def entries(self, filters: Filters = Filters(), *, start: int = 1) -> Iterator[Entry]:
        """Verified entries from ``start`` on that pass ``filters``."""
        rows = self.store.scan(start=start, since=filters.since)
        previous: bytes | None = None
        for row in rows:
            if previous is None:
                previous = self._link_before(row.seq)
            entry = row.entry()
            intact = (
                leaf_hash(row.body) == row.leaf_hash
                and chain_hash(previous, row.leaf_hash) == row.chain_hash
            )
            previous = row.chain_hash
            self.last = row.seq
            if not intact:
                self.rejected.append(row.seq)
                continue
            try:
                wanted = filters.match(entry)
            except (
                ValueError
            ):  # not JSON: the hash matched, so it was written that way; still unreadable
                self.rejected.append(row.seq)
                continue
            if wanted:
                yield entry

    def _link_before(self, seq: int) -> bytes:
        if seq == 1:
            return GENESIS_CHAIN
        before = self.store.rows([seq - 1]).get(seq - 1)
        return before.chain_hash if before else b""
