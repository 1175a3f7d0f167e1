"""What every store keeps beside the entries: the ids writers chose, noted with their entries so an
append asked for twice happens once, and kept for the newest entries only. Runs against SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from blastdoor.config import Settings
from blastdoor.ledger import chain, store
from blastdoor.ledger.entry import canonical, now
from blastdoor.ledger.ledger import Ledger
from blastdoor.ledger.store import LedgerError, Pending, prune_below
from tests.ledger.conftest import Raw


def test_old_ids_are_removed_once_per_prune_every_entries() -> None:
    kept, every = store.RESULTS_KEPT, store.PRUNE_EVERY
    assert prune_below(every - 1, every) == every - kept
    assert prune_below(every, every + 1) is None
    assert prune_below(every - 1, 3 * every + 5) == 3 * every + 5 - kept  # a batch across several
    assert prune_below(0, every - 1) is None


def _item(n: int) -> Pending:
    return Pending(f"id-{n}", now(), canonical({"v": 1, "type": "decision", "time": now(), "n": n}))


def _noted(ledger: Ledger) -> list[str]:
    return [str(ident) for ident, in ledger.store.select("SELECT id FROM ledger_spooled ORDER BY seq")]


@pytest.fixture
def small_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the ids of the newest 3 entries, pruned once per 4 (the rule's constants are read at each call)."""
    monkeypatch.setattr(store, "RESULTS_KEPT", 3)
    monkeypatch.setattr(store, "PRUNE_EVERY", 4)


def test_appends_by_id_keep_the_ids_of_the_newest_entries(
    database_url: str, settings_for: Callable[..., Settings], small_window: None
) -> None:
    settings = settings_for(database_url)
    for n in range(10):  # entries 2 to 11 (entry 1 is the genesis entry)
        with Ledger.open(settings, through_appender=False) as ledger:  # a new writer: it reads the end
            ledger.append([_item(n)], once=True)
    with Ledger.open(settings, through_appender=False) as ledger:
        assert _noted(ledger) == [f"id-{n}" for n in range(3, 10)]  # pruned below entry 8 - 3 when it was appended
        again = ledger.append([_item(9)], once=True)
        assert [row.seq for row in again.mine] == [11] and again.appended == []  # still found by its id


def test_the_one_statement_append_prunes_by_the_same_rule(
    tmp_path: Path, settings_for: Callable[..., Settings], small_window: None
) -> None:
    settings = settings_for(f"sqlite:///{tmp_path}/ledger.db")  # PostgreSQL's function has the rule in SQL
    with Ledger.open(settings, through_appender=False) as ledger:
        ledger.append([_item(0)], once=True)
        for n in range(1, 10):
            size = ledger.store.size()
            head = chain.Head.of(size, list(ledger.store.rows(chain.frontier_seqs(size)).values()))
            assert ledger.store.append_after(head, head.grow([(now(), _item(n).body)])[0], [f"id-{n}"])
        assert _noted(ledger) == [f"id-{n}" for n in range(3, 10)]


def test_a_failing_one_statement_append_is_a_one_line_error(ledger: Ledger, raw: Callable[[], Raw]) -> None:
    ledger.append([_item(0)], once=True)
    size = ledger.store.size()
    head = chain.Head.of(size, list(ledger.store.rows(chain.frontier_seqs(size)).values()))
    rows = head.grow([(now(), _item(1).body)])[0]
    assert ledger.store.append_after(head, rows, ["id-1"])  # prepared on PostgreSQL, then used
    head = chain.Head.of(size + 1, list(ledger.store.rows(chain.frontier_seqs(size + 1)).values()))
    raw().run("DROP TABLE ledger_spooled" + (" CASCADE" if ledger.store.url.startswith("postgres") else ""))
    with pytest.raises(LedgerError) as failed:
        ledger.store.append_after(head, head.grow([(now(), _item(2).body)])[0], ["id-2"])
    assert "(append): " in failed.value.diagnostics() and "ledger_spooled" in failed.value.diagnostics()
    assert "\n" not in failed.value.diagnostics()
    assert ledger.store.size() == size + 1  # nothing of the failed append is there
