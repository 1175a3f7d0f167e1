"""Group commit on the SQLite store: a writer that finds the lock taken spools its entries, and
whichever writer holds the write lock next appends them. What a user depends on: nothing spooled is
lost or appended twice, each writer's entries keep their order, and a spool damaged by hand gives a
clear error. (PostgreSQL appends directly: measured faster there, docs/benchmarks.md.)"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from blastdoor.config import Settings
from blastdoor.ledger.entry import canonical, now
from blastdoor.ledger.ledger import Ledger
from blastdoor.ledger.store import LedgerError, Pending
from blastdoor.ledger.verify import verify
from tests.ledger.conftest import run_processes


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """Only the SQLite store groups commits."""
    return f"sqlite:///{tmp_path / 'ledger.db'}"


def _entry(text: str) -> dict[str, Any]:
    return {"v": 1, "type": "decision", "time": now(), "action": {"kind": "shell", "input": text}}


def _inputs(ledger: Ledger) -> list[str]:
    return [json.loads(row.body).get("action", {}).get("input", "") for row in ledger.store.scan(start=2)]


def _spooled(text: str, *, age_ns: int = 0) -> Pending:
    payload = _entry(text)
    return Pending(f"{time.time_ns() - age_ns:020d}-1-00000000-test", str(payload["time"]), canonical(payload))


def test_an_entry_spooled_by_a_writer_that_died_is_appended_first(ledger: Ledger) -> None:
    ledger.record(_entry("first"))
    ledger.store.spool([_spooled("spooled, then its writer was killed", age_ns=10**6)])
    ledger.record(_entry("next"))
    assert _inputs(ledger) == ["first", "spooled, then its writer was killed", "next"]
    assert verify(ledger).ok


def test_an_entry_put_back_in_the_spool_is_not_appended_twice(ledger: Ledger) -> None:
    # a writer that committed and was killed before it cleared the spool leaves its entry there
    ledger.record(_entry("first"))
    item = _spooled("once")
    ledger.store.spool([item])
    (row,) = ledger.store.append_group([item.id], _extend(ledger), _seqs()).mine
    ledger.store.spool([item])
    ledger.record(_entry("after"))
    assert _inputs(ledger) == ["first", "once", "after"] and row.seq == 3
    assert verify(ledger).ok


def test_an_entry_removed_from_the_spool_by_hand_is_a_clear_error(ledger: Ledger) -> None:
    ledger.record(_entry("first"))
    item = _spooled("removed")
    ledger.store.spool([item])
    (Path(ledger.store.url.removeprefix("sqlite:///") + ".spool") / f"{item.id}.entry").unlink()
    with pytest.raises(LedgerError, match="left the spool without being appended"):
        ledger.store.append_group([item.id], _extend(ledger), _seqs())
    assert _inputs(ledger) == ["first"] and verify(ledger).ok


def _writer(url: str, home: str, writer: int, count: int) -> None:
    settings = Settings.resolve(env={"BLASTDOOR_HOME": home, "BLASTDOOR_DATABASE_URL": url})
    with Ledger.open(settings) as ledger:
        for n in range(count):
            ledger.record(_entry(f"{writer}:{n}"))


def test_each_writer_keeps_its_order_and_nothing_is_lost(
    database_url: str, settings_for: Callable[..., Settings], isolated_home: Path
) -> None:
    settings_for(database_url)
    run_processes(_writer, [(database_url, str(isolated_home), w, 40) for w in range(4)])
    with Ledger.open(settings_for(database_url)) as ledger:
        seen = [text.split(":") for text in _inputs(ledger)]
        assert verify(ledger).ok
    for w in range(4):
        assert [int(n) for writer, n in seen if writer == str(w)] == list(range(40))
    assert len(seen) == 160


def _extend(ledger: Ledger) -> Any:
    from blastdoor.ledger import chain

    return lambda size, edge, waiting: chain.extend(size, edge, list(waiting))


def _seqs() -> Any:
    from blastdoor.ledger import chain

    return chain.frontier_seqs


def test_a_writer_that_finds_the_lock_taken_waits_in_the_spool(
    ledger: Ledger, database_url: str, settings_for: Callable[..., Settings]
) -> None:
    import threading

    ledger.record(_entry("first"))
    writer = Ledger.open(settings_for(database_url))  # a writer with a connection of its own
    with _writers_lock(database_url):  # another writer is mid-append
        waiting = threading.Thread(target=writer.record, args=(_entry("queued"),))
        waiting.start()
        deadline = time.monotonic() + 10
        while not _spool_holds(ledger) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _spool_holds(ledger) and waiting.is_alive()  # spooled, not yet acknowledged
        assert _inputs(ledger) == ["first"]
    waiting.join(10)
    writer.close()
    assert not waiting.is_alive() and _inputs(ledger) == ["first", "queued"]
    assert not _spool_holds(ledger) and verify(ledger).ok


def _spool_holds(ledger: Ledger) -> bool:
    spool = Path(ledger.store.url.removeprefix("sqlite:///") + ".spool")
    return spool.is_dir() and any(path.name.endswith(".entry") for path in spool.iterdir())


class _writers_lock:
    """Hold the store's writers' lock from outside, as another writer would."""

    def __init__(self, url: str) -> None:
        self.url = url

    def __enter__(self) -> None:
        import fcntl

        self.handle = open(self.url.removeprefix("sqlite:///") + ".lock", "a")
        fcntl.flock(self.handle, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        self.handle.close()
