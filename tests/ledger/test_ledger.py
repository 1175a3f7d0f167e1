"""The ledger on both stores: recording, checkpoints, proofs, concurrency, reopening."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from blastdoor.config import Settings
from blastdoor.ledger import proofs
from blastdoor.ledger.entry import now
from blastdoor.ledger.ledger import Ledger
from blastdoor.ledger.merkle import ProofError
from blastdoor.ledger.verify import verify
from tests.ledger.conftest import run_processes


def payload(n: int, **extra: object) -> dict[str, object]:
    return {
        "v": 1,
        "type": "decision",
        "time": now(),
        "session": f"s{n % 3}",
        "action": {"kind": "shell", "input": f"echo {n}"},
        **extra,
    }


def test_first_entry_names_the_key_and_everything_verifies(ledger: Ledger) -> None:
    for n in range(10):
        ledger.record(payload(n))
    first = ledger.store.rows([1])[1].entry()
    assert first.type == "ledger-created"
    assert first.payload["key"] == ledger.signer.public.vkey
    report = verify(ledger)
    assert report.ok, report.problems
    assert report.entries == 11


def test_body_is_canonical_utf8_text(ledger: Ledger, raw: Callable[..., object]) -> None:
    entry = ledger.record(
        {"v": 1, "type": "decision", "time": now(), "b": "é ☃", "a": [1, {"z": 1, "y": None}]}
    )
    assert (
        entry.body
        == '{"a":[1,{"y":null,"z":1}],"b":"é ☃","time":"'.encode()
        + entry.time.encode()
        + b'","type":"decision","v":1}'
    )
    stored = raw().run("SELECT body FROM ledger_entries WHERE seq = ?", (entry.seq,))  # type: ignore[attr-defined]
    assert stored[0][0] == entry.body.decode("utf-8")  # readable text in the database


def test_checkpoints_at_the_configured_cadence(
    database_url: str, settings_for: Callable[..., Settings]
) -> None:
    with Ledger.open(settings_for(database_url, checkpoint_every=5)) as ledger:
        for n in range(11):
            ledger.record(payload(n))
        assert [c.size for c in ledger.store.checkpoints()] == [5, 10]
        assert verify(ledger).ok


def test_inclusion_proof_checks_offline_and_fails_for_another_body(
    ledger: Ledger, tmp_path: Path
) -> None:
    for n in range(40):
        ledger.record(payload(n))
    document = proofs.prove(ledger, 23)
    key = ledger.public_key()
    assert "entry 23 is in the ledger" in proofs.check(json.dumps(document), key)
    document["body"] = document["body"].replace("echo", "rm -rf")
    with pytest.raises(ProofError):
        proofs.check(json.dumps(document), key)


def test_consistency_proof_between_checkpoints(ledger: Ledger) -> None:
    ledger.record(payload(0))
    old = ledger.checkpoint()
    for n in range(1, 30):
        ledger.record(payload(n))
    new = ledger.checkpoint()
    document = proofs.consistency(ledger, old.id, new.id)
    assert "extends the one of 2 entries" in proofs.check(json.dumps(document), ledger.public_key())


def test_reopening_keeps_everything(
    database_url: str, settings_for: Callable[..., Settings]
) -> None:
    settings = settings_for(database_url)
    with Ledger.open(settings) as ledger:
        written = [ledger.record(payload(n)) for n in range(3)]
    with Ledger.open(settings) as ledger:
        assert [e.body for e in (r.entry() for r in ledger.store.scan(start=2))] == [
            e.body for e in written
        ]
        assert verify(ledger).ok


def _append_many(url: str, home: str, count: int) -> None:
    settings = Settings.resolve(env={"BLASTDOOR_HOME": home, "BLASTDOOR_DATABASE_URL": url})
    with Ledger.open(settings) as ledger:
        for n in range(count):
            ledger.record(payload(n))


def test_concurrent_writers_never_fork_the_chain(
    database_url: str, settings_for: Callable[..., Settings], isolated_home: Path
) -> None:
    settings_for(database_url)
    run_processes(_append_many, [(database_url, str(isolated_home), 25)] * 6)
    with Ledger.open(settings_for(database_url)) as ledger:
        report = verify(ledger)
        assert report.ok, report.problems
        assert report.entries == 6 * 25 + 1


def test_secrets_never_reach_the_database(ledger: Ledger, raw: Callable[..., object]) -> None:
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    ledger.record(
        payload(1, action={"kind": "shell", "input": f"AWS_SECRET_ACCESS_KEY={secret} aws s3 ls"})
    )
    ledger.record(
        payload(
            2, action={"kind": "shell", "input": "psql postgres://app:hunter2hunter2@db.prod/app"}
        )
    )
    dump = json.dumps(raw().run("SELECT body FROM ledger_entries"))  # type: ignore[attr-defined]
    assert secret not in dump and "hunter2hunter2" not in dump
    assert dump.count("[redacted:") >= 2
