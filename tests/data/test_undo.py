"""``blastdoor data undo`` on a real PostgreSQL server: the Replit shape through the broker and back
row for row, conflicts with later writers, selections without a run id, and interruptions."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.broker.conftest import add_profile, cli, entries, query
from tests.broker.test_sql import ALLOW_DESTROY
from tests.data.conftest import replit_tables, snapshot, with_run


def test_the_replit_run_is_undone_row_for_row(env: dict[str, str], isolated_home: Path, pg_database: str) -> None:
    (isolated_home / "policy.toml").write_text(ALLOW_DESTROY)
    replit_tables(pg_database)
    before = snapshot(pg_database)
    add_profile(env, "prod-db", scope="production", allow=["*"], values={"DATABASE_URL": pg_database})
    assert cli(env, "data", "enable", "--profile", "prod-db").returncode == 0
    done = cli(env, "sql", "--profile", "prod-db", "--run", "run-replit", "--",
               "DELETE FROM executives; DELETE FROM companies")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert query(pg_database, "SELECT count(*) FROM executives UNION ALL SELECT count(*) FROM companies") == [(0,), (0,)]
    decision = next(e for e in entries(isolated_home) if e.get("source") == "broker:sql")
    tags = query(pg_database, "SELECT DISTINCT run_id, entry, snapshot_id <> '' FROM blastdoor_history.changes")
    assert len(tags) == 1 and tags[0][0] == "run-replit" and tags[0][2]
    assert int(tags[0][1]) > 0 and decision["run"] == "run-replit"

    dry = cli(env, "data", "undo", "--profile", "prod-db", "--run", "run-replit", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would revert 2402 changes" in dry.stdout and "nothing was changed" in dry.stdout
    assert query(pg_database, "SELECT count(*) FROM executives") == [(0,)]

    undone = cli(env, "data", "undo", "--profile", "prod-db", "--run", "run-replit")
    assert undone.returncode == 0, undone.stderr
    assert "reverted 2402 changes of run run-replit in 2 tables" in undone.stdout
    assert "public.companies: 1196 rows put back" in undone.stdout
    assert snapshot(pg_database) == before
    states = [e["state"] for e in entries(isolated_home) if e["type"] == "data-undo"]
    assert states == ["started", "done"]
    twice = cli(env, "data", "undo", "--profile", "prod-db", "--run", "run-replit")
    assert "reverted 0 changes" in twice.stdout and snapshot(pg_database) == before


def test_later_writes_by_others_are_conflicts_listed_and_resolved_on_request(env: dict[str, str], pg_database: str) -> None:
    replit_tables(pg_database)
    assert cli(env, "data", "enable", "--dsn", pg_database).returncode == 0
    with_run(pg_database, "run-agent", "UPDATE executives SET title = 'fired' WHERE id <= 10")
    with_run(pg_database, "run-human", "UPDATE executives SET title = 'rehired' WHERE id = 3")
    refused = cli(env, "data", "undo", "--dsn", pg_database, "--run", "run-agent")
    assert refused.returncode == 1
    assert 'public.executives {"id": 3}: changed later by run-human' in refused.stderr
    assert "nothing was changed" in refused.stderr and "--on-conflict skip" in refused.stderr
    assert query(pg_database, "SELECT count(*) FROM executives WHERE title = 'fired'") == [(9,)]

    skipped = cli(env, "data", "undo", "--dsn", pg_database, "--run", "run-agent", "--on-conflict", "skip")
    assert skipped.returncode == 0, skipped.stderr
    assert "9 restored" in skipped.stdout and "skipped 1 rows in conflict" in skipped.stdout
    assert query(pg_database, "SELECT title FROM executives WHERE id IN (2, 3) ORDER BY id") == [("title 2",), ("rehired",)]

    overwritten = cli(env, "data", "undo", "--dsn", pg_database, "--run", "run-agent", "--on-conflict", "overwrite")
    assert overwritten.returncode == 0, overwritten.stderr
    assert query(pg_database, "SELECT title FROM executives WHERE id = 3") == [("title 3",)]


def test_a_row_changed_while_history_was_off_is_a_conflict(env: dict[str, str], pg_database: str) -> None:
    replit_tables(pg_database)
    assert cli(env, "data", "enable", "--dsn", pg_database).returncode == 0
    with_run(pg_database, "run-a", "DELETE FROM executives WHERE id = 5")
    # what only a superuser can do: switch the guard and the triggers off, write, switch them back on
    query(pg_database, "DROP EVENT TRIGGER blastdoor_history_ddl; ALTER TABLE executives DISABLE TRIGGER blastdoor_history_i;"
                       "INSERT INTO executives (id, company, name) VALUES (5, 1, 'impostor');"
                       "ALTER TABLE executives ENABLE ALWAYS TRIGGER blastdoor_history_i")  # fmt: skip
    refused = cli(env, "data", "undo", "--dsn", pg_database, "--run", "run-a")
    assert refused.returncode == 1 and '{"id": 5}: row exists again' in refused.stderr


def test_writes_without_a_run_id_are_undone_by_transaction_or_time(env: dict[str, str], pg_database: str) -> None:
    replit_tables(pg_database)
    before = snapshot(pg_database)
    assert cli(env, "data", "enable", "--dsn", pg_database).returncode == 0
    # what `npm run db:push` does: its own connection, no run id
    query(pg_database, "BEGIN; UPDATE companies SET founded = NULL WHERE id % 2 = 0; DELETE FROM executives WHERE pay > 1000000; COMMIT")
    txid = query(pg_database, "SELECT DISTINCT txid, run_id FROM blastdoor_history.changes")
    assert len(txid) == 1 and txid[0][1] == "unknown"
    shown = cli(env, "data", "history", "--dsn", pg_database, "--txid", str(txid[0][0]))
    assert f"transaction {txid[0][0]}: 805 row changes" in shown.stdout
    undone = cli(env, "data", "undo", "--dsn", pg_database, "--txid", str(txid[0][0]))
    assert undone.returncode == 0, undone.stderr
    assert snapshot(pg_database) == before
    query(pg_database, "DELETE FROM executives WHERE id > 1200")
    since = cli(env, "data", "undo", "--dsn", pg_database, "--since", "10m")
    assert since.returncode == 0, since.stderr  # back to ten minutes ago: the first undo's rows included
    assert snapshot(pg_database) == before


def _undo_caught_sleeping(env: dict[str, str], url: str, run: str) -> subprocess.Popen[str]:
    """An undo of ``run`` (which deleted everything), stopped inside a slow trigger of the
    application's own on executives, which undo reaches after putting companies back."""
    replit_tables(url)
    assert cli(env, "data", "enable", "--dsn", url).returncode == 0
    with_run(url, run, "DELETE FROM executives; DELETE FROM companies")
    query(url, "CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(30); RETURN NULL; END $$;"
               "CREATE TRIGGER slow AFTER INSERT ON executives FOR EACH STATEMENT EXECUTE FUNCTION slow()")  # fmt: skip
    undo = subprocess.Popen([sys.executable, "-m", "blastdoor", "data", "undo", "--dsn", url, "--run", run],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.monotonic() + 60
    while not query(url, "SELECT 1 FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND datname = current_database()"):
        assert time.monotonic() < deadline and undo.poll() is None, undo.communicate()
        time.sleep(0.1)
    return undo


def test_an_undo_interrupted_halfway_changes_nothing_and_says_so(env: dict[str, str], isolated_home: Path,
                                                                 pg_database: str) -> None:  # fmt: skip
    undo = _undo_caught_sleeping(env, pg_database, "run-x")
    os.kill(undo.pid, signal.SIGINT)
    _out, err = undo.communicate(timeout=60)
    assert undo.returncode == 1
    assert "undo interrupted" in err and "nothing was changed" in err
    assert query(pg_database, "SELECT count(*) FROM companies UNION ALL SELECT count(*) FROM executives") == [(0,), (0,)]
    assert [e["state"] for e in entries(isolated_home) if e["type"] == "data-undo"] == ["started", "failed"]


def test_a_killed_undo_leaves_the_database_as_it_was(env: dict[str, str], pg_database: str) -> None:
    undo = _undo_caught_sleeping(env, pg_database, "run-k")
    undo.kill()
    undo.communicate(timeout=30)
    query(pg_database, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'blastdoor-data'")
    deadline = time.monotonic() + 30
    while query(pg_database, "SELECT 1 FROM pg_stat_activity WHERE application_name = 'blastdoor-data'"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert query(pg_database, "SELECT count(*) FROM companies UNION ALL SELECT count(*) FROM executives") == [(0,), (0,)]
    assert query(pg_database, "SELECT count(*) FROM blastdoor_history.undone") == [(0,)]
