"""Requests, grants and their checks, on both stores: what makes a grant count, and only once."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from blastdoor.approvals.book import Book
from blastdoor.approvals.gate import GRANTED_RULE, settle
from blastdoor.approvals.grant import problems, sign
from blastdoor.approvals.keys import (
    Approver,
    enroll,
    key_id,
    make_key,
    register,
    registered,
    unlock,
)
from blastdoor.approvals.request import APPROVED, USED, action_digest
from blastdoor.config import Settings
from blastdoor.judge import judge
from blastdoor.ledger.entry import now
from blastdoor.ledger.ledger import Ledger
from blastdoor.model import Action, DecisionKind
from blastdoor.policy import load

DESTROY = "terraform destroy -auto-approve"


def _held(command: str, cwd: Path, **context: object) -> tuple[Action, object]:
    action = Action.shell(command, cwd=str(cwd), agent="claude-code", session_id="s1", **context)
    decision = judge(action, load())
    assert decision.kind is DecisionKind.HOLD
    return action, decision


def _settle(
    ledger: Ledger, settings: Settings, command: str, cwd: Path, **context: object
) -> tuple[DecisionKind, str]:
    action, decision = _held(command, cwd, **context)
    settled, request = settle(action, decision, book=Book(ledger.store), settings=settings,  # type: ignore[arg-type]
                              record=ledger.record, redact=ledger.redact)  # fmt: skip
    return settled.kind, request


def _approve(
    book: Book, request_id: str, settings: Settings, keys: Path, name: str, *, ttl: float = 15
) -> None:
    request = book.get(request_id)
    assert request is not None
    approver = registered(settings.approver_keys)[name]
    private = unlock(name, "a long passphrase", secret_folder=keys)
    assert book.add_grant(sign(request, approver, private, ttl_minutes=ttl))
    book.move(request_id, ("pending",), APPROVED)


def test_a_hold_opens_one_request_and_an_approval_lets_exactly_that_action_run_once(
    ledger: Ledger, settings_for: Callable[..., Settings], database_url: str, tmp_path: Path
) -> None:
    settings = settings_for(database_url)
    keys = tmp_path / "keys"
    enroll("alice", "a long passphrase", public_folder=settings.approver_keys, secret_folder=keys)
    book = Book(ledger.store)

    kind, first = _settle(ledger, settings, DESTROY, tmp_path)
    assert kind is DecisionKind.HOLD and first.startswith("r-")
    assert _settle(ledger, settings, DESTROY, tmp_path) == (
        DecisionKind.HOLD,
        first,
    )  # same action, same request
    kind, other = _settle(ledger, settings, DESTROY + " -target=aws_db_instance.main", tmp_path)
    assert other != first

    _approve(book, first, settings, keys, "alice")
    assert (
        _settle(ledger, settings, DESTROY + " -target=aws_db_instance.main", tmp_path)[0]
        is DecisionKind.HOLD
    )
    assert _settle(ledger, settings, DESTROY, tmp_path) == (DecisionKind.ALLOW, first)
    used = book.get(first)
    assert used is not None and used.state == USED
    kind, again = _settle(ledger, settings, DESTROY, tmp_path)
    assert kind is DecisionKind.HOLD and again not in (first, other)  # single use: a new request

    kinds = [json.loads(row.body)["type"] for row in ledger.store.scan()]
    assert kinds.count("approval-request") == 3 and kinds.count("approval-used") == 1


def test_a_changed_plan_file_needs_a_new_approval(tmp_path: Path) -> None:
    plan = tmp_path / "prod.tfplan"
    plan.write_bytes(b"plan one")
    action = Action.shell("terraform apply -auto-approve prod.tfplan", cwd=str(tmp_path))
    decision = judge(action, load())
    before = action_digest(action, decision)
    assert action_digest(action, decision) == before
    plan.write_bytes(b"plan two")
    assert action_digest(action, decision) != before


def test_forged_stale_and_foreign_grants_do_not_count(
    ledger: Ledger, settings_for: Callable[..., Settings], database_url: str, tmp_path: Path
) -> None:
    settings = settings_for(database_url)
    keys = tmp_path / "keys"
    alice = enroll(
        "alice", "a long passphrase", public_folder=settings.approver_keys, secret_folder=keys
    )
    book = Book(ledger.store)
    _, first = _settle(ledger, settings, DESTROY, tmp_path)
    _, second = _settle(ledger, settings, DESTROY + " -refresh=false", tmp_path)
    request, other = book.get(first), book.get(second)
    assert request is not None and other is not None
    approvers = registered(settings.approver_keys)
    private = unlock("alice", "a long passphrase", secret_folder=keys)

    def why(grant: object, for_request: object = request, hardened: bool = False) -> str:
        return "; ".join(
            problems(grant, for_request, approvers, allowed=(), hardened=hardened, at=now())
        )  # type: ignore[arg-type]

    assert why(sign(request, alice, private, ttl_minutes=15)) == ""
    assert "signed for another action" in why(sign(other, alice, private, ttl_minutes=15), request)
    assert "expired" in why(sign(request, alice, private, ttl_minutes=-1))
    stranger = Ed25519PrivateKey.generate()
    impostor = Approver("alice", alice.uid, stranger.public_key(), key_id(stranger.public_key()))
    assert "does not check against their registered key" in why(
        sign(request, impostor, stranger, ttl_minutes=15)
    )
    unknown = Approver("mallory", 0, stranger.public_key(), key_id(stranger.public_key()))
    assert "not registered" in why(sign(request, unknown, stranger, ttl_minutes=15))
    tampered = sign(request, alice, private, ttl_minutes=15)
    tampered.body["expires"] = "2999-01-01T00:00:00.000000Z"
    assert "does not check" in why(tampered)
    assert "requester's own user" in why(
        sign(request, alice, private, ttl_minutes=15), hardened=True
    )


def test_two_approvers_are_needed_when_configured(
    ledger: Ledger, settings_for: Callable[..., Settings], database_url: str, tmp_path: Path
) -> None:
    settings = settings_for(database_url, approvals_required=2)
    keys = tmp_path / "keys"
    for name in ("alice", "bob"):
        enroll(name, "a long passphrase", public_folder=settings.approver_keys, secret_folder=keys)
    book = Book(ledger.store)
    _, request = _settle(ledger, settings, DESTROY, tmp_path)
    _approve(book, request, settings, keys, "alice")
    assert _settle(ledger, settings, DESTROY, tmp_path)[0] is DecisionKind.HOLD
    _approve(book, request, settings, keys, "bob")
    assert _settle(ledger, settings, DESTROY, tmp_path)[0] is DecisionKind.ALLOW


def test_in_hardened_mode_two_approvals_are_two_people_not_two_names(
    ledger: Ledger, settings_for: Callable[..., Settings], database_url: str, tmp_path: Path
) -> None:
    # the daemon's requests come from another OS user than the home's owner; its approvers are the
    # uids they enrolled as (peer credentials): one person under two names counts once
    settings = settings_for(database_url, approvals_required=2)
    keys, person, other, agent = tmp_path / "keys", os.getuid() + 1001, os.getuid() + 1002, os.getuid() + 1003
    for name, uid in (("alice", person), ("alice2", person), ("bob", other)):
        register(name, uid, make_key(name, "a long passphrase", secret_folder=keys), public_folder=settings.approver_keys)
    book = Book(ledger.store)
    _, request = _settle(ledger, settings, DESTROY, tmp_path, uid=agent)
    _approve(book, request, settings, keys, "alice")
    _approve(book, request, settings, keys, "alice2")
    assert _settle(ledger, settings, DESTROY, tmp_path, uid=agent)[0] is DecisionKind.HOLD
    _approve(book, request, settings, keys, "bob")
    assert _settle(ledger, settings, DESTROY, tmp_path, uid=agent) == (DecisionKind.ALLOW, request)
    used = [json.loads(row.body) for row in ledger.store.scan() if json.loads(row.body)["type"] == "approval-used"]
    assert used[-1]["approvers"] == ["alice", "alice2", "bob"]


def test_an_approval_is_used_by_exactly_one_of_many_racing_retries(
    ledger: Ledger, settings_for: Callable[..., Settings], database_url: str, tmp_path: Path
) -> None:
    settings = settings_for(database_url)
    keys = tmp_path / "keys"
    enroll("alice", "a long passphrase", public_folder=settings.approver_keys, secret_folder=keys)
    _, request = _settle(ledger, settings, DESTROY, tmp_path)
    _approve(Book(ledger.store), request, settings, keys, "alice")
    wins: list[bool] = []
    books = [Book(Ledger.open(settings).store) for _ in range(6)]
    barrier = threading.Barrier(len(books))

    def race(book: Book) -> None:
        barrier.wait()
        wins.append(book.use(request, []))

    threads = [threading.Thread(target=race, args=(book,)) for book in books]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for book in books:
        book.tables.close()  # type: ignore[attr-defined]
    assert sorted(wins) == [False] * 5 + [True]
    assert GRANTED_RULE == "approval.granted"
