"""The DROP guard and the broker together: a DROP of a tracked table passes only when the broker saved
the table first and proves it with the guard key of Blastdoor's home; the history of every brokered
statement names the run, the decision's ledger entry and the snapshot."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.broker.conftest import add_profile, cli, entries, query, snapshot_of
from tests.broker.test_sql import ALLOW_DESTROY
from tests.data.conftest import replit_tables


def _production(env: dict[str, str], home: Path, url: str) -> None:
    """The Replit tables under history, reached through a production profile; destruction allowed
    by policy (so no approval is needed; the broker still saves first)."""
    (home / "policy.toml").write_text(ALLOW_DESTROY)
    replit_tables(url)
    add_profile(env, "prod-db", scope="production", allow=["*"], values={"DATABASE_URL": url})
    assert cli(env, "data", "enable", "--profile", "prod-db").returncode == 0


def test_the_broker_may_drop_a_tracked_table_after_saving_it(env: dict[str, str], isolated_home: Path,
                                                             pg_database: str) -> None:  # fmt: skip
    _production(env, isolated_home, pg_database)
    dropped = cli(env, "sql", "--profile", "prod-db", "--run", "run-drop", "--", "DROP TABLE executives")
    assert dropped.returncode == 0, dropped.stderr
    snapshot = snapshot_of(dropped.stderr)
    assert query(pg_database, "SELECT to_regclass('executives')") == [(None,)]
    assert query(pg_database, "SELECT table_name FROM blastdoor_history.tracked") == [("companies",)]

    restored = cli(env, "restore", snapshot)
    assert restored.returncode == 0, restored.stderr
    assert query(pg_database, "SELECT count(*) FROM executives") == [(1206,)]
    again = cli(env, "data", "enable", "--profile", "prod-db")
    assert again.returncode == 0 and "tracking public.executives" in again.stdout, again.stderr
    assert [e["type"] for e in entries(isolated_home) if e["type"].startswith("data-")] == ["data-enable", "data-enable"]


def test_a_broker_without_the_guard_key_cannot_drop(env: dict[str, str], isolated_home: Path, pg_database: str) -> None:
    _production(env, isolated_home, pg_database)
    shutil.rmtree(isolated_home / "data")  # a broker whose home never enabled history on this database
    refused = cli(env, "sql", "--profile", "prod-db", "--", "DROP TABLE executives")
    assert refused.returncode == 1 and "under row history" in refused.stderr
    assert query(pg_database, "SELECT count(*) FROM executives") == [(1206,)]


def test_brokered_writes_name_the_run_the_decision_and_the_snapshot(env: dict[str, str], isolated_home: Path,
                                                                    pg_database: str) -> None:  # fmt: skip
    _production(env, isolated_home, pg_database)
    done = cli(env, "sql", "--profile", "prod-db", "--run", "run-u", "--session", "sess-9", "--",
               "UPDATE companies SET name = upper(name) WHERE id <= 3")  # fmt: skip
    assert done.returncode == 0, done.stderr
    tags = query(pg_database, "SELECT DISTINCT run_id, session_id, entry, snapshot_id FROM blastdoor_history.changes")
    decision = [e for e in entries(isolated_home) if e.get("source") == "broker:sql"]
    assert len(tags) == 1 and tags[0][:2] == ("run-u", "sess-9") and tags[0][3].startswith("s-")
    assert len(decision) == 1 and decision[0]["run"] == "run-u"
    from blastdoor.config import Settings
    from blastdoor.ledger.ledger import Ledger

    with Ledger.open(Settings.resolve(home=str(isolated_home))) as ledger:
        body = next(row.body for row in ledger.store.scan() if row.seq == int(tags[0][2]))
    assert b'"broker:sql"' in body
