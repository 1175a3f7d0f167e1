"""The keyword scan: a statement no parser could read is judged from its first keywords (DROP,
TRUNCATE, DELETE/UPDATE with or without a WHERE, GRANT, ...), and a lone name that is no SQL
keyword is not a statement at all."""

from __future__ import annotations

import re

from blastdoor.analyze.sql import Finding, finding, strip_comments
from blastdoor.model import Reversibility, Verb

_REV, _BACKUP, _GONE = (
    Reversibility.REVERSIBLE,
    Reversibility.RECOVERABLE_WITH_BACKUP,
    Reversibility.IRREVERSIBLE,
)


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
    text = " ".join(strip_comments(statement).split())
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
        return finding(
            Verb.DESTROY, detail + ", with all its data", _GONE, {"drop"} | cascade, names
        )
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
        return finding(
            Verb.ESCALATE, "grant server-wide or superuser privileges", _REV, {"permissions"}
        )
    return finding(Verb.MODIFY, "grant privileges", _REV, {"permissions"})
