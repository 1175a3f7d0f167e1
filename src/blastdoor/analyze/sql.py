"""SQL text → effects, one finding per statement, on pglast (PostgreSQL's own parser).

DROP and TRUNCATE destroy, DELETE/UPDATE without a real WHERE wipe a whole table, a filtered
DELETE/UPDATE changes some rows, GRANT of superuser-like powers escalates, SELECT/SHOW/EXPLAIN read.
Text pglast cannot parse (MySQL or CQL syntax, psql ``\\`` meta-commands, sqlite dot-commands) is
split on ``;`` outside quotes and judged per statement from its keywords, and the effect says so.
Scope is left unknown: :mod:`blastdoor.scope` decides it from the target and the context.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from blastdoor.model import Blast, Effect, Reversibility, Target, Verb

MAX_SQL_CHARS = 2_000_000
_REV, _BACKUP, _GONE = (
    Reversibility.REVERSIBLE,
    Reversibility.RECOVERABLE_WITH_BACKUP,
    Reversibility.IRREVERSIBLE,
)


@dataclass(frozen=True)
class Finding:
    """What one statement does, before it is tied to a database target."""

    verb: Verb
    detail: str
    reversibility: Reversibility = Reversibility.REVERSIBLE
    tags: frozenset[str] = frozenset()
    objects: tuple[str, ...] = ()


def finding(
    verb: Verb, detail: str, rev: Reversibility = _REV, tags: Any = (), objects: Any = ()
) -> Finding:
    return Finding(verb, detail, rev, frozenset(tags), tuple(objects))



def analyze_sql(
    text: str, *, target: str = "", dialect: str = "", evidence: str = ""
) -> list[Effect]:
    """Every effect the SQL ``text`` would have on the database ``target`` (a DSN or name)."""
    name = target or "database"
    try:
        found = merge(findings(text, dialect=dialect))
    except Exception as error:
        found = [
            finding(
                Verb.EXECUTE_UNKNOWN,
                f"run SQL that could not be analyzed ({type(error).__name__})",
                _GONE,
            )
        ]
    tags = {f"database={target}"} if target else set()
    proof = evidence or text.strip()[:300]
    return [
        Effect(
            verb=item.verb,
            target=Target("database", name),
            detail=item.detail
            + (f" (database {target})" if target and item.verb is not Verb.READ else ""),
            evidence=proof,
            reversibility=item.reversibility,
            tags=frozenset(item.tags | tags | {"sql"}),
            blast=Blast(resources=len(item.objects)) if item.objects else Blast(),
        )
        for item in found
    ]


POSTGRES_DIALECTS = frozenset({"", "postgres", "postgresql", "pg", "psql"})


def findings(text: str, *, dialect: str = "") -> list[Finding]:
    """One finding per statement (meta-commands included), in order: PostgreSQL (the default)
    through pglast, other dialects through ``sql_dialects`` (sqlglot)."""
    sql, metas = _split_meta(text[:MAX_SQL_CHARS])
    out = [_meta(line) for line in metas]
    if not sql.strip():
        return out or [finding(Verb.READ, "run no SQL statement")]
    name = dialect.strip().lower()
    if name not in POSTGRES_DIALECTS:
        from blastdoor.analyze import sql_dialects

        known = sql_dialects.known(name)
        return out + (sql_dialects.findings(sql, known) if known else sql_dialects.unknown_dialect(sql, name))
    from pglast import parse_sql
    from pglast.parser import ParseError

    try:
        out.extend(found for raw in parse_sql(sql) for found in _statement(raw.stmt))
        return out
    except ParseError:
        pass
    for statement in split_statements(sql):
        try:
            parsed = parse_sql(statement)
        except ParseError:
            out.append(unparsed(scan_keywords(statement)))
            continue
        out.extend(found for raw in parsed for found in _statement(raw.stmt))
    return out


def merge(found: list[Finding]) -> list[Finding]:
    """Statements that do the same kind of thing become one finding naming all their objects."""
    groups: dict[tuple[Verb, Reversibility, frozenset[str]], list[Finding]] = {}
    for item in found:
        groups.setdefault((item.verb, item.reversibility, item.tags), []).append(item)
    merged = []
    for items in groups.values():
        objects = tuple(dict.fromkeys(o for item in items for o in item.objects))
        more = f" (and {len(items) - 1} more statements like it)" if len(items) > 1 else ""
        merged.append(
            Finding(
                items[0].verb,
                items[0].detail + more,
                items[0].reversibility,
                items[0].tags,
                objects,
            )
        )
    return merged


def unparsed(found: Finding, *, note: str = "the SQL could not be fully parsed",
             keep: tuple[Verb, ...] = (Verb.READ, Verb.EXECUTE)) -> Finding:  # fmt: skip
    """``found`` (from the keyword scan) marked as judged without a parse, and said so."""
    if found.verb in keep:
        return found
    note = f"; {note}, so this was judged from its keywords"
    return Finding(
        found.verb,
        found.detail + note,
        found.reversibility,
        found.tags | {"unparsed"},
        found.objects,
    )


# -- splitting ---------------------------------------------------------------------------------
_META_LINE = re.compile(r"^\s*(\\[a-zA-Z!?]|\.[a-z]|delimiter\s)", re.IGNORECASE)


def _split_meta(text: str) -> tuple[str, list[str]]:
    """SQL lines apart from psql ``\\`` meta-commands, sqlite dot-commands and ``DELIMITER``."""
    sql_lines, metas = [], []
    for line in text.splitlines():
        if _META_LINE.match(line):
            metas.append(line.strip())
            continue
        head, sep, rest = line.partition("\\")
        if sep and re.match(r"(g|gx|gset|gexec|watch|crosstabview)\b", rest):
            line = head
            if rest.startswith("gexec"):
                metas.append("\\gexec")
        sql_lines.append(line)
    return "\n".join(sql_lines), metas


def split_statements(sql: str, *, hash_comments: bool = False) -> list[str]:
    """Statements split on ``;`` outside quotes, dollar quotes and comments (``#`` starts a
    comment only where ``hash_comments`` says so: MySQL; in PostgreSQL it is an operator)."""
    parts: list[str] = []
    buf: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        end = i + 1
        if ch in "'\"`":
            end = sql.find(ch, i + 1)
            end = n if end < 0 else end + 1
        elif sql.startswith("--", i) or (hash_comments and ch == "#"):
            end = sql.find("\n", i)
            end = n if end < 0 else end
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            end = n if end < 0 else end + 2
        elif ch == "$" and (tag := re.match(r"\$[A-Za-z_]*\$", sql[i:])):
            close = sql.find(tag.group(0), i + len(tag.group(0)))
            end = n if close < 0 else close + len(tag.group(0))
        elif ch == ";":
            parts.append("".join(buf))
            buf = []
            i += 1
            continue
        buf.append(sql[i:end])
        i = end
    parts.append("".join(buf))
    return [p.strip() for p in parts if _strip_comments(p).strip()]


def _strip_comments(sql: str) -> str:
    return re.sub(r"--[^\n]*|/\*.*?\*/", " ", sql, flags=re.DOTALL)


# -- meta-commands -----------------------------------------------------------------------------
def _meta(line: str) -> Finding:
    word = line.split(None, 1)[0].lower()
    if word.startswith(("\\!", ".shell", ".system")) or word in ("\\gexec", ".load"):
        return finding(
            Verb.EXECUTE_UNKNOWN,
            f"run {line[:80]!r}, a shell command or dynamic SQL from the client",
            _GONE,
            {"shell-escape"},
        )
    if word in ("\\i", "\\ir", "\\include", "\\include_relative", ".read"):
        return finding(
            Verb.EXECUTE_UNKNOWN,
            f"run the SQL file named in {line[:80]!r}, which was not read",
            _GONE,
        )
    if word in ("\\copy", ".import", ".restore"):
        if word == "\\copy" and re.search(
            r"\bto\s+program\b|\bfrom\s+program\b", line, re.IGNORECASE
        ):
            return finding(
                Verb.EXECUTE_UNKNOWN,
                f"run a program through {line[:80]!r}",
                _GONE,
                {"shell-escape"},
            )
        if word == "\\copy" and re.search(r"\)?\s+to\s", line, re.IGNORECASE):
            return finding(Verb.READ, "copy rows out to a local file")
        return finding(Verb.CREATE, f"load rows with {line[:80]!r}")
    return finding(Verb.READ, f"run the client command {word}")


# -- pglast statements -------------------------------------------------------------------------
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
    "dblink_exec": finding(Verb.EXECUTE_UNKNOWN, "run SQL on another database through dblink", _GONE),
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
        yield finding(Verb.MODIFY, f"insert or update rows in {table}", _BACKUP, {"upsert"}, [table])
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
        finding(Verb.DELETE, f"drop the role {', '.join(_name(r) for r in n.roles)}", _BACKUP, {"drop"})
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
        finding(Verb.DELETE, f"drop the user mapping for {_name(n.user)} on server {n.servername}", _BACKUP, {"drop"})
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


# -- keyword scan (the fallback) -------------------------------------------------------------------
_DATA_DROPS = re.compile(
    r"^(temporary\s+)?(table|database|schema|keyspace|columnfamily|materialized\s+view|"
    r"tablespace|collection|measurement|retention\s+policy|dictionary)\b"
)
_READS = re.compile(
    r"^(select|show|describe|desc|explain|values|table|help|list|pragma\s+\w+\s*(;|$)|"
    r"with\b(?!.*\b(delete|update|insert|merge)\b))"
)
_SESSION = re.compile(
    r"^(use|set|begin|start|commit|rollback|end|savepoint|release|analyze|optimize|check|"
    r"checksum|flush|vacuum|reindex|lock|unlock|attach|detach|prepare|deallocate|source|\\)\b"
)
_WRITES = re.compile(
    r"^(insert|replace|upsert|copy|load|merge|import|create|alter|rename|comment|pragma|"
    r"refresh|cluster|reset|kill|purge|install|uninstall)\b"
)
_NAME = r"\s+(?:if\s+exists\s+)?([`\"\w.\[\]-]+)"


def scan_keywords(statement: str) -> Finding:
    """Judge one statement from its keywords (used when pglast cannot parse it)."""
    text = " ".join(_strip_comments(statement).split())
    low = re.sub(r"'(?:[^']|'')*'", "''", text.lower())
    if low.startswith("drop "):
        return _scan_drop(low[5:])
    if match := re.match(r"^truncate(?:\s+table)?" + _NAME, low):
        return finding(
            Verb.DELETE, f"empty the table {match.group(1)}", _GONE, {"truncate"}, [match.group(1)]
        )
    if match := re.match(r"^delete\s+(?:\w+\s+)?from" + _NAME, low):
        return _scan_where(Verb.DELETE, "delete", match.group(1), low)
    if match := re.match(
        r"^update(?:\s+(?:low_priority|ignore|only))*" + _NAME + r".*?\bset\b", low
    ):
        return _scan_where(Verb.MODIFY, "update", match.group(1), low)
    if re.match(r"^explain\s+analy[sz]e\s+", low):
        return scan_keywords(re.sub(r"(?i)^explain\s+analy[sz]e\s+", "", text))
    if low.startswith(("grant ", "revoke ")):
        return _scan_grant(low)
    if re.match(r"^(create|alter)\s+(user|role)\b.*\b(superuser|createrole|bypassrls)\b", low):
        return finding(Verb.ESCALATE, "give a role superuser-like powers", _REV, {"permissions"})
    if match := re.match(
        r"^alter\s+table" + _NAME + r".*\bdrop\s+(?!(constraint|index|key|primary|foreign|"
        r"default|not\s+null|check)\b)(?:column\s+|partition\s+)?([`\"\w.]+)",
        low,
    ):
        return finding(
            Verb.DESTROY,
            f"drop {match.group(3)} from {match.group(1)}, with its data",
            _GONE,
            {"drop-column"},
            [match.group(1)],
        )
    if re.match(r"^(call|exec|execute|do)\b", low):
        return finding(Verb.EXECUTE_UNKNOWN, "run a stored procedure or dynamic SQL", _GONE)
    if _READS.match(low):
        return finding(Verb.READ, "read data or metadata")
    if _SESSION.match(low):
        return finding(Verb.EXECUTE, f"run the session command {low.split()[0]}")
    if _WRITES.match(low):
        verb = (
            Verb.CREATE
            if low.startswith(("insert", "create", "copy", "load", "import"))
            else Verb.MODIFY
        )
        return finding(
            verb,
            f"run a {low.split()[0].upper()} statement",
            tags={"schema"} if verb is Verb.MODIFY else (),
        )
    if lone_word(low):
        return finding(
            Verb.READ, f"run nothing: {text!r} alone is not a SQL statement, so it is rejected"
        )
    return finding(
        Verb.EXECUTE_UNKNOWN,
        f"run a statement Blastdoor does not understand ({text[:60]!r})",
        _GONE,
    )


# Single words some database runs as a whole statement, beyond PostgreSQL's keywords.
_LONE_COMMANDS = frozenset({"shutdown", "reconfigure", "go", "sync", "dbcc", "flushall",
    "flushdb", "purge", "compact", "repair", "backup", "restore", "repack"})  # fmt: skip


def lone_word(statement: str) -> bool:
    """Whether ``statement`` is one plain name that no SQL dialect runs by itself (``query``,
    ``my_report``): PostgreSQL, MySQL, SQLite and the rest reject it as a syntax error. T-SQL is
    the exception (a lone name starts a stored procedure) and is handled by ``sql_dialects``."""
    from pglast import keywords

    word = statement.strip().rstrip(";").strip().lower()
    if not re.fullmatch(r"[a-z_][a-z0-9_$]*", word) or word in _LONE_COMMANDS:
        return False
    return not any(
        word in group
        for group in (
            keywords.RESERVED_KEYWORDS,
            keywords.UNRESERVED_KEYWORDS,
            keywords.COL_NAME_KEYWORDS,
            keywords.TYPE_FUNC_NAME_KEYWORDS,
        )
    )


def _scan_drop(rest: str) -> Finding:
    rest = re.sub(r"^(concurrently|temporary)\s+", "", rest)
    kind = rest.split()[0] if rest.split() else "object"
    names = re.findall(r"[`\"\w.]+", re.sub(r"^(\w+\s+)(view\s+)?(if\s+exists\s+)?", "", rest))[:1]
    cascade = {"cascade"} if re.search(r"\bcascade\b", rest) else set()
    detail = f"drop the {kind} {' '.join(names)}".rstrip()
    if _DATA_DROPS.match(rest) or cascade or kind in ("all", "everything"):
        return finding(Verb.DESTROY, detail + ", with all its data", _GONE, {"drop"} | cascade, names)
    return finding(Verb.DELETE, detail, _BACKUP, {"drop"}, names)


_TRIVIAL_WHERE = re.compile(
    r"^\(?\s*(1\s*=\s*1|true|1|not\s+false|''\s*=\s*''|(\w+)\s*=\s*\2|id\s+is\s+not\s+null|"
    r"id\s*>\s*0|id\s*>=\s*[01]|id\s*(<>|!=)\s*0|\w+\s+like\s+''|\d+\s*=\s*\d+)\s*\)?"
    r"(\s+or\b.*)?\s*(order\s+by\b.*|limit\b.*|returning\b.*)?$"
)


def _scan_where(verb: Verb, action: str, table: str, low: str) -> Finding:
    found = re.search(r"\bwhere\b(.*)$", low)
    if found is None:
        return finding(
            verb, f"{action} every row of {table} (no WHERE clause)", _GONE, {"no-where"}, [table]
        )
    condition = found.group(1).strip()
    trivial = _TRIVIAL_WHERE.match(condition) or re.search(r"\bor\s+(1\s*=\s*1|true)\b", condition)
    numbers = re.match(r"^(\d+)\s*=\s*(\d+)", condition)
    if trivial and (not numbers or numbers.group(1) == numbers.group(2)):
        detail = f"{action} every row of {table} (the WHERE clause is always true)"
        return finding(verb, detail, _GONE, {"trivial-where"}, [table])
    return finding(
        verb,
        f"{action} the rows of {table} that match a WHERE clause",
        _BACKUP,
        {"filtered"},
        [table],
    )


def _scan_grant(low: str) -> Finding:
    if low.startswith("revoke"):
        return finding(Verb.MODIFY, "revoke privileges", _REV, {"permissions"})
    everything = bool(re.search(r"\ball(\s+privileges)?\s+on\s+\*\.\*", low))
    if (
        everything
        or re.search(r"\b(super|superuser|grant\s+option)\b", low)
        or re.match(r"^grant\s+(root|dba)\b", low)
    ):
        return finding(Verb.ESCALATE, "grant server-wide or superuser privileges", _REV, {"permissions"})
    return finding(Verb.MODIFY, "grant privileges", _REV, {"permissions"})
