"""What the broker saves before a PostgreSQL text runs, read without a server (pglast)."""

from __future__ import annotations

from blastdoor.broker.snapshot_plan import ROWS, TABLE, plan


def test_one_statement_saves_only_the_rows_its_where_picks() -> None:
    saved = plan("DELETE FROM t WHERE a = 1")
    assert [(p.kind, p.relation, p.source) for p in saved.parts] == [(ROWS, "t", "FROM t WHERE a = 1")]
    assert saved.problems == ()


def test_several_statements_save_whole_tables() -> None:
    # the second DELETE could change what the first one's WHERE picks, and the other way round
    saved = plan("DELETE FROM t WHERE a = 1; UPDATE u SET b = 2 WHERE c")
    assert [(p.kind, p.change, p.relation, p.source, p.statement) for p in saved.parts] == [
        (ROWS, "delete", "t", "FROM t", 0), (ROWS, "update", "u", "FROM u", 1)]  # fmt: skip
    assert saved.problems == ()


def test_a_save_after_a_statement_that_can_re_point_names_is_a_problem() -> None:
    renamed = plan("ALTER TABLE t RENAME TO z; DELETE FROM z WHERE a = 1")
    assert renamed.problems == ("statement 2: it follows RenameStmt in the same text, which can change what it names; "
                                "run them separately",)  # fmt: skip
    ran_code = plan("DO $$ BEGIN END $$; TRUNCATE b")
    assert [(p.kind, p.relation) for p in ran_code.parts] == [(TABLE, "b")]
    assert ran_code.problems[0] == "statement 1: Blastdoor does not know what Do statements destroy"  # its own problem first
    assert ran_code.problems[1].startswith("statement 2: it follows DoStmt")
    assert plan("SELECT 1; INSERT INTO t VALUES (1); DROP TABLE a").problems == ()  # reads and inserts re-point nothing


def test_an_update_names_the_columns_it_sets() -> None:
    # the snapshot refuses only when a key that others refer to ON UPDATE CASCADE / SET NULL is among them
    saved = plan('UPDATE t SET "Id" = 1, b.c = 2, (x, b) = (1, 2) WHERE a; DELETE FROM u')
    assert [(p.change, p.columns) for p in saved.parts] == [("update", ("Id", "b", "x")), ("delete", ())]
