"""``blastdoor requests``, ``approve``, ``deny`` and ``approver add|list``: people deciding holds."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

from blastdoor.approvals.errors import ApprovalError
from blastdoor.cli.common import settings
from blastdoor.ledger.entry import person, person_entry


def register(commands: Any) -> None:
    listing = commands.add_parser("requests", help="approval requests waiting for a person")
    listing.add_argument(
        "--all", action="store_true", help="also the used, denied and expired ones"
    )
    listing.add_argument(
        "--watch", action="store_true", help="keep listing new requests (Ctrl-C stops)"
    )
    listing.add_argument("--json", action="store_true", help="one JSON object per request")
    listing.set_defaults(handler=_requests)

    approve = commands.add_parser(
        "approve", help="sign a grant for a held action (passphrase from the terminal)"
    )
    approve.add_argument("id", help="the request id the agent was given (r-...)")
    approve.add_argument(
        "--as", dest="approver", help="the approver whose key signs (default: the only one here)"
    )
    approve.set_defaults(handler=_approve)

    deny = commands.add_parser("deny", help="refuse a held action for good")
    deny.add_argument("id")
    deny.add_argument("--reason", required=True, help="why, for the ledger and the agent's user")
    deny.set_defaults(handler=_deny)

    approver = commands.add_parser("approver", help="enroll approvers (their keys sign grants)")
    actions = approver.add_subparsers(dest="approver_action", metavar="ACTION", required=True)
    add = actions.add_parser(
        "add", help="make a key pair for NAME; passphrase read from the terminal"
    )
    add.add_argument("name")
    add.set_defaults(handler=_approver_add)
    listed = actions.add_parser("list", help="the registered approvers")
    listed.set_defaults(handler=_approver_list)


@contextmanager
def _opened(args: argparse.Namespace) -> Iterator[tuple[Any, Any]]:
    from blastdoor.approvals.book import Book
    from blastdoor.ledger.ledger import Ledger

    with Ledger.open(settings(args)) as ledger:
        yield ledger, Book(ledger.store)


def _requests(args: argparse.Namespace) -> int:
    from blastdoor.hardened.layout import served_by_daemon
    from blastdoor.ledger.entry import now

    system = served_by_daemon()

    def listing() -> list[dict[str, Any]]:
        if system is not None:  # hardened mode: the daemon holds them
            from blastdoor.hardened.client import ask

            return [json.loads(line) for line in ask(system, "requests", all=args.all).splitlines()]
        with _opened(args) as (_, book):
            found: list[dict[str, Any]] = book.listing(open_only=not args.all, at=now())
        return found

    shown: set[str] = set()
    while True:
        for found in listing():
            key = f"{found['id']} {found['state']} {len(found['grants'])}"
            if key in shown:
                continue
            shown.add(key)
            if args.json:
                print(json.dumps(found), flush=True)
            else:
                _show(_request_of(found), found["state"], found["grants"])
        if not args.watch:
            break
        time.sleep(1.0)
    if not shown and not args.json:
        print("no approval requests waiting" if not args.all else "no approval requests yet")
    return 0


def _request_of(found: dict[str, Any]) -> Any:
    from blastdoor.approvals.request import Request

    body = {k: v for k, v in found.items() if k not in ("id", "state", "digest", "created", "expires", "required", "grants", "grant_ttl_minutes")}
    return Request(id=found["id"], digest=found["digest"], created=found["created"], expires=found["expires"],
                   state=found["state"], required=int(found["required"]), body=body)  # fmt: skip


def _show(request: Any, state: str, signed: list[str]) -> None:
    who = request.body.get("requester", {})
    print(f"{request.id}  {state.upper()}  {request.created[:19].replace('T', ' ')}  "
          f"{len(signed)}/{request.required} approvals{' (' + ', '.join(signed) + ')' if signed else ''}")  # fmt: skip
    print(f"    {request.summary}")
    for effect in request.body.get("effects", [])[:5]:
        print(f"    - {effect}")
    print(f"    asked by {who.get('agent') or '?'} session {who.get('session') or '?'}"
          f" in {request.body.get('action', {}).get('cwd') or '?'}; expires {request.expires[:19].replace('T', ' ')}", flush=True)  # fmt: skip


def _approve(args: argparse.Namespace) -> int:
    from blastdoor.approvals.accept import accept, open_request, refuse
    from blastdoor.hardened.layout import served_by_daemon
    from blastdoor.ledger.entry import now

    if (system := served_by_daemon()) is not None:
        return _approve_remote(args, system)
    resolved = settings(args)
    who = {"source": "cli", "by": os.environ.get("USER", ""), "uid": os.getuid()}
    with _opened(args) as (ledger, book):
        request = open_request(book, args.id, record=ledger.record, who=who)
        _show(request, request.state_at(now()), [g.approver for g in book.grants(request.id)])
        try:
            grant = _sign(request, args.approver, ttl_minutes=resolved.grant_ttl_minutes)
        except ApprovalError as error:
            refuse(ledger.record, who, request.id, f"approval refused: {error.message}", error.hint)
        accepted = accept(grant, book=book, settings=resolved, record=ledger.record, who=who)
    return _approved(request, grant, accepted.valid)


def _approve_remote(args: argparse.Namespace, system: Any) -> int:
    """Hardened mode: sign here, with the key only this approver holds; the daemon checks and keeps it."""
    from blastdoor.errors import BlastdoorError, HomeError
    from blastdoor.hardened.client import ask

    try:
        found = json.loads(ask(system, "request", id=args.id))
    except HomeError:
        raise  # the daemon did not answer: nothing to record it with
    except BlastdoorError as error:  # no such request: refused, and recorded as single-user mode records it
        _refused_remote(system, str(args.id)[:100], f"approval refused: {error.message}", error.hint)
    request = _request_of(found)
    _show(request, found["state"], found["grants"])
    try:
        grant = _sign(request, args.approver, ttl_minutes=float(found.get("grant_ttl_minutes", 15)))
    except ApprovalError as error:
        _refused_remote(system, request.id, f"approval refused: {error.message}", error.hint)
    taken = json.loads(ask(system, "grant", grant={"id": grant.id, "request": grant.request_id, "approver": grant.approver,
                                                   "body": grant.body, "signature": grant.signature, "expires": grant.expires}))  # fmt: skip
    return _approved(request, grant, taken["valid"])


def _refused_remote(system: Any, request_id: str, why: str, hint: str) -> NoReturn:
    """Hardened mode: a refusal met here, before anything was sent, recorded by the daemon (which
    names this process by the socket's peer credentials, as for every call), then raised as the
    same one line the single-user path raises."""
    from blastdoor.errors import BlastdoorError
    from blastdoor.hardened.client import ask

    try:
        ask(system, "refused", id=request_id, why=why)
    except BlastdoorError as error:  # the refusal stands; that it went unrecorded is said too
        hint = f"{hint}; the daemon did not record the attempt: {error.message}"
    raise ApprovalError(why, hint=hint)


def _refused_here(args: argparse.Namespace, why: str, hint: str) -> NoReturn:
    """An enrollment refused before it began, recorded where this mode keeps its ledger, then raised."""
    from blastdoor.approvals.accept import refuse
    from blastdoor.hardened.layout import served_by_daemon

    if (system := served_by_daemon()) is not None:
        _refused_remote(system, "", why, hint)
    with _opened(args) as (ledger, _):
        refuse(ledger.record, person(), "", why, hint)


def _sign(request: Any, name: str | None, *, ttl_minutes: float) -> Any:
    """The grant the approver at this terminal signs for ``request`` (ApprovalError when they cannot).
    Whether their key is the one registered is the receiving side's check (approvals/accept.py)."""
    from blastdoor.approvals.grant import sign
    from blastdoor.approvals.keys import Approver, key_id, local_names, private_folder, unlock
    from blastdoor.approvals.terminal import agent_marker, read_passphrase

    marker = agent_marker(os.environ)
    if marker:
        raise ApprovalError(f"this shell belongs to an agent ({marker} is set)",
                            hint="approve from your own terminal, outside the agent; the attempt is recorded")  # fmt: skip
    secret_folder = private_folder()
    names = [name] if name else local_names(secret_folder)
    if len(names) != 1:
        raise ApprovalError("no approver key here" if not names else f"several approver keys here ({', '.join(names)})",
                            hint="enroll with `blastdoor approver add NAME`, or pick one with --as NAME")  # fmt: skip
    passphrase = read_passphrase(f"passphrase for approver {names[0]}: ")
    private = unlock(names[0], passphrase, secret_folder=secret_folder)
    public = private.public_key()
    return sign(request, Approver(names[0], os.getuid(), public, key_id(public)), private, ttl_minutes=ttl_minutes)


def _approved(request: Any, grant: Any, valid: int) -> int:
    if valid >= request.required:
        until = grant.expires[:19].replace("T", " ")
        print(f"approved {request.id}: the agent may retry exactly the same action until {until} UTC, once")
    else:
        print(f"signed {request.id}: {valid} of {request.required} approvals")
    return 0


def _deny(args: argparse.Namespace) -> int:
    from blastdoor.hardened.layout import served_by_daemon

    if (system := served_by_daemon()) is not None:
        from blastdoor.hardened.client import ask

        print(ask(system, "deny", id=args.id, reason=args.reason), end="")
        return 0

    from blastdoor.approvals.accept import deny

    with _opened(args) as (ledger, book):
        denied = deny(book, args.id, args.reason, record=ledger.record, who=person())
    print(f"denied {denied}")
    return 0


def _approver_add(args: argparse.Namespace) -> int:
    from blastdoor.approvals.errors import ApprovalError
    from blastdoor.approvals.keys import enroll, private_folder
    from blastdoor.approvals.terminal import agent_marker, read_passphrase

    marker = agent_marker(os.environ)
    if marker:
        _refused_here(args, f"enrollment refused: this shell belongs to an agent ({marker} is set)",
                      "enroll from your own terminal; the attempt is recorded")  # fmt: skip
    try:
        first = read_passphrase(f"new passphrase for approver {args.name}: ")
        second = read_passphrase("again: ")
    except ApprovalError as error:
        _refused_here(args, f"enrollment refused: {error.message}", error.hint)
    if second != first:
        raise ApprovalError("the passphrases differ", hint="run it again")
    from blastdoor.hardened.layout import served_by_daemon

    if (system := served_by_daemon()) is not None:
        return _enroll_remote(args.name, first, system)
    resolved = settings(args)
    approver = enroll(
        args.name, first, public_folder=resolved.approver_keys, secret_folder=private_folder()
    )
    with _opened(args) as (ledger, _):
        ledger.record(
            person_entry(
                "approver-added",
                approver=approver.name,
                key=approver.key_id,
                approver_uid=approver.uid,
            )
        )
    print(
        f"enrolled approver {approver.name} (key {approver.key_id}); private key in {private_folder()}"
    )
    return 0


def _enroll_remote(name: str, passphrase: str, system: Any) -> int:
    """Hardened mode: the key pair is made here; the daemon registers its public half for this user."""
    import base64

    from blastdoor.approvals.keys import make_key, private_folder
    from blastdoor.hardened.client import ask

    folder = private_folder()
    raw = make_key(name, passphrase, secret_folder=folder)
    try:
        taken = json.loads(ask(system, "enroll", name=name, key=base64.b64encode(raw).decode()))
    except Exception:
        (folder / f"{name}.key").unlink(missing_ok=True)  # not registered: no key left behind
        raise
    print(f"enrolled approver {taken['name']} (key {taken['key']}, uid {taken['uid']}); private key in {folder}")
    return 0


def _approver_list(args: argparse.Namespace) -> int:
    from blastdoor.approvals.keys import registered
    from blastdoor.hardened.layout import served_by_daemon

    if (system := served_by_daemon()) is not None:
        from blastdoor.hardened.client import ask

        for line in ask(system, "approvers").splitlines():
            item = json.loads(line)
            print(f"{item['name']}  key {item['key']}  uid {item['uid']}")
        return 0
    found = registered(settings(args).approver_keys)
    for approver in found.values():
        print(f"{approver.name}  key {approver.key_id}  uid {approver.uid}")
    if not found:
        print(
            "no approvers enrolled: `blastdoor approver add NAME` from your own terminal",
            file=sys.stderr,
        )
    return 0
