"""``blastdoor sql`` on a real MySQL / MariaDB database: the Replit shape approved, run and undone
with ``blastdoor restore``; what MySQL commits on its own; faults (a crash after the snapshot, a
lost connection) and secrets in errors."""

from __future__ import annotations

import json
import re
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


def snapshot_of(output: str) -> str:
    found = re.search(r"Snapshot (s-[0-9a-f]{12})", output)
    assert found, output
    return found.group(1)


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
    ("tls-parameter", "parameters Blastdoor does not read: ssl-mode"),
])  # fmt: skip
def test_errors_never_carry_the_secret(env: dict[str, str], isolated_home: Path, mysql_database: str,
                                       broken: str, message: str) -> None:  # fmt: skip
    wrong = "Wr0ng-" + SECRET[::-1]
    url = {"syntax": mysql_database, "wrong-password": mysql_database.replace(SECRET, wrong),
           "closed-port": re.sub(r":\d+/", ":1/", mysql_database), "missing-database": mysql_database + "_gone",
           "tls-parameter": mysql_database + "?ssl-mode=REQUIRED"}[broken]  # fmt: skip
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


def test_backup_verify_says_it_cannot_read_mysql_dumps_yet(env: dict[str, str], isolated_home: Path, tmp_path: Path) -> None:
    add_profile(env, "shop", scope="production", allow=["read"], values={"DATABASE_URL": f"mariadb://shop:{SECRET}@db.internal/shop"})
    done = cli(env, "backup", "verify", "--profile", "shop", "--dump", str(tmp_path))
    assert done.returncode == 1 and "cannot verify yet" in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert SECRET not in done.stderr + ledger_bytes(isolated_home).decode("latin-1")


def test_a_session_that_would_cut_the_text_elsewhere_runs_none_of_it() -> None:
    from blastdoor.broker.mysql_sql import as_served

    text = "SELECT 'a\\'; DELETE FROM t; SELECT '"
    assert as_served(text, "STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION") == [text]
    assert as_served(text, "STRICT_TRANS_TABLES,NO_BACKSLASH_ESCAPES") == []
    assert as_served("SELECT 'plain'; DELETE FROM t", "NO_BACKSLASH_ESCAPES,ANSI_QUOTES") == ["SELECT 'plain'", "DELETE FROM t"]
