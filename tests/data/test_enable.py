"""``blastdoor data enable|disable`` on a real PostgreSQL server: what is recorded, with whose run id,
and what the application's role can no longer do to its own tables' history."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from tests.broker.conftest import SECRET, cli, cli_in_a_deleted_folder, entries, ledger_bytes, query
from tests.data.conftest import replit_tables, with_run

HISTORY = "blastdoor_history.changes"


def test_enable_tracks_every_table_with_a_baseline_and_is_additive(env: dict[str, str], isolated_home: Path,
                                                                   pg_database: str) -> None:  # fmt: skip
    replit_tables(pg_database)
    done = cli(env, "data", "enable", "--dsn", pg_database, "--tables", "companies")
    assert done.returncode == 0, done.stderr
    assert "tracking public.companies (key id; 1196 rows copied as its baseline)" in done.stdout
    assert "DROP guard: on" in done.stdout and SECRET not in done.stdout
    query(pg_database, "CREATE TABLE notes (body text)")
    again = cli(env, "data", "enable", "--dsn", pg_database)
    assert "tracking public.executives (key id; 1206 rows" in again.stdout
    assert "tracking public.notes (0 rows copied; NO primary key" in again.stdout
    assert "already tracked: public.companies" in again.stdout
    assert query(pg_database, "SELECT table_name, count(*) FROM blastdoor_history.baseline GROUP BY 1 ORDER BY 1") == [
        ("companies", 1196), ("executives", 1206)]  # fmt: skip
    recorded = [e for e in entries(isolated_home) if e["type"] == "data-enable"]
    assert [a["table"] for e in recorded for a in e["added"]] == ["public.companies", "public.executives", "public.notes"]
    assert len({e["database"] for e in recorded}) == 1
    key = isolated_home / "data" / f"{recorded[0]['database']}.key"
    assert key.stat().st_mode & 0o777 == 0o600
    assert SECRET not in ledger_bytes(isolated_home).decode("latin-1")


def test_every_write_is_recorded_with_images_and_the_run_that_made_it(env: dict[str, str], pg_database: str) -> None:
    replit_tables(pg_database)
    assert cli(env, "data", "enable", "--dsn", pg_database).returncode == 0
    with_run(pg_database, "run-7", "UPDATE companies SET name = 'renamed' WHERE id = 1; "
             "UPDATE executives SET id = 5000 WHERE id = 1206; DELETE FROM executives WHERE id <= 3")  # fmt: skip
    query(pg_database, "INSERT INTO companies VALUES (6000, 'untagged', NULL)")
    rows = query(pg_database, f"SELECT op, old_row->>'id', new_row->>'id', run_id, table_name FROM {HISTORY} ORDER BY id")
    assert rows[:2] == [("U", "1", "1", "run-7", "companies"), ("D", "1206", None, "run-7", "executives")]
    assert rows[2] == ("I", None, "5000", "run-7", "executives")  # a changed key is a delete and an insert
    assert [r[:2] for r in rows[3:6]] == [("D", "1"), ("D", "2"), ("D", "3")]
    assert rows[6] == ("I", None, "6000", "unknown", "companies")
    image = query(pg_database, f"SELECT old_row FROM {HISTORY} WHERE old_row->>'id' = '1' AND table_name = 'executives'")[0][0]
    assert image == {"id": 1, "company": 2, "name": "exec 1", "title": "title 1", "pay": 1000.5, "tags": {"n": 1}}

    shown = cli(env, "data", "history", "--dsn", pg_database, "--run", "run-7")
    assert shown.returncode == 0, shown.stderr
    assert "run run-7: 6 row changes in 2 tables" in shown.stdout
    assert "public.companies: updated 1" in shown.stdout
    assert "public.executives: deleted 4, inserted 1" in shown.stdout
    as_json = json.loads(cli(env, "data", "history", "--dsn", pg_database, "--since", "1h", "--json").stdout)
    assert as_json["total"] == 7


def test_truncate_is_copied_before_it_runs(env: dict[str, str], pg_database: str) -> None:
    query(pg_database, "CREATE TABLE sessions (id int PRIMARY KEY, who text); "
                       "INSERT INTO sessions SELECT g, 'user ' || g FROM generate_series(1, 50) g")  # fmt: skip
    assert cli(env, "data", "enable", "--dsn", pg_database).returncode == 0
    with_run(pg_database, "run-t", "TRUNCATE sessions")
    assert query(pg_database, f"SELECT op, count(*) FROM {HISTORY} WHERE run_id = 'run-t' GROUP BY op") == [("T", 50)]
    undone = cli(env, "data", "undo", "--dsn", pg_database, "--run", "run-t")
    assert undone.returncode == 0, undone.stderr
    assert query(pg_database, "SELECT count(*), min(who), max(id) FROM sessions") == [(50, "user 1", 50)]


def test_the_application_role_cannot_touch_history_or_switch_it_off(env: dict[str, str], pg_database: str,
                                                                     app_role: str) -> None:  # fmt: skip
    query(app_role, "CREATE TABLE orders (id int PRIMARY KEY, total int); INSERT INTO orders VALUES (1, 10), (2, 20)")
    assert cli(env, "data", "enable", "--dsn", pg_database).returncode == 0
    query(app_role, "UPDATE orders SET total = 11 WHERE id = 1")
    role = app_role.split("//")[1].split(":")[0]
    assert query(pg_database, f"SELECT role, op FROM {HISTORY}") == [(role, "U")]
    for attack in (f"DELETE FROM {HISTORY}", f"UPDATE {HISTORY} SET run_id = 'x'", f"SELECT * FROM {HISTORY}",
                   "DROP TABLE orders", "ALTER TABLE orders DROP COLUMN total", "ALTER TABLE orders DISABLE TRIGGER ALL",
                   "DROP TRIGGER blastdoor_history_d ON orders", "TRUNCATE blastdoor_history.seals",
                   "SELECT set_config('blastdoor.snapshot_id', 's-000000000000', false); DROP TABLE orders"):  # fmt: skip
        with pytest.raises(psycopg.Error) as refused:
            query(app_role, attack)
        assert "permission denied" in str(refused.value) or "blastdoor" in str(refused.value), attack
    assert query(app_role, "SELECT count(*) FROM orders") == [(2,)]
    query(app_role, "ALTER TABLE orders RENAME TO purchases; DELETE FROM purchases WHERE id = 2")
    assert query(pg_database, "SELECT table_name FROM blastdoor_history.tracked") == [("purchases",)]
    assert query(pg_database, f"SELECT table_name, op FROM {HISTORY} ORDER BY id")[-1] == ("purchases", "D")


def test_a_superuser_drop_without_the_broker_is_refused_too(env: dict[str, str], pg_database: str) -> None:
    replit_tables(pg_database)
    assert cli(env, "data", "enable", "--dsn", pg_database).returncode == 0
    for attack in ("DROP TABLE executives", "DROP SCHEMA public CASCADE",
                   "BEGIN; SET LOCAL blastdoor.snapshot_id = 's-0123456789ab'; SET LOCAL blastdoor.snapshot_token = 'ff'; "
                   "DROP TABLE executives; COMMIT"):  # fmt: skip
        with pytest.raises(psycopg.Error, match="under row history"):
            query(pg_database, attack)
    assert query(pg_database, "SELECT count(*) FROM executives") == [(1206,)]


def test_disable_removes_everything_it_installed(env: dict[str, str], isolated_home: Path, pg_database: str) -> None:
    replit_tables(pg_database)
    assert cli(env, "data", "enable", "--dsn", pg_database).returncode == 0
    unconfirmed = cli(env, "data", "disable", "--dsn", pg_database)
    assert unconfirmed.returncode == 1 and "--yes" in unconfirmed.stderr
    done = cli(env, "data", "disable", "--dsn", pg_database, "--yes")
    assert done.returncode == 0, done.stderr
    assert query(pg_database, "SELECT to_regnamespace('blastdoor_history'), "
                 "(SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'blastdoor%'), "
                 "(SELECT count(*) FROM pg_event_trigger)") == [(None, 0, 0)]  # fmt: skip
    query(pg_database, "DROP TABLE executives")  # no guard left
    assert "data-disable" in [e["type"] for e in entries(isolated_home)]
    again = cli(env, "data", "disable", "--dsn", pg_database, "--yes")
    assert again.returncode == 1 and "not enabled" in again.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["enable"], "exactly one of --dsn URL and --profile NAME"),
    (["enable", "--dsn", "mysql://root@127.0.0.1/app"], "neither a PostgreSQL URL nor a SQLite file"),
    (["enable", "--dsn", "postgresql://postgres@127.0.0.1:1/none"], "cannot connect"),
    (["enable", "--profile", "nobody"], "nobody"),
    (["history", "--dsn", "postgresql://x@127.0.0.1/db"], "exactly one of --run"),
    (["history", "--dsn", "postgresql://x@127.0.0.1/db", "--since", "yesterday-ish"], "--since wants a time"),
    (["undo", "--dsn", "postgresql://x@127.0.0.1/db", "--txid", "12a"], "--txid wants a transaction id"),
    (["undo", "--dsn", "postgresql://x@127.0.0.1/db", "--run", "a", "--since", "1h"], "exactly one of --run"),
])  # fmt: skip
def test_bad_input_gets_one_line_and_changes_nothing(env: dict[str, str], args: list[str], message: str) -> None:
    done = cli(env, "data", *args)
    assert done.returncode == 1, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_an_unknown_table_aborts_enable_without_installing_anything(env: dict[str, str], pg_database: str) -> None:
    replit_tables(pg_database)
    done = cli(env, "data", "enable", "--dsn", pg_database, "--tables", "companies", "nope")
    assert done.returncode == 1 and "no table 'nope'" in done.stderr
    assert query(pg_database, "SELECT to_regnamespace('blastdoor_history')") == [(None,)]


def test_a_role_that_may_not_read_history_gets_one_line_that_says_so(env: dict[str, str], pg_database: str,
                                                                     app_role: str) -> None:  # fmt: skip
    query(app_role, "CREATE TABLE orders (id int PRIMARY KEY, total int)")
    assert cli(env, "data", "enable", "--dsn", pg_database).returncode == 0
    for action, doing, hint in (("history", "read history", "reading history needs the role that enabled it"),
                                ("verify", "verify history", "verifying needs the role that enabled history")):  # fmt: skip
        refused = cli(env, "data", action, "--dsn", app_role, *(["--run", "run-1"] if action == "history" else []))
        assert refused.returncode != 0 and "Traceback" not in refused.stderr, refused.stderr
        assert f"could not {doing} on " in refused.stderr and "permission denied" in refused.stderr, refused.stderr
        assert hint in refused.stderr and SECRET not in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1


def test_a_deleted_working_folder_matters_only_to_a_relative_sqlite_path(env: dict[str, str], tmp_path: Path,
                                                                         pg_database: str) -> None:  # fmt: skip
    postgres = cli_in_a_deleted_folder(env, tmp_path / "gone", "data", "verify", "--dsn", pg_database)
    assert postgres.returncode == 1 and "row history is not enabled" in postgres.stderr, postgres.stderr
    relative = cli_in_a_deleted_folder(env, tmp_path / "gone", "data", "verify", "--dsn", "sqlite:///app.db")
    assert relative.returncode == 1 and "the working folder it is relative to cannot be read" in relative.stderr
    for done in (postgres, relative):
        assert len(done.stderr.strip().splitlines()) == 1 and SECRET not in done.stderr, done.stderr
