"""``blastdoor sql`` on a real PostgreSQL database: the Replit shape approved, run, and undone with
``blastdoor restore``; faults (a crash after the snapshot, a lost connection) and secrets in errors."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest

from tests.approvals.terminal import on_terminal
from tests.broker.conftest import (
    SECRET,
    add_profile,
    cli,
    crash_after_snapshot,
    entries,
    ledger_bytes,
    query,
    snapshot_of,
)

PASSPHRASE = "correct horse battery"
ALLOW_DESTROY = """
[[rule]]
id = "test.allow-destroy"
verb = ["delete", "destroy", "modify"]
decision = "allow"
reason = "the test allows it so that no approval is needed"
"""


def replit_tables(url: str) -> None:
    query(url, "CREATE TABLE executives (id serial PRIMARY KEY, name text NOT NULL, title text);"
               "INSERT INTO executives (name, title) SELECT 'exec ' || g, 'title ' || (g % 7) FROM generate_series(1, 1206) g;"
               "CREATE TABLE companies (id int PRIMARY KEY, name text, founded date);"
               "INSERT INTO companies SELECT g, 'company ' || g, DATE '2000-01-01' + g FROM generate_series(1, 1196) g")  # fmt: skip


def approve(home: Path, env: dict[str, str], output: str) -> None:
    request = re.search(r"Approval request (r-[0-9a-f]{12})", output)
    assert request, output
    code, screen = on_terminal(["approver", "add", "alice"], [("new passphrase", PASSPHRASE), ("again", PASSPHRASE)],
                               home=home, env=env)  # fmt: skip
    assert code == 0, screen
    code, screen = on_terminal(["approve", request.group(1)], [("passphrase", PASSPHRASE)], home=home, env=env)
    assert code == 0, screen


def test_replit_shape_held_approved_run_and_restored_row_for_row(
    env: dict[str, str], isolated_home: Path, pg_database: str
) -> None:
    replit_tables(pg_database)
    before = (query(pg_database, "SELECT * FROM executives ORDER BY id"), query(pg_database, "SELECT * FROM companies ORDER BY id"))
    add_profile(env, "prod-db", scope="production", allow=["*"], values={"DATABASE_URL": pg_database})
    statement = "DELETE FROM executives; DROP TABLE companies"
    held = cli(env, "sql", "--profile", "prod-db", "--run", "run-replit", "--", statement)
    assert held.returncode == 4 and query(pg_database, "SELECT count(*) FROM executives") == [(1206,)]
    approve(isolated_home, env, held.stderr)
    done = cli(env, "sql", "--profile", "prod-db", "--run", "run-replit", "--", statement)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["DELETE 1206", "DROP TABLE"]
    snapshot = snapshot_of(done.stderr)
    assert query(pg_database, "SELECT count(*) FROM executives") == [(0,)]
    assert query(pg_database, "SELECT to_regclass('companies')") == [(None,)]
    again = cli(env, "sql", "--profile", "prod-db", "--run", "run-replit", "--", statement)
    assert again.returncode == 4  # the grant was single-use: the retry is a new request

    restored = cli(env, "restore", snapshot)
    assert restored.returncode == 0, restored.stderr
    assert "public.companies: restored from" in restored.stdout
    assert "public.executives: 1206 of 1206 deleted rows put back" in restored.stdout
    assert (query(pg_database, "SELECT * FROM executives ORDER BY id"), query(pg_database, "SELECT * FROM companies ORDER BY id")) == before
    assert "restored already" in cli(env, "restore", snapshot).stderr

    kinds = [(e["type"], e.get("run", "")) for e in entries(isolated_home) if e["type"] in ("snapshot", "broker-sql", "restore")]
    assert kinds == [("snapshot", "run-replit"), ("broker-sql", "run-replit"), ("restore", "")]
    run = next(e for e in entries(isolated_home) if e["type"] == "broker-sql")
    assert run["result"] == "committed" and run["snapshot"] == snapshot and [s["rows"] for s in run["statements"]] == [1206, -1]
    assert SECRET not in ledger_bytes(isolated_home).decode("latin-1")


def test_updated_and_truncated_rows_come_back(env: dict[str, str], isolated_home: Path, pg_database: str) -> None:
    (isolated_home / "policy.toml").write_text(ALLOW_DESTROY)
    replit_tables(pg_database)
    before = query(pg_database, "SELECT * FROM executives ORDER BY id")
    add_profile(env, "prod-db", scope="production", allow=["*"], values={"DATABASE_URL": pg_database})
    updated = cli(env, "sql", "--profile", "prod-db", "--", "UPDATE executives SET title = 'gone' WHERE id <= 600")
    truncated = cli(env, "sql", "--profile", "prod-db", "--", "TRUNCATE companies")
    assert updated.returncode == 0 and truncated.returncode == 0, updated.stderr + truncated.stderr
    assert query(pg_database, "SELECT count(*) FROM executives WHERE title = 'gone'") == [(600,)]
    assert query(pg_database, "SELECT count(*) FROM companies") == [(0,)]
    for done in (truncated, updated):
        snapshot = snapshot_of(done.stderr)
        restored = cli(env, "restore", snapshot)
        assert restored.returncode == 0, restored.stderr
    assert "old values of 600 of 600 updated rows put back" in restored.stdout  # only the rows its WHERE picked
    assert query(pg_database, "SELECT * FROM executives ORDER BY id") == before
    assert query(pg_database, "SELECT count(*) FROM companies") == [(1196,)]


def test_a_text_whose_statements_change_each_others_rows_is_saved_whole(
    env: dict[str, str], isolated_home: Path, pg_database: str
) -> None:
    (isolated_home / "policy.toml").write_text(ALLOW_DESTROY)
    query(pg_database, "CREATE TABLE kv (a int, b int); INSERT INTO kv VALUES (1, 0), (2, 0), (2, 0), (3, 1)")
    before = sorted(query(pg_database, "SELECT * FROM kv"))
    add_profile(env, "prod-db", scope="production", allow=["*"], values={"DATABASE_URL": pg_database})
    done = cli(env, "sql", "--profile", "prod-db", "--", "UPDATE kv SET b = 1 WHERE a = 1; DELETE FROM kv WHERE b = 1")
    assert done.returncode == 0, done.stderr
    assert sorted(query(pg_database, "SELECT * FROM kv")) == [(2, 0), (2, 0)]
    snapshot = snapshot_of(done.stderr)
    restored = cli(env, "restore", snapshot)
    assert restored.returncode == 0, restored.stderr
    assert "no primary key" in restored.stdout  # the UPDATE part cannot match rows; the DELETE part can
    assert sorted(query(pg_database, "SELECT * FROM kv")) == before  # no surviving row duplicated
    renamed = cli(env, "sql", "--profile", "prod-db", "--", "ALTER TABLE kv RENAME TO gone; DROP TABLE gone")
    assert renamed.returncode == 5 and "broker.no-snapshot" in renamed.stderr


def test_statements_that_cannot_be_saved_first_do_not_run(env: dict[str, str], isolated_home: Path, pg_database: str) -> None:
    (isolated_home / "policy.toml").write_text(ALLOW_DESTROY)
    replit_tables(pg_database)
    add_profile(env, "prod-db", scope="production", allow=["*"], values={"DATABASE_URL": pg_database})
    for statement in ("DO $$ BEGIN EXECUTE 'DELETE FROM executives'; END $$",
                      "WITH gone AS (DELETE FROM executives RETURNING id) SELECT count(*) FROM gone"):  # fmt: skip
        done = cli(env, "sql", "--profile", "prod-db", "--", statement)
        assert done.returncode == 5 and "broker.no-snapshot" in done.stderr, done.stderr
    assert query(pg_database, "SELECT count(*) FROM executives") == [(1206,)]
    query(pg_database, "CREATE TABLE events (at date) PARTITION BY RANGE (at);"
                       "CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');"
                       "INSERT INTO events VALUES ('2026-05-01')")  # fmt: skip
    for statement in ("TRUNCATE events", "DROP TABLE events"):
        done = cli(env, "sql", "--profile", "prod-db", "--", statement)
        assert done.returncode == 1 and "could not save" in done.stderr and "Traceback" not in done.stderr, done.stderr
    query(pg_database, "ALTER TABLE executives ADD COLUMN company int REFERENCES companies (id)")
    cascade = cli(env, "sql", "--profile", "prod-db", "--", "TRUNCATE companies CASCADE")
    assert cascade.returncode == 1 and "referring to public.companies" in cascade.stderr, cascade.stderr
    assert query(pg_database, "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM companies)") == [(1, 1196)]


@pytest.mark.parametrize("action, statement, said", [
    ("ON DELETE CASCADE", "DELETE FROM executives WHERE id > 1000",
     "deleting from public.executives would also change rows of public.reports (CASCADE) through foreign keys"),
    ("ON DELETE SET NULL", "DELETE FROM executives WHERE id > 1000",
     "deleting from public.executives would also change rows of public.reports (SET NULL) through foreign keys"),
    ("ON UPDATE CASCADE", "UPDATE executives SET title = 'moved', id = id + 5000 WHERE id > 1000",
     "updating public.executives would also change rows of public.reports (CASCADE) through foreign keys"),
])  # fmt: skip
def test_rows_that_foreign_keys_would_change_unsaved_are_refused_before_anything_runs(
    env: dict[str, str], isolated_home: Path, pg_database: str, action: str, statement: str, said: str
) -> None:
    (isolated_home / "policy.toml").write_text(ALLOW_DESTROY)
    replit_tables(pg_database)
    query(pg_database, f"CREATE TABLE reports (id int PRIMARY KEY, boss int REFERENCES executives (id) {action});"
                       "INSERT INTO reports VALUES (1, 1100), (2, 5)")  # fmt: skip
    add_profile(env, "prod-db", scope="production", allow=["*"], values={"DATABASE_URL": pg_database})
    refused = cli(env, "sql", "--profile", "prod-db", "--", statement)
    assert refused.returncode == 1 and "could not save" in refused.stderr and said in refused.stderr, refused.stderr
    assert "first in statements of their own, or let a person run it after a verified backup" in refused.stderr
    assert "Traceback" not in refused.stderr and refused.stdout == ""
    assert query(pg_database, "SELECT count(*), max(id), count(*) FILTER (WHERE title = 'moved') FROM executives") == [(1206, 1206, 0)]
    assert query(pg_database, "SELECT * FROM reports ORDER BY id") == [(1, 1100), (2, 5)]
    assert query(pg_database, "SELECT to_regnamespace('blastdoor_snapshots')") == [(None,)]  # not even a copy was made
    failed = [e for e in entries(isolated_home) if e["type"] in ("snapshot", "broker-sql")]
    assert [e["state"] for e in failed] == ["failed"] and said in failed[0]["error"]


def test_rows_foreign_keys_reach_through_child_tables_or_within_a_part_count(
    env: dict[str, str], isolated_home: Path, pg_database: str
) -> None:
    (isolated_home / "policy.toml").write_text(ALLOW_DESTROY)
    query(pg_database, "CREATE TABLE people (id int PRIMARY KEY); CREATE TABLE staff (PRIMARY KEY (id)) INHERITS (people);"
                       "CREATE TABLE badges (holder int REFERENCES staff (id) ON DELETE SET DEFAULT DEFAULT 1);"
                       "INSERT INTO staff VALUES (1), (2); INSERT INTO badges VALUES (2);"
                       "CREATE TABLE tree (id int PRIMARY KEY, up int REFERENCES tree (id) ON DELETE CASCADE);"
                       "INSERT INTO tree VALUES (1, NULL), (2, 1), (3, 2)")  # fmt: skip
    add_profile(env, "prod-db", scope="production", allow=["*"], values={"DATABASE_URL": pg_database})
    # a DELETE on the parent deletes the child table's rows too, and with them what badges refer to
    inherited = cli(env, "sql", "--profile", "prod-db", "--", "DELETE FROM people WHERE id = 2")
    assert inherited.returncode == 1 and "change rows of public.badges (SET DEFAULT)" in inherited.stderr, inherited.stderr
    # rows of the table itself: unsaved when only the WHERE's rows are copied, saved when the whole table is
    some = cli(env, "sql", "--profile", "prod-db", "--", "DELETE FROM tree WHERE id = 1")
    assert some.returncode == 1 and "change rows of public.tree (CASCADE)" in some.stderr, some.stderr
    assert query(pg_database, "SELECT (SELECT count(*) FROM staff), (SELECT holder FROM badges), (SELECT count(*) FROM tree)") == [(2, 2, 3)]
    whole = cli(env, "sql", "--profile", "prod-db", "--", "DELETE FROM tree")
    assert whole.returncode == 0, whole.stderr
    restored = cli(env, "restore", snapshot_of(whole.stderr))
    assert restored.returncode == 0 and "3 of 3 deleted rows put back" in restored.stdout, restored.stderr
    assert query(pg_database, "SELECT * FROM tree ORDER BY id") == [(1, None), (2, 1), (3, 2)]


def test_foreign_keys_that_change_no_other_rows_do_not_stop_a_snapshot(
    env: dict[str, str], isolated_home: Path, pg_database: str
) -> None:
    (isolated_home / "policy.toml").write_text(ALLOW_DESTROY)
    replit_tables(pg_database)
    # NO ACTION on delete (the default) changes no row of reports; ON UPDATE CASCADE only when the key changes
    query(pg_database, "CREATE TABLE reports (id int PRIMARY KEY, boss int REFERENCES executives (id), "
                       "editor int REFERENCES executives (id) ON UPDATE CASCADE ON DELETE RESTRICT);"
                       "INSERT INTO reports VALUES (1, 5, 6)")  # fmt: skip
    before = query(pg_database, "SELECT * FROM executives ORDER BY id")
    add_profile(env, "prod-db", scope="production", allow=["*"], values={"DATABASE_URL": pg_database})
    deleted = cli(env, "sql", "--profile", "prod-db", "--", "DELETE FROM executives WHERE id > 1000")
    updated = cli(env, "sql", "--profile", "prod-db", "--", "UPDATE executives SET title = 'gone' WHERE id <= 600")
    assert deleted.returncode == 0 and updated.returncode == 0, deleted.stderr + updated.stderr
    assert query(pg_database, "SELECT count(*), count(*) FILTER (WHERE title = 'gone') FROM executives") == [(1000, 600)]
    for done in (updated, deleted):
        restored = cli(env, "restore", snapshot_of(done.stderr))
        assert restored.returncode == 0, restored.stderr
    assert "206 of 206 deleted rows put back" in restored.stdout
    assert query(pg_database, "SELECT * FROM executives ORDER BY id") == before
    assert query(pg_database, "SELECT * FROM reports") == [(1, 5, 6)]


def test_a_crash_between_snapshot_and_statement_leaves_the_snapshot_recorded(
    env: dict[str, str], isolated_home: Path, pg_database: str
) -> None:
    (isolated_home / "policy.toml").write_text(ALLOW_DESTROY)
    replit_tables(pg_database)
    add_profile(env, "prod-db", scope="production", allow=["*"], values={"DATABASE_URL": pg_database})
    saved = crash_after_snapshot(env, isolated_home, patch="blastdoor.broker.sql_run.run_sql", profile="prod-db",
                                 statement="DELETE FROM executives WHERE id > 1000")  # fmt: skip
    assert query(pg_database, "SELECT count(*) FROM executives") == [(1206,)]
    assert saved["parts"][0]["rows"] == 206
    copy = query(pg_database, "SELECT count(*) FROM blastdoor_snapshots." + saved["snapshot"].replace("-", "_") + "_0")
    assert copy == [(206,)]


def _cutting(url: str, where: str) -> threading.Thread:
    """A started thread that cuts the broker's connection once PostgreSQL shows it ``where`` (in
    pg_stat_activity), looking for 30 s at most."""

    def cut() -> None:
        for _ in range(300):
            if query(url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          f"WHERE application_name = 'blastdoor-broker' AND {where}"):  # fmt: skip
                return
            time.sleep(0.1)

    cutter = threading.Thread(target=cut)
    cutter.start()
    return cutter


def test_a_lost_connection_is_reported_with_what_is_known(env: dict[str, str], isolated_home: Path, pg_database: str) -> None:
    (isolated_home / "policy.toml").write_text(ALLOW_DESTROY)
    replit_tables(pg_database)
    add_profile(env, "prod-db", scope="production", allow=["*"], values={"DATABASE_URL": pg_database})

    cutter = _cutting(pg_database, "query LIKE '%pg_sleep%'")
    done = cli(env, "sql", "--profile", "prod-db", "--", "DELETE FROM executives WHERE id > 1000; SELECT pg_sleep(30)")
    cutter.join()
    assert done.returncode == 1
    assert "connection was lost before COMMIT" in done.stderr and "nothing of it stayed" in done.stderr
    assert SECRET not in done.stderr
    assert query(pg_database, "SELECT count(*) FROM executives") == [(1206,)]
    outcome = next(e for e in entries(isolated_home) if e["type"] == "broker-sql")
    assert outcome["result"] == "connection-lost"
    snapshot = next(e for e in entries(isolated_home) if e["type"] == "snapshot")["snapshot"]
    assert "did not commit" in cli(env, "restore", snapshot).stderr  # restoring would duplicate rows


def test_a_connection_lost_during_commit_is_reported_as_unknown(env: dict[str, str], isolated_home: Path,
                                                                pg_database: str) -> None:  # fmt: skip
    """A deferred trigger keeps COMMIT busy, and the connection is cut then: whether the change
    stayed cannot be known from the client's side, so the outcome says so (and the snapshot can
    still be restored, since the rows may be gone)."""
    (isolated_home / "policy.toml").write_text(ALLOW_DESTROY)
    replit_tables(pg_database)
    query(pg_database, "CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(30); "
                       "RETURN NULL; END $$; CREATE CONSTRAINT TRIGGER at_commit AFTER DELETE ON executives "
                       "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit()")  # fmt: skip
    add_profile(env, "prod-db", scope="production", allow=["*"], values={"DATABASE_URL": pg_database})

    cutter = _cutting(pg_database, "query = 'COMMIT'")
    done = cli(env, "sql", "--profile", "prod-db", "--", "DELETE FROM executives WHERE id > 1000")
    cutter.join()
    assert done.returncode == 1 and "lost while COMMIT was under way" in done.stderr, done.stderr
    assert "check the database before retrying" in done.stderr and SECRET not in done.stderr
    outcome = next(e for e in entries(isolated_home) if e["type"] == "broker-sql")
    assert outcome["result"] == "commit-unknown"
    assert query(pg_database, "SELECT count(*) FROM executives") == [(1206,)]  # PostgreSQL had not committed


@pytest.mark.parametrize("statement, broken, message", [
    ("SELEC oops", "", "syntax error"),
    ("SELECT 1", "closed-port", "connection"),
    ("SELECT 1", "missing-database", "does not exist"),
])  # fmt: skip
def test_errors_never_carry_the_secret(env: dict[str, str], isolated_home: Path, pg_database: str,
                                       statement: str, broken: str, message: str) -> None:  # fmt: skip
    url = {"": pg_database, "closed-port": re.sub(r":\d+/", ":1/", pg_database),
           "missing-database": pg_database.rsplit("/", 1)[0] + "/no_such_database"}[broken]  # fmt: skip
    add_profile(env, "dev-db", scope="development", allow=["*"], values={"DATABASE_URL": url})
    done = cli(env, "sql", "--profile", "dev-db", "--", statement)
    assert done.returncode == 1 and message in done.stderr, done.stderr
    assert SECRET not in done.stdout + done.stderr and "Traceback" not in done.stderr
    assert SECRET not in ledger_bytes(isolated_home).decode("latin-1")


def test_exec_hands_psql_the_database_without_naming_it(env: dict[str, str], isolated_home: Path, pg_database: str) -> None:
    replit_tables(pg_database)
    add_profile(env, "prod-db", scope="production", allow=["read"], values={"DATABASE_URL": pg_database})
    done = cli(env, "exec", "--profile", "prod-db", "--", "psql", "-At", "-c", "SELECT count(*) FROM companies")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1196"
    dropped = cli(env, "exec", "--profile", "prod-db", "--", "psql", "-c", "DROP TABLE companies")
    assert dropped.returncode == 5 and "broker.out-of-purpose" in dropped.stderr
    assert query(pg_database, "SELECT count(*) FROM companies") == [(1196,)]


def _destroyed(env: dict[str, str], home: Path, url: str, statement: str) -> str:
    """The id of the snapshot taken when ``statement`` ran through ``blastdoor sql`` on the Replit
    tables at ``url``, with a policy that lets it run."""
    (home / "policy.toml").write_text(ALLOW_DESTROY)
    replit_tables(url)
    add_profile(env, "prod-db", scope="production", allow=["*"], values={"DATABASE_URL": url})
    done = cli(env, "sql", "--profile", "prod-db", "--", statement)
    assert done.returncode == 0, done.stderr
    return snapshot_of(done.stderr)


def test_every_saved_part_is_checked_before_anything_is_restored(env: dict[str, str], isolated_home: Path, pg_database: str) -> None:
    import json

    snapshot = _destroyed(env, isolated_home, pg_database, "DELETE FROM executives WHERE id < 10; TRUNCATE companies")
    manifest = json.loads((isolated_home / "snapshots" / f"{snapshot}.json").read_text())
    rows, dump = manifest["parts"]
    assert rows["sha256"].startswith("sha256:") and dump["sha256"].startswith("sha256:")
    # the second part (restored first) tampered with: nothing is restored, not even the first part
    saved = Path(dump["file"]).read_bytes()
    Path(dump["file"]).write_bytes(saved[:-1] + bytes([saved[-1] ^ 1]))
    refused = cli(env, "restore", snapshot)
    assert refused.returncode == 1 and "changed since it was saved" in refused.stderr and "nothing was restored" in refused.stderr
    assert query(pg_database, "SELECT count(*) FROM executives UNION ALL SELECT count(*) FROM companies") == [(1197,), (0,)]
    # the first part (restored last) tampered with: the second is not put back either
    Path(dump["file"]).write_bytes(saved)
    query(pg_database, f"UPDATE {rows['copy']} SET name = 'forged' WHERE id = 1")
    refused = cli(env, "restore", snapshot)
    assert refused.returncode == 1 and "changed since they were taken" in refused.stderr, refused.stderr
    assert query(pg_database, "SELECT count(*) FROM executives UNION ALL SELECT count(*) FROM companies") == [(1197,), (0,)]
    assert [e["result"] for e in entries(isolated_home) if e["type"] == "restore"] == ["refused", "refused"]
    query(pg_database, f"UPDATE {rows['copy']} SET name = 'exec 1' WHERE id = 1")  # as it was: the digest agrees again
    restored = cli(env, "restore", snapshot)
    assert restored.returncode == 0, restored.stderr
    assert query(pg_database, "SELECT count(*) FROM executives UNION ALL SELECT count(*) FROM companies") == [(1206,), (1196,)]


def test_a_snapshot_goes_back_only_into_the_database_it_was_taken_in(env: dict[str, str], isolated_home: Path,
                                                                     pg_database: str) -> None:  # fmt: skip
    snapshot = _destroyed(env, isolated_home, pg_database, "DELETE FROM executives WHERE id < 10; DROP TABLE companies")
    server, name = pg_database.rsplit("/", 1)
    other = f"{name}_other"
    query(f"{server}/postgres", f"CREATE DATABASE {other}")
    try:
        query(f"{server}/{other}", "CREATE TABLE executives (id int PRIMARY KEY, name text, title text)")
        add_profile(env, "prod-db", scope="production", allow=["*"], values={"DATABASE_URL": f"{server}/{other}"},
                    extra=("--replace",))  # fmt: skip
        refused = cli(env, "restore", snapshot)
        assert refused.returncode == 1 and f"database {name}, server PostgreSQL system" in refused.stderr, refused.stderr
        assert f"now reaches database {other}, server PostgreSQL system" in refused.stderr and SECRET not in refused.stderr
        assert query(f"{server}/{other}", "SELECT count(*) FROM executives UNION ALL SELECT count(*) FROM pg_tables "
                                          "WHERE tablename = 'companies'") == [(0,), (0,)]  # fmt: skip
    finally:
        query(f"{server}/postgres", f"DROP DATABASE {other} WITH (FORCE)")
    add_profile(env, "prod-db", scope="production", allow=["*"], values={"DATABASE_URL": pg_database}, extra=("--replace",))
    restored = cli(env, "restore", snapshot)
    assert restored.returncode == 0, restored.stderr
    assert query(pg_database, "SELECT count(*) FROM executives UNION ALL SELECT count(*) FROM companies") == [(1206,), (1196,)]


def test_a_row_copy_whose_columns_were_swapped_is_not_restored(env: dict[str, str], isolated_home: Path, pg_database: str) -> None:
    snapshot = _destroyed(env, isolated_home, pg_database, "UPDATE executives SET name = 'gone', title = 'gone' WHERE id < 10")
    copy = f"blastdoor_snapshots.{snapshot.replace('-', '_')}_0"
    # every row prints the same, only the names changed places: the old values would go back swapped
    query(pg_database, f"ALTER TABLE {copy} RENAME COLUMN name TO swap; ALTER TABLE {copy} RENAME COLUMN title TO name; "
                       f"ALTER TABLE {copy} RENAME COLUMN swap TO title")  # fmt: skip
    refused = cli(env, "restore", snapshot)
    assert refused.returncode == 1 and "changed since they were taken" in refused.stderr, refused.stdout + refused.stderr
    assert query(pg_database, "SELECT count(*) FROM executives WHERE name = 'gone'") == [(9,)]


def test_a_restore_that_fails_part_way_says_what_was_put_back(env: dict[str, str], isolated_home: Path, pg_database: str) -> None:
    snapshot = _destroyed(env, isolated_home, pg_database, "DELETE FROM executives WHERE id < 10; TRUNCATE companies")
    query(pg_database, "ALTER TABLE executives ADD CONSTRAINT later CHECK (id >= 10) NOT VALID")  # the deleted rows cannot go back
    failed = cli(env, "restore", snapshot)
    assert failed.returncode == 1 and failed.stdout.splitlines() == ["public.companies: its rows are back from " +
                                                                     str(isolated_home / "snapshots" / snapshot / "1.dump")]  # fmt: skip
    assert "failed at part 2 of 2" in failed.stderr and "1 of its 2 parts were put back first" in failed.stderr, failed.stderr
    report = [e for e in entries(isolated_home) if e["type"] == "restore"][-1]
    assert report["result"] == "failed" and report["report"] == failed.stdout.splitlines()
    query(pg_database, "ALTER TABLE executives DROP CONSTRAINT later")
    again = cli(env, "restore", snapshot)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[0].startswith("public.companies: has rows again, so it was left alone")
    assert query(pg_database, "SELECT count(*) FROM executives UNION ALL SELECT count(*) FROM companies") == [(1206,), (1196,)]
