"""Database clients: destructive SQL against an unknown or production database is held."""

from __future__ import annotations

import pytest

from blastdoor.analyze.commands.db_base import MYSQL_OPTIONAL, parse_line
from blastdoor.analyze.commands.db_sql_clients import MYSQL_VALUES
from blastdoor.analyze.invocation import Word
from blastdoor.judge import judge
from blastdoor.model import Action
from blastdoor.policy import load


def decide(command: str, files: dict[str, str] | None = None, **context: object) -> str:
    known = files or {}
    return judge(Action.shell(command, **context), load(), files=known.get).kind.value


@pytest.mark.parametrize(
    "command",
    [
        "psql -h db.internal -d shop -c 'DROP TABLE orders'",
        "psql postgresql://app:hunter2@db.internal/shop -c 'TRUNCATE carts'",
        "mysql -u root -e 'DELETE FROM customers'",
        "mariadb shop --execute='UPDATE customers SET vip = 0'",
        "redis-cli -h cache.internal FLUSHALL",
        "mongosh mongodb://cluster.internal/shop --eval 'db.dropDatabase()'",
        "mongosh --eval 'db.sessions.deleteMany({})'",
        "dropdb -h db.internal shop",
        "mysqladmin -h db.internal drop shop",
        "pg_restore --clean -d shop dump.pgdump",
        "cqlsh node1 -e 'DROP KEYSPACE metrics'",
        "clickhouse-client --query 'TRUNCATE TABLE events'",
        "psql -c 'DELETE FROM users WHERE id = 4'",
    ],
)
def test_destruction_is_held(command: str) -> None:
    assert decide(command) == "hold"


def test_production_host_is_named_and_password_dropped() -> None:
    decision = judge(
        Action.shell("psql postgres://u:s3cret@db.prod.example.com/app -c 'DROP TABLE t'"), load()
    )
    assert decision.kind.value == "hold"
    assert all("s3cret" not in e.target.name for e in decision.effects)
    assert decision.effects[0].scope.value == "production"


@pytest.mark.parametrize(
    "command",
    [
        "psql -d shop -c 'SELECT count(*) FROM orders'",
        "mysql -e 'SHOW TABLES' shop",
        "redis-cli -h cache.internal GET session:1",
        "redis-cli --scan --pattern 'user:*'",
        "mongosh --eval 'db.users.find().limit(3)'",
        "pg_dump shop > shop.sql",
        "psql -l",
        "sqlite3 app.db '.tables'",
    ],
)
def test_reads_pass(command: str) -> None:
    assert decide(command) == "allow"


def test_sql_from_stdin_and_files() -> None:
    assert decide("psql shop <<'SQL'\nDROP SCHEMA public CASCADE;\nSQL") == "hold"
    assert decide("echo 'FLUSHDB' | redis-cli") == "hold"
    assert decide("psql shop < wipe.sql", {"wipe.sql": "TRUNCATE orders;"}) == "hold"
    assert decide("psql -f report.sql", {"report.sql": "SELECT 1;"}) == "allow"
    assert decide("psql -f missing.sql") == "ask"
    assert (
        decide("psql -f main.sql", {"main.sql": "\\i inner.sql", "inner.sql": "DROP TABLE x;"})
        == "hold"
    )


def test_development_database_is_allowed() -> None:
    assert decide("sqlite3 dev.db 'DELETE FROM cache'") == "allow"
    assert decide("psql -c 'DROP TABLE t'") == "hold"
    assert decide("psql -c 'DROP TABLE t'", env={"PGHOST": "localhost"}) == "allow"


@pytest.mark.parametrize(
    ("command", "decision"),
    [
        ("sqlcmd -S sql.internal -d shop -Q 'DROP TABLE orders'", "hold"),
        ("sqlcmd -S localhost -Q 'SELECT 1'", "allow"),
        ("sqlcmd -S sql.internal -i a.sql,wipe.sql", "hold"),
        ("cockroach sql --url postgresql://root@crdb.internal/bank -e 'TRUNCATE accounts'", "hold"),
        ("cockroach start --insecure", "allow"),
        ("snowsql -a acme -d analytics -q 'DELETE FROM events'", "hold"),
        ("usql mysql://app@db.internal/shop -c 'DELETE FROM carts'", "hold"),
        ("usql sqlite:./dev.db -c 'DELETE FROM carts'", "allow"),
        ("mysqlsh --uri root@db.internal --sql -e 'DROP DATABASE shop'", "hold"),
        ("mysqlsh --uri root@db.internal --js -e 'session.runSql(q)'", "ask"),
        ("trino --server https://trino.internal --execute 'DROP TABLE hive.web.logs'", "hold"),
        ("beeline -u jdbc:hive2://hive.internal:10000/default -e 'SELECT 1'", "allow"),
        ("impala-shell -i impala.internal -q 'TRUNCATE TABLE logs'", "hold"),
    ],
)
def test_other_sql_clients_are_read_like_psql(command: str, decision: str) -> None:
    files = {"a.sql": "SELECT 1;", "wipe.sql": "DELETE FROM orders;"}
    assert decide(command, files) == decision


@pytest.mark.parametrize(
    ("command", "decision"),
    [
        ("clickhouse client -h ch.internal -q 'DROP TABLE logs'", "hold"),
        ("clickhouse --host ch.internal --query 'DROP TABLE logs'", "hold"),
        ("clickhouse server --config-file x.xml", "allow"),  # another subcommand, not the client
        ("cqlsh cassandra.internal -e 'DROP KEYSPACE shop'", "hold"),
        # the first operand is cqlsh's host and mysql's database: data on this machine asks
        ("cqlsh localhost -e 'DROP KEYSPACE shop'", "ask"),
        ("mysql -h localhost shop -e 'DROP TABLE t'", "ask"),
        ("psql -l", "allow"),
        # psql -f names one file: a comma is part of its name (sqlcmd -i takes a list)
        ("psql -h db.internal -f a.sql,wipe.sql", "ask"),
    ],
)
def test_the_four_clients_read_through_their_rows(command: str, decision: str) -> None:
    files = {"a.sql": "SELECT 1;", "wipe.sql": "DELETE FROM orders;"}
    assert decide(command, files) == decision


@pytest.mark.parametrize(
    ("command", "decision"),
    [
        ("influx bucket delete --name metrics", "hold"),
        ("influx query 'from(bucket: \"metrics\") |> range(start: -1h)'", "allow"),
    ],
)
def test_influx_reads_like_other_stores(command: str, decision: str) -> None:
    assert decide(command) == decision


@pytest.mark.parametrize(
    ("script", "decision"),
    [
        ('db.runCommand({drop: "carts"})', "hold"),
        ("db.getSiblingDB('shop').runCommand({ dropDatabase: 1 })", "hold"),
        ('db.runCommand({delete: "carts", deletes: [{q: {}, limit: 0}]})', "hold"),
        ('db.carts_new.renameCollection("carts", true)', "hold"),
        ("rs.stepDown(60)", "ask"),
        ("db.runCommand({ping: 1})", "allow"),
    ],
)
def test_mongo_commands_run_through_run_command(script: str, decision: str) -> None:
    assert decide(f"mongosh mongodb://cluster.internal/shop --eval '{script}'") == decision


@pytest.mark.parametrize(
    ("command", "decision"),
    [
        ("psql -h db.internal -c '\\! rm -rf ~'", "deny"),
        ("psql -h db.internal -c '\\! ls -la'", "allow"),
        ("sqlite3 app.db '.shell rm -rf build'", "allow"),
        ("mysql -h db.internal -e 'system cat ~/.aws/credentials'", "ask"),
        ("psql -h db.internal -c '\\!'", "ask"),
    ],
)
def test_client_shell_escapes_are_judged_as_the_commands_they_run(
    command: str, decision: str
) -> None:
    assert decide(command) == decision


@pytest.mark.parametrize(
    ("command", "decision"),
    [
        ("pg_ctl -w stop -D /data", "ask"),  # -w and -s are flags: the action after them is still read
        ("pg_ctl -s stop -D /data", "ask"),
        ("createuser --superuser bob", "deny"),  # a flag here, not pg_restore's --superuser NAME
        ("createuser -s bob", "deny"),
        ("sqlcmd -S prod.db -W -Q 'DROP TABLE users'", "hold"),  # -W is a flag, not -Q's swallower
        ("trino --server prod:8080 --password --execute 'DROP TABLE t'", "hold"),
    ],
)
def test_flags_do_not_swallow_the_words_after_them(command: str, decision: str) -> None:
    assert decide(command) == decision


@pytest.mark.parametrize(
    ("command", "decision"),
    [
        # boost (clickhouse), yargs (mongosh) and go-flags (mongorestore) leave --host without a
        # value when the next word is an option: the option after it is read
        ("mongosh --host --eval 'db.dropDatabase()'", "hold"),
        ("clickhouse-client --host --query 'DROP TABLE t'", "hold"),
        ("mongorestore --host --drop dump/", "hold"),
        # getopt_long gives -h the next word whatever it is: psql connects to a host named -c and
        # takes the SQL for a database name, running nothing
        ("psql -h -c 'DROP TABLE t'", "allow"),
    ],
)
def test_a_valued_option_takes_an_option_like_word_only_where_the_client_does(
    command: str, decision: str
) -> None:
    assert decide(command) == decision


@pytest.mark.parametrize(
    ("command", "decision"),
    [
        # getopt_long (psql, pg_restore, createuser), my_getopt (mysql) and boost (clickhouse)
        # bundle letters: the last valued one takes the rest of the word or the next word
        ("psql -Atc 'DROP TABLE users'", "hold"),
        ("psql -XAtc 'DROP TABLE users' -h db.internal", "hold"),
        ("psql -h db.internal -cDELETE\\ FROM\\ users", "hold"),
        ("psql -U postgres -Atc 'SELECT 1'", "allow"),
        ("mysql -uroot -Nse 'DROP DATABASE prod'", "hold"),
        ("mysql -uroot -pX -e 'DROP DATABASE prod'", "hold"),
        ("mysql -Nse 'SELECT 1'", "allow"),
        ("clickhouse-client -nq 'DROP TABLE logs'", "hold"),
        ("pg_restore -cd shop dump.pgdump", "hold"),
        ("createuser -sdr bob", "deny"),
    ],
)
def test_bundled_letters_are_read_as_the_client_reads_them(command: str, decision: str) -> None:
    assert decide(command) == decision


@pytest.mark.parametrize(
    ("command", "target"),
    [
        ("mysql -hdb.internal -uroot -e 'DROP TABLE t'", "db.internal"),
        # mysql's -p takes only an attached password: shop is the database
        ("mysql -h db.internal -u root -p shop -e 'DROP TABLE t'", "db.internal/shop"),
        ("redis-cli -h cache.internal -n 0 flushall", "cache.internal/0"),
        # redis-cli's command starts at its first operand: -h here is FLUSHALL's, not a host
        ("redis-cli flushall -h cache.internal", "database"),
        ("createuser -dl bob", "bob"),  # createuser's -l is --login, not createdb's -l LOCALE
    ],
)
def test_bundles_and_whole_words_name_the_database(command: str, target: str) -> None:
    decision = judge(Action.shell(command), load())
    assert [e.target.name for e in decision.effects] == [target]


def test_sqlite_options_are_single_dash_names_never_bundles() -> None:
    decision = judge(Action.shell("sqlite3 -csv -bail app.db 'SELECT 1'"), load())
    assert decision.kind.value == "allow"
    assert [e.detail for e in decision.effects] == ["read data"]  # not -c with the SQL "sv"


def test_mysql_reads_a_password_only_when_attached() -> None:
    words = [Word(text) for text in ("-psecretive", "-p", "shop", "-e", "DROP TABLE t")]
    line = parse_line(words, MYSQL_VALUES, optional=MYSQL_OPTIONAL)
    assert line.options == [("-p", "secretive"), ("-p", ""), ("-e", "DROP TABLE t")]
    assert [w.text for w in line.operands] == ["shop"]


@pytest.mark.parametrize(
    ("command", "target"),
    [
        # each dumper reads its own options: mysqldump's -u takes the user, -p only an attached
        # password, and -e is --extended-insert (a flag), so the operand is the database
        ("mysqldump -u root shop", "shop"),
        ("mysqldump -uroot -p shop", "shop"),
        ("mariadb-dump -e -h db.internal shop", "db.internal/shop"),
        # mongodump's -u takes the user; the database is -d's
        ("mongodump -d app -u admin x", "app"),
        ("mongoexport --uri mongodb://u:pw@m.internal/app -c users", "mongodb://u@m.internal/app"),
        ("pg_dump -U postgres -h db.internal shop", "db.internal/shop"),
    ],
)
def test_dumpers_name_the_database_with_their_own_options(command: str, target: str) -> None:
    decision = judge(Action.shell(command), load())
    assert decision.kind.value == "allow"
    assert [e.target.name for e in decision.effects] == [target]
