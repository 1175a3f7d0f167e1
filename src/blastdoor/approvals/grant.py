"""A grant: an approver's Ed25519 signature over one request's digest, short-lived, single-use.

The signed body names the request id and digest, the approver and key, when it was issued and
when it expires, and a random nonce. :func:`problems` is what every use checks, from scratch:
the database saying "approved" is never trusted on its own.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterable
from typing import Any

from blastdoor.approvals.book import StoredGrant, later
from blastdoor.approvals.keys import Approver
from blastdoor.approvals.request import Request
from blastdoor.config import Settings
from blastdoor.ledger.entry import canonical, now


def sign(request: Request, approver: Approver, private: Any, *, ttl_minutes: float) -> StoredGrant:
    body: dict[str, Any] = {"v": 1, "request": request.id, "digest": request.digest, "approver": approver.name,
            "key": approver.key_id, "issued": now(), "expires": later(minutes=ttl_minutes),
            "nonce": secrets.token_hex(16)}  # fmt: skip
    signature = base64.b64encode(private.sign(canonical(body))).decode()
    ident = "g-" + body["nonce"][:16]
    return StoredGrant(ident, request.id, approver.name, body, signature, str(body["expires"]))


def problems(grant: StoredGrant, request: Request, approvers: dict[str, Approver], *,
             allowed: tuple[str, ...], hardened: bool, at: str) -> list[str]:  # fmt: skip
    """Why ``grant`` does not count for ``request`` (empty when it does)."""
    body = grant.body
    approver = approvers.get(grant.approver)
    found: list[str] = []
    if approver is None:
        return [f"approver {grant.approver} is not registered"]
    try:
        signature = base64.b64decode(grant.signature, validate=True)
    except ValueError:
        signature = b""
    if body.get("key") != approver.key_id or not approver.verify(signature, canonical(body)):
        found.append(
            f"the signature of {grant.approver} does not check against their registered key"
        )
    if body.get("request") != request.id or body.get("digest") != request.digest:
        found.append(f"the grant of {grant.approver} was signed for another action")
    if body.get("approver") != grant.approver:
        found.append("the grant names another approver than the one who stored it")
    if str(body.get("expires", "")) <= at:
        found.append(f"the grant of {grant.approver} expired at {body.get('expires')}")
    if grant.used:
        found.append(f"the grant of {grant.approver} was already used at {grant.used}")
    if allowed and grant.approver not in allowed:
        found.append(f"{grant.approver} is not among the approvers in config.toml")
    requester_uid = request.body.get("requester", {}).get("uid")
    if hardened and approver.uid == requester_uid:
        found.append(
            f"{grant.approver} is the requester's own user and may not approve the request"
        )
    return found


def hardened(settings: Settings, request: Request) -> bool:
    """Whether the requester is another OS user than the one owning Blastdoor's home (hardened
    mode): only then can "the requester may not approve" be told apart from single-user use."""
    try:
        owner = settings.home.stat().st_uid
    except OSError:
        owner = -1
    return bool(owner != request.body.get("requester", {}).get("uid"))


def counting(grants: Iterable[StoredGrant], request: Request, approvers: dict[str, Approver], *,
             settings: Settings, at: str) -> list[StoredGrant]:  # fmt: skip
    """The grants that count for ``request`` under ``settings`` at time ``at``."""
    strict = hardened(settings, request)
    return [g for g in grants
            if not problems(g, request, approvers, allowed=settings.approvers, hardened=strict, at=at)]  # fmt: skip


def people(grants: Iterable[StoredGrant], approvers: dict[str, Approver], *, hardened: bool) -> list[str]:
    """Who signed ``grants``, one item per person: N-of-M counts people, not approver names. In
    hardened mode an approver is the OS user the daemon enrolled them as (the uid the socket's peer
    credentials named), so two names of one uid are one person; in single-user mode every approver
    is the same OS user by nature, and distinct names are all that can be told apart."""
    if not hardened:
        return sorted({g.approver for g in grants})
    first: dict[int | str, str] = {}
    for grant in sorted(grants, key=lambda g: g.approver):
        known = approvers.get(grant.approver)
        first.setdefault(known.uid if known is not None else grant.approver, grant.approver)
    return sorted(first.values())
