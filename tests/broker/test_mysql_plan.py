"""What the broker saves before a MySQL / MariaDB text runs, read without a server."""

from __future__ import annotations

import pytest

from blastdoor.broker.mysql_plan import plan


@pytest.mark.parametrize("sql, parts", [
    # one table: its own WHERE, cut from the text (backquotes, aliases, subqueries, comments and
    # modifiers kept as the server reads them; ORDER BY / LIMIT / RETURNING left out: a superset)
    ("DELETE FROM `my db`.`t-1` WHERE id > 5 ORDER BY id LIMIT 3", [("rows", "delete", "`my db`.`t-1`", "FROM `my db`.`t-1` WHERE id > 5")]),
    ("DELETE LOW_PRIORITY IGNORE FROM t AS x WHERE x.a = (SELECT max(a) FROM u WHERE b LIMIT 1)",
     [("rows", "delete", "`t`", "FROM t AS x WHERE x.a = (SELECT max(a) FROM u WHERE b LIMIT 1)")]),
    ("UPDATE t SET a = 'x; WHERE', b = (SELECT 1 FROM u WHERE u.id = t.id) WHERE t.q = \"a\\\"b\" LIMIT 2",
     [("rows", "update", "`t`", "FROM t WHERE t.q = \"a\\\"b\"")]),
    ("DELETE FROM t WHERE id = 1 RETURNING id", [("rows", "delete", "`t`", "FROM t WHERE id = 1")]),
    ("UPDATE t SET a = 1", [("rows", "update", "`t`", "FROM t")]),
    # several tables, or a WITH: whole tables, aliases resolved to the tables they name
    ("DELETE a FROM t1 AS a JOIN t2 b ON a.id = b.id", [("rows", "delete", "`t1`", "FROM `t1`")]),
    ("DELETE FROM a USING t1 AS a JOIN t2 ON a.id = t2.id", [("rows", "delete", "`t1`", "FROM `t1`")]),
    ("UPDATE t1 AS a JOIN db2.t2 ON a.id = t2.id SET a.x = t2.a WHERE a.q = 1",
     [("rows", "update", "`t1`", "FROM `t1`"), ("rows", "update", "`db2`.`t2`", "FROM `db2`.`t2`")]),
    ("WITH x AS (SELECT 1 AS id) DELETE FROM t WHERE id IN (SELECT id FROM x)", [("rows", "delete", "`t`", "FROM `t`")]),
    # a later statement may change what an earlier WHERE picks: whole tables
    ("DELETE FROM t WHERE a = 1; DELETE FROM u WHERE b = 2", [("rows", "delete", "`t`", "FROM `t`"), ("rows", "delete", "`u`", "FROM `u`")]),
    # tables and databases: dumped
    ("TRUNCATE TABLE db.t", [("table", "truncate", "`db`.`t`", "")]),
    ("DROP TABLE IF EXISTS a, db.b", [("table", "drop", "`a`", ""), ("table", "drop", "`db`.`b`", "")]),
    ("DROP VIEW v", [("table", "drop", "`v`", "")]),
    ("DROP SCHEMA app", [("schema", "drop-schema", "`app`", "")]),
    ("ALTER TABLE t ADD COLUMN b int, DROP COLUMN c", [("table", "alter", "`t`", "")]),
    ("ALTER TABLE t MODIFY c varchar(3)", [("table", "alter", "`t`", "")]),
    ("ALTER TABLE t ENGINE = BLACKHOLE", [("table", "alter", "`t`", "")]),
    # nothing to save
    ("DROP TEMPORARY TABLE a", []),
    ("ALTER TABLE t ADD COLUMN z int, ADD INDEX (a), DROP INDEX b, RENAME COLUMN x TO y", []),
    ("DROP INDEX i ON t", []),
    ("SELECT 1; INSERT INTO t VALUES (1); EXPLAIN DELETE FROM t", []),
    ("SELECT * FROM t INTO OUTFILE '/tmp/x'", []),
    ("GRANT SELECT ON db.* TO someone", []),
])  # fmt: skip
def test_what_is_saved(sql: str, parts: list[tuple[str, str, str, str]]) -> None:
    planned = plan(sql)
    assert planned.problems == ()
    assert [(p.kind, p.change, p.relation, p.source) for p in planned.parts] == parts


@pytest.mark.parametrize("sql, problem", [
    ("CALL wipe()", "runs a stored procedure"),
    ("PREPARE s FROM 'DELETE FROM t'", "dynamic SQL"),
    ("REPLACE INTO t VALUES (1)", "REPLACE deletes the rows it collides with"),
    ("INSERT INTO t VALUES (1) ON DUPLICATE KEY UPDATE a = 2", "ON DUPLICATE KEY UPDATE"),
    ("CREATE OR REPLACE TABLE t (a int)", "drops the table first"),
    ("EXPLAIN ANALYZE DELETE FROM t", "runs the change"),
    ("START TRANSACTION; DELETE FROM t WHERE a = 1; COMMIT", "one transaction of its own"),
    ("SET @cut = 5; DELETE FROM t WHERE id > @cut", "it follows Set in the same text"),
    ("USE other; DROP TABLE t", "it follows Use in the same text"),
    ("RENAME TABLE a TO b; DROP TABLE b", "it follows RENAME"),
    ("/*!50000 DROP TABLE t */", "/*! ... */ comments"),
    ("DELIMITER ;;", "client commands"),
    ("FLUSH TABLES", "does not know what FLUSH statements destroy"),
    ("LOAD DATA INFILE 'x' REPLACE INTO TABLE t", "cannot read it (LOAD ...)"),
    ("ALTER TABLE t DROP PARTITION p0", "cannot read it (ALTER ...)"),
])  # fmt: skip
def test_what_cannot_be_saved_first(sql: str, problem: str) -> None:
    planned = plan(sql)
    assert any(problem in found for found in planned.problems), planned.problems
