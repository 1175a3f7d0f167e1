"""What to save before a SQL text runs, read from PostgreSQL's own parse tree (pglast).

Per statement:

- ``DELETE`` / ``UPDATE``: the rows it would touch (``SELECT * FROM <table> WHERE <its WHERE>``),
  or the whole table when it joins other tables (``USING`` / ``FROM``) or has no WHERE;
- ``TRUNCATE``, ``DROP TABLE|VIEW|MATERIALIZED VIEW|SEQUENCE|FOREIGN TABLE``, ``ALTER TABLE ...
  DROP COLUMN | ALTER COLUMN TYPE``: a ``pg_dump`` of each table, outside the database;
- ``DROP SCHEMA``: a ``pg_dump`` of the schema.

Statements whose loss cannot be saved this way (``DO`` blocks and ``CALL``, which run code;
``DROP DATABASE``; data-modifying ``WITH`` clauses; ``EXPLAIN ANALYZE`` of a change; text pglast
cannot parse that deletes or destroys) are *problems*: with a credential that reaches past
development, the broker refuses to run them at all. Everything else saves nothing (it destroys no
rows: ``INSERT``, ``CREATE``, ``DROP INDEX`` ...).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

ROWS, TABLE, SCHEMA = "rows", "table", "schema"
# Statements that destroy no rows; anything not listed here and not handled below is a problem.
_HARMLESS = frozenset({
    "SelectStmt", "InsertStmt", "CreateStmt", "CreateTableAsStmt", "IndexStmt", "ViewStmt", "CreateSeqStmt",
    "CreateSchemaStmt", "VariableShowStmt", "TransactionStmt", "CommentStmt", "GrantStmt", "GrantRoleStmt",
    "CreateRoleStmt", "CreateFunctionStmt", "CreateTrigStmt", "CreateExtensionStmt", "AlterSeqStmt", "LockStmt",
    "VacuumStmt", "RefreshMatViewStmt", "DeclareCursorStmt", "FetchStmt", "ClosePortalStmt", "NotifyStmt",
    "ListenStmt", "UnlistenStmt", "CheckPointStmt", "CreateEnumStmt", "CompositeTypeStmt", "CreateDomainStmt",
    "CreatePolicyStmt", "AlterTableStmt", "ExplainStmt", "CopyStmt", "DropStmt", "DeleteStmt", "UpdateStmt",
    "TruncateStmt", "VariableSetStmt", "RenameStmt", "AlterRoleStmt", "AlterOwnerStmt", "AlterObjectSchemaStmt",
})  # fmt: skip
# In a text of several statements, a statement that saves something may follow only these (others
# could rename, re-point or change what a later statement's names and WHERE mean).
_SAFE_BEFORE = frozenset({"SelectStmt", "InsertStmt", "DeleteStmt", "UpdateStmt", "TruncateStmt", "DropStmt",
                          "TransactionStmt", "VariableShowStmt"})  # fmt: skip
_DUMPED = {"OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_MATVIEW", "OBJECT_SEQUENCE", "OBJECT_FOREIGN_TABLE"}


@dataclass(frozen=True)
class Part:
    kind: str  # rows | table | schema
    change: str  # delete | update | truncate | drop | alter | drop-schema
    relation: str  # as written: [schema.]name (the schema name for SCHEMA parts)
    source: str = ""  # for ROWS: "FROM ... WHERE ..." selecting the rows, alias included
    statement: int = 0
    cascade: bool = False
    columns: tuple[str, ...] = ()  # for an UPDATE: the columns it sets (PostgreSQL's plan)


@dataclass(frozen=True)
class Plan:
    parts: tuple[Part, ...] = ()
    problems: tuple[str, ...] = field(default_factory=tuple)


def plan(sql: str) -> Plan:
    from pglast import parse_sql
    from pglast.parser import ParseError

    try:
        statements = parse_sql(sql)
    except ParseError as error:
        return Plan(problems=_unparsed(sql, str(error)))
    return combined([(*_statement(raw.stmt, index), type(raw.stmt).__name__) for index, raw in enumerate(statements)],
                    safe_before=_SAFE_BEFORE)  # fmt: skip


def combined(statements: Sequence[tuple[list[Part], str, str]], *, safe_before: frozenset[str],
             problems: Sequence[str] = ()) -> Plan:  # fmt: skip
    """The plan of a text from each statement's (parts, problem, kind), for every engine: in a text
    of several statements, rows are saved as whole tables (a later statement may change the rows an
    earlier WHERE picks), and a statement that saves something may follow only kinds in
    ``safe_before``. ``problems`` are the text's own, listed first."""
    parts: list[Part] = []
    found_problems = list(problems)
    for index, (found, problem, _kind) in enumerate(statements):
        if found and len(statements) > 1:
            found = [replace(p, source=f"FROM {p.relation}") if p.kind == ROWS else p for p in found]
            before = sorted({kind for _, _, kind in statements[:index]} - safe_before)
            if before:
                problem = problem or f"it follows {', '.join(before)} in the same text, which can change what it names; run them separately"
        parts.extend(found)
        if problem:
            found_problems.append(f"statement {index + 1}: {problem}")
    return Plan(tuple(parts), tuple(found_problems))


def _statement(node: Any, index: int) -> tuple[list[Part], str]:
    kind = type(node).__name__
    if kind not in _HARMLESS:
        return [], f"Blastdoor does not know what {kind.removesuffix('Stmt')} statements destroy"
    if _modifying_with(node) or (kind == "CopyStmt" and node.query is not None and _changes(node.query)):
        return [], "a query inside it changes data, which cannot be saved first; run the change as a plain statement"
    if kind == "DeleteStmt":
        return [_rows(node, "delete", index, joined=bool(node.usingClause))], ""
    if kind == "UpdateStmt":
        return [_rows(node, "update", index, joined=bool(node.fromClause))], ""
    if kind == "TruncateStmt":
        return [Part(TABLE, "truncate", _relation(rel), statement=index, cascade=_cascade(node)) for rel in node.relations], ""
    if kind == "DropStmt":
        return _drop(node, index)
    if kind == "AlterTableStmt":
        lossy = [cmd for cmd in node.cmds or () if _alter_loses_data(cmd)]
        return ([Part(TABLE, "alter", _relation(node.relation), statement=index)] if lossy else []), ""
    if kind in ("DoStmt", "CallStmt"):
        return [], "it runs code whose changes cannot be saved first"
    if kind == "DropdbStmt":
        return [], "a whole database cannot be saved first; take and verify a backup, then a person runs it"
    if kind == "ExplainStmt" and _analyze(node) and _changes(node.query):
        return [], "EXPLAIN ANALYZE runs the change; run the statement itself"
    if kind == "InsertStmt" and node.onConflictClause is not None and node.onConflictClause.action != 1:
        return [], "INSERT ... ON CONFLICT DO UPDATE overwrites rows that cannot be saved first; run an UPDATE"
    return [], ""


def _changes(node: Any) -> bool:
    """Whether ``node`` (a query) deletes or updates rows, itself or in a WITH clause."""
    return type(node).__name__ in ("DeleteStmt", "UpdateStmt", "MergeStmt") or _modifying_with(node)


def _rows(node: Any, change: str, index: int, *, joined: bool) -> Part:
    from pglast.stream import RawStream

    table = _relation(node.relation)
    columns = tuple(dict.fromkeys(target.name for target in node.targetList)) if change == "update" else ()
    if joined or node.whereClause is None:
        return Part(ROWS, change, table, f"FROM {table}", index, columns=columns)
    source = f"FROM {RawStream()(node.relation)} WHERE {RawStream()(node.whereClause)}"
    return Part(ROWS, change, table, source, index, columns=columns)


def _drop(node: Any, index: int) -> tuple[list[Part], str]:
    from pglast.enums import ObjectType

    kind = ObjectType(node.removeType).name
    if kind in _DUMPED:
        from pglast.stream import maybe_double_quote_name

        return [Part(TABLE, "drop", ".".join(maybe_double_quote_name(n.sval) for n in names), statement=index,
                     cascade=_cascade(node)) for names in node.objects], ""  # fmt: skip
    if kind == "OBJECT_SCHEMA":
        return [Part(SCHEMA, "drop-schema", _plain(name), statement=index) for name in node.objects], ""
    if _cascade(node):
        return [], f"DROP {kind.removeprefix('OBJECT_')} ... CASCADE drops what depends on it, which cannot be listed first"
    return [], ""


def _cascade(node: Any) -> bool:
    from pglast.enums import DropBehavior

    return bool(getattr(node, "behavior", None) == DropBehavior.DROP_CASCADE)


def _alter_loses_data(cmd: Any) -> bool:
    from pglast.enums import AlterTableType

    subtype = AlterTableType(getattr(cmd, "subtype", -1)).name if hasattr(cmd, "subtype") else ""
    return subtype in ("AT_DropColumn", "AT_AlterColumnType")


def _modifying_with(node: Any) -> bool:
    clause = getattr(node, "withClause", None)
    if clause is None:
        return False
    return any(type(cte.ctequery).__name__ in ("DeleteStmt", "UpdateStmt", "InsertStmt", "MergeStmt")
               for cte in clause.ctes or ())  # fmt: skip


def _analyze(node: Any) -> bool:
    return any(getattr(option, "defname", "") == "analyze" for option in node.options or ())


def _relation(rangevar: Any) -> str:
    """``[schema.]name`` quoted as PostgreSQL needs it, without the alias."""
    from pglast.stream import maybe_double_quote_name

    parts = (rangevar.catalogname, rangevar.schemaname, rangevar.relname)
    return ".".join(maybe_double_quote_name(part) for part in parts if part)


def _plain(name: Any) -> str:
    from pglast.stream import maybe_double_quote_name

    return str(maybe_double_quote_name(str(getattr(name, "sval", name))))


def _unparsed(sql: str, error: str) -> tuple[str, ...]:
    from blastdoor.analyze.sql import analyze_sql
    from blastdoor.model import Verb

    destructive = [e for e in analyze_sql(sql) if e.verb in (Verb.DELETE, Verb.DESTROY, Verb.EXECUTE_UNKNOWN)]
    if not destructive:
        return ()
    return (f"PostgreSQL's parser cannot read it ({error.splitlines()[0][:120]}), so what it destroys cannot be saved first",)
