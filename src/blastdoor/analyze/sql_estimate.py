"""How many rows a statement would touch, asked of the database without running it, so a decision
can say "would delete ~1,206 rows from executives".

``DELETE`` and ``UPDATE`` are estimated by the planner (``EXPLAIN``, which plans and does not
execute); ``TRUNCATE`` and ``DROP TABLE`` by counting the table, or by the planner's statistics when
the count does not finish in time. Everything runs in a ``READ ONLY`` transaction under a
``statement_timeout`` on a connection the caller provides; each statement is rebuilt from
PostgreSQL's parse tree and sent prepared, so only that one statement can reach the server (the broker's profile, or the read-only
URL given to ``check --estimate``), and is rolled back. An estimate that cannot be had is simply
absent. This talks to a database, so it never runs inside a hook.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from blastdoor.model import Blast, Effect, Verb

TIMEOUT_MS = 2000
MAX_STATEMENTS = 50


@dataclass(frozen=True)
class RowEstimate:
    action: str  # delete, update, empty, drop
    table: str
    rows: int
    how: str  # "planner" or "statistics" (estimates, shown as ~N), "examined" (an upper bound, "up to N") or "count" (exact)


def estimate(dsn: str, sql: str, *, timeout_ms: int = TIMEOUT_MS) -> list[RowEstimate]:
    """The rows each data-changing statement of ``sql`` would touch on the PostgreSQL database
    ``dsn`` ([] when unknown). The broker's engines (broker/engines/) say which URLs are PostgreSQL's."""
    import psycopg

    wanted = list(_targets(sql))
    if not wanted:
        return []
    found: list[RowEstimate] = []
    try:
        with psycopg.connect(dsn, connect_timeout=5, application_name="blastdoor-estimate") as db:
            db.read_only = True
            with db.cursor() as cursor:
                cursor.execute(f"SET statement_timeout = {int(timeout_ms)}")
                for action, table, statement in wanted:
                    rows = _explain(db, cursor, statement) if action in ("delete", "update") else _count(db, cursor, table)
                    if rows is not None:
                        found.append(RowEstimate(action, table, rows[0], rows[1]))
            db.rollback()
    except psycopg.Error:
        return found
    return found


def annotate(effects: Sequence[Effect], estimates: Sequence[RowEstimate]) -> list[Effect]:
    """``effects`` with the rows each would touch: in its blast and in its words."""
    if not estimates:
        return list(effects)
    out = []
    for found in effects:
        mine = [e for e in estimates if found.verb in _VERBS[e.action] and _names(e.table, found.detail)]
        if not mine:
            out.append(found)
            continue
        rows = sum(e.rows for e in mine)
        words = "; ".join(f"would {_WORDS[e.action]} {_ABOUT.get(e.how, '~')}{e.rows:,} rows "
                          f"{'from' if e.action != 'update' else 'in'} {e.table}" for e in mine)  # fmt: skip
        out.append(replace(found, detail=f"{found.detail} ({words})", blast=replace(found.blast or Blast(), rows=rows)))
    return out


_VERBS = {"delete": (Verb.DELETE,), "update": (Verb.MODIFY,), "empty": (Verb.DELETE, Verb.DESTROY), "drop": (Verb.DESTROY, Verb.DELETE)}
_WORDS = {"delete": "delete", "update": "change", "empty": "empty out", "drop": "drop"}
_ABOUT = {"count": "", "examined": "up to "}  # else "~": an estimate


def _names(table: str, detail: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(table)}(?![\w])", detail) is not None


def _targets(sql: str) -> Iterator[tuple[str, str, str]]:
    """(action, table, statement) for each DELETE, UPDATE, TRUNCATE and DROP TABLE in ``sql``. The
    statement is rebuilt from its parse tree, so nothing else in the text can travel with it; SQL
    that does not parse as a whole gets no estimate."""
    from pglast import parse_sql
    from pglast.parser import ParseError
    from pglast.stream import RawStream

    try:
        parsed = parse_sql(sql)
    except (ParseError, RecursionError, ValueError):
        return
    for raw in parsed[:MAX_STATEMENTS]:
        node: Any = raw.stmt
        kind = type(node).__name__
        if kind in ("DeleteStmt", "UpdateStmt") and node.withClause is None:
            yield ("delete" if kind == "DeleteStmt" else "update"), _relation(node.relation), RawStream()(node)
        elif kind == "TruncateStmt":
            for relation in node.relations or ():
                yield "empty", _relation(relation), ""
        elif kind == "DropStmt" and node.removeType.name == "OBJECT_TABLE":
            for parts in node.objects or ():
                yield "drop", ".".join(str(getattr(p, "sval", "")) for p in parts), ""


def _relation(node: Any) -> str:
    return f"{node.schemaname}.{node.relname}" if node.schemaname else str(node.relname)


def _explain(db: Any, cursor: Any, statement: str) -> tuple[int, str] | None:
    import psycopg

    try:
        with db.transaction():
            cursor.execute(f"EXPLAIN (FORMAT JSON) {statement}", prepare=True)  # prepared: one statement, no more
            plan = cursor.fetchone()[0]
    except psycopg.Error:
        return None
    if isinstance(plan, str):
        plan = json.loads(plan)
    top = plan[0]["Plan"] if plan and isinstance(plan[0], dict) else {}
    inner = (top.get("Plans") or [top])[0]
    rows = inner.get("Plan Rows")
    return (int(rows), "planner") if isinstance(rows, (int, float)) else None


def _count(db: Any, cursor: Any, table: str) -> tuple[int, str] | None:
    import psycopg
    from psycopg import sql

    name = sql.Identifier(*table.split(".", 1))
    try:
        with db.transaction():
            cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(name))
            return int(cursor.fetchone()[0]), "count"
    except psycopg.errors.QueryCanceled:
        pass
    except psycopg.Error:
        return None
    try:
        with db.transaction():
            cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)", (table,))
            found = cursor.fetchone()
    except psycopg.Error:
        return None
    return (int(found[0]), "statistics") if found and found[0] is not None and found[0] >= 0 else None
