"""PostgreSQL statements, parsed by pglast, turned into findings: DROP and TRUNCATE destroy,
DELETE/UPDATE without a real WHERE wipe a whole table, a filtered one changes some rows, GRANT of
superuser-like powers escalates, SELECT/SHOW/EXPLAIN read, and data-changing statements nested in
CTEs and risky functions are found too."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from blastdoor.analyze.sql import Finding, finding, split_statements
from blastdoor.analyze.sql_keywords import scan_keywords
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


def _what(kind: str) -> str:
    words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", kind.removesuffix("Stmt")).lower()
    return f"a {words} statement"


_CREATED = {"": "table", "db": "database", "seq": "sequence", "trig": "trigger",
    "table as": "table from a query", "define": "type, aggregate or operator"}  # fmt: skip


def _created(kind: str) -> str:
    """What a CREATE statement makes, in words: ``CreateSeqStmt`` → ``a sequence``."""
    words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", kind.removesuffix("Stmt")).lower()
    what = _CREATED.get(words.removeprefix("create").strip(), words.removeprefix("create").strip())
    return f"{'an' if what[:1] in 'aeio' else 'a'} {what}"


_HARMLESS = frozenset({"TransactionStmt", "VariableSetStmt", "VariableShowStmt", "DiscardStmt",
    "ListenStmt", "UnlistenStmt", "NotifyStmt", "LockStmt", "CheckPointStmt", "VacuumStmt",
    "ClusterStmt", "ReindexStmt", "LoadStmt", "DeallocateStmt", "PrepareStmt",
    "ConstraintsSetStmt", "ClosePortalStmt", "FetchStmt", "DeclareCursorStmt"})  # fmt: skip


def _nested(node: Any) -> Iterator[Finding]:
    """Data-changing statements in CTEs (``WITH d AS (DELETE ...) SELECT``), risky functions."""
    for child in _descendants(node):
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


def _descendants(node: Any) -> Iterator[Any]:
    from pglast.ast import Node

    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, Node):
            yield current
            stack.extend(getattr(current, slot, None) for slot in getattr(current, "__slots__", ()))
        elif isinstance(current, (tuple, list)):
            stack.extend(current)


def _name(node: Any) -> str:
    """A readable name for a RangeVar, a qualified name list, or any other object reference."""
    if node is None:
        return ""
    if isinstance(node, (tuple, list)):
        return ".".join(filter(None, (_name(part) for part in node)))
    for attr in ("sval", "relname", "rolename", "priv_name"):
        value = getattr(node, attr, None)
        if isinstance(value, str):
            schema = getattr(node, "schemaname", None) if attr == "relname" else None
            return f"{schema}.{value}" if schema else value
    for attr in ("objname", "names", "rel", "relation"):
        if getattr(node, attr, None) is not None:
            return _name(getattr(node, attr))
    kind = getattr(node, "roletype", None)  # PUBLIC, CURRENT_USER, SESSION_USER ...
    return kind.name.removeprefix("ROLESPEC_").lower() if kind is not None else "?"


_DATA_OBJECTS = frozenset({"TABLE", "SCHEMA", "MATVIEW", "FOREIGN_TABLE", "TABLESPACE",
    "DATABASE", "SEQUENCE"})  # fmt: skip


def _drop(node: Any) -> Iterator[Finding]:
    kind = node.removeType.name.removeprefix("OBJECT_")
    names = [_name(obj) for obj in node.objects or ()]
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
    table = _name(node.relation)
    verb, action = (Verb.DELETE, "delete") if deleting else (Verb.MODIFY, "update")
    where = node.whereClause
    if where is None:
        yield finding(
            verb, f"{action} every row of {table} (no WHERE clause)", _GONE, {"no-where"}, [table]
        )
    elif _trivial(where):
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


def _trivial(expr: Any) -> bool:
    """Whether a WHERE clause holds for every row (``1=1``, ``true``, ``id IS NOT NULL``)."""
    kind = type(expr).__name__
    if kind == "A_Const":
        value = getattr(expr.val, "boolval", None) if expr.val is not None else None
        ival = getattr(expr.val, "ival", None) if expr.val is not None else None
        sval = str(getattr(expr.val, "sval", "")).lower() if expr.val is not None else ""
        return bool(value) or bool(ival) or sval in ("t", "true", "1", "y", "yes", "on")
    if kind == "TypeCast":
        return _trivial(expr.arg)
    if kind == "BoolExpr":
        parts = list(expr.args or ())
        if expr.boolop.name == "OR_EXPR":
            return any(_trivial(p) for p in parts)
        if expr.boolop.name == "AND_EXPR":
            return all(_trivial(p) for p in parts)
        return _false(parts[0]) if parts else False
    if kind == "NullTest":
        return expr.nulltesttype.name == "IS_NOT_NULL" and _column(expr.arg) == "id"
    if kind == "A_Expr":
        return _trivial_comparison(expr)
    return False


def _false(expr: Any) -> bool:
    return type(expr).__name__ == "A_Const" and getattr(expr.val, "boolval", True) is False


def _column(expr: Any) -> str:
    if type(expr).__name__ != "ColumnRef":
        return ""
    return str(getattr(expr.fields[-1], "sval", "")).lower()


def _reference(expr: Any) -> str:
    """A column reference as written, qualifiers included (``t.x``), lowercased."""
    if type(expr).__name__ != "ColumnRef":
        return ""
    return ".".join(str(getattr(part, "sval", "*")) for part in expr.fields).lower()


def _const(expr: Any) -> object:
    if type(expr).__name__ == "TypeCast":
        expr = expr.arg
    if type(expr).__name__ != "A_Const" or expr.val is None:
        return None
    for attr in ("ival", "sval", "fval", "boolval"):
        if hasattr(expr.val, attr):
            return getattr(expr.val, attr)
    return None


def _trivial_comparison(expr: Any) -> bool:
    op = str(getattr((expr.name or ("",))[-1], "sval", ""))
    left, right = _const(expr.lexpr), _const(expr.rexpr)
    if expr.kind.name == "AEXPR_LIKE":
        return right == "%"
    if expr.kind.name != "AEXPR_OP":
        return False
    if left is not None and right is not None:
        same = str(left) == str(right)
        return {"=": same, "<>": not same, "!=": not same}.get(op, False)
    if op == "=" and _reference(expr.lexpr) and _reference(expr.lexpr) == _reference(expr.rexpr):
        return True  # x = x; but a.x = b.x is a join condition
    if _column(expr.lexpr) == "id" and isinstance(right, int):
        return (
            (op == ">" and right <= 0)
            or (op == ">=" and right <= 1)
            or (op in ("<>", "!=") and right <= 0)
        )
    return False


def _insert(node: Any) -> Iterator[Finding]:
    table = _name(node.relation)
    conflict = node.onConflictClause
    if conflict is not None and conflict.action.name == "ONCONFLICT_UPDATE":
        yield finding(
            Verb.MODIFY, f"insert or update rows in {table}", _BACKUP, {"upsert"}, [table]
        )
    else:
        yield finding(Verb.CREATE, f"insert rows into {table}", objects=[table])


def _merge(node: Any) -> Iterator[Finding]:
    table = _name(node.relation)
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
    table = _name(node.relation)
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


_POWERFUL_ROLES = re.compile(
    r"^(postgres|rds_superuser|azure_pg_admin|cloudsqlsuperuser|pg_read_server_files"
    r"|pg_write_server_files|pg_execute_server_program|pg_signal_backend|root|admin|dba)$"
)
_POWERFUL_OPTIONS = frozenset({"superuser", "createrole", "bypassrls", "replication"})


_RLS_BYPASS_ROLES = re.compile(r"^(service_role|supabase_admin|supabase_auth_admin|postgres|rds_superuser|"
                               r"cloudsqlsuperuser|azure_pg_admin|neon_superuser|admin|root)$")  # fmt: skip


def _set(node: Any) -> Iterator[Finding]:
    """``SET [LOCAL] ROLE r`` / ``SET SESSION AUTHORIZATION r``: a role that bypasses row-level
    security (Supabase's ``service_role``, a superuser) is an escalation; anything else is a setting."""
    name = str(node.name or "").lower()
    values = [str(_const(arg) or "") for arg in node.args or ()]
    role = (values[0] if values else "").lower()
    if name in ("role", "session_authorization") and _RLS_BYPASS_ROLES.match(role):
        yield finding(Verb.ESCALATE, f"act as the role {role}, which bypasses row-level security", _REV,
                 {"permissions", "rls-bypass"})  # fmt: skip
    else:
        yield finding(Verb.EXECUTE, f"run SET {name or 'statement'}")


def _grant(node: Any) -> Iterator[Finding]:
    who = ", ".join(_name(g) for g in node.grantees or ())
    if not node.is_grant:
        yield finding(Verb.MODIFY, f"revoke privileges from {who}", _REV, {"permissions"})
        return
    privileges = (
        "all privileges"
        if node.privileges is None
        else ", ".join(_name(p) for p in node.privileges)
    )
    scope = (
        "every object in a schema"
        if node.targtype.name == "ACL_TARGET_ALL_IN_SCHEMA"
        else ", ".join(_name(o) for o in node.objects or ())
    )
    detail = f"grant {privileges} on {scope} to {who}"
    if node.grant_option and node.privileges is None:
        yield finding(Verb.ESCALATE, detail + " WITH GRANT OPTION", _REV, {"permissions"})
    else:
        yield finding(Verb.MODIFY, detail, _REV, {"permissions"})


def _grant_role(node: Any) -> Iterator[Finding]:
    roles = [_name(r) for r in node.granted_roles or ()]
    who = ", ".join(_name(g) for g in node.grantee_roles or ())
    if node.is_grant and any(_POWERFUL_ROLES.match(r.lower()) for r in roles):
        yield finding(
            Verb.ESCALATE, f"give {who} the powerful role {', '.join(roles)}", _REV, {"permissions"}
        )
    else:
        action = "grant" if node.is_grant else "revoke"
        yield finding(
            Verb.MODIFY, f"{action} the role {', '.join(roles)} for {who}", _REV, {"permissions"}
        )


def _role(node: Any) -> Iterator[Finding]:
    name = node.role if isinstance(node.role, str) else _name(node.role)
    powers = [
        o.defname
        for o in node.options or ()
        if o.defname in _POWERFUL_OPTIONS and getattr(o.arg, "boolval", True) is not False
    ]
    creating = type(node).__name__ == "CreateRoleStmt"
    if powers:
        yield finding(
            Verb.ESCALATE,
            f"give the role {name} {', '.join(p.upper() for p in powers)}",
            _REV,
            {"permissions"},
        )
    elif creating:
        yield finding(Verb.CREATE, f"create the role {name}")
    else:
        yield finding(Verb.MODIFY, f"change the role {name}", _REV, {"permissions"})


def _select(node: Any) -> Iterator[Finding]:
    if node.intoClause is not None:
        yield finding(Verb.CREATE, f"create the table {_name(node.intoClause.rel)} from a query")
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
        yield finding(Verb.CREATE, f"load rows into {_name(node.relation)}")
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
        scan_keywords(part.replace("'", " ")) for part in split_statements(body.replace("'", " "))
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
            Verb.DELETE, f"drop the role {', '.join(_name(r) for r in n.roles)}", _BACKUP, {"drop"}
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
            f"drop the user mapping for {_name(n.user)} on server {n.servername}",
            _BACKUP,
            {"drop"},
        )
    ],
    "TruncateStmt": lambda n: [
        finding(
            Verb.DELETE,
            f"empty the tables {', '.join(_name(r) for r in n.relations)}",
            _GONE,
            {"truncate"},
            [_name(r) for r in n.relations],
        )
    ],
    "VariableSetStmt": lambda n: list(_set(n)),
    "DeleteStmt": _dml,
    "UpdateStmt": _dml,
    "InsertStmt": _insert,
    "MergeStmt": _merge,
    "AlterTableStmt": _alter_table,
    "GrantStmt": _grant,
    "GrantRoleStmt": _grant_role,
    "CreateRoleStmt": _role,
    "AlterRoleStmt": _role,
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
