"""How many rows a statement would touch on MySQL or MariaDB, asked without running it, so a
decision can say "would delete up to 1,206 rows from executives" (analyze/sql_estimate.py is
PostgreSQL's).

``DELETE`` and ``UPDATE`` on one table are estimated by the optimizer: ``EXPLAIN SELECT 1`` with
the table reference and ``WHERE`` cut from the statement's own text (the rows its snapshot would
save: broker/mysql_plan.py), which plans the query and runs nothing. (MariaDB refuses ``EXPLAIN
DELETE`` in a read-only transaction; a ``SELECT`` is what a read-only transaction allows.) The
optimizer's figure is of the rows the query *examines* (times the ``filtered`` share, where the
server gives one), so it is an upper bound, said as "up to N". ``TRUNCATE`` and ``DROP
TABLE`` are estimated by counting the table, or from ``information_schema`` when the count does not
finish in time. Everything runs in a ``READ ONLY`` transaction under a statement time limit, one
statement per query (the connection never asks for ``CLIENT_MULTI_STATEMENTS``), and is rolled
back. An estimate that cannot be had is simply absent.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from blastdoor.analyze.sql_estimate import MAX_STATEMENTS, TIMEOUT_MS, RowEstimate
from blastdoor.broker.errors import BrokerError
from blastdoor.broker.mysql_connect import Server, quote_name
from blastdoor.broker.mysql_plan import rows_source
from blastdoor.broker.mysql_sql import leading_words


def estimate(server: Server, text: str, *, timeout_ms: int = TIMEOUT_MS) -> list[RowEstimate]:
    """The rows each data-changing statement of ``text`` would touch ([] when unknown)."""
    import pymysql

    wanted = list(_targets(text))
    if not wanted:
        return []
    try:
        db = server.connect(program="blastdoor-estimate")
    except BrokerError:
        return []
    found: list[RowEstimate] = []
    try:
        with db.cursor() as cursor:
            _limit_time(cursor, timeout_ms)
            cursor.execute("START TRANSACTION READ ONLY")
            for action, (database, table), piece in wanted:
                shown = f"{database}.{table}" if database else table
                rows = _explain(cursor, piece) if piece else _count(cursor, database, table)
                if rows is not None:
                    found.append(RowEstimate(action, shown, rows[0], rows[1]))
        db.rollback()
    except pymysql.Error:
        pass
    finally:
        db.close()
    return found


def _targets(text: str) -> Iterator[tuple[str, tuple[str, str], str]]:
    """(action, (database, table), query) for each one-table DELETE and UPDATE (a SELECT of the
    rows it would change, to EXPLAIN), and each TRUNCATE and DROP TABLE (no query: it is counted)."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    from blastdoor.analyze.sql import client_commands, split_statements

    if client_commands(text):
        return
    for piece in split_statements(text, mysql=True)[:MAX_STATEMENTS]:
        try:
            parsed = [node for node in sqlglot.parse(piece, read="mysql") if node is not None]
        except (SqlglotError, RecursionError, ValueError):
            continue
        node = parsed[0] if len(parsed) == 1 else None
        first = leading_words(piece)[:1]
        if isinstance(node, (exp.Delete, exp.Update)) and first in (["DELETE"], ["UPDATE"]) and _one_table(node):
            source = rows_source(piece, deleting=first == ["DELETE"])
            if source:
                yield ("delete" if first == ["DELETE"] else "update"), _name(node.this), f"SELECT 1 {source}"
        elif isinstance(node, exp.TruncateTable) and not node.args.get("is_database"):
            yield from (("empty", _name(table), "") for table in node.expressions)
        elif isinstance(node, exp.Drop) and str(node.args.get("kind") or "").upper() == "TABLE" and not node.args.get("temporary"):
            yield from (("drop", _name(table), "") for table in node.args.get("tables") or [node.this])


def _one_table(node: Any) -> bool:
    from sqlglot import exp

    head = node.this
    return (isinstance(head, exp.Table) and not head.args.get("joins") and not node.args.get("tables")
            and not node.args.get("using") and not node.args.get("with_") and not node.args.get("with"))  # fmt: skip


def _name(table: Any) -> tuple[str, str]:
    return str(table.db or ""), str(table.name)


def _limit_time(cursor: Any, timeout_ms: int) -> None:
    """Stop any one statement after ``timeout_ms``: MariaDB's ``max_statement_time`` (seconds),
    else MySQL's ``max_execution_time`` (milliseconds, for SELECT)."""
    import pymysql

    try:
        cursor.execute("SET SESSION max_statement_time = %s", (timeout_ms / 1000,))
    except pymysql.Error:
        cursor.execute("SET SESSION max_execution_time = %s", (timeout_ms,))


def _explain(cursor: Any, query: str) -> tuple[int, str] | None:
    import pymysql

    try:
        cursor.execute("EXPLAIN " + query)  # no parameters, so no %-formatting of the text
        columns = [str(column[0]).lower() for column in cursor.description or ()]
        plan = cursor.fetchall()
    except pymysql.Error:
        return None
    if not plan or "rows" not in columns or plan[0][columns.index("rows")] is None:
        return None
    rows = float(plan[0][columns.index("rows")])
    if "filtered" in columns and plan[0][columns.index("filtered")] is not None:
        rows *= float(plan[0][columns.index("filtered")]) / 100
    return round(rows), "examined"


def _count(cursor: Any, database: str, table: str) -> tuple[int, str] | None:
    import pymysql

    qualified = f"{quote_name(database)}.{quote_name(table)}" if database else quote_name(table)
    try:
        cursor.execute(f"SELECT COUNT(*) FROM {qualified}")
        return int(cursor.fetchone()[0]), "count"
    except pymysql.Error:
        pass  # too slow, or not there
    try:
        cursor.execute("SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = COALESCE(%s, DATABASE()) "
                       "AND TABLE_NAME = %s", (database or None, table))  # fmt: skip
        found = cursor.fetchone()
    except pymysql.Error:
        return None
    return (int(found[0]), "statistics") if found and found[0] is not None else None
