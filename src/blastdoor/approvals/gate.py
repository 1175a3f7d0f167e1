"""What an integration does with a ``hold``: use a valid approval, or open (or name) a request.

Called after judging and before recording the decision. When the very same action (same digest)
has an approved request whose grants all check out, the request is consumed (exactly once) and the
decision becomes ``allow`` with rule ``approval.granted``; otherwise the decision stays ``hold`` and
names the request, created on the first hold and announced to the webhook. An action a person
denied stays denied (rule ``approval.denied``) until that request would have expired.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from blastdoor.approvals.book import Book
from blastdoor.approvals.grant import counting, hardened, people
from blastdoor.approvals.keys import registered
from blastdoor.approvals.request import Request, action_digest, describe, named_files
from blastdoor.config import Settings
from blastdoor.ledger.entry import ENTRY_VERSION, now
from blastdoor.model import Action, Decision, DecisionKind

GRANTED_RULE = "approval.granted"
DENIED_RULE = "approval.denied"
Recorder = Callable[[Mapping[str, Any]], None]


def settle(action: Action, decision: Decision, *, book: Book, settings: Settings,
           record: Recorder, redact: Callable[[Mapping[str, Any]], dict[str, Any]]) -> tuple[Decision, str]:  # fmt: skip
    """The decision to enforce and the request it names ('' when none)."""
    if decision.kind is not DecisionKind.HOLD or not decision.enforced:
        return decision, ""
    files = named_files(action)  # read and hashed once: the digest and the request both name them
    digest = action_digest(action, decision, files=files)
    request = book.open_for(digest)
    if request is not None:
        used = _use(request, book=book, settings=settings, record=record)
        if used:
            names = ", ".join(used)
            return replace(decision, kind=DecisionKind.ALLOW,
                           reasons=(f"approved by {names} (request {request.id})", *decision.reasons),
                           rule_ids=(*decision.rule_ids, GRANTED_RULE)), request.id  # fmt: skip
        return decision, request.id
    refused = book.denied_for(digest)
    if refused is not None:
        return replace(decision, kind=DecisionKind.DENY,
                       reasons=(f"a person denied request {refused.id}: {refused.closed}", *decision.reasons),
                       rule_ids=(*decision.rule_ids, DENIED_RULE)), refused.id  # fmt: skip
    uid = action.context.uid if action.context.uid is not None else os.getuid()
    body = redact(describe(action, decision, uid=uid, files=files))
    request = book.create(digest, body, required=settings.approvals_required,
                          ttl_hours=settings.request_ttl_hours)  # fmt: skip
    entry = {"v": ENTRY_VERSION, "type": "approval-request", "time": now(), "source": "approvals",
             "request": request.id, "digest": digest, "expires": request.expires,
             "required": request.required, **_who(body)}  # fmt: skip
    if settings.webhook:
        from blastdoor.approvals.notify import dispatch

        entry["notified"] = dispatch(settings, request)
    record(entry)
    return decision, request.id


def _use(request: Request, *, book: Book, settings: Settings, record: Recorder) -> list[str]:
    """The approvers whose grants were consumed, or [] when the request cannot be used (yet)."""
    at, approvers = now(), registered(settings.approver_keys)
    valid = counting(book.grants(request.id), request, approvers, settings=settings, at=at)
    names = sorted({g.approver for g in valid})
    if len(people(valid, approvers, hardened=hardened(settings, request))) < request.required:
        return []
    if not book.use(request.id, [g.id for g in valid]):
        return []  # another caller used it first
    record({"v": ENTRY_VERSION, "type": "approval-used", "time": at, "source": "approvals",
            "request": request.id, "digest": request.digest, "grants": [g.id for g in valid],
            "approvers": names, **_who(request.body)})  # fmt: skip
    return names


def _who(body: Mapping[str, Any]) -> dict[str, Any]:
    who = body.get("requester", {})
    return {key: who.get(field, "") for key, field in
            (("agent", "agent"), ("session", "session"), ("run", "run"), ("tool_use", "tool_use"))}  # fmt: skip
