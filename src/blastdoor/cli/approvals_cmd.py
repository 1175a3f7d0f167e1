"""``blastdoor requests``, ``approve``, ``deny`` and ``approver add|list``: people deciding holds."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from blastdoor.approvals.errors import ApprovalError
from blastdoor.cli.common import settings
from blastdoor.ledger.entry import person_entry


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
    from blastdoor.ledger.entry import now

    shown: set[str] = set()
    with _opened(args) as (_, book):
        while True:
            for request in book.all(open_only=not args.all):
                state = request.state_at(now())
                signed = [g.approver for g in book.grants(request.id)]
                key = f"{request.id} {state} {len(signed)}"
                if key in shown:
                    continue
                shown.add(key)
                if args.json:
                    print(json.dumps({"id": request.id, "state": state, "digest": request.digest,
                                      "created": request.created, "expires": request.expires,
                                      "required": request.required, "grants": signed,
                                      **request.body}), flush=True)  # fmt: skip
                else:
                    _show(request, state, signed)
            if not args.watch:
                break
            time.sleep(1.0)
    if not shown and not args.json:
        print("no approval requests waiting" if not args.all else "no approval requests yet")
    return 0


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

    resolved = settings(args)
    who = _who()
    with _opened(args) as (ledger, book):
        record = ledger.record
        request = open_request(book, args.id, record=record, who=who)
        _show(request, request.state_at(_now()), [g.approver for g in book.grants(request.id)])
        try:
            grant = _sign(request, args.approver, resolved)
        except ApprovalError as error:
            refuse(record, who, request.id, error.message if error.message.startswith("approval refused") else
                   f"approval refused: {error.message}", error.hint)  # fmt: skip
        accepted = accept(grant, book=book, settings=resolved, record=record, who=who)
    return _approved(accepted)


def _who() -> dict[str, Any]:
    return {"source": "cli", "by": os.environ.get("USER", ""), "uid": os.getuid()}


def _now() -> str:
    from blastdoor.ledger.entry import now

    return now()


def _sign(request: Any, name: str | None, resolved: Any) -> Any:
    """The grant the approver at this terminal signs for ``request`` (ApprovalError when they cannot)."""
    from blastdoor.approvals.grant import sign
    from blastdoor.approvals.keys import local_names, private_folder, registered, unlock
    from blastdoor.approvals.terminal import agent_marker, read_passphrase

    marker = agent_marker(os.environ)
    if marker:
        raise ApprovalError(f"approval refused: this shell belongs to an agent ({marker} is set)",
                            hint="approve from your own terminal, outside the agent; the attempt is recorded")  # fmt: skip
    secret_folder = private_folder()
    names = [name] if name else local_names(secret_folder)
    if len(names) != 1:
        raise ApprovalError("no approver key here" if not names else f"several approver keys here ({', '.join(names)})",
                            hint="enroll with `blastdoor approver add NAME`, or pick one with --as NAME")  # fmt: skip
    approver = registered(resolved.approver_keys).get(names[0])
    if approver is None:
        raise ApprovalError(f"approver {names[0]} is not registered in {resolved.approver_keys}",
                            hint="enroll with `blastdoor approver add NAME`")  # fmt: skip
    passphrase = read_passphrase(f"passphrase for approver {approver.name}: ")
    private = unlock(approver.name, passphrase, secret_folder=secret_folder)
    return sign(request, approver, private, ttl_minutes=resolved.grant_ttl_minutes)


def _approved(accepted: Any) -> int:
    request, grant = accepted.request, accepted.grant
    if accepted.valid >= request.required:
        until = grant.expires[:19].replace("T", " ")
        print(f"approved {request.id}: the agent may retry exactly the same action until {until} UTC, once")
    else:
        print(f"signed {request.id}: {accepted.valid} of {request.required} approvals")
    return 0


def _deny(args: argparse.Namespace) -> int:
    from blastdoor.approvals.errors import ApprovalError

    with _opened(args) as (ledger, book):
        if not book.deny(args.id, args.reason):
            raise ApprovalError(
                f"no open approval request {args.id[:100]}", hint="see `blastdoor requests --all`"
            )
        ledger.record(person_entry("approval-denied", request=args.id, reason=args.reason[:500]))
    print(f"denied {args.id}")
    return 0


def _approver_add(args: argparse.Namespace) -> int:
    from blastdoor.approvals.errors import ApprovalError
    from blastdoor.approvals.keys import enroll, private_folder
    from blastdoor.approvals.terminal import agent_marker, read_passphrase

    marker = agent_marker(os.environ)
    if marker:
        raise ApprovalError(f"enrollment refused: this shell belongs to an agent ({marker} is set)",
                            hint="enroll from your own terminal")  # fmt: skip
    resolved = settings(args)
    first = read_passphrase(f"new passphrase for approver {args.name}: ")
    if read_passphrase("again: ") != first:
        raise ApprovalError("the passphrases differ", hint="run it again")
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


def _approver_list(args: argparse.Namespace) -> int:
    from blastdoor.approvals.keys import registered

    found = registered(settings(args).approver_keys)
    for approver in found.values():
        print(f"{approver.name}  key {approver.key_id}  uid {approver.uid}")
    if not found:
        print(
            "no approvers enrolled: `blastdoor approver add NAME` from your own terminal",
            file=sys.stderr,
        )
    return 0
