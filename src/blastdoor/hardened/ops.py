"""What the hardened daemon answers besides hook calls: approval requests, grants, denials and
approver enrollment, each caller known by the socket's peer credentials rather than by what it says.

A call is one JSON object ``{"op": ..., ...}``; the answer is an exit code, standard output and
standard error, printed by the caller as they are. Every refusal of a grant, a denial or an
enrollment is recorded with the caller's uid and pid.

- ``requests`` (``all``): the requests, one JSON object per line, as ``blastdoor requests --json``.
- ``request`` (``id``): one request, for the approver's CLI to show and sign.
- ``grant`` (``grant``): a grant the approver signed at their terminal; taken in by
  :func:`blastdoor.approvals.accept.accept` with the caller's uid, which must be the approver's own
  (the uid recorded when they enrolled) and may not be the requester's.
- ``deny`` (``id``, ``reason``): only an enrolled approver's user may deny.
- ``enroll`` (``name``, ``key``): registers a public key for the calling user, who must be root or
  a member of the OS group ``<daemon user>-approvers`` (``blastdoor-approvers``), which
  ``install --system`` creates and a person fills (``usermod -aG blastdoor-approvers alice``): an
  agent's user cannot make itself an approver. One user holds one approver name: a second name
  for the same uid is refused, since N-of-M counts people (uids) and not names.
- ``refused`` (``id``, ``why``): a refusal the approver's CLI met before it had anything to send
  (an agent's shell, no terminal, a wrong passphrase), recorded as ``approval-refused`` with
  ``refused_at: client``; ``why`` is the CLI's word, the caller the peer credentials' uid and pid.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Mapping
from typing import Any

from blastdoor.approvals.book import Book, StoredGrant
from blastdoor.approvals.errors import ApprovalError
from blastdoor.errors import BlastdoorError
from blastdoor.hardened import broker_ops
from blastdoor.hardened.broker_ops import Deferred
from blastdoor.integrations.adapter import Reply
from blastdoor.integrations.daemon import Peer
from blastdoor.integrations.service import Runtime
from blastdoor.ledger.entry import ENTRY_VERSION, now

MAX_OP_BYTES = 1 << 20


def answer(data: bytes, peer: Peer, runtime: Runtime, *, runner: str = "") -> Reply | Deferred:
    """The reply to one op call, or for a brokered call what to run off the main thread
    (hardened/broker_ops.py). Never raises."""
    try:
        call = json.loads(data)
        if not isinstance(call, dict) or not isinstance(call.get("op"), str):
            raise ValueError
    except (ValueError, RecursionError):
        return Reply("", 2, "blastdoor: the daemon got a malformed call; is this Blastdoor the daemon's version?\n")
    handler = _OPS.get(call["op"])
    if handler is None and call["op"] not in broker_ops.OPS:
        return Reply("", 2, f"blastdoor: the daemon has no operation {call['op'][:40]!r}\n")
    try:
        if handler is None:
            return broker_ops.prepare(call["op"], call, peer, runtime, runner=runner)
        return Reply(handler(call, peer, runtime), 0, "")
    except BlastdoorError as error:
        return Reply("", 1, f"blastdoor: {error.diagnostics()}\n")
    except Exception as error:  # the daemon keeps serving; the caller learns what happened
        return Reply("", 1, f"blastdoor: the daemon failed ({type(error).__name__}: {error})\n")


def _book(runtime: Runtime) -> Book:
    return Book(runtime.ledger().store)


def _requests(call: Mapping[str, Any], peer: Peer, runtime: Runtime) -> str:
    return "".join(json.dumps(found) + "\n" for found in _book(runtime).listing(open_only=not call.get("all"), at=now()))


def _request(call: Mapping[str, Any], peer: Peer, runtime: Runtime) -> str:
    book = _book(runtime)
    request = book.get(str(call.get("id", ""))[:100])
    if request is None:
        raise ApprovalError(f"no approval request {str(call.get('id', ''))[:100]}", hint="see `blastdoor requests`")
    return json.dumps(book.described(request, now()) | {"grant_ttl_minutes": runtime.settings.grant_ttl_minutes}) + "\n"


def _grant(call: Mapping[str, Any], peer: Peer, runtime: Runtime) -> str:
    from blastdoor.approvals.accept import accept, refuse

    ledger = runtime.ledger()
    given = call.get("grant")
    try:
        assert isinstance(given, dict)
        grant = StoredGrant(str(given["id"]), str(given["request"]), str(given["approver"]), dict(given["body"]),
                            str(given["signature"]), str(given["expires"]))  # fmt: skip
    except (AssertionError, KeyError, TypeError, ValueError):
        refuse(ledger.record, peer.who(), "", "a malformed grant was sent to the daemon", "approve with blastdoor approve ID")
    accepted = accept(grant, book=_book(runtime), settings=runtime.settings, record=ledger.record,
                      who=peer.who(), caller_uid=peer.uid)  # fmt: skip
    return json.dumps({"request": accepted.request.id, "valid": accepted.valid, "required": accepted.request.required,
                       "expires": accepted.grant.expires}) + "\n"  # fmt: skip


def _deny(call: Mapping[str, Any], peer: Peer, runtime: Runtime) -> str:
    from blastdoor.approvals.accept import deny, refuse
    from blastdoor.approvals.keys import registered

    ledger, ident = runtime.ledger(), str(call.get("id", ""))[:100]
    if peer.uid not in {approver.uid for approver in registered(runtime.settings.approver_keys).values()}:
        refuse(ledger.record, peer.who(), ident, f"uid {peer.uid} is not an enrolled approver's user, so it may not deny",
               "deny as an enrolled approver")  # fmt: skip
    return f"denied {deny(_book(runtime), ident, str(call.get('reason', '')), record=ledger.record, who=peer.who())}\n"


def approvers_group() -> str:
    """The OS group whose members may enroll as approvers: ``<this daemon's user>-approvers``."""
    import pwd

    return f"{pwd.getpwuid(os.getuid()).pw_name}-approvers"


def may_enroll(uid: int) -> bool:
    """Whether ``uid`` acts as a person here: root, or a member of the approvers group."""
    import grp
    import pwd

    if uid == 0:
        return True
    try:
        group = grp.getgrnam(approvers_group())
        person = pwd.getpwuid(uid)
    except KeyError:
        return False
    return group.gr_gid in os.getgrouplist(person.pw_name, person.pw_gid)


def require_person(peer: Peer, runtime: Runtime, what: str, hint: str) -> None:
    """Refuse, and record, ``what`` unless the caller is root or in the approvers group."""
    from blastdoor.approvals.accept import refuse

    if not may_enroll(peer.uid):
        refuse(runtime.ledger().record, peer.who(), "", f"uid {peer.uid} may not {what}: it is not in the group {approvers_group()}", hint)


def _enroll(call: Mapping[str, Any], peer: Peer, runtime: Runtime) -> str:
    from blastdoor.approvals.accept import refuse
    from blastdoor.approvals.keys import register, registered

    require_person(peer, runtime, "enroll approvers", f"a person adds their user to it first (usermod -aG {approvers_group()} NAME)")
    name = str(call.get("name", ""))
    held = sorted(a.name for a in registered(runtime.settings.approver_keys).values() if a.uid == peer.uid and a.name != name)
    if held:  # N-of-M counts people: a second name of one user must not count as a second approver
        refuse(runtime.ledger().record, peer.who(), "", f"uid {peer.uid} already holds approver {held[0]}; one OS user may hold one approver name",
               f"sign as {held[0]}; another approver is another person's user")  # fmt: skip
    try:
        raw = base64.b64decode(str(call.get("key", "")), validate=True)
    except ValueError:
        raw = b""
    approver = register(name, peer.uid, raw, public_folder=runtime.settings.approver_keys)
    runtime.record({"v": ENTRY_VERSION, "type": "approver-added", "time": now(), **peer.who(),
                    "approver": approver.name, "key": approver.key_id, "approver_uid": approver.uid})  # fmt: skip
    return json.dumps({"name": approver.name, "key": approver.key_id, "uid": approver.uid}) + "\n"


def _refused(call: Mapping[str, Any], peer: Peer, runtime: Runtime) -> str:
    from blastdoor.approvals.accept import refused_entry

    why = " ".join(str(call.get("why", "")).split())[:500]
    runtime.record(refused_entry(peer.who(), str(call.get("id", "")), why, refused_at="client"))
    return "recorded\n"


def _approvers(call: Mapping[str, Any], peer: Peer, runtime: Runtime) -> str:
    from blastdoor.approvals.keys import registered

    found = registered(runtime.settings.approver_keys).values()
    return "".join(json.dumps({"name": a.name, "key": a.key_id, "uid": a.uid}) + "\n" for a in found)


_OPS = {"requests": _requests, "request": _request, "grant": _grant, "deny": _deny, "enroll": _enroll,
        "approvers": _approvers, "refused": _refused}  # fmt: skip
