"""SQL in MySQL, MariaDB and SQLite read through sqlglot, and SQL in a dialect nothing here parses."""

from __future__ import annotations

import pytest

from blastdoor.analyze.sql import findings, split_statements
from tests.conftest import decide


@pytest.mark.parametrize(("dialect", "sql", "verb", "tag"), [
    ("mysql", "DELETE t1 FROM t1 JOIN t2 ON t1.id = t2.id", "delete", "no-where"),
    ("mysql", "DELETE FROM users WHERE 1", "delete", "trivial-where"),
    ("mysql", "UPDATE users SET plan = 'free' WHERE 1 = 1 OR id = 3", "modify", "trivial-where"),
    ("mysql", "UPDATE a JOIN b ON a.id = b.id SET a.x = 1", "modify", "no-where"),
    ("mysql", "UPDATE users SET plan = 'free' WHERE id IN (SELECT user_id FROM churned)", "modify", "filtered"),
    ("mysql", "DROP TABLE IF EXISTS `users`, shop.orders", "destroy", "drop"),
    ("mariadb", "DROP DATABASE prod", "destroy", "drop"),
    ("mysql", "ALTER TABLE users DROP COLUMN email, ADD COLUMN x int", "destroy", "drop-column"),
    ("mysql", "TRUNCATE TABLE logs", "delete", "truncate"),
    ("mysql", "GRANT ALL PRIVILEGES ON *.* TO 'bob'@'%'", "escalate", "permissions"),
    ("mysql", "LOAD DATA INFILE '/etc/passwd' INTO TABLE t", "create", "unparsed"),
    ("sqlite", "ALTER TABLE users DROP email", "destroy", "drop-column"),
    ("sqlite3", "DELETE FROM sessions WHERE id > 0", "delete", "trivial-where"),
    ("sqlite", "WITH old AS (SELECT id FROM s) DELETE FROM s WHERE id IN (SELECT id FROM old)", "delete", "filtered"),
    ("cql", "DROP KEYSPACE shop", "destroy", "unparsed"),
])  # fmt: skip
def test_dialects_are_read_statement_by_statement(dialect: str, sql: str, verb: str, tag: str) -> None:
    found = findings(sql, dialect=dialect)
    assert found[0].verb.value == verb and tag in found[0].tags, found


def test_reads_stay_reads_and_several_statements_are_each_judged() -> None:
    assert [f.verb.value for f in findings("SELECT * FROM users WHERE id = 3", dialect="mysql")] == ["read"]
    both = findings("DROP TABLE executives; DELETE FROM companies", dialect="sqlite")
    assert [(f.verb.value, sorted(f.tags)) for f in both] == [("destroy", ["drop"]), ("delete", ["no-where"])]


def test_an_unknown_dialect_says_it_was_not_parsed() -> None:
    (found,) = findings("DROP KEYSPACE shop", dialect="cql")
    assert "cql dialect, which Blastdoor cannot parse" in found.detail
    (garbled,) = findings("FROB THE WIDGETS", dialect="klingon")
    assert garbled.verb.value == "execute-unknown"


def test_database_clients_pass_their_dialect() -> None:
    assert decide("mysql -h db.prod.internal -e 'DELETE FROM users WHERE 1'").kind.value == "hold"
    sqlite = decide("sqlite3 app.db 'ALTER TABLE users DROP email'")
    assert any("drop-column" in e.tags for e in sqlite.effects)
    assert decide("mysql -h db.prod.internal -e 'SELECT count(*) FROM users'").kind.value == "allow"


def test_mysql_runs_what_its_executable_comments_hold() -> None:
    (dropped,) = findings("/*!50000 DROP TABLE users */", dialect="mysql")
    assert dropped.verb.value == "destroy"
    (widened,) = findings("DELETE FROM users WHERE id = 5 /*! OR 1=1 */", dialect="mysql")
    assert "trivial-where" in widened.tags
    assert decide("mysql -h db.prod.internal app -e '/*!50000 DROP TABLE users */'").kind.value == "hold"


@pytest.mark.parametrize(("text", "pieces"), [
    # an opener inside a string opens nothing; the comment after it ends at its own */
    ("SELECT '/*!' /* c */ ; DROP TABLE orders", ["SELECT '/*!' /* c */", "DROP TABLE orders"]),
    ("/*!40101 SET a = 1; SET b = 2 */; SELECT 1", ["/**/ SET a = 1", "SET b = 2 /**/", "SELECT 1"]),
    ("/*! SELECT '*/'; DROP TABLE t */", ["/**/ SELECT '*/'", "DROP TABLE t /**/"]),  # its */ is the first outside a string
    ("/*M!100100 DROP TABLE t */ /* c */ SELECT 1", ["/**/ DROP TABLE t /**/ /* c */ SELECT 1"]),
    ("SELECT 1--/*! 1 */", ["SELECT 1--/**/ 1 /**/"]),  # -- before it stays two minus signs, as for the server
    ("/*!50000 */; /*! -- */", []),
])  # fmt: skip
def test_mysql_executable_comments_are_opened_where_the_server_opens_them(text: str, pieces: list[str]) -> None:
    assert split_statements(text, mysql=True) == pieces


def test_an_opener_inside_a_string_does_not_hide_the_statements_after_it() -> None:
    found = findings("SELECT '/*!' /* c */ ; DROP TABLE orders", dialect="mysql")
    assert [f.verb.value for f in found] == ["read", "destroy"]
    assert decide("mysql -h prod-db.example.com shop -e \"SELECT '/*!' /* c */ ; DROP TABLE orders\"").kind.value == "hold"


def test_a_hash_is_an_operator_in_postgresql_not_a_comment() -> None:
    found = findings("DELETE FROM t WHERE id = 1 # 1; COMMIT; DROP TABLE users")
    assert [f.verb.value for f in found] == ["delete", "execute", "destroy"]


@pytest.mark.parametrize(("text", "pieces"), [
    ("SELECT 'it\\'s; DROP TABLE kv; --'", ["SELECT 'it\\'s; DROP TABLE kv; --'"]),  # one literal
    ("SELECT \"a\\\"; b\"; DELETE FROM t", ["SELECT \"a\\\"; b\"", "DELETE FROM t"]),
    ("DELETE FROM t WHERE a = 'x\\\\'; DROP TABLE u", ["DELETE FROM t WHERE a = 'x\\\\'", "DROP TABLE u"]),  # \\ ends at the quote
    ("SELECT 'it''s; fine'; SELECT 2", ["SELECT 'it''s; fine'", "SELECT 2"]),
    ("SELECT `a\\`; DROP TABLE t", ["SELECT `a\\`", "DROP TABLE t"]),  # no escapes in backquotes
    ("SELECT 1--1; DROP TABLE t", ["SELECT 1--1", "DROP TABLE t"]),  # -- without a space is two minus signs
    ("SELECT 1 -- no; DROP TABLE t\n; SELECT 2", ["SELECT 1 -- no; DROP TABLE t", "SELECT 2"]),
    ("SELECT 1 # no; DROP TABLE t\n; SELECT 2", ["SELECT 1 # no; DROP TABLE t", "SELECT 2"]),
    ("SELECT $a$; DROP TABLE t; $a$", ["SELECT $a$", "DROP TABLE t", "$a$"]),  # $ quotes nothing in MySQL
    ("SELECT 1; # done\n-- really", ["SELECT 1"]),  # comments alone are no statement
    ("SELECT 1 --\u00a0; DROP TABLE t", ["SELECT 1 --\u00a0", "DROP TABLE t"]),  # a no-break space is no space to MySQL
    ("SELECT 1 --\u2003; DROP TABLE t", ["SELECT 1 --\u2003", "DROP TABLE t"]),
    ("SELECT 1 --\x7f; DROP TABLE t\n; SELECT 2", ["SELECT 1 --\x7f; DROP TABLE t", "SELECT 2"]),  # DEL is a control character
    ("SELECT 1 --\x0b; DROP TABLE t\n; SELECT 2", ["SELECT 1 --\x0b; DROP TABLE t", "SELECT 2"]),
])  # fmt: skip
def test_mysql_text_is_cut_where_the_server_cuts_it(text: str, pieces: list[str]) -> None:
    assert split_statements(text, mysql=True) == pieces


def test_the_session_sql_mode_changes_where_mysql_cuts() -> None:
    text = "SELECT 'a\\'; DELETE FROM t; SELECT '"
    assert split_statements(text, mysql=True) == [text]
    assert split_statements(text, mysql=True, sql_mode="STRICT_TRANS_TABLES,NO_BACKSLASH_ESCAPES") == [
        "SELECT 'a\\'", "DELETE FROM t", "SELECT '"]  # fmt: skip
    quoted = 'SELECT "a\\"; DROP TABLE t; --"'
    assert split_statements(quoted, mysql=True) == [quoted]
    assert split_statements(quoted, mysql=True, sql_mode="ANSI_QUOTES") == ['SELECT "a\\"', "DROP TABLE t", '--"']
    # the other dialects: standard strings, dollar quotes, and -- always a comment
    assert split_statements("SELECT 'a\\'; SELECT $x$;$x$; SELECT 1--1") == ["SELECT 'a\\'", "SELECT $x$;$x$", "SELECT 1--1"]


def test_a_unicode_space_after_two_dashes_does_not_hide_a_statement_from_the_judge() -> None:
    # the mysql client and the server cut this at the ; (the no-break space is no space to them)
    assert decide("mysql -h prod-db.example.com shop -e 'SELECT 1 --\u00a0; DROP TABLE orders'").kind.value == "hold"


def test_a_backslash_escaped_quote_does_not_hide_a_statement_from_the_judge() -> None:
    # the whole text is one literal for the server, and for the judge
    assert [f.verb.value for f in findings("SELECT 'it\\'s; DROP TABLE users; --'", dialect="mysql")] == ["read"]
    # here the literal ends at \\' and the DROP is a statement of its own: judged
    found = findings("SELECT 'x\\\\'; DROP TABLE users", dialect="mysql")
    assert [f.verb.value for f in found] == ["read", "destroy"]
