"""What to save before a SQL text runs on MySQL or MariaDB, read with the analysis's own parser
(sqlglot, MySQL dialect: backquoted names, ``#`` comments and backslash escapes included).

The text is cut where the analysis and the runner cut it (``split_statements``); per statement:

- ``DELETE`` / ``UPDATE`` on one table: the rows its ``WHERE`` picks (``ORDER BY`` and ``LIMIT``
  left out, so a superset), the table reference and ``WHERE`` taken from the statement's own text so
  the server reads them exactly as it will in the statement; the whole tables when it names several
  (``DELETE t1, t2 FROM ...``, ``UPDATE t1 JOIN t2 ...``), has a ``WITH`` or no ``WHERE``;
- ``TRUNCATE``, ``DROP TABLE | VIEW | SEQUENCE``, and ``ALTER TABLE`` other than adding or renaming
  (``DROP COLUMN``, ``MODIFY``, ``CHANGE``, ``ENGINE=`` ...): a dump of each table;
- ``DROP DATABASE`` / ``DROP SCHEMA``: a dump of the database (its routines, events and triggers too).

Problems (the broker refuses to run them with a credential that reaches past development):
statements that run code or overwrite rows (``CALL``, ``PREPARE``/``EXECUTE``, ``REPLACE``,
``INSERT ... ON DUPLICATE KEY UPDATE``, ``CREATE OR REPLACE TABLE``), transaction control (the
broker runs the text in a transaction of its own), ``/*! ... */`` comments (the pieces read here hold
them opened, as the server will run them; a person writes what they hold as plain SQL), client commands, statements not known to be harmless, and text the parser cannot read
that does more than read.
"""

from __future__ import annotations

import re
from typing import Any

from blastdoor.broker.mysql_connect import quote_name
from blastdoor.broker.mysql_sql import COMMENTS, leading_words
from blastdoor.broker.snapshot_plan import ROWS, SCHEMA, TABLE, Part, Plan, combined

_EXECUTABLE = re.compile(r"/\*M?!")
_MODIFIERS = re.compile(r"(?is)\A(" + COMMENTS + r"(?:DELETE|UPDATE))((?:\s+(?:LOW_PRIORITY|QUICK|IGNORE))+)(?=\s)")
_DUMPED = frozenset({"TABLE", "VIEW", "SEQUENCE"})
_HARMLESS = frozenset({"Select", "Union", "Intersect", "Except", "Values", "Show", "Describe", "Use", "Set",
                       "Kill", "Analyze", "Insert", "Create"})  # fmt: skip
_HARMLESS_COMMANDS = frozenset({"GRANT", "REVOKE", "RENAME", "LOCK", "UNLOCK", "OPTIMIZE", "CHECK", "CHECKSUM",
                                "CREATE", "SHOW", "HELP"})  # fmt: skip
# In a text of several statements, a statement that saves something may follow only these (others
# could rename, re-point, shadow or change what a later statement's names and WHERE mean).
_SAFE_BEFORE = frozenset({"Select", "Union", "Values", "Show", "Describe", "Insert", "Delete", "Update",
                          "TruncateTable", "Drop"})  # fmt: skip
_SAFE_ALTER = ("ColumnDef", "AddConstraint", "DropPrimaryKey", "RenameColumn", "AlterRename", "AlterColumn")
_KEPT_DROPS = frozenset({"INDEX", "KEY", "FOREIGN KEY", "CONSTRAINT", "CHECK"})
_TRANSACTION = "the broker runs the text in one transaction of its own; leave out START TRANSACTION, COMMIT, ROLLBACK and SAVEPOINT"


def plan(text: str) -> Plan:
    import logging

    from blastdoor.analyze.sql import client_commands, split_statements

    logging.getLogger("sqlglot").setLevel(logging.ERROR)  # its "falling back to a Command" notes go nowhere
    problems: list[str] = []
    if client_commands(text):
        problems.append("it holds client commands (DELIMITER, \\g, \\ or . lines) that the server would read as SQL")
    if _EXECUTABLE.search(text):
        problems.append("it holds /*! ... */ comments, which the broker runs whatever the server's version; write them as plain SQL")
    pieces = split_statements(text, mysql=True)
    return combined([_piece(piece, index) for index, piece in enumerate(pieces)], safe_before=_SAFE_BEFORE, problems=problems)


def _piece(piece: str, index: int) -> tuple[list[Part], str, str]:
    """The parts one statement needs saved, its problem ('' for none) and its kind."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    piece = _modifiers_blanked(piece)
    try:
        parsed = [node for node in sqlglot.parse(piece, read="mysql") if node is not None]
    except (SqlglotError, RecursionError, ValueError):
        return [], _unparsed(piece), "Unparsed"
    if len(parsed) != 1:
        return [], _unparsed(piece), "Unparsed"
    node = parsed[0]
    kind = type(node).__name__
    if isinstance(node, exp.Command):
        return [], _command(str(node.this).upper(), piece), str(node.this).upper()
    if isinstance(node, (exp.Delete, exp.Update)):
        return _rows(node, piece, index), "", kind
    if isinstance(node, exp.TruncateTable):
        if node.args.get("is_database"):
            return [], "Blastdoor does not know what TRUNCATE DATABASE destroys", kind
        return [Part(TABLE, "truncate", _name(table), statement=index) for table in node.expressions], "", kind
    if isinstance(node, exp.Drop):
        return _drop(node, index), "", kind
    if isinstance(node, exp.Alter):
        return _alter(node, index), "", kind
    if isinstance(node, (exp.Transaction, exp.Commit, exp.Rollback)):
        return [], _TRANSACTION, kind
    if isinstance(node, exp.Insert) and node.args.get("conflict") is not None:
        return [], "INSERT ... ON DUPLICATE KEY UPDATE overwrites rows that cannot be saved first; run an UPDATE", kind
    if isinstance(node, exp.Create) and node.args.get("replace") and str(node.args.get("kind") or "").upper() == "TABLE":
        return [], "CREATE OR REPLACE TABLE drops the table first; drop it in a statement of its own", kind
    if isinstance(node, exp.Describe):  # EXPLAIN plans a change; EXPLAIN ANALYZE runs it
        runs = node.args.get("style") and isinstance(node.this, (exp.Delete, exp.Update, exp.Insert))
        return [], "EXPLAIN ANALYZE runs the change; run the statement itself" if runs else "", kind
    if kind not in _HARMLESS or _changes_inside(node):
        return [], f"Blastdoor does not know what {_word(piece)} statements destroy", kind
    return [], "", kind


def _modifiers_blanked(piece: str) -> str:
    """``piece`` with ``DELETE`` / ``UPDATE``'s modifiers (``LOW_PRIORITY``, ``QUICK``, ``IGNORE``),
    which sqlglot does not read, turned into spaces: every other character keeps its place."""
    found = _MODIFIERS.match(piece)
    if not found:
        return piece
    return piece[:found.start(2)] + " " * (found.end(2) - found.start(2)) + piece[found.end(2):]


def _rows(node: Any, piece: str, index: int) -> list[Part]:
    """The rows a DELETE or UPDATE would change: its own WHERE on one table, else whole tables."""
    from sqlglot import exp

    deleting = isinstance(node, exp.Delete)
    change = "delete" if deleting else "update"
    head = node.this
    named = list(node.args.get("tables") or []) if deleting else []
    joins = list(head.args.get("joins") or []) if isinstance(head, exp.Table) else []
    several = bool(named or joins or node.args.get("using") or node.args.get("with_") or node.args.get("with"))
    if not several and isinstance(head, exp.Table):
        source = _source(piece, deleting=deleting)
        if source:
            return [Part(ROWS, change, _name(head), source, index)]
    targets = (named or [head]) if deleting else [head, *(join.this for join in joins)]
    tables = _resolve(node, [t for t in targets if isinstance(t, exp.Table)])
    return [Part(ROWS, change, name, f"FROM {name}", index) for name in dict.fromkeys(_name(t) for t in tables)]


def _resolve(node: Any, refs: list[Any]) -> list[Any]:
    """``refs`` with each alias replaced by the table it names (``DELETE a FROM t1 AS a ...``)."""
    from sqlglot import exp

    aliases = {str(t.alias): t for t in node.find_all(exp.Table) if t.alias}
    return [aliases.get(str(ref.name), ref) if not ref.db and not ref.alias else ref for ref in refs]


def rows_source(piece: str, *, deleting: bool) -> str:
    """``FROM <table reference> [WHERE ...]`` of a one-table DELETE or UPDATE, as the snapshot
    selects its rows ('' when its shape is not the plain one); the estimate asks about the same."""
    return _source(_modifiers_blanked(piece), deleting=deleting)


def _source(piece: str, *, deleting: bool) -> str:
    """``FROM <table reference> [WHERE ...]`` cut from the statement's own text, or '' when its
    shape is not the plain one (then the whole table is saved)."""
    from sqlglot import TokenType
    from sqlglot.dialects.mysql import MySQL

    try:
        tokens = MySQL().tokenize(piece)
    except Exception:
        return ""
    depth, top = 0, []
    for token in tokens:
        if token.token_type == TokenType.L_PAREN:
            depth += 1
        elif token.token_type == TokenType.R_PAREN:
            depth -= 1
        elif depth == 0:
            top.append(token)
    opener = TokenType.FROM if deleting else TokenType.UPDATE
    closer = TokenType.WHERE if deleting else TokenType.SET
    starts = [i for i, t in enumerate(top) if t.token_type == opener]
    if not starts or starts[0] + 1 >= len(top):
        return ""
    first = top[starts[0] + 1]
    ends = (TokenType.ORDER_BY, TokenType.LIMIT, TokenType.RETURNING)
    after = top[starts[0] + 1:]
    table_end = next((t for t in after if t.token_type in (closer, *ends)), None)
    where = next((t for t in after if t.token_type == TokenType.WHERE), None)
    table = piece[first.start:table_end.start if table_end else len(piece)].strip()
    if not table:
        return ""
    if where is None:
        return f"FROM {table}"
    stop = next((t for t in top if t.start > where.start and t.token_type in ends), None)
    return f"FROM {table} {piece[where.start:stop.start if stop else len(piece)].strip()}"


def _drop(node: Any, index: int) -> list[Part]:
    kind = str(node.args.get("kind") or "").upper()
    tables = node.args.get("tables") or [node.this]
    if node.args.get("temporary"):
        return []
    if kind in _DUMPED:
        return [Part(TABLE, "drop", _name(table), statement=index) for table in tables]
    if kind in ("DATABASE", "SCHEMA"):
        return [Part(SCHEMA, "drop-schema", quote_name(str(table.name or table.db)), statement=index) for table in tables]
    return []  # DROP INDEX, TRIGGER, PROCEDURE, USER ...: no rows


def _alter(node: Any, index: int) -> list[Part]:
    safe = True
    for action in node.args.get("actions") or []:
        name = type(action).__name__
        if name == "Drop":
            safe = safe and str(action.args.get("kind") or "").upper() in _KEPT_DROPS
        else:
            safe = safe and name in _SAFE_ALTER
    if node.args.get("options"):
        safe = False  # ENGINE=BLACKHOLE keeps nothing; a character set change may lose characters
    return [] if safe else [Part(TABLE, "alter", _name(node.this), statement=index)]


def _command(word: str, piece: str) -> str:
    """The problem of a statement sqlglot keeps as a raw command ('' when it destroys no rows)."""
    if word == "CALL":
        return "it runs a stored procedure whose changes cannot be saved first"
    if word in ("PREPARE", "EXECUTE"):
        return "it runs dynamic SQL that cannot be read first; send the statement itself"
    if word == "REPLACE":
        return "REPLACE deletes the rows it collides with, which cannot be saved first; use INSERT and UPDATE"
    if word in _HARMLESS_COMMANDS:
        return ""
    return f"Blastdoor does not know what {_word(piece)} statements destroy"


def _changes_inside(node: Any) -> bool:
    from sqlglot import exp

    return any(isinstance(inner, (exp.Delete, exp.Update, exp.Drop, exp.TruncateTable, exp.Alter))
               for inner in node.walk() if inner is not node)  # fmt: skip


def _unparsed(piece: str) -> str:
    from blastdoor.analyze.sql import analyze_sql
    from blastdoor.model import Verb

    if all(found.verb is Verb.READ for found in analyze_sql(piece, dialect="mysql")):
        return ""
    return f"Blastdoor's MySQL parser cannot read it ({_word(piece)} ...), so what it destroys cannot be saved first"


def _name(table: Any) -> str:
    """``db.table`` as written, each name in backquotes."""
    return ".".join(quote_name(str(part)) for part in (table.db, table.name) if part)


def _word(piece: str) -> str:
    return " ".join(leading_words(piece)[:1]) or "these"
