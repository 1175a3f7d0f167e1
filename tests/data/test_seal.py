"""``blastdoor data seal|verify``: history rows chained off the write path, heads in the ledger, and
every later edit to history (rows, seals, or both rewritten together) reported before undo trusts it."""

from __future__ import annotations

from pathlib import Path

import psycopg

from tests.broker.conftest import cli, entries, query
from tests.data.conftest import replit_tables, with_run


def _enabled(env: dict[str, str], url: str) -> None:
    replit_tables(url)
    assert cli(env, "data", "enable", "--dsn", url).returncode == 0
    with_run(url, "run-1", "UPDATE executives SET title = 'x' WHERE id <= 20")
    with_run(url, "run-2", "DELETE FROM executives WHERE id > 1200")


def test_seal_anchors_the_head_in_the_ledger_and_verify_passes(env: dict[str, str], isolated_home: Path,
                                                               pg_database: str) -> None:  # fmt: skip
    _enabled(env, pg_database)
    sealed = cli(env, "data", "seal", "--dsn", pg_database)
    assert sealed.returncode == 0 and "sealed 26 history rows" in sealed.stdout, sealed.stderr
    assert "nothing new to seal (26 rows" in cli(env, "data", "seal", "--dsn", pg_database).stdout
    anchors = [e for e in entries(isolated_home) if e["type"] == "data-seal"]
    assert len(anchors) == 1 and anchors[0]["seq"] == 26 and anchors[0]["head"].startswith("sha256:")
    with_run(pg_database, "run-3", "UPDATE companies SET name = 'y' WHERE id = 1")
    checked = cli(env, "data", "verify", "--dsn", pg_database)
    assert checked.returncode == 0, checked.stderr
    assert "26 rows sealed, the chain reaches all 1 heads in the ledger; 1 newer rows not sealed yet" in checked.stdout


def test_a_transaction_open_during_a_seal_is_sealed_by_the_next(env: dict[str, str], pg_database: str) -> None:
    _enabled(env, pg_database)
    with psycopg.connect(pg_database) as slow:
        slow.execute("SELECT set_config('blastdoor.run_id', 'run-slow', true)")
        slow.execute("UPDATE companies SET name = 'slow' WHERE id = 7")
        assert "sealed 26 history rows" in cli(env, "data", "seal", "--dsn", pg_database).stdout
        slow.commit()
    with_run(pg_database, "run-4", "UPDATE companies SET name = 'later' WHERE id = 8")
    assert "sealed 2 history rows" in cli(env, "data", "seal", "--dsn", pg_database).stdout
    assert query(pg_database, "SELECT count(*) FROM blastdoor_history.changes c JOIN blastdoor_history.seals s "
                              "ON s.change_id = c.id") == [(28,)]  # fmt: skip
    assert cli(env, "data", "verify", "--dsn", pg_database).returncode == 0


def _tampered(env: dict[str, str], url: str, sql: str) -> str:
    _enabled(env, url)
    assert cli(env, "data", "seal", "--dsn", url).returncode == 0
    query(url, sql)
    checked = cli(env, "data", "verify", "--dsn", url)
    assert checked.returncode == 1 and "FAILS verification" in checked.stderr
    undo = cli(env, "data", "undo", "--dsn", url, "--run", "run-2")
    assert undo.returncode == 1 and "fails verification" in undo.stderr and "undo will not trust it" in undo.stderr
    assert query(url, "SELECT count(*) FROM executives") == [(1200,)]
    return checked.stderr


def test_a_deleted_history_row_is_reported(env: dict[str, str], pg_database: str) -> None:
    report = _tampered(env, pg_database, "DELETE FROM blastdoor_history.changes WHERE id = 22")
    assert "history row 22 (seal 22) was deleted after sealing" in report


def test_an_altered_history_row_is_reported(env: dict[str, str], pg_database: str) -> None:
    report = _tampered(env, pg_database, "UPDATE blastdoor_history.changes SET run_id = 'someone-else' WHERE id = 3")
    assert "history row 3 (seal 3) was altered after sealing" in report


def test_history_and_seals_rewritten_together_disagree_with_the_ledger(env: dict[str, str], pg_database: str) -> None:
    # the forger deletes run-2's rows and its seals, then re-seals from scratch: a self-consistent chain
    report = _tampered(env, pg_database, "DELETE FROM blastdoor_history.changes WHERE run_id = 'run-2';"
                                         "TRUNCATE blastdoor_history.seals; UPDATE blastdoor_history.meta SET sealed_below = 0")  # fmt: skip
    assert "the ledger anchored seal 26, but the database holds only 0" in report


def test_a_row_slipped_in_below_the_sealed_horizon_is_reported(env: dict[str, str], pg_database: str) -> None:
    report = _tampered(env, pg_database, "INSERT INTO blastdoor_history.changes (txid, at, role, relid, table_schema, "
                       "table_name, op, old_row, new_row, run_id, session_id, request, entry, snapshot_id) "
                       "SELECT 3, now(), 'x', relid, table_schema, table_name, 'I', NULL, '{}', 'forged', '', '', '', '' "
                       "FROM blastdoor_history.changes LIMIT 1")  # fmt: skip
    assert "appeared below the sealed horizon" in report
