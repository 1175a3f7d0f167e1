"""Requests and grants, kept in the ledger's database (tables added by the ledger's migration 2).

State moves one way: pending → approved → used, or pending/approved → denied; expiry is read from
the clock. Using an approval is one conditional UPDATE (``approved`` → ``used``), so of two callers
retrying the same action at once exactly one proceeds. Every change is also a ledger entry,
written by the callers (:mod:`.gate`, the CLI).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from blastdoor.approvals.request import APPROVED, DENIED, PENDING, USED, Request
from blastdoor.ledger.entry import now
from blastdoor.ledger.store import SideTables

_REQUEST_COLUMNS = "id, digest, created, expires, state, required, body, closed"


@dataclass(frozen=True)
class StoredGrant:
    id: str
    request_id: str
    approver: str
    body: dict[str, Any]
    signature: str
    expires: str
    used: str = ""


def later(hours: float = 0, minutes: float = 0) -> str:
    moment = datetime.now(UTC) + timedelta(hours=hours, minutes=minutes)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Book:
    def __init__(self, tables: SideTables) -> None:
        self.tables = tables

    def open_for(self, digest: str) -> Request | None:
        """The newest request for ``digest`` that can still be approved or used."""
        return self._newest(digest, (PENDING, APPROVED))

    def denied_for(self, digest: str) -> Request | None:
        """A refusal of ``digest`` that still stands (its request has not expired)."""
        return self._newest(digest, (DENIED,))

    def _newest(self, digest: str, states: tuple[str, ...]) -> Request | None:
        marks = ", ".join("?" for _ in states)
        rows = self.tables.select(
            f"SELECT {_REQUEST_COLUMNS} FROM approval_requests WHERE digest = ? AND state IN ({marks}) "
            "AND expires > ? ORDER BY created DESC LIMIT 1", (digest, *states, now()),
        )  # fmt: skip
        return _request(rows[0]) if rows else None

    def create(
        self, digest: str, body: dict[str, Any], *, required: int, ttl_hours: float
    ) -> Request:
        base = "r-" + digest.removeprefix("sha256:")[:12]
        taken = {str(row[0]) for row in self.tables.select(
            "SELECT id FROM approval_requests WHERE id = ? OR id LIKE ?", (base, base + "-%"))}  # fmt: skip
        ident = base if base not in taken else f"{base}-{len(taken) + 1}"
        created = now()
        request = Request(ident, digest, created, later(hours=ttl_hours), PENDING, required, body)
        self.tables.change(
            f"INSERT INTO approval_requests ({_REQUEST_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (request.id, digest, created, request.expires, PENDING, required, _json(body), ""),
        )
        return request

    def get(self, ident: str) -> Request | None:
        rows = self.tables.select(
            f"SELECT {_REQUEST_COLUMNS} FROM approval_requests WHERE id = ?", (ident,)
        )
        return _request(rows[0]) if rows else None

    def all(self, *, open_only: bool) -> list[Request]:
        where = "WHERE state IN (?, ?) AND expires > ?" if open_only else ""
        params: tuple[object, ...] = (PENDING, APPROVED, now()) if open_only else ()
        rows = self.tables.select(
            f"SELECT {_REQUEST_COLUMNS} FROM approval_requests {where} ORDER BY created", params
        )
        return [_request(row) for row in rows]

    def described(self, request: Request, at: str) -> dict[str, Any]:
        """``request`` as ``blastdoor requests --json`` prints it: its state at ``at`` and who signed."""
        return {"id": request.id, "state": request.state_at(at), "digest": request.digest, "created": request.created,
                "expires": request.expires, "required": request.required,
                "grants": [g.approver for g in self.grants(request.id)], **request.body}  # fmt: skip

    def listing(self, *, open_only: bool, at: str) -> list[dict[str, Any]]:
        return [self.described(request, at) for request in self.all(open_only=open_only)]

    def add_grant(self, grant: StoredGrant) -> bool:
        """Store a grant; False when this approver already signed this request."""
        if self.tables.select("SELECT 1 FROM approval_grants WHERE request_id = ? AND approver = ?",
                              (grant.request_id, grant.approver)):  # fmt: skip
            return False
        self.tables.change(
            "INSERT INTO approval_grants (id, request_id, approver, body, signature, expires, used) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (grant.id, grant.request_id, grant.approver, _json(grant.body), grant.signature, grant.expires, ""),
        )  # fmt: skip
        return True

    def grants(self, request_id: str) -> list[StoredGrant]:
        rows = self.tables.select(
            "SELECT id, request_id, approver, body, signature, expires, used FROM approval_grants "
            "WHERE request_id = ? ORDER BY id", (request_id,),
        )  # fmt: skip
        return [StoredGrant(str(r[0]), str(r[1]), str(r[2]), _loads(r[3]), str(r[4]), str(r[5]), str(r[6]))
                for r in rows]  # fmt: skip

    def move(self, ident: str, before: tuple[str, ...], after: str, *, note: str = "") -> bool:
        """Change the state when it is one of ``before``; whether this call made the change."""
        marks = ", ".join("?" * len(before))
        changed = self.tables.change(
            f"UPDATE approval_requests SET state = ?, closed = ? WHERE id = ? AND state IN ({marks})",
            (after, note or now(), ident, *before),
        )
        return changed == 1

    def use(self, ident: str, grant_ids: list[str]) -> bool:
        """Consume an approved request: True for exactly one caller."""
        if not self.move(ident, (APPROVED,), USED):
            return False
        stamp = now()
        for grant in grant_ids:
            self.tables.change("UPDATE approval_grants SET used = ? WHERE id = ?", (stamp, grant))
        return True

    def deny(self, ident: str, reason: str) -> bool:
        return self.move(ident, (PENDING, APPROVED), DENIED, note=reason[:500])


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _loads(value: object) -> dict[str, Any]:
    try:
        found = json.loads(str(value))
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _request(row: tuple[object, ...]) -> Request:
    ident, digest, created, expires, state, required, body, closed = row
    return Request(str(ident), str(digest), str(created), str(expires), str(state),
                   int(str(required)), _loads(body), str(closed))  # fmt: skip
