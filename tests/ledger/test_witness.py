"""Witness copies of checkpoints catch a ledger that was truncated and rebuilt."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from blastdoor.config import Settings
from blastdoor.ledger.entry import now
from blastdoor.ledger.ledger import Ledger
from blastdoor.ledger.verify import verify
from blastdoor.ledger.witness_server import Witness, serve


@pytest.fixture
def http_witness(database_url: str, settings_for: Callable[..., Settings], tmp_path: Path) -> Iterator[str]:
    """Blastdoor's own witness server (``blastdoor witness serve``), watching this test's ledger."""
    with Ledger.open(settings_for(database_url)) as ledger:
        key = ledger.signer.public
    server = serve(Witness(tmp_path / "http-witness", [key]), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/{key.name.replace('/', '_')}"
    server.shutdown()
    server.server_close()


def _fill(ledger: Ledger, count: int, tag: str) -> None:
    for n in range(count):
        ledger.record({"v": 1, "type": "decision", "time": now(), "tag": tag, "n": n})


def test_a_rebuilt_ledger_fails_against_its_witnesses(
    database_url: str,
    settings_for: Callable[..., Settings],
    raw: Callable[[], object],
    tmp_path: Path,
    http_witness: str,
) -> None:
    settings = settings_for(database_url, witnesses=(str(tmp_path / "witness"), http_witness))
    with Ledger.open(settings) as ledger:
        _fill(ledger, 30, "real")
        ledger.checkpoint()
        assert ledger.witness_problems == []
        assert verify(ledger).ok and verify(ledger).witnesses == 2
        # the attacker wipes everything, then records a clean-looking history with fresh checkpoints
        db = raw()
        db.run("DELETE FROM ledger_entries")  # type: ignore[attr-defined]
        db.run("DELETE FROM ledger_checkpoints")  # type: ignore[attr-defined]
        _fill(ledger, 40, "fake")
        ledger.checkpoint()
        assert (
            len(ledger.witness_problems) == 1 and "rewritten" in ledger.witness_problems[0]
        )  # refused
        report = verify(ledger)
    assert not report.ok
    failing = [problem for problem in report.problems if "rewritten" in problem]
    assert any(http_witness in p for p in failing) and any("(copy 1)" in p for p in failing)


def test_a_truncated_ledger_is_caught_by_a_witness_even_without_local_checkpoints(
    database_url: str,
    settings_for: Callable[..., Settings],
    raw: Callable[[], object],
    tmp_path: Path,
) -> None:
    settings = settings_for(database_url, witnesses=(str(tmp_path / "witness"),))
    with Ledger.open(settings) as ledger:
        _fill(ledger, 20, "real")
        ledger.checkpoint()
        db = raw()
        db.run("DELETE FROM ledger_entries WHERE seq > 5")  # type: ignore[attr-defined]
        db.run("DELETE FROM ledger_checkpoints")  # type: ignore[attr-defined]
        report = verify(ledger)
    assert not report.ok
    assert any("truncated" in problem for problem in report.problems)


def test_an_unreachable_witness_never_stops_recording(
    database_url: str, settings_for: Callable[..., Settings]
) -> None:
    settings = settings_for(
        database_url, witnesses=("http://127.0.0.1:9/nothing-listens",), checkpoint_every=3
    )
    with Ledger.open(settings) as ledger:
        _fill(ledger, 5, "x")
        assert ledger.witness_problems and "nothing-listens" in ledger.witness_problems[0]
        assert ledger.store.size() == 6
