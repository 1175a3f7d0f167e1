"""Taking a signed grant in: the checks a grant passes before it is stored, wherever it came from.

The approver's own ``blastdoor approve`` signs the grant with their private key (read with the
passphrase from their terminal); this module is the receiving side, run in that same process in
single-user mode and in the daemon in hardened mode, where ``caller_uid`` is the OS user the
socket's peer credentials name. Every refusal is recorded (``approval-refused``) before it is
raised, so attempts leave a trace.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from blastdoor.approvals.book import Book, StoredGrant
from blastdoor.approvals.errors import ApprovalError
from blastdoor.approvals.grant import counting, hardened, people, problems
from blastdoor.approvals.keys import registered
from blastdoor.approvals.request import APPROVED, PENDING, Request
from blastdoor.config import Settings
from blastdoor.ledger.entry import ENTRY_VERSION, now

Recorder = Callable[[Mapping[str, Any]], object]


@dataclass(frozen=True)
class Accepted:
    request: Request
    grant: StoredGrant
    valid: int  # people whose grants count now, this one's signer included


def open_request(book: Book, ident: str, *, record: Recorder, who: Mapping[str, Any]) -> Request:
    """The request ``ident`` when it can still be approved (recorded and raised when not)."""
    request = book.get(ident)
    if request is None:
        refuse(record, who, ident, f"no approval request {ident[:100]}", "see `blastdoor requests`")
    state = request.state_at(now())
    if state not in (PENDING, APPROVED):
        refuse(record, who, request.id, f"request {request.id} is {state}", "the agent must retry to open a new request")
    return request


def accept(grant: StoredGrant, *, book: Book, settings: Settings, record: Recorder,
           who: Mapping[str, Any], caller_uid: int | None = None) -> Accepted:  # fmt: skip
    """Store ``grant`` when it counts; record it. ``who`` says who sent it, for the ledger."""
    request = open_request(book, grant.request_id, record=record, who=who)
    approvers = registered(settings.approver_keys)
    approver = approvers.get(grant.approver)
    if approver is None:
        refuse(record, who, request.id, f"approver {grant.approver[:64]} is not registered", "enroll with `blastdoor approver add NAME`")
    if caller_uid is not None and caller_uid != approver.uid:
        refuse(record, who, request.id, f"the grant of {approver.name} was sent by another OS user (uid {caller_uid})",
               f"approve as the user who enrolled {approver.name}")  # fmt: skip
    at = now()
    if _lifetime_minutes(grant) > settings.grant_ttl_minutes + 1:
        refuse(record, who, request.id, f"the grant of {approver.name} lives longer than {settings.grant_ttl_minutes} minutes",
               "sign it with this install's grant_ttl_minutes")  # fmt: skip
    strict = hardened(settings, request)
    why = problems(grant, request, approvers, allowed=settings.approvers, hardened=strict, at=at)
    if why:
        refuse(record, who, request.id, "approval refused: " + "; ".join(why), "ask another approver")
    if not book.add_grant(grant):
        refuse(record, who, request.id, f"{approver.name} already approved {request.id}", "another approver must sign")
    counted = counting(book.grants(request.id), request, approvers, settings=settings, at=at)
    valid = len(people(counted, approvers, hardened=strict))
    if valid >= request.required:
        book.move(request.id, (PENDING,), APPROVED)
    record({"v": ENTRY_VERSION, "type": "approval-granted", "time": at, **who, "request": request.id,
            "digest": request.digest, "grant": grant.id, "approver": approver.name, "key": approver.key_id,
            "expires": grant.expires, "approvals": valid, "required": request.required})  # fmt: skip
    return Accepted(request, grant, valid)


def _lifetime_minutes(grant: StoredGrant) -> float:
    from datetime import datetime

    try:
        issued = datetime.fromisoformat(str(grant.body["issued"]).replace("Z", "+00:00"))
        expires = datetime.fromisoformat(str(grant.body["expires"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return float("inf")
    return (expires - issued).total_seconds() / 60


def deny(book: Book, ident: str, reason: str, *, record: Recorder, who: Mapping[str, Any]) -> str:
    """Refuse the open request ``ident`` for good and record who did and why; its id."""
    ident, reason = ident[:100], " ".join(reason.split())[:500]
    if not book.deny(ident, reason):
        raise ApprovalError(f"no open approval request {ident}", hint="see `blastdoor requests --all`")
    record({"v": ENTRY_VERSION, "type": "approval-denied", "time": now(), **who, "request": ident, "reason": reason})
    return ident


def refuse(record: Recorder, who: Mapping[str, Any], request: str, why: str, hint: str) -> NoReturn:
    """Record the refused attempt, then raise it."""
    record(refused_entry(who, request, why))
    raise ApprovalError(why, hint=hint)


def refused_entry(who: Mapping[str, Any], request: str, why: str, **more: str) -> dict[str, Any]:
    """The ``approval-refused`` entry of an attempt by ``who`` on ``request``."""
    return {"v": ENTRY_VERSION, "type": "approval-refused", "time": now(), **who, "request": request[:100], "why": why, **more}
