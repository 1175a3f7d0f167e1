"""Database text typed as a shell command: judged as what it would do in a database Blastdoor
cannot name when it wipes or drops data or grants server-wide powers; otherwise it runs nothing."""

from __future__ import annotations

import pytest

from blastdoor.judge import judge
from blastdoor.model import Action, Decision
from blastdoor.policy import load


def judged(command: str, **context: object) -> Decision:
    return judge(Action.shell(command, **context), load(), files=lambda _p: None)


def decide(command: str, **context: object) -> str:
    return judged(command, **context).kind.value


@pytest.mark.parametrize(
    "command",
    [
        "DROP TABLE invoices;",
        "drop database billing",
        "DROP SCHEMA reporting CASCADE",
        "DROP INDEX IF EXISTS invoices_due",
        "DROP ROLE auditor;",
        "delete from sessions",
        "DELETE FROM `sessions`;",
        'DELETE FROM "Billing"."Invoices";',
        "UPDATE accounts SET balance = 0;",
        "update accounts set balance = 0 where 1 = 1",
        "ALTER TABLE invoices DROP COLUMN total",
        "TRUNCATE TABLE audit_log;",
        "TRUNCATE audit_log",
        "FLUSHDB",
        "flushall async",
        "db.carts.drop()",
        "db.carts.deleteMany({})",
    ],
)
def test_destructive_database_text_is_held(command: str) -> None:
    decision = judged(command)
    assert decision.kind.value == "hold"
    typed = [e for e in decision.effects if "typed-at-shell" in e.tags]
    assert typed and all(e.scope.value == "unknown" for e in typed)


def test_a_read_that_hides_a_wipe_is_the_wipe() -> None:
    assert decide("WITH gone AS (DELETE FROM invoices RETURNING id) SELECT count(*) FROM gone") == (
        "hold"
    )


def test_server_wide_grants_are_denied() -> None:
    assert decide("GRANT ALL PRIVILEGES ON *.* TO 'ops'@'%';") == "deny"


@pytest.mark.parametrize(
    "command",
    [
        "SELECT * FROM invoices",
        "SELECT count(*) FROM invoices",  # not bash at all: `(` after a word
        "select status, sum(total) from invoices group by status",
        "WITH late AS (SELECT * FROM invoices WHERE due < now()) SELECT count(*) FROM late",
        "DELETE FROM sessions WHERE id = 7;",
        "UPDATE accounts SET balance = 0 WHERE id = 7",
        "INSERT INTO invoices VALUES (1, 'draft')",
        "CREATE INDEX invoices_due ON invoices(due_date)",
        "ALTER TABLE invoices ADD COLUMN paid_at timestamp",
        "GRANT SELECT ON billing.* TO 'reader'@'%'",
        "REVOKE ALL ON invoices FROM intern",
        "db.carts.find({})",
        "FLUSHALL everything now",
    ],
)
def test_targeted_or_read_only_database_text_runs_nothing(command: str) -> None:
    assert decide(command) == "allow"


@pytest.mark.parametrize(
    "command",
    [
        'echo "DROP TABLE invoices;"',
        "git commit -m 'DROP TABLE invoices'",
        "grep -rn 'DELETE FROM sessions' src",
        "cat > wipe.sql <<'SQL'\nDROP TABLE invoices;\nSQL",
    ],
)
def test_database_text_as_data_is_not_a_command(command: str) -> None:
    assert decide(command) == "allow"


@pytest.mark.parametrize("command", ["truncate -s 0 app.log", "truncate app.log"])
def test_coreutils_truncate_is_still_a_file_write(command: str) -> None:
    decision = judged(command)
    assert decision.kind.value == "allow"
    assert [e.target.kind for e in decision.effects] == ["path"]


def test_a_line_bash_rejects_is_read_as_sql_only_when_all_of_it_is_sql() -> None:
    assert decide("CREATE TABLE notes (id int, body text)") == "allow"
    assert decide("DELETE FROM notes WHERE id = 3; rm -rf ~ (") == "deny"


@pytest.mark.parametrize(
    "command",
    [
        # bash runs what follows the `;`; the database would read it as a comment.
        "SELECT * FROM t -- ; rm -rf ~ \\",
        "SELECT * FROM t -- ; rm -rf ~ <<EOF",
        "INSERT INTO t VALUES 1 -- ; rm -rf ~ \\",
        "SELECT * FROM t /* ; rm -rf ~ */ \\",
        # A syntax error only without extglob: a shell that has it on runs the rm.
        "SELECT @(x) FROM t -- ; rm -rf ~",
    ],
)
def test_text_bash_would_run_is_not_database_text(command: str) -> None:
    assert decide(command) == "deny"


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        # bash rejects the line, but a shell set up otherwise might not: read as commands.
        ("SELECT count(*) FROM t -- ; rm -rf ~", "deny"),
        ("SELECT count(*) FROM t /* x */", "ask"),
    ],
)
def test_database_text_with_a_comment_is_not_read_as_such(command: str, expected: str) -> None:
    decision = judged(command)
    assert decision.kind.value == expected, decision.reasons
    assert not any(
        "typed-at-shell" in e.tags or "database text" in e.detail for e in decision.effects
    )
