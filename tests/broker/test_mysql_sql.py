"""``blastdoor sql`` on a real MySQL / MariaDB database: the Replit shape approved, run and undone
with ``blastdoor restore``; what MySQL commits on its own; faults (a crash after the snapshot, a
lost connection) and secrets in errors."""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
from pathlib import Path

import pytest

from tests.broker.conftest import (
    SECRET,
    add_profile,
    cli,
    crash_after_snapshot,
    entries,
    ledger_bytes,
    mysql_admin,
    mysql_query,
    snapshot_of,
)
from tests.broker.test_sql import ALLOW_DESTROY, approve

_DIGITS = "(SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL " \
          "SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9)"
NUMBERS = f"(SELECT a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 1 AS n FROM {_DIGITS} a, {_DIGITS} b, {_DIGITS} c, {_DIGITS} e)"


def replit_tables(url: str) -> None:
    mysql_query(url, "CREATE TABLE executives (id int AUTO_INCREMENT PRIMARY KEY, name varchar(40) NOT NULL, "
                     "title varchar(40), photo blob) ENGINE=InnoDB")  # fmt: skip
    mysql_query(url, "INSERT INTO executives (name, title, photo) SELECT CONCAT('exec ', n), CONCAT('title ', n % 7), "
                     f"UNHEX(CONCAT('00FF', HEX(n))) FROM {NUMBERS} g WHERE n <= 1206 ORDER BY n")  # fmt: skip
    mysql_query(url, "CREATE TABLE `company list` (id int PRIMARY KEY, `the name` varchar(40), founded date)")
    mysql_query(url, "INSERT INTO `company list` SELECT n, CONCAT('company ', n), DATE '2000-01-01' + INTERVAL n DAY "
                     f"FROM {NUMBERS} g WHERE n <= 1196")  # fmt: skip


def both(url: str) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    return (mysql_query(url, "SELECT * FROM executives ORDER BY id"), mysql_query(url, "SELECT * FROM `company list` ORDER BY id"))


def test_replit_shape_held_approved_run_and_restored_row_for_row(
    env: dict[str, str], isolated_home: Path, mysql_database: str
) -> None:
    replit_tables(mysql_database)
    before = both(mysql_database)
    add_profile(env, "prod-my", scope="production", allow=["*"], values={"DATABASE_URL": mysql_database})
    statement = "DELETE FROM executives; DROP TABLE `company list`"
    held = cli(env, "sql", "--profile", "prod-my", "--run", "run-replit", "--", statement)
    assert held.returncode == 4 and mysql_query(mysql_database, "SELECT count(*) FROM executives") == [(1206,)]
    approve(isolated_home, env, held.stderr)
    done = cli(env, "sql", "--profile", "prod-my", "--run", "run-replit", "--", statement)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["DELETE 1206", "DROP TABLE"]
    snapshot = snapshot_of(done.stderr)
    assert mysql_query(mysql_database, "SELECT count(*) FROM executives") == [(0,)]
    assert mysql_query(mysql_database, "SHOW TABLES LIKE 'company list'") == []
    assert cli(env, "sql", "--profile", "prod-my", "--run", "run-replit", "--", statement).returncode == 4  # single-use grant

    restored = cli(env, "restore", snapshot)
    assert restored.returncode == 0, restored.stderr
    name = mysql_database.rsplit("/", 1)[1]
    assert f"{name}.company list: restored from" in restored.stdout
    assert f"{name}.executives: 1206 of 1206 deleted rows put back" in restored.stdout
    assert both(mysql_database) == before  # blobs, dates and names with spaces included
    assert "restored already" in cli(env, "restore", snapshot).stderr

    kinds = [(e["type"], e.get("run", "")) for e in entries(isolated_home) if e["type"] in ("snapshot", "broker-sql", "restore")]
    assert kinds == [("snapshot", "run-replit"), ("broker-sql", "run-replit"), ("restore", "")]
    run = next(e for e in entries(isolated_home) if e["type"] == "broker-sql")
    assert run["result"] == "committed" and run["snapshot"] == snapshot and [s["rows"] for s in run["statements"]] == [1206, 0]
    assert run["output_sha256"].startswith("sha256:")
    assert SECRET not in ledger_bytes(isolated_home).decode("latin-1")


def test_reads_print_rows_and_what_mysql_commits_on_its_own_is_reported(
    env: dict[str, str], isolated_home: Path, mysql_database: str
) -> None:
    mysql_query(mysql_database, "CREATE TABLE kv (k varchar(10) PRIMARY KEY, v int)")
    mysql_query(mysql_database, "INSERT INTO kv VALUES ('a', 1), ('b;c', 2)")
    mysql_query(mysql_database, "CREATE TABLE scratch (x int)")
    add_profile(env, "dev-my", scope="development", allow=["*"], values={"DATABASE_URL": mysql_database})
    done = cli(env, "sql", "--profile", "dev-my", "--", "SELECT k, v FROM kv ORDER BY k # the keys\n; SELECT 'it''s;' AS said, NULL AS n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["k\tv", "a\t1", "b;c\t2", "(2 rows)", "said\tn", "it's;\tNULL", "(1 row)"]
    # the text is cut where the server cuts it: a backslash escapes a quote, -- needs a space after it
    escaped = cli(env, "sql", "--profile", "dev-my", "--", "SELECT 'it\\'s; DROP TABLE kv; --' AS said; SELECT 1--1 AS two")
    assert escaped.returncode == 0, escaped.stderr
    assert escaped.stdout.splitlines() == ["said", "it's; DROP TABLE kv; --", "(1 row)", "two", "2", "(1 row)"]
    assert mysql_query(mysql_database, "SELECT count(*) FROM kv") == [(2,)]
    # a failing statement rolls back the ones before it, when nothing committed on its own
    failed = cli(env, "sql", "--profile", "dev-my", "--", "UPDATE kv SET v = 10 WHERE k = 'a'; SELECT * FROM nowhere")
    assert failed.returncode == 1 and "doesn't exist" in failed.stderr and "nothing of it stayed" in failed.stderr
    # DDL commits what ran before it, even when it then fails (here: an unknown table): said, not hidden
    mixed = cli(env, "sql", "--profile", "dev-my", "--",
                "UPDATE kv SET v = 20 WHERE k = 'a'; DROP TABLE scratch; UPDATE kv SET v = 30 WHERE k = 'b;c'; DROP TABLE nowhere")  # fmt: skip
    assert mixed.returncode == 1
    assert "statements 1, 2, 3 had already committed" in mixed.stderr, mixed.stderr
    assert mysql_query(mysql_database, "SELECT v FROM kv ORDER BY k") == [(20,), (30,)]
    outcome = [e for e in entries(isolated_home) if e["type"] == "broker-sql"][-1]
    assert outcome["result"] == "partly-committed" and "statements 1, 2, 3" in outcome["known"]
    # a failing DML statement after DDL: what the DDL committed stayed, the rest did not
    after = cli(env, "sql", "--profile", "dev-my", "--", "CREATE TABLE made (x int); UPDATE kv SET v = 40; SELECT * FROM nowhere")
    assert after.returncode == 1 and "statement 1 had already committed" in after.stderr and "the rest was rolled back" in after.stderr
    assert mysql_query(mysql_database, "SELECT v FROM kv ORDER BY k") == [(20,), (30,)]


def test_what_an_executable_comment_holds_runs_only_as_judged(env: dict[str, str], isolated_home: Path,
                                                              mysql_database: str) -> None:  # fmt: skip
    mysql_query(mysql_database, "CREATE TABLE keep (x int)")
    add_profile(env, "mydev", scope="development", allow=["read"], values={"DATABASE_URL": mysql_database})
    # '/*!' is a string: the comment after it ends at its own */, and the DROP is a statement the judge sees
    hidden = cli(env, "sql", "--profile", "mydev", "--", "SELECT '/*!' /* c */ ; DROP TABLE keep")
    assert hidden.returncode == 5 and "broker.out-of-purpose" in hidden.stderr, hidden.stderr
    assert mysql_query(mysql_database, "SHOW TABLES LIKE 'keep'") == [("keep",)]
    # what the server is sent is the text as judged, its executable comments opened, whatever their version
    ran = cli(env, "sql", "--profile", "mydev", "--", "SELECT 1 /*!99999 + 1 */ AS n; SELECT 1--/*! 1 */ AS two")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines() == ["n", "2", "(1 row)", "two", "2", "(1 row)"]


def test_updated_truncated_and_dropped_database_come_back(env: dict[str, str], isolated_home: Path, mysql_database: str) -> None:
    (isolated_home / "policy.toml").write_text(ALLOW_DESTROY)
    replit_tables(mysql_database)
    name = mysql_database.rsplit("/", 1)[1]
    mysql_query(mysql_database, "CREATE VIEW senior AS SELECT id, name FROM executives WHERE title = 'title 0'")
    before = both(mysql_database)
    add_profile(env, "prod-my", scope="production", allow=["*"], values={"DATABASE_URL": mysql_database})
    updated = cli(env, "sql", "--profile", "prod-my", "--", "UPDATE `executives` SET title = 'gone' WHERE id <= 600 # the first ones")
    truncated = cli(env, "sql", "--profile", "prod-my", "--", "TRUNCATE TABLE `company list`")
    assert updated.returncode == 0 and truncated.returncode == 0, updated.stderr + truncated.stderr
    assert mysql_query(mysql_database, "SELECT count(*) FROM executives WHERE title = 'gone'") == [(600,)]
    assert mysql_query(mysql_database, "SELECT count(*) FROM `company list`") == [(0,)]
    for done in (truncated, updated):
        restored = cli(env, "restore", snapshot_of(done.stderr))
        assert restored.returncode == 0, restored.stderr
    assert f"{name}.executives: old values of 600 of 600 updated rows put back" in restored.stdout  # only the rows its WHERE picked
    assert both(mysql_database) == before

    # rows are put back by ordinary INSERTs, which fire the table's triggers: this one is made afterwards
    mysql_query(mysql_database, "CREATE TRIGGER stamp BEFORE INSERT ON `company list` FOR EACH ROW SET NEW.`the name` = UPPER(NEW.`the name`)")
    dropped = cli(env, "sql", "--profile", "prod-my", "--", f"DROP DATABASE `{name}`")
    assert dropped.returncode == 0, dropped.stderr
    assert mysql_query(mysql_database.rsplit("/", 1)[0] + "/", f"SHOW DATABASES LIKE '{name}'") == []
    restored = cli(env, "restore", snapshot_of(dropped.stderr))
    assert restored.returncode == 0 and f"{name}: restored from" in restored.stdout, restored.stderr
    assert both(mysql_database) == before
    assert mysql_query(mysql_database, "SELECT count(*) FROM senior") == [(172,)]  # the view came back
    view = cli(env, "sql", "--profile", "prod-my", "--", "DROP VIEW senior")
    assert view.returncode == 0 and cli(env, "restore", snapshot_of(view.stderr)).returncode == 0, view.stderr
    assert mysql_query(mysql_database, "SELECT count(*) FROM senior") == [(172,)]
    mysql_query(mysql_database, "INSERT INTO `company list` VALUES (5000, 'lower', NULL)")  # and the trigger
    assert mysql_query(mysql_database, "SELECT `the name` FROM `company list` WHERE id = 5000") == [("LOWER",)]


def test_statements_that_cannot_be_saved_first_do_not_run(env: dict[str, str], isolated_home: Path, mysql_database: str) -> None:
    (isolated_home / "policy.toml").write_text(ALLOW_DESTROY)
    replit_tables(mysql_database)
    mysql_query(mysql_database, "CREATE PROCEDURE wipe() DELETE FROM executives")
    add_profile(env, "prod-my", scope="production", allow=["*"], values={"DATABASE_URL": mysql_database})
    for statement in ("CALL wipe()", "REPLACE INTO executives (id, name) VALUES (1, 'x')",
                      "SET @cut = 1000; DELETE FROM executives WHERE id > @cut",
                      "START TRANSACTION; DELETE FROM executives WHERE id > 1000; COMMIT",
                      "/*!50000 DELETE FROM executives */", "PREPARE s FROM 'DELETE FROM executives'"):  # fmt: skip
        done = cli(env, "sql", "--profile", "prod-my", "--", statement)
        assert done.returncode == 5 and "broker.no-snapshot" in done.stderr, statement + done.stderr
    assert mysql_query(mysql_database, "SELECT count(*) FROM executives") == [(1206,)]
    # rows that foreign keys would delete with them are not saved: refused when saving, nothing ran
    mysql_query(mysql_database, "CREATE TABLE reports (id int PRIMARY KEY, boss int, "
                                "FOREIGN KEY (boss) REFERENCES executives (id) ON DELETE CASCADE)")  # fmt: skip
    mysql_query(mysql_database, "INSERT INTO reports VALUES (1, 1100), (2, 5)")
    cascade = cli(env, "sql", "--profile", "prod-my", "--", "DELETE FROM executives WHERE id > 1000")
    assert cascade.returncode == 1 and "could not save" in cascade.stderr and "reports (CASCADE)" in cascade.stderr, cascade.stderr
    assert "Traceback" not in cascade.stderr
    assert mysql_query(mysql_database, "SELECT (SELECT count(*) FROM executives), (SELECT count(*) FROM reports)") == [(1206, 2)]
    failed = [e for e in entries(isolated_home) if e["type"] == "snapshot"]
    assert failed and failed[-1]["state"] == "failed"


def test_a_crash_between_snapshot_and_statement_leaves_the_snapshot_recorded(
    env: dict[str, str], isolated_home: Path, mysql_database: str
) -> None:
    (isolated_home / "policy.toml").write_text(ALLOW_DESTROY)
    replit_tables(mysql_database)
    add_profile(env, "prod-my", scope="production", allow=["*"], values={"DATABASE_URL": mysql_database})
    saved = crash_after_snapshot(env, isolated_home, patch="blastdoor.broker.mysql_sql.run_mysql", profile="prod-my",
                                 statement="DELETE FROM executives WHERE id > 1000")  # fmt: skip
    assert mysql_query(mysql_database, "SELECT count(*) FROM executives") == [(1206,)]
    assert saved["parts"][0]["rows"] == 206
    copy = saved["snapshot"].replace("-", "_") + "_0"
    assert mysql_query(mysql_database, f"SELECT count(*) FROM blastdoor_snapshots.{copy}") == [(206,)]
    forced = cli(env, "restore", saved["snapshot"], "--force")  # it did not run: every row is there, none doubled
    assert forced.returncode == 0 and "0 of 206 deleted rows put back; 206 were there again" in forced.stdout, forced.stderr


def _kill_when_sleeping(url: str) -> None:
    user = url.split("//", 1)[1].split(":", 1)[0]
    for _ in range(300):
        found = mysql_query(url.rsplit("/", 1)[0] + "/", "SELECT ID FROM information_schema.PROCESSLIST "
                            f"WHERE USER = '{user}' AND INFO LIKE 'SELECT SLEEP(30)%' AND ID <> CONNECTION_ID()")  # fmt: skip
        if found:
            mysql_admin(f"KILL CONNECTION {found[0][0]}")
            return
        time.sleep(0.1)


@pytest.mark.parametrize("statement, result, said", [
    ("DELETE FROM executives WHERE id > 1000; SELECT SLEEP(30)", "connection-lost",
     "connection was lost before COMMIT: MySQL rolled the transaction back, nothing of it stayed"),
    ("DROP TABLE `company list`; DELETE FROM executives WHERE id > 1000; SELECT SLEEP(30)", "partly-committed",
     "statement 1 had already committed"),
])  # fmt: skip
def test_a_lost_connection_is_reported_with_what_is_known(env: dict[str, str], isolated_home: Path, mysql_database: str,
                                                          statement: str, result: str, said: str) -> None:  # fmt: skip
    (isolated_home / "policy.toml").write_text(ALLOW_DESTROY)
    replit_tables(mysql_database)
    add_profile(env, "prod-my", scope="production", allow=["*"], values={"DATABASE_URL": mysql_database})
    killer = threading.Thread(target=_kill_when_sleeping, args=(mysql_database,))
    killer.start()
    done = cli(env, "sql", "--profile", "prod-my", "--", statement)
    killer.join()
    assert done.returncode == 1 and said in done.stderr, done.stderr
    assert SECRET not in done.stdout + done.stderr
    assert mysql_query(mysql_database, "SELECT count(*) FROM executives") == [(1206,)]  # the DELETE was rolled back
    outcome = next(e for e in entries(isolated_home) if e["type"] == "broker-sql")
    assert outcome["result"] == result
    restored = cli(env, "restore", snapshot_of(done.stderr))
    if result == "connection-lost":
        assert restored.returncode == 1 and "did not commit" in restored.stderr  # restoring would duplicate rows
    else:  # the DROP stayed: the table comes back, the rows that were never deleted are not doubled
        assert restored.returncode == 0 and "company list: restored from" in restored.stdout, restored.stderr
        assert "0 of 1206 deleted rows put back" in restored.stdout
        assert mysql_query(mysql_database, "SELECT count(*) FROM `company list`") == [(1196,)]


@pytest.mark.parametrize("broken, message", [
    ("syntax", "You have an error in your SQL syntax"),
    ("wrong-password", "Access denied"),
    ("closed-port", "cannot connect"),
    ("missing-database", "_gone"),
    ("unknown-parameter", "parameters Blastdoor does not read: sslmode"),
    ("tls-file", "cannot read the TLS files"),
])  # fmt: skip
def test_errors_never_carry_the_secret(env: dict[str, str], isolated_home: Path, mysql_database: str,
                                       broken: str, message: str) -> None:  # fmt: skip
    wrong = "Wr0ng-" + SECRET[::-1]
    url = {"syntax": mysql_database, "wrong-password": mysql_database.replace(SECRET, wrong),
           "closed-port": re.sub(r":\d+/", ":1/", mysql_database), "missing-database": mysql_database + "_gone",
           "unknown-parameter": mysql_database + "?sslmode=require",  # PostgreSQL's spelling
           "tls-file": mysql_database + "?ssl_ca=/nonexistent/ca.pem"}[broken]  # fmt: skip
    add_profile(env, "dev-my", scope="development", allow=["*"], values={"DATABASE_URL": url})
    done = cli(env, "sql", "--profile", "dev-my", "--", "SELEC oops" if broken == "syntax" else "SELECT 1")
    assert done.returncode == 1 and message in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    for secret in (SECRET, wrong):
        assert secret not in done.stdout + done.stderr
        assert secret not in ledger_bytes(isolated_home).decode("latin-1")


def test_the_snapshot_is_checked_before_anything_is_restored(env: dict[str, str], isolated_home: Path, mysql_database: str) -> None:
    (isolated_home / "policy.toml").write_text(ALLOW_DESTROY)
    replit_tables(mysql_database)
    add_profile(env, "prod-my", scope="production", allow=["*"], values={"DATABASE_URL": mysql_database})
    done = cli(env, "sql", "--profile", "prod-my", "--", "DELETE FROM executives WHERE id < 10; TRUNCATE `company list`")
    assert done.returncode == 0, done.stderr
    snapshot = snapshot_of(done.stderr)
    manifest = json.loads((isolated_home / "snapshots" / f"{snapshot}.json").read_text())
    dump = isolated_home / "snapshots" / snapshot / manifest["parts"][1]["files"][1]
    dump.write_bytes(dump.read_bytes().replace(b"company 7", b"company X"))
    refused = cli(env, "restore", snapshot)
    assert refused.returncode == 1 and "changed since it was saved" in refused.stderr, refused.stderr
    assert mysql_query(mysql_database, "SELECT count(*) FROM executives") == [(1197,)]  # nothing was restored
    mysql_query(mysql_database, f"UPDATE blastdoor_snapshots.{snapshot.replace('-', '_')}_0 SET name = 'forged' WHERE id = 1")
    dump.write_bytes(dump.read_bytes().replace(b"company X", b"company 7"))
    refused = cli(env, "restore", snapshot)
    assert refused.returncode == 1 and "changed since they were taken" in refused.stderr, refused.stderr
    assert mysql_query(mysql_database, "SELECT count(*) FROM `company list`") == [(0,)]


def test_a_snapshot_goes_back_only_into_the_database_it_was_taken_in(env: dict[str, str], isolated_home: Path,
                                                                     mysql_database: str) -> None:  # fmt: skip
    import json

    (isolated_home / "policy.toml").write_text(ALLOW_DESTROY)
    replit_tables(mysql_database)
    add_profile(env, "prod-my", scope="production", allow=["*"], values={"DATABASE_URL": mysql_database})
    done = cli(env, "sql", "--profile", "prod-my", "--", "DELETE FROM executives WHERE id > 1000")
    assert done.returncode == 0, done.stderr
    snapshot = snapshot_of(done.stderr)
    manifest_path = isolated_home / "snapshots" / f"{snapshot}.json"
    manifest = json.loads(manifest_path.read_text())
    name = mysql_database.rsplit("/", 1)[1]
    assert manifest["identity"]["database"] == name and manifest["identity"]["server"]
    # the profile stored again for another database on the same server (this user may use blastdoor_snapshots)
    elsewhere = mysql_database.rsplit("/", 1)[0] + "/blastdoor_snapshots"
    add_profile(env, "prod-my", scope="production", allow=["*"], values={"DATABASE_URL": elsewhere}, extra=("--replace",))
    refused = cli(env, "restore", snapshot)
    assert refused.returncode == 1 and f"was taken in database {name}, server " in refused.stderr, refused.stderr
    assert "now reaches database blastdoor_snapshots, server " in refused.stderr
    add_profile(env, "prod-my", scope="production", allow=["*"], values={"DATABASE_URL": mysql_database}, extra=("--replace",))
    # another server (here: its recorded id changed by hand) is refused as well
    manifest_path.write_text(json.dumps(manifest | {"identity": {"database": name, "server": "MySQL server 0-elsewhere"}}))
    moved = cli(env, "restore", snapshot)
    assert moved.returncode == 1 and "server MySQL server 0-elsewhere" in moved.stderr, moved.stderr
    assert mysql_query(mysql_database, "SELECT count(*) FROM executives") == [(1000,)]
    manifest_path.write_text(json.dumps(manifest))
    restored = cli(env, "restore", snapshot)
    assert restored.returncode == 0 and mysql_query(mysql_database, "SELECT count(*) FROM executives") == [(1206,)], restored.stderr


def swap(url: str, table: str) -> None:
    for renamed in ("name TO swap", "title TO name", "swap TO title"):
        mysql_query(url, f"ALTER TABLE {table} RENAME COLUMN {renamed}")


def test_a_row_copy_whose_columns_were_swapped_is_not_restored(env: dict[str, str], isolated_home: Path,
                                                                mysql_database: str) -> None:  # fmt: skip
    (isolated_home / "policy.toml").write_text(ALLOW_DESTROY)
    replit_tables(mysql_database)
    mysql_query(mysql_database, "UPDATE executives SET title = NULL WHERE id = 3")
    add_profile(env, "prod-my", scope="production", allow=["*"], values={"DATABASE_URL": mysql_database})
    done = cli(env, "sql", "--profile", "prod-my", "--", "UPDATE executives SET name = 'gone', title = 'gone' WHERE id < 10")
    assert done.returncode == 0, done.stderr
    snapshot = snapshot_of(done.stderr)
    copy = f"blastdoor_snapshots.{snapshot.replace('-', '_')}_0"
    # CHECKSUM TABLE reads neither names nor types: the old values would have gone back swapped
    swap(mysql_database, copy)
    refused = cli(env, "restore", snapshot)
    assert refused.returncode == 1 and "changed since they were taken" in refused.stderr, refused.stdout + refused.stderr
    assert mysql_query(mysql_database, "SELECT count(*) FROM executives WHERE name = 'gone'") == [(9,)]
    swap(mysql_database, copy)
    # a NULL is not the text '-' or an empty string, nor a value moved into the next column
    mysql_query(mysql_database, f"UPDATE {copy} SET title = '' WHERE id = 3")
    assert cli(env, "restore", snapshot).returncode == 1
    mysql_query(mysql_database, f"UPDATE {copy} SET title = NULL WHERE id = 3")
    restored = cli(env, "restore", snapshot)
    assert restored.returncode == 0 and "old values of 9 of 9 updated rows put back" in restored.stdout, restored.stderr
    assert mysql_query(mysql_database, "SELECT title FROM executives WHERE id = 3") == [(None,)]


def test_backup_verify_of_an_empty_folder_is_one_line(env: dict[str, str], isolated_home: Path, tmp_path: Path) -> None:
    add_profile(env, "shop", scope="production", allow=["read"], values={"DATABASE_URL": f"mariadb://shop:{SECRET}@db.internal/shop"})
    done = cli(env, "backup", "verify", "--profile", "shop", "--dump", str(tmp_path))
    assert done.returncode == 1 and "no dump in" in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert SECRET not in done.stderr + ledger_bytes(isolated_home).decode("latin-1")


@pytest.mark.parametrize("after", [" ", "\t", "\x0b", "\x1c", "\x7f", "\u00a0", "\u2003", "\u0085", "x"])
def test_two_dashes_start_a_comment_where_the_server_says_they_do(mysql_database: str, after: str) -> None:
    import pymysql

    from blastdoor.analyze.sql import split_statements

    judged = split_statements(f"SELECT 2 --{after}1; SELECT 3", mysql=True)
    try:
        served = mysql_query(mysql_database, f"SELECT 2 --{after}1")  # 2 when the rest is a comment
    except pymysql.Error:
        served = []
    assert (served == [(2,)]) == (judged == [f"SELECT 2 --{after}1; SELECT 3"]), (judged, served)


def test_a_session_that_would_cut_the_text_elsewhere_runs_none_of_it() -> None:
    from blastdoor.broker.mysql_sql import as_served

    text = "SELECT 'a\\'; DELETE FROM t; SELECT '"
    assert as_served(text, "STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION") == [text]
    assert as_served(text, "STRICT_TRANS_TABLES,NO_BACKSLASH_ESCAPES") == []
    assert as_served("SELECT 'plain'; DELETE FROM t", "NO_BACKSLASH_ESCAPES,ANSI_QUOTES") == ["SELECT 'plain'", "DELETE FROM t"]


@pytest.mark.parametrize("mode", ["", "NO_BACKSLASH_ESCAPES", "ANSI_QUOTES"])
def test_the_session_s_own_sql_mode_is_read_and_checked_against_how_the_server_cuts(mysql_database: str, mode: str) -> None:
    import pymysql

    from blastdoor.broker.mysql_connect import server
    from blastdoor.broker.mysql_sql import served_pieces

    text = "SELECT 'a\\'', \"b\\\"\" AS said; SELECT 2 AS two"  # SELECT 'a\'', "b\"" AS said; SELECT 2 AS two
    db = server(mysql_database).connect(program="blastdoor-tests")
    try:
        with db.cursor() as cursor:
            if mode:
                cursor.execute(f"SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',{mode}')")
            pieces = served_pieces(cursor, text)  # what run_mysql reads before it runs anything
            if not mode:
                assert pieces == ["SELECT 'a\\'', \"b\\\"\" AS said", "SELECT 2 AS two"]
                cursor.execute(pieces[0])  # the server reads the first piece as the one statement it was judged to be
                assert cursor.fetchall() == (("a'", 'b"'),)
                return
            assert pieces == []  # this session would cut the text elsewhere: none of it runs
            with pytest.raises(pymysql.Error, match="1064"):  # the server agrees: the judged piece is not one statement here
                cursor.execute("SELECT 'a\\'', \"b\\\"\" AS said")
    finally:
        db.close()


def _ca(folder: Path) -> Path:
    """A certificate authority of the test's own, which signed no server's certificate."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "blastdoor test CA")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now)
                   .not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(key, hashes.SHA256()))  # fmt: skip
    path = folder / "ca.pem"
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return path


def test_tls_asked_for_in_the_url_is_enforced(env: dict[str, str], isolated_home: Path, mysql_database: str,
                                              tmp_path: Path) -> None:  # fmt: skip
    from blastdoor.broker import engines
    from blastdoor.broker.errors import BrokerError
    from tests.broker.conftest import MYSQL_BASE

    offered = mysql_query(MYSQL_BASE, "SHOW VARIABLES LIKE 'have_ssl'") == [("have_ssl", "YES")]
    ca = _ca(tmp_path)
    urls = {"required": f"{mysql_database}?ssl-mode=REQUIRED", "verify": f"{mysql_database}?ssl_mode=verify_identity&ssl_ca={ca}",
            "ca-only": f"{mysql_database}?ssl-ca={ca}", "off": f"{mysql_database}?ssl-mode=DISABLED"}  # fmt: skip
    for name, url in urls.items():
        add_profile(env, f"dev-{name}", scope="development", allow=["*"], values={"DATABASE_URL": url})
    required = cli(env, "sql", "--profile", "dev-required", "--", "SHOW STATUS LIKE 'Ssl_cipher'")
    if offered:  # encrypted: the server names the cipher
        assert required.returncode == 0 and re.search(r"Ssl_cipher\t\S+", required.stdout), required.stdout + required.stderr
    else:
        assert required.returncode == 1 and "SSL is required but the server doesn't support it" in required.stderr
    for name in ("verify", "ca-only"):  # no server's certificate is signed by this CA: refused either way
        refused = cli(env, "sql", "--profile", f"dev-{name}", "--", "SELECT 1")
        assert refused.returncode == 1 and ("SSL is required" in refused.stderr or "CERTIFICATE_VERIFY_FAILED" in refused.stderr), refused.stderr
        assert SECRET not in refused.stdout + refused.stderr
    # the command-line programs are held to the same mode through their option file
    verifying = engines.of(urls["verify"])
    assert verifying is not None
    with pytest.raises(BrokerError, match=r"SSL|certificate"):
        verifying.tool(["mariadb", "mysql"], ["--batch", "-e", "SELECT 1"], doing="ask").checked()
    # DISABLED: no TLS, and the programs take it too (a table dumped before a DROP, and restored)
    assert cli(env, "sql", "--profile", "dev-off", "--", "SHOW STATUS LIKE 'Ssl_cipher'").stdout.splitlines()[1] == "Ssl_cipher\t"
    mysql_query(mysql_database, "CREATE TABLE kept (id int PRIMARY KEY)")
    mysql_query(mysql_database, "INSERT INTO kept VALUES (1), (2)")
    add_profile(env, "prod-off", scope="production", allow=["*"], values={"DATABASE_URL": urls["off"]})
    (isolated_home / "policy.toml").write_text(ALLOW_DESTROY)
    dropped = cli(env, "sql", "--profile", "prod-off", "--", "DROP TABLE kept")
    assert dropped.returncode == 0, dropped.stderr
    assert cli(env, "restore", snapshot_of(dropped.stderr)).returncode == 0
    assert mysql_query(mysql_database, "SELECT count(*) FROM kept") == [(2,)]


@pytest.mark.parametrize("query, said", [
    ("ssl-mode=SOMETIMES", "ssl-mode=SOMETIMES, which MySQL does not have"),
    ("ssl-ca=ca.pem", "relative path ca.pem"),
    ("ssl-key=/k.pem", "ssl-key without ssl-cert"),
    ("ssl-mode=DISABLED&ssl-ca=/ca.pem", "with ssl-mode=DISABLED, which would not check them"),
    ("ssl-mode=REQUIRED&ssl_mode=DISABLED", "repeated ones"),
])  # fmt: skip
def test_tls_options_that_make_no_sense_are_one_line(query: str, said: str) -> None:
    from blastdoor.broker.errors import BrokerError
    from blastdoor.broker.mysql_connect import server

    with pytest.raises(BrokerError) as raised:
        server(f"mysql://app:{SECRET}@db.internal/shop?{query}")
    assert said in raised.value.message and SECRET not in raised.value.diagnostics()


def test_each_kind_of_program_gets_tls_as_it_reads_it(tmp_path: Path) -> None:
    from blastdoor.broker.mysql_connect import server

    oracle = tmp_path / "mysqldump"
    oracle.write_text("#!/bin/sh\necho 'mysqldump  Ver 8.0.36 for Linux on x86_64 (MySQL Community Server - GPL)'\n")
    oracle.chmod(0o700)
    mariadb = shutil.which("mariadb-dump") or shutil.which("mysqldump")
    assert mariadb, "the MariaDB or MySQL client programs are needed"
    for query, mysql_lines, mariadb_lines in (
        ("ssl-mode=VERIFY_CA&ssl-ca=/etc/ca.pem", ['ssl-mode="VERIFY_CA"', 'ssl-ca="/etc/ca.pem"'],
         ["ssl", "ssl-verify-server-cert", 'ssl-ca="/etc/ca.pem"']),
        ("ssl-mode=REQUIRED", ['ssl-mode="REQUIRED"'], ["ssl", "skip-ssl-verify-server-cert"]),
        ("ssl-mode=DISABLED", ['ssl-mode="DISABLED"'], ["skip-ssl"]),
        ("", [], []),
    ):  # fmt: skip
        target = server(f"mysql://app:{SECRET}@db.internal/shop?{query}" if query else f"mysql://app:{SECRET}@db.internal/shop")
        for program, expected in ((str(oracle), mysql_lines), (mariadb, mariadb_lines)):
            written = target.option_file(tmp_path, program=program).read_text().splitlines()
            assert written[written.index("port=3306") + 1:] == expected, (program, written)
