"""Every change to a stored ledger is detected by ``verify`` (property-based)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blastdoor.ledger.checkpoint import Signer
from blastdoor.ledger.entry import now
from blastdoor.ledger.ledger import Ledger
from blastdoor.ledger.verify import verify

ENTRIES = 40
FIXTURES = [HealthCheck.function_scoped_fixture]


@pytest.fixture
def filled(ledger: Ledger) -> Ledger:
    for n in range(ENTRIES - 1):
        ledger.record({"v": 1, "type": "decision", "time": now(), "n": n})
        if n % 10 == 9:
            ledger.checkpoint()
    ledger.checkpoint()
    assert verify(ledger).ok
    return ledger


def _flip(value: Any, offset: int, xor: int) -> Any:
    data = bytearray(value.encode() if isinstance(value, str) else bytes(value))
    if not data:
        return value
    data[offset % len(data)] ^= xor
    return data.decode("utf-8", "replace") if isinstance(value, str) else bytes(data)


def _restore(db: Any, table: str, key: str, key_value: int, column: str, value: Any) -> None:
    db.run(f"UPDATE {table} SET {column} = ? WHERE {key} = ?", (value, key_value))


@settings(max_examples=40, deadline=None, suppress_health_check=FIXTURES)
@given(
    column=st.sampled_from(["body", "leaf_hash", "chain_hash", "nodes", "time_as_body"]),
    seq=st.integers(1, ENTRIES),
    offset=st.integers(0, 10_000),
    xor=st.integers(1, 255),
)
def test_any_single_byte_change_in_an_entry_is_detected(
    filled: Ledger, raw: Callable[[], Any], column: str, seq: int, offset: int, xor: int
) -> None:
    db = raw()
    column = "body" if column == "time_as_body" else column
    (original,) = db.run(f"SELECT {column} FROM ledger_entries WHERE seq = ?", (seq,))[0]
    changed = _flip(original, offset, xor)
    if (
        changed == original
        or (column == "nodes" and not original)
        or (isinstance(changed, str) and "\x00" in changed)
    ):
        return
    _restore(db, "ledger_entries", "seq", seq, column, changed)
    try:
        report = verify(filled)
        assert not report.ok
        assert report.first_bad == seq or column == "nodes"
    finally:
        _restore(db, "ledger_entries", "seq", seq, column, original)


@settings(max_examples=15, deadline=None, suppress_health_check=FIXTURES)
@given(offset=st.integers(0, 10_000), xor=st.integers(1, 255), which=st.integers(0, 3))
def test_any_byte_change_in_a_checkpoint_is_detected(
    filled: Ledger, raw: Callable[[], Any], offset: int, xor: int, which: int
) -> None:
    db = raw()
    cid, note = db.run("SELECT id, note FROM ledger_checkpoints ORDER BY id")[which]
    changed = _flip(note, offset, xor)
    if (
        changed == note or "\x00" in changed
    ):  # PostgreSQL text cannot hold NUL, so no attacker can write it
        return
    _restore(db, "ledger_checkpoints", "id", cid, "note", changed)
    try:
        assert not verify(filled).ok
    finally:
        _restore(db, "ledger_checkpoints", "id", cid, "note", note)


@settings(max_examples=15, deadline=None, suppress_health_check=FIXTURES)
@given(seq=st.integers(1, ENTRIES))
def test_deleting_any_entry_is_detected(filled: Ledger, raw: Callable[[], Any], seq: int) -> None:
    db = raw()
    row = db.run(
        "SELECT seq, time, body, leaf_hash, chain_hash, nodes FROM ledger_entries WHERE seq = ?",
        (seq,),
    )[0]
    db.run("DELETE FROM ledger_entries WHERE seq = ?", (seq,))
    try:
        report = verify(filled)
        assert not report.ok and report.first_bad == seq
    finally:
        db.run(
            "INSERT INTO ledger_entries (seq, time, body, leaf_hash, chain_hash, nodes) VALUES (?, ?, ?, ?, ?, ?)",
            row,
        )


@settings(max_examples=15, deadline=None, suppress_health_check=FIXTURES)
@given(a=st.integers(1, ENTRIES), b=st.integers(1, ENTRIES))
def test_reordering_entries_is_detected(
    filled: Ledger, raw: Callable[[], Any], a: int, b: int
) -> None:
    if a == b:
        return
    db = raw()

    def swap() -> None:
        db.run("UPDATE ledger_entries SET seq = -1 WHERE seq = ?", (a,))
        db.run("UPDATE ledger_entries SET seq = ? WHERE seq = ?", (a, b))
        db.run("UPDATE ledger_entries SET seq = ? WHERE seq = -1", (b,))

    swap()
    try:
        report = verify(filled)
        assert not report.ok and report.first_bad == min(a, b)
    finally:
        swap()


def test_truncating_the_tail_is_detected_by_the_checkpoints(
    filled: Ledger, raw: Callable[[], Any]
) -> None:
    raw().run("DELETE FROM ledger_entries WHERE seq > ?", (ENTRIES - 3,))
    report = verify(filled)
    assert not report.ok
    assert "truncated" in " ".join(report.problems)


def test_resigning_with_another_key_is_detected(
    filled: Ledger, raw: Callable[[], Any], tmp_path: Any
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    forged_key = tmp_path / "forged.ed25519"
    forged_key.write_bytes(Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))  # fmt: skip
    forger = Signer.load(forged_key)
    db = raw()
    for cid, size in db.run("SELECT id, size FROM ledger_checkpoints"):
        note = forger.sign(size=size, root=filled.root(size), time=now())
        db.run("UPDATE ledger_checkpoints SET note = ? WHERE id = ?", (note, cid))
    report = verify(filled)
    assert not report.ok
    assert all("not signed by the ledger's key" in p for p in report.problems)


@pytest.mark.parametrize("damage", ["body", "nodes", "chain_hash", "delete", "swap"])
def test_a_ledger_read_by_several_processes_reports_what_one_reader_does(
    filled: Ledger, raw: Callable[[], Any], monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    import blastdoor.ledger.verify as verifier

    db = raw()
    monkeypatch.setattr(verifier.os, "cpu_count", lambda: 2)
    for seq in (1, 20, 21, ENTRIES):  # both sides of the boundary between the two readers' ranges
        row = db.run("SELECT seq, time, body, leaf_hash, chain_hash, nodes FROM ledger_entries WHERE seq = ?", (seq,))[0]
        if damage == "delete":
            db.run("DELETE FROM ledger_entries WHERE seq = ?", (seq,))
        elif damage == "swap":
            other = seq + 1 if seq < ENTRIES else seq - 1
            db.run("UPDATE ledger_entries SET seq = -1 WHERE seq = ?", (seq,))
            db.run("UPDATE ledger_entries SET seq = ? WHERE seq = ?", (seq, other))
            db.run("UPDATE ledger_entries SET seq = ? WHERE seq = -1", (other,))
        else:
            column = ["seq", "time", "body", "leaf_hash", "chain_hash", "nodes"].index(damage)
            if damage == "nodes" and not row[column]:
                continue
            _restore(db, "ledger_entries", "seq", seq, damage, _flip(row[column], 3, 0x20))
        try:
            monkeypatch.setattr(verifier, "PER_READER", 10**9)
            alone = verify(filled)
            monkeypatch.setattr(verifier, "PER_READER", 10)
            split = verify(filled)
            assert alone.readers == 1 and split.readers == 2
            assert not split.ok and (split.first_bad, split.entries) == (alone.first_bad, alone.entries), (damage, seq)
            assert split.problems == alone.problems
        finally:
            if damage == "swap":
                db.run("UPDATE ledger_entries SET seq = -1 WHERE seq = ?", (seq,))
                db.run("UPDATE ledger_entries SET seq = ? WHERE seq = ?", (seq, other))
                db.run("UPDATE ledger_entries SET seq = ? WHERE seq = -1", (other,))
            else:
                db.run("DELETE FROM ledger_entries WHERE seq = ?", (seq,))
                db.run("INSERT INTO ledger_entries (seq, time, body, leaf_hash, chain_hash, nodes) VALUES (?, ?, ?, ?, ?, ?)", row)
    monkeypatch.setattr(verifier, "PER_READER", 10)
    intact = verify(filled)
    assert intact.ok and intact.readers == 2 and intact.entries == ENTRIES
