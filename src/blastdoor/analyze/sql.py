"""SQL text → effects, one finding per statement, on pglast (PostgreSQL's own parser).

DROP and TRUNCATE destroy, DELETE/UPDATE without a real WHERE wipe a whole table, a filtered
DELETE/UPDATE changes some rows, GRANT of superuser-like powers escalates, SELECT/SHOW/EXPLAIN read.
Text pglast cannot parse (MySQL or CQL syntax, psql ``\\`` meta-commands, sqlite dot-commands) is
split on ``;`` outside quotes and judged per statement from its keywords, and the effect says so.
Scope is left unknown: :mod:`blastdoor.scope` decides it from the target and the context.

This module holds the findings, the splitting and the client meta-commands; PostgreSQL's statements
are read in :mod:`.sql_postgres` (roles and privileges in :mod:`.sql_permissions`, always-true
WHERE clauses in :mod:`.sql_where`, node helpers in :mod:`.sql_nodes`), the keyword fallback is
:mod:`.sql_keywords`, other dialects are :mod:`.sql_dialects`.
"""

from __future__ import annotations

import contextlib
import re
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
    if "\0" in sql:  # pglast reads up to a NUL, libpq sends up to it, psql drops its line's rest
        note = "run SQL holding a NUL character, where each client and parser stops differently"
        return [*out, finding(Verb.EXECUTE_UNKNOWN, note, _GONE)]
    name = dialect.strip().lower()
    if name not in POSTGRES_DIALECTS:
        from blastdoor.analyze import sql_dialects

        known = sql_dialects.known(name)
        return out + (
            sql_dialects.findings(sql, known) if known else sql_dialects.unknown_dialect(sql, name)
        )
    from pglast import parse_sql
    from pglast.parser import ParseError

    from blastdoor.analyze.sql_keywords import scan_keywords
    from blastdoor.analyze.sql_postgres import statement_findings as _statement

    try:
        out.extend(found for raw in parse_sql(sql) for found in _statement(raw.stmt))
        return out
    except ParseError:
        pass
    for statement in postgres_statements(sql):
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


def client_commands(text: str) -> bool:
    """Whether ``text`` holds lines that analysis reads as client commands and leaves out of the
    SQL (psql ``\\`` meta-commands and ``\\g``-style endings, sqlite dot-commands, ``DELIMITER``): a
    server sent the text would read those lines as SQL."""
    return _split_meta(text)[0] != "\n".join(text.splitlines())


def postgres_statements(sql: str) -> list[str]:
    """Statements cut at the ``;`` tokens of PostgreSQL's own lexer (pglast's ``scan``), the text
    the server and psql read: nested ``/* */`` comments, ``E'...'`` escapes, dollar tags with
    digits, ``$`` inside names. A piece holding only comments is no statement.

    Where the lexer stops: an unterminated string, identifier or comment runs to the end, and the
    rest of the text is one piece (psql sends it so, and the server rejects it whole); a token the
    lexer refuses (``1abc``, ``0x``, ``""``) is stepped over, as psql steps over it. Any other
    error, or too many, raises: the caller judges the text unanalyzed. Every ``;`` outside quotes
    and comments cuts, inside parentheses and ``BEGIN ATOMIC`` too, where psql would not: a piece
    no parser reads is judged from its first keywords, so a statement left inside it would go
    unseen, and a cut too many only judges a fragment on its own."""
    # A backslash escape in E'...' that the lexer checks (\u, \U, \x, octal) becomes a plain
    # character: the check fails mid-string, and no such escape ends a string.
    text = _CHECKED_ESCAPE.sub(",", sql).replace("\0", " ")  # the lexer stops at a NUL
    pieces: list[str] = []
    start, code, pos = 0, False, 0  # the piece's start, whether it holds code, where to lex on
    for _ in range(_MAX_REFUSED):
        tokens, stop, message = _lex(text, pos)
        for token in tokens:
            if token.name == "ASCII_59":
                if code:
                    pieces.append(sql[start : pos + token.start])
                start, code = pos + token.end + 1, False
            elif token.name not in ("SQL_COMMENT", "C_COMMENT"):
                code = True
        if not message or message.startswith("unterminated"):
            code = code or (bool(message) and "comment" not in message)
            break
        code, pos = True, stop + len(_refused_token(message, text, stop))
    else:
        raise ValueError("PostgreSQL's lexer refuses too many tokens")
    if code:
        pieces.append(sql[start:])
    return [piece.strip(_SPACES) for piece in pieces]


_CHECKED_ESCAPE = re.compile(r"\\(?=[uUx0-7])")
_MAX_REFUSED = 100  # past one, each restarts the lexer on the rest of the text (10 ms a megabyte)
# The errors PostgreSQL's lexer raises for a token it reads whole and then refuses.
_REFUSED = ("trailing junk after", "invalid hexadecimal integer", "invalid octal integer",
            "invalid binary integer", "zero-length delimited identifier")  # fmt: skip


def _lex(text: str, pos: int) -> tuple[list[Any], int, str]:
    """PostgreSQL's tokens of ``text`` from ``pos`` to where its lexer stops, that place, and the
    lexer's error there ("" at the end). An error that names no place raises."""
    from pglast.parser import ParseError, scan

    try:
        return scan(text[pos:]), len(text), ""
    except ParseError as error:
        message, at = error.args
    if at is not None:
        with contextlib.suppress(ParseError):
            return scan(text[pos : pos + at]), pos + at, message
    raise ValueError(f"PostgreSQL's lexer: {message}")


def _refused_token(message: str, text: str, at: int) -> str:
    """The token the lexer refused at ``at``, as its error quotes it (``... at or near "1abc"``);
    any other error raises."""
    token = message.partition(' at or near "')[2][:-1]
    if not message.startswith(_REFUSED) or not token or not text.startswith(token, at):
        raise ValueError(f"PostgreSQL's lexer: {message}")
    return token


def split_statements(sql: str, *, mysql: bool = False, sql_mode: str = "") -> list[str]:
    """Statements split on ``;`` outside quotes, comments and dollar quotes, for the dialects that
    have no lexer of their own here (PostgreSQL's text is cut by :func:`postgres_statements`);
    with ``mysql``, as MySQL's and MariaDB's lexer reads them (``sql_mode`` is the session's,
    default MySQL's): ``#`` starts a comment, ``--`` only when a space or control character follows
    it, a backslash escapes the next character in ``'...'`` and ``"..."`` (not with
    ``NO_BACKSLASH_ESCAPES``), ``"..."`` is an identifier with ``ANSI_QUOTES``, and ``$`` quotes
    nothing. A piece holding only comments and ASCII spaces is no statement.

    MySQL runs what an executable comment (``/*! ... */``, ``/*!50100 ... */``, MariaDB's
    ``/*M!100100 ... */``) holds, lexing it as any other text: so here its opener and its closing
    ``*/`` (the first one outside a string or a comment of its own) each become an empty comment
    ``/**/``, and what is between is read as statements, whatever the version number says. The
    pieces are the text as judged, and as the broker sends it: the server then runs what was
    judged. (An empty comment parts words as the executable comment did; a space would not do:
    ``--`` before it would start a comment.)"""
    modes = {flag.strip().upper() for flag in sql_mode.split(",")}
    escapes = "'\"" if mysql and "NO_BACKSLASH_ESCAPES" not in modes else ""
    if "ANSI_QUOTES" in modes:
        escapes = escapes.replace('"', "")
    parts: list[str] = []
    buf: list[str] = []
    code = False  # whether the piece holds anything but comments and spaces
    executable = False  # inside a MySQL /*! ... */, whose */ ends it
    i, n = 0, len(sql)
    while i < n:
        ch, end, comment, token = sql[i], i + 1, False, ""
        if ch in "'\"`":
            end = _quoted_end(sql, i, escapes=ch in escapes)
        elif _comment_start(sql, i, mysql=mysql):
            end, comment = sql.find("\n", i), True
            end = n if end < 0 else end
        elif mysql and (opener := _EXECUTABLE.match(sql, i)):
            executable, end, token = True, opener.end(), _EMPTY_COMMENT
        elif executable and sql.startswith("*/", i):
            executable, end, token = False, i + 2, _EMPTY_COMMENT
        elif sql.startswith("/*", i):
            end, comment = sql.find("*/", i + 2), True
            end = n if end < 0 else end + 2
        elif ch == "$" and not mysql and (tag := _DOLLAR_TAG.match(sql, i)):
            end = sql.find(tag.group(0), tag.end())
            end = n if end < 0 else end + len(tag.group(0))
        elif ch == ";":
            parts.append("".join(buf) if code else "")
            buf, code, i = [], False, i + 1
            continue
        code = code or not (comment or token or ch in _SPACES)
        buf.append(token or sql[i:end])
        i = end
    parts.append("".join(buf) if code else "")
    return [p.strip(_SPACES) for p in parts if p]


_SPACES = " \t\n\r\f\v"  # what the servers' lexers skip as space: ASCII only
_DOLLAR_TAG = re.compile(r"\$[A-Za-z_]*\$")
# A MySQL executable comment's opener: /*! or MariaDB's /*M!, and the version it needs (up to 6 digits).
_EXECUTABLE = re.compile(r"/\*M?!\d{0,6}")
_EMPTY_COMMENT = "/**/"


def _quoted_end(sql: str, start: int, *, escapes: bool) -> int:
    """Where the quoted text opening at ``start`` ends (after its closing quote; the text's end
    when it has none). A doubled quote stands for itself; with ``escapes``, so does a quote after a
    backslash."""
    quote, i, n = sql[start], start + 1, len(sql)
    while i < n:
        if escapes and sql[i] == "\\":
            i += 2
        elif sql[i] != quote:
            i += 1
        elif sql.startswith(quote * 2, i):
            i += 2
        else:
            return i + 1
    return n


def _comment_start(sql: str, i: int, *, mysql: bool) -> bool:
    """Whether a line comment starts at ``i``: ``--`` (in MySQL only before a space, an ASCII
    control character or the end, as the server and the mysql client check it: byte by byte, so a
    no-break space or any other non-ASCII space does not count), or MySQL's ``#``."""
    if sql.startswith("--", i):
        return not mysql or i + 2 >= len(sql) or sql[i + 2] == " " or ord(sql[i + 2]) < 32 or sql[i + 2] == "\x7f"
    return mysql and sql[i] == "#"


def strip_comments(sql: str) -> str:
    """``sql`` with PostgreSQL's comments turned into spaces."""
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
