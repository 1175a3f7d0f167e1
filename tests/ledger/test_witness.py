"""Witness copies of checkpoints catch a ledger that was truncated and rebuilt."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from blastdoor.config import Settings
from blastdoor.ledger.checkpoint import unverified
from blastdoor.ledger.entry import now
from blastdoor.ledger.ledger import Ledger
from blastdoor.ledger.merkle import ProofError, verify_consistency
from blastdoor.ledger.verify import verify


class _Witness(BaseHTTPRequestHandler):
    held: bytes = b""

    def do_POST(self) -> None:
        """A reference witness: accept only a checkpoint that provably extends the one held."""
        document = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        new = unverified(document["checkpoint"])
        try:
            if self.held:
                old = unverified(self.held.decode())
                assert document["old_size"] == old.size
                proof = [bytes.fromhex(node) for node in document["proof"]]
                verify_consistency(
                    old_size=old.size,
                    new_size=new.size,
                    old_root=old.root,
                    new_root=new.root,
                    proof=proof,
                )
        except (AssertionError, ProofError):
            self.send_response(409)
        else:
            type(self).held = document["checkpoint"].encode()
            self.send_response(200)
        self.end_headers()

    def do_GET(self) -> None:
        self.send_response(200 if self.held else 404)
        self.end_headers()
        self.wfile.write(self.held)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def http_witness() -> Iterator[str]:
    _Witness.held = b""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Witness)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/witness"
    server.shutdown()


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
