"""SQL that is not PostgreSQL's (MySQL and MariaDB, SQLite, and the other dialects sqlglot knows),
read through sqlglot's dialect-aware parser into the same findings ``sql.py`` makes from
PostgreSQL's own parser.

A statement sqlglot keeps only as a raw command (``GRANT``, ``CREATE USER``, ``RENAME TABLE`` in
MySQL), or cannot parse, is judged from its keywords, as ``sql.py`` does for what pglast rejects.
A dialect sqlglot does not know gives findings that say so.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialects
from sqlglot.errors import SqlglotError

from blastdoor.analyze.sql import Finding, finding, split_statements, unparsed
from blastdoor.analyze.sql_keywords import lone_word, scan_keywords
from blastdoor.model import Reversibility, Verb

logging.getLogger("sqlglot").setLevel(
    logging.ERROR
)  # its "falling back to a Command" notes go nowhere
_REV, _BACKUP, _GONE = (
    Reversibility.REVERSIBLE,
    Reversibility.RECOVERABLE_WITH_BACKUP,
    Reversibility.IRREVERSIBLE,
)
ALIASES = {
    "mariadb": "mysql",
    "tidb": "mysql",
    "sqlite3": "sqlite",
    "mssql": "tsql",
    "sqlserver": "tsql",
}
_DATA_KINDS = frozenset(
    {"TABLE", "DATABASE", "SCHEMA", "MATERIALIZED VIEW", "TABLESPACE", "SEQUENCE"}
)
_LONE_NAME_CALLS = frozenset({"tsql"})  # T-SQL runs a lone procedure name at the start of a batch
_HARMLESS = (
    "Use",
    "Set",
    "Transaction",
    "Commit",
    "Rollback",
    "Describe",
    "Show",
    "Analyze",
    "Cache",
    "Uncache",
)


# sqlglot's own dialects, listed without loading one (``Dialect.classes`` imports every dialect
# module each time it is read: 150 ms the first time, 50 µs after).
_BUILT_IN = frozenset(d.value for d in Dialects if d.value)


def known(dialect: str) -> str:
    """sqlglot's name for ``dialect``, or "" when sqlglot does not read it."""
    name = ALIASES.get(dialect.lower(), dialect.lower())
    return name if name in _BUILT_IN else ""


def findings(sql: str, dialect: str) -> list[Finding]:
    """One finding per statement of ``sql``, read as ``dialect`` (a name :func:`known` accepts)."""
    out: list[Finding] = []
    # MySQL's pieces come with what its /*! ... */ comments hold opened, as the server runs it
    for statement in split_statements(sql, mysql=dialect == "mysql"):
        if dialect in _LONE_NAME_CALLS and lone_word(statement):
            out.append(finding(Verb.EXECUTE_UNKNOWN, f"run the stored procedure {statement.strip()[:60]} "
                               "(a lone name at the start of a batch runs it)", _GONE))  # fmt: skip
            continue
        try:
            parsed = [node for node in sqlglot.parse(statement, read=dialect) if node is not None]
        except (SqlglotError, RecursionError, ValueError):
            out.append(unparsed(scan_keywords(statement)))
            continue
        for node in parsed:
            out.extend(_statement(node, statement))
    return out


def unknown_dialect(sql: str, dialect: str) -> list[Finding]:
    """Findings for SQL in a dialect nothing here parses: keywords only, and said so."""
    note = f"the SQL is in the {dialect[:40]} dialect, which Blastdoor cannot parse"
    return [
        unparsed(scan_keywords(statement), note=note, keep=(Verb.READ,))
        for statement in split_statements(sql)
    ]


def _statement(node: Any, text: str) -> Iterator[Finding]:
    if isinstance(node, exp.Drop):
        yield _drop(node)
    elif isinstance(node, (exp.Delete, exp.Update)):
        yield _dml(node)
    elif isinstance(node, exp.TruncateTable):
        names = [_table(t) for t in node.expressions]
        yield finding(
            Verb.DELETE, f"empty the tables {', '.join(names)}", _GONE, {"truncate"}, names
        )
    elif isinstance(node, exp.Alter):
        yield from _alter(node)
    elif isinstance(node, exp.Insert):
        table = _table(node.this)
        upsert = (
            node.args.get("conflict") is not None
            or node.args.get("overwrite")
            or "replace" in str(node.args.get("alternative") or "").lower()
        )
        yield (finding(Verb.MODIFY, f"insert or replace rows in {table}", _BACKUP, {"upsert"}, [table]) if upsert
               else finding(Verb.CREATE, f"insert rows into {table}", objects=[table]))  # fmt: skip
    elif isinstance(node, exp.Query) and not _writes(node):
        yield finding(Verb.READ, "read data")
    elif isinstance(node, exp.Create):
        yield finding(
            Verb.CREATE,
            f"create the {str(node.args.get('kind') or 'object').lower()} {_table(node.this)}",
        )
    elif isinstance(
        node, (exp.Command, exp.Condition)
    ):  # a bare expression (`a * b`): no statement
        yield scan_keywords(text)
    elif type(node).__name__ in _HARMLESS:
        yield finding(Verb.EXECUTE, f"run {type(node).__name__.upper()}")
    else:
        yield finding(
            Verb.MODIFY, f"change the database with {type(node).__name__.upper()}", tags={"schema"}
        )
    for inner in _nested(node):
        yield from _statement(inner, text)


def _writes(node: Any) -> bool:
    return any(
        isinstance(n, (exp.Delete, exp.Update, exp.Insert, exp.Drop))
        for n in node.walk()
        if n is not node
    )


def _nested(node: Any) -> Iterator[Any]:
    """Statements that change data inside another (``WITH d AS (DELETE ...) SELECT``)."""
    if isinstance(node, exp.Alter):
        return  # its DROP COLUMN actions are read by _alter
    for inner in node.walk():
        if inner is not node and isinstance(
            inner, (exp.Delete, exp.Update, exp.Drop, exp.TruncateTable)
        ):
            yield inner


def _table(node: Any) -> str:
    if node is None:
        return "?"
    table = node if isinstance(node, exp.Table) else node.find(exp.Table)
    if table is None:
        return str(node.sql())[:100]
    return ".".join(part for part in (str(table.catalog), str(table.db), str(table.name)) if part)


def _drop(node: Any) -> Finding:
    kind = str(node.args.get("kind") or "object").upper()
    names = [_table(t) for t in node.args.get("tables") or [node.this]]
    cascade = bool(node.args.get("cascade"))
    detail = f"drop the {kind.lower()} {', '.join(names)}" + (
        " and everything that depends on it (CASCADE)" if cascade else ""
    )
    tags = {"drop"} | ({"cascade"} if cascade else set())
    if kind in _DATA_KINDS or cascade:
        return finding(Verb.DESTROY, detail + ", with all its data", _GONE, tags, names)
    return finding(Verb.DELETE, detail, _BACKUP, tags, names)


def _dml(node: Any) -> Finding:
    deleting = isinstance(node, exp.Delete)
    extra = [_table(t) for t in node.args.get("tables") or []]  # MySQL: DELETE t1, t2 FROM ...
    names = list(dict.fromkeys(extra or [_table(node.this)]))
    verb, action, table = (
        (Verb.DELETE, "delete", ", ".join(names))
        if deleting
        else (Verb.MODIFY, "update", ", ".join(names))
    )
    where = node.args.get("where")
    if where is None:
        return finding(
            verb, f"{action} every row of {table} (no WHERE clause)", _GONE, {"no-where"}, names
        )
    if _trivial(where.this):
        return finding(
            verb,
            f"{action} every row of {table} (the WHERE clause is always true)",
            _GONE,
            {"trivial-where"},
            names,
        )
    return finding(
        verb,
        f"{action} the rows of {table} that match a WHERE clause",
        _BACKUP,
        {"filtered"},
        names,
    )


def _alter(node: Any) -> Iterator[Finding]:
    table = _table(node.this)
    for action in node.args.get("actions") or []:
        dropped = ""
        if isinstance(action, exp.Drop) and str(action.args.get("kind") or "COLUMN").upper() in (
            "COLUMN",
            "PARTITION",
        ):
            dropped = ", ".join(t.sql() for t in action.args.get("tables") or []) or "a column"
        elif (
            isinstance(action, exp.Command) and str(action.this).upper() == "DROP"
        ):  # SQLite's ALTER TABLE t DROP c
            words = str(action.expression or "").split()
            dropped = (
                words[-1]
                if words
                and words[0].upper()
                not in ("CONSTRAINT", "INDEX", "KEY", "PRIMARY", "FOREIGN", "CHECK")
                else ""
            )
        if dropped:
            yield finding(
                Verb.DESTROY,
                f"drop {dropped} of {table}, with its data",
                _GONE,
                {"drop-column"},
                [table],
            )
        else:
            yield finding(Verb.MODIFY, f"alter the table {table}", _REV, {"schema"}, [table])


def _trivial(expr: Any) -> bool:
    """Whether a WHERE condition holds for every row (``1``, ``1=1``, ``TRUE``, ``id > 0``)."""
    if isinstance(expr, exp.Paren):
        return _trivial(expr.this)
    if isinstance(expr, exp.Boolean):
        return bool(expr.this)
    if isinstance(expr, exp.Literal):
        return (expr.is_number and float(expr.this) != 0) or expr.this.lower() in (
            "true",
            "t",
            "1",
            "yes",
            "on",
        )
    if isinstance(expr, exp.Or):
        return _trivial(expr.left) or _trivial(expr.right)
    if isinstance(expr, exp.And):
        return _trivial(expr.left) and _trivial(expr.right)
    if isinstance(expr, exp.Not) and isinstance(expr.this, exp.Is):
        return isinstance(expr.this.expression, exp.Null) and _column(expr.this.this) == "id"
    if isinstance(expr, (exp.EQ, exp.NEQ)):
        same = expr.left.sql() == expr.right.sql() and isinstance(
            expr.left, (exp.Literal, exp.Column)
        )
        return (
            same
            if isinstance(expr, exp.EQ)
            else (
                isinstance(expr.left, exp.Literal)
                and isinstance(expr.right, exp.Literal)
                and not same
            )
        )
    if (
        isinstance(expr, (exp.GT, exp.GTE))
        and _column(expr.left) == "id"
        and isinstance(expr.right, exp.Literal)
        and expr.right.is_number
    ):
        return float(expr.right.this) <= (0 if isinstance(expr, exp.GT) else 1)
    if isinstance(expr, exp.Like) and isinstance(expr.expression, exp.Literal):
        return str(expr.expression.this) == "%"
    return False


def _column(expr: Any) -> str:
    return str(expr.name).lower() if isinstance(expr, exp.Column) else ""
