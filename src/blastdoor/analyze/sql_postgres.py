"""PostgreSQL statements, parsed by pglast, turned into findings: DROP and TRUNCATE destroy,
DELETE/UPDATE without a real WHERE wipe a whole table, a filtered one changes some rows, GRANT of
superuser-like powers escalates, SELECT/SHOW/EXPLAIN read, and data-changing statements nested in
CTEs and risky functions are found too."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from blastdoor.analyze.sql import Finding, finding, postgres_statements
from blastdoor.analyze.sql_keywords import scan_keywords
from blastdoor.analyze.sql_nodes import descendants, name_of
from blastdoor.analyze.sql_permissions import (
    grant_findings,
    grant_role_findings,
    role_findings,
    set_findings,
)
from blastdoor.analyze.sql_where import always_true
from blastdoor.model import Reversibility, Verb

_REV, _BACKUP, _GONE = (
    Reversibility.REVERSIBLE,
    Reversibility.RECOVERABLE_WITH_BACKUP,
    Reversibility.IRREVERSIBLE,
)


def _statement(node: Any) -> Iterator[Finding]:
    kind = type(node).__name__
    handler = _HANDLERS.get(kind)
    if handler is not None:
        yield from handler(node)
    elif kind.startswith("Create") or kind in (
        "IndexStmt",
        "DefineStmt",
        "RuleStmt",
        "CompositeTypeStmt",
        "ViewStmt",
    ):
        replace = bool(getattr(node, "replace", False))
        yield finding(
            Verb.MODIFY if replace else Verb.CREATE,
            f"{'replace' if replace else 'create'} {_created(kind)}",
        )
    elif kind in _HARMLESS:
        yield finding(Verb.EXECUTE, f"run {_what(kind)}")
    else:
        yield finding(Verb.MODIFY, f"change the database with {_what(kind)}", tags={"schema"})
    if kind != "ExplainStmt":
        yield from _nested(node)


def _words(kind: str) -> str:
    """A pglast node name in words: ``CreateSeqStmt`` → ``create seq``."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", kind.removesuffix("Stmt")).lower()


def _what(kind: str) -> str:
    return f"a {_words(kind)} statement"


_CREATED = {"": "table", "db": "database", "seq": "sequence", "trig": "trigger",
    "table as": "table from a query", "define": "type, aggregate or operator"}  # fmt: skip


def _created(kind: str) -> str:
    """What a CREATE statement makes, in words: ``CreateSeqStmt`` → ``a sequence``."""
    made = _words(kind).removeprefix("create").strip()
    what = _CREATED.get(made, made)
    return f"{'an' if what[:1] in 'aeio' else 'a'} {what}"


_HARMLESS = frozenset({"TransactionStmt", "VariableSetStmt", "VariableShowStmt", "DiscardStmt",
    "ListenStmt", "UnlistenStmt", "NotifyStmt", "LockStmt", "CheckPointStmt", "VacuumStmt",
    "ClusterStmt", "ReindexStmt", "LoadStmt", "DeallocateStmt", "PrepareStmt",
    "ConstraintsSetStmt", "ClosePortalStmt", "FetchStmt", "DeclareCursorStmt"})  # fmt: skip


def _nested(node: Any) -> Iterator[Finding]:
    """Data-changing statements in CTEs (``WITH d AS (DELETE ...) SELECT``), risky functions."""
    for child in descendants(node):
        kind = type(child).__name__
        if kind in ("DeleteStmt", "UpdateStmt", "InsertStmt", "MergeStmt") and child is not node:
            yield from _HANDLERS[kind](child)
        elif kind == "FuncCall":
            name = str(getattr(child.funcname[-1], "sval", "")).lower()
            if name in _RISKY_FUNCTIONS:
                yield _RISKY_FUNCTIONS[name]


_RISKY_FUNCTIONS = {
    "pg_terminate_backend": finding(
        Verb.MODIFY, "end other database sessions", _GONE, {"kills-sessions"}
    ),
    "pg_drop_replication_slot": finding(Verb.DELETE, "drop a replication slot", _GONE),
    "lo_unlink": finding(Verb.DELETE, "delete a large object", _GONE),
    "pg_read_file": finding(
        Verb.CREDENTIAL_USE, "read a file on the database server", tags={"server-file"}
    ),
    "pg_read_binary_file": finding(
        Verb.CREDENTIAL_USE, "read a file on the database server", tags={"server-file"}
    ),
    "dblink_exec": finding(
        Verb.EXECUTE_UNKNOWN, "run SQL on another database through dblink", _GONE
    ),
    "pg_promote": finding(Verb.MODIFY, "promote a standby server to primary", _GONE),
}


_DATA_OBJECTS = frozenset({"TABLE", "SCHEMA", "MATVIEW", "FOREIGN_TABLE", "TABLESPACE",
    "DATABASE", "SEQUENCE"})  # fmt: skip


def _drop(node: Any) -> Iterator[Finding]:
    kind = node.removeType.name.removeprefix("OBJECT_")
    names = [name_of(obj) for obj in node.objects or ()]
    cascade = node.behavior.name == "DROP_CASCADE"
    label = kind.lower().replace("matview", "materialized view").replace("_", " ")
    detail = f"drop the {label} {', '.join(names)}" + (
        " and everything that depends on it (CASCADE)" if cascade else ""
    )
    tags = {"drop"} | ({"cascade"} if cascade else set())
    if kind in _DATA_OBJECTS or cascade:
        yield finding(Verb.DESTROY, detail + ", with all its data", _GONE, tags, names)
    else:
        yield finding(Verb.DELETE, detail, _BACKUP, tags, names)


def _dml(node: Any) -> Iterator[Finding]:
    deleting = type(node).__name__ == "DeleteStmt"
    table = name_of(node.relation)
    verb, action = (Verb.DELETE, "delete") if deleting else (Verb.MODIFY, "update")
    where = node.whereClause
    if where is None:
        yield finding(
            verb, f"{action} every row of {table} (no WHERE clause)", _GONE, {"no-where"}, [table]
        )
    elif always_true(where):
        yield finding(
            verb,
            f"{action} every row of {table} (the WHERE clause is always true)",
            _GONE,
            {"trivial-where"},
            [table],
        )
    else:
        yield finding(
            verb,
            f"{action} the rows of {table} that match a WHERE clause",
            _BACKUP,
            {"filtered"},
            [table],
        )


def _insert(node: Any) -> Iterator[Finding]:
    table = name_of(node.relation)
    conflict = node.onConflictClause
    if conflict is not None and conflict.action.name == "ONCONFLICT_UPDATE":
        yield finding(
            Verb.MODIFY, f"insert or update rows in {table}", _BACKUP, {"upsert"}, [table]
        )
    else:
        yield finding(Verb.CREATE, f"insert rows into {table}", objects=[table])


def _merge(node: Any) -> Iterator[Finding]:
    table = name_of(node.relation)
    deletes = any(
        getattr(w, "commandType", None) is not None and w.commandType.name == "CMD_DELETE"
        for w in node.mergeWhenClauses or ()
    )
    verb = Verb.DELETE if deletes else Verb.MODIFY
    yield finding(
        verb,
        f"merge rows into {table}" + (", deleting some" if deletes else ""),
        _BACKUP,
        {"filtered"},
        [table],
    )


def _alter_table(node: Any) -> Iterator[Finding]:
    table = name_of(node.relation)
    for cmd in node.cmds or ():
        sub = cmd.subtype.name
        if sub in ("AT_DropColumn", "AT_DetachPartition"):
            what = f"the column {cmd.name}" if sub == "AT_DropColumn" else "a partition"
            yield finding(
                Verb.DESTROY,
                f"drop {what} of {table}, with its data",
                _GONE,
                {"drop-column"},
                [table],
            )
        elif sub in ("AT_DisableRowSecurity", "AT_NoForceRowSecurity", "AT_DisableTrig"):
            yield finding(
                Verb.MODIFY,
                f"switch off row security or triggers on {table}",
                _REV,
                {"weakens-guard"},
                [table],
            )
        elif sub == "AT_AlterColumnType":
            yield finding(
                Verb.MODIFY,
                f"change the type of {cmd.name} in {table}",
                _BACKUP,
                {"schema"},
                [table],
            )
        else:
            yield finding(Verb.MODIFY, f"alter the table {table}", _REV, {"schema"}, [table])


def _select(node: Any) -> Iterator[Finding]:
    if node.intoClause is not None:
        yield finding(Verb.CREATE, f"create the table {name_of(node.intoClause.rel)} from a query")
    else:
        yield finding(Verb.READ, "read rows")


def _explain(node: Any) -> Iterator[Finding]:
    if any(
        o.defname == "analyze" and getattr(o.arg, "boolval", True) is not False
        for o in node.options or ()
    ):
        yield from _statement(node.query)  # EXPLAIN ANALYZE runs the statement
    else:
        yield finding(Verb.READ, "explain a query plan")


def _copy(node: Any) -> Iterator[Finding]:
    if node.is_program:
        yield finding(
            Verb.EXECUTE_UNKNOWN,
            f"run the program {node.filename!r} on the database server",
            _GONE,
            {"shell-escape", "remote-code"},
        )
    elif node.is_from:
        yield finding(Verb.CREATE, f"load rows into {name_of(node.relation)}")
    elif node.filename:
        yield finding(
            Verb.CREATE,
            f"write a file {node.filename!r} on the database server",
            tags={"server-file"},
        )
    else:
        yield finding(Verb.READ, "copy rows out to the client")


def _do(node: Any) -> Iterator[Finding]:
    body = " ".join(str(getattr(a.arg, "sval", "")) for a in node.args or () if a.defname == "as")
    body = re.sub(
        r"(?i)\b(begin|end|declare|loop|then|else|if)\b|\bexecute\s+(format\s*\()?", ";", body
    )
    parts = [
        scan_keywords(part.replace("'", " "))
        for part in postgres_statements(body.replace("'", " "))
    ]
    inner = [
        found
        for found in parts
        if found.verb not in (Verb.READ, Verb.EXECUTE, Verb.EXECUTE_UNKNOWN)
    ]
    yield from inner or [finding(Verb.EXECUTE_UNKNOWN, "run a procedural code block", _GONE)]


_HANDLERS: dict[str, Any] = {
    "DropStmt": _drop,
    "DropdbStmt": lambda n: [
        finding(
            Verb.DESTROY,
            f"drop the database {n.dbname} with all its data",
            _GONE,
            {"drop"},
            [n.dbname],
        )
    ],
    "DropRoleStmt": lambda n: [
        finding(
            Verb.DELETE,
            f"drop the role {', '.join(name_of(r) for r in n.roles)}",
            _BACKUP,
            {"drop"},
        )
    ],
    "DropOwnedStmt": lambda n: [
        finding(Verb.DESTROY, "drop every object the named roles own", _GONE, {"drop", "cascade"})
    ],
    "DropTableSpaceStmt": lambda n: [
        finding(Verb.DELETE, f"drop the tablespace {n.tablespacename}", _BACKUP, {"drop"})
    ],
    "DropSubscriptionStmt": lambda n: [
        finding(Verb.DELETE, f"drop the subscription {n.subname}", _BACKUP, {"drop"})
    ],
    "DropUserMappingStmt": lambda n: [
        finding(
            Verb.DELETE,
            f"drop the user mapping for {name_of(n.user)} on server {n.servername}",
            _BACKUP,
            {"drop"},
        )
    ],
    "TruncateStmt": lambda n: [
        finding(
            Verb.DELETE,
            f"empty the tables {', '.join(name_of(r) for r in n.relations)}",
            _GONE,
            {"truncate"},
            [name_of(r) for r in n.relations],
        )
    ],
    "VariableSetStmt": lambda n: list(set_findings(n)),
    "DeleteStmt": _dml,
    "UpdateStmt": _dml,
    "InsertStmt": _insert,
    "MergeStmt": _merge,
    "AlterTableStmt": _alter_table,
    "GrantStmt": grant_findings,
    "GrantRoleStmt": grant_role_findings,
    "CreateRoleStmt": role_findings,
    "AlterRoleStmt": role_findings,
    "SelectStmt": _select,
    "ExplainStmt": _explain,
    "VariableShowStmt": lambda n: [finding(Verb.READ, f"show the setting {n.name}")],
    "CopyStmt": _copy,
    "DoStmt": _do,
    "CallStmt": lambda n: [finding(Verb.EXECUTE_UNKNOWN, "call a stored procedure", _GONE)],
    "ExecuteStmt": lambda n: [
        finding(Verb.EXECUTE_UNKNOWN, f"run the prepared statement {n.name}", _GONE)
    ],
    "AlterSystemStmt": lambda n: [
        finding(Verb.MODIFY, "change the server configuration", _REV, {"server-config"})
    ],
}


def statement_findings(node: Any) -> Iterator[Finding]:
    """The findings of one parsed statement (``RawStmt.stmt``)."""
    return _statement(node)
