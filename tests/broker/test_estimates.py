"""Row estimates on a real PostgreSQL database: how many rows a statement would touch, found
without running it, in ``check --estimate`` and in the broker's decision."""

from __future__ import annotations

import json
from pathlib import Path

from blastdoor.analyze.sql_estimate import estimate
from tests.broker.conftest import add_profile, cli, query
from tests.broker.test_sql import replit_tables


def test_estimates_count_without_changing_anything(pg_database: str) -> None:
    replit_tables(pg_database)
    query(pg_database, "ANALYZE")
    found = {(e.action, e.table): e for e in estimate(pg_database, "DELETE FROM executives WHERE id > 6; "
                                                                   "UPDATE companies SET name = 'x'; TRUNCATE companies; "
                                                                   "DROP TABLE executives; SELECT 1")}  # fmt: skip
    assert found["delete", "executives"].how == "planner" and 1150 <= found["delete", "executives"].rows <= 1206
    assert found["update", "companies"].rows == 1196
    assert found["empty", "companies"].rows == 1196 and found["empty", "companies"].how == "count"
    assert found["drop", "executives"].rows == 1206
    assert query(pg_database, "SELECT count(*) FROM executives UNION ALL SELECT count(*) FROM companies") == [(1206,), (1196,)]
    assert estimate(pg_database, "DELETE FROM nowhere") == []  # a missing table: no estimate, no error
    assert estimate("postgresql://postgres@127.0.0.1:1/none", "DELETE FROM executives") == []


def test_check_says_how_many_rows_and_the_broker_too(env: dict[str, str], pg_database: str) -> None:
    replit_tables(pg_database)
    query(pg_database, "ANALYZE")
    done = cli(env, "check", "--json", "--no-record", "--kind", "sql", "--target", "postgresql://db.prod.internal/app",
               "--estimate", pg_database, "--", "DELETE FROM executives")  # fmt: skip
    decision = json.loads(done.stdout)
    (effect,) = decision["effects"]
    assert "would delete ~1,206 rows from executives" in effect["detail"] and effect["blast"]["rows"] == 1206
    assert decision["decision"] == "hold"
    add_profile(env, "prod-db", scope="production", allow=["*"], values={"DATABASE_URL": pg_database})
    held = cli(env, "sql", "--profile", "prod-db", "--", "DELETE FROM executives; TRUNCATE companies")
    assert held.returncode == 4
    assert "would delete ~1,206 rows from executives" in held.stderr and "would empty out 1,196 rows from companies" in held.stderr  # counted: exact
    wrong = cli(env, "check", "--kind", "shell", "--estimate", pg_database, "--", "ls")
    assert wrong.returncode == 1 and "--estimate works with --kind sql" in wrong.stderr


def test_no_estimate_without_a_connection(tmp_path: Path) -> None:
    assert estimate("sqlite:///x.db", "DELETE FROM t") == []
    assert estimate("postgresql://x@127.0.0.1/db", "SELECT 1") == []


def test_an_estimate_sends_only_the_statement_it_estimates(pg_database: str) -> None:
    query(pg_database, "CREATE TABLE t (id int); CREATE TABLE users (id int); INSERT INTO users VALUES (1)")
    estimate(pg_database, "DELETE FROM t WHERE id = 1 # 1; COMMIT; DROP TABLE users")
    estimate(pg_database, "UPDATE t SET id = 2; DROP TABLE users")
    assert query(pg_database, "SELECT count(*) FROM users") == [(1,)]
