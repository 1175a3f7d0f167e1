"""Row estimates on a real MySQL / MariaDB database: how many rows a statement would touch, asked
of the optimizer without running it, in the broker's decision and in ``check --estimate``."""

from __future__ import annotations

import json
import re

from blastdoor.broker.mysql_connect import server
from blastdoor.broker.mysql_estimate import estimate
from tests.broker.conftest import SECRET, add_profile, cli, mysql_query
from tests.broker.test_mysql_sql import replit_tables


def test_estimates_ask_the_optimizer_and_change_nothing(mysql_database: str) -> None:
    replit_tables(mysql_database)
    mysql_query(mysql_database, "ANALYZE TABLE executives, `company list`")
    found = {(e.action, e.table): e for e in estimate(server(mysql_database), (
        "DELETE FROM executives WHERE id > 6; UPDATE `company list` SET `the name` = 'x'; TRUNCATE `company list`; "
        "DROP TABLE executives; SELECT 1"))}  # fmt: skip
    deleted = found["delete", "executives"]
    assert deleted.how == "examined" and 1150 <= deleted.rows <= 1300  # a range on the primary key
    assert found["update", "company list"].how == "examined" and 1150 <= found["update", "company list"].rows <= 1300
    assert (found["empty", "company list"].rows, found["empty", "company list"].how) == (1196, "count")
    assert (found["drop", "executives"].rows, found["drop", "executives"].how) == (1206, "count")
    assert len(found) == 4
    assert mysql_query(mysql_database, "SELECT (SELECT count(*) FROM executives), (SELECT count(*) FROM `company list`)") == [(1206, 1196)]
    assert estimate(server(mysql_database), "DELETE FROM nowhere WHERE id = 1") == []  # a missing table: no estimate, no error
    assert estimate(server(mysql_database.replace(":3306/", ":1/")), "DELETE FROM executives") == []


def test_an_estimate_runs_nothing_it_estimates(mysql_database: str) -> None:
    mysql_query(mysql_database, "CREATE TABLE kept (id int) ENGINE=MyISAM")  # no transaction could undo a change here
    mysql_query(mysql_database, "INSERT INTO kept VALUES (1), (2)")
    mysql_query(mysql_database, "CREATE TABLE users (id int)")
    for text in ("DELETE FROM kept WHERE id = 1 # 1; COMMIT; DROP TABLE users",
                 "UPDATE kept SET id = 5; DROP TABLE users", "DELETE FROM kept WHERE id > '%s'"):  # fmt: skip
        estimate(server(mysql_database), text)
    assert mysql_query(mysql_database, "SELECT count(*), sum(id) FROM kept") == [(2, 3)]
    assert mysql_query(mysql_database, "SHOW TABLES LIKE 'users'") == [("users",)]


def test_the_broker_and_check_say_how_many_rows(env: dict[str, str], mysql_database: str) -> None:
    replit_tables(mysql_database)
    add_profile(env, "prod-my", scope="production", allow=["*"], values={"DATABASE_URL": mysql_database})
    held = cli(env, "sql", "--profile", "prod-my", "--", "DELETE FROM executives; TRUNCATE `company list`")
    assert held.returncode == 4, held.stderr
    assert _deletes_about_1206(held.stderr), held.stderr  # the optimizer's figure: an estimate, not a count
    assert "would empty out 1,196 rows from company list" in held.stderr  # counted: exact
    done = cli(env, "check", "--json", "--no-record", "--kind", "sql", "--target",
               "mysql://db.prod.internal/app", "--estimate", mysql_database, "--", "DELETE FROM executives")  # fmt: skip
    (effect,) = json.loads(done.stdout)["effects"]
    assert _deletes_about_1206(effect["detail"]) and 1150 <= effect["blast"]["rows"] <= 1300
    assert SECRET not in done.stdout + done.stderr + held.stdout + held.stderr


def _deletes_about_1206(text: str) -> bool:
    """InnoDB's row figure for a whole-table DELETE comes from sampled statistics, so it may be off
    by a few rows from the real 1,206."""
    found = re.search(r"would delete up to ([\d,]+) rows from executives", text)
    return found is not None and 1150 <= int(found.group(1).replace(",", "")) <= 1300
