"""The SQL that ``blastdoor data enable`` installs in a SQLite database, in one place."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

PREFIX = "_blastdoor_"
VERSION = 1
OPS = ("i", "u", "d")  # one AFTER ... FOR EACH ROW trigger per operation
NOW = "strftime('%Y-%m-%dT%H:%M:%f', 'now')"  # UTC, milliseconds: sorts as text
JSON_PAIRS = 60  # SQLite functions take at most 127 arguments: build wide images in parts
ROWID_NAMES = ("rowid", "_rowid_", "oid")

INSTALL = f"""
CREATE TABLE {PREFIX}meta (
    database_id TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    enabled_at TEXT NOT NULL DEFAULT ({NOW}),
    sealed_through INTEGER NOT NULL DEFAULT 0,
    last_txid INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE {PREFIX}tracked (
    table_name TEXT PRIMARY KEY,
    key_columns TEXT NOT NULL,
    columns TEXT NOT NULL,
    create_sql TEXT NOT NULL,
    enabled_at TEXT NOT NULL DEFAULT ({NOW})
);
CREATE TABLE {PREFIX}changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    txid INTEGER,
    at TEXT NOT NULL,
    table_name TEXT NOT NULL,
    op TEXT NOT NULL,
    old_row TEXT,
    new_row TEXT,
    run_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    request TEXT NOT NULL,
    entry TEXT NOT NULL,
    snapshot_id TEXT NOT NULL
);
CREATE INDEX {PREFIX}changes_run ON {PREFIX}changes (run_id);
CREATE INDEX {PREFIX}changes_txid ON {PREFIX}changes (txid);
CREATE INDEX {PREFIX}changes_at ON {PREFIX}changes (at);
CREATE INDEX {PREFIX}changes_table ON {PREFIX}changes (table_name, id);
CREATE TABLE {PREFIX}baseline (
    id INTEGER PRIMARY KEY,
    table_name TEXT NOT NULL,
    taken_at TEXT NOT NULL DEFAULT ({NOW}),
    row_image TEXT NOT NULL
);
CREATE INDEX {PREFIX}baseline_table ON {PREFIX}baseline (table_name);
CREATE TABLE {PREFIX}undone (
    change_id INTEGER PRIMARY KEY,
    undo_id TEXT NOT NULL
);
CREATE TABLE {PREFIX}seals (
    seq INTEGER PRIMARY KEY,
    change_id INTEGER NOT NULL UNIQUE,
    row_sha256 BLOB NOT NULL,
    chain BLOB NOT NULL
);
CREATE TABLE {PREFIX}context (
    slot INTEGER PRIMARY KEY CHECK (slot = 1),
    txid INTEGER NOT NULL,
    run_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    request TEXT NOT NULL,
    entry TEXT NOT NULL,
    snapshot_id TEXT NOT NULL
);
"""

TABLES = ("meta", "tracked", "changes", "baseline", "undone", "seals", "context")

_TAGS = ("coalesce(x.run_id, 'unknown'), coalesce(x.session_id, ''), coalesce(x.request, ''), "
         "coalesce(x.entry, ''), coalesce(x.snapshot_id, '')")  # fmt: skip
_FROM = f"FROM (SELECT 1) LEFT JOIN {PREFIX}context x ON x.slot = 1"
_INSERT = (f"INSERT INTO {PREFIX}changes (txid, at, table_name, op, old_row, new_row, run_id, session_id, "
           "request, entry, snapshot_id)")  # fmt: skip


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def json_path(column: str) -> str:
    """The SQL literal of a column's path in a row image (``'$."name"'``)."""
    return literal('$."' + column + '"')


def printable(values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` with blobs as hex, for JSON output and the ledger."""
    return {k: v.hex() if isinstance(v, bytes) else v for k, v in values.items()}


def trigger_name(op: str, table: str) -> str:
    return f"{PREFIX}{op}_{table}"


def value(expression: str) -> str:
    """``expression`` as a JSON value that loses nothing: SQLite's JSON keeps 15 digits of a real
    and cannot hold a blob, so a real that needs more, and a blob, become tagged objects
    (``{"$real": "0.30000000000000004"}``, ``{"$blob": "00FF"}``) that ``changes.decode`` reads back."""
    e = expression
    return (f"CASE typeof({e}) WHEN 'blob' THEN json_object('$blob', hex({e})) WHEN 'real' THEN "
            f"CASE WHEN CAST(printf('%!.15g', {e}) AS REAL) = {e} THEN {e} "
            f"ELSE json_object('$real', printf('%!.17g', {e})) END ELSE {e} END")  # fmt: skip


def image(alias: str, columns: Sequence[str]) -> str:
    """A JSON object of the row ``alias`` (NEW, OLD or a table alias) over ``columns``."""
    def values(part: Sequence[str]) -> list[str]:
        return [value(f"{alias}.{quote(column)}") for column in part]

    head = columns[:JSON_PAIRS]
    text = "json_object(" + ", ".join(f"{literal(c)}, {v}" for c, v in zip(head, values(head), strict=True)) + ")"
    for start in range(JSON_PAIRS, len(columns), JSON_PAIRS):
        part = columns[start:start + JSON_PAIRS]
        paths = [json_path(c) for c in part]
        text = f"json_insert({text}, " + ", ".join(f"{p}, {v}" for p, v in zip(paths, values(part), strict=True)) + ")"
    return text


def triggers(table: str, columns: Sequence[str], keys: Sequence[str]) -> dict[str, str]:
    """The three triggers recording every row ``table`` gains, changes or loses, by name. ``columns``
    include the key (``rowid`` for a table without a primary key)."""
    name, target = literal(table), quote(table)
    old, new = image("OLD", columns), image("NEW", columns)
    same = " AND ".join(f"OLD.{quote(k)} IS NEW.{quote(k)}" for k in keys)

    def record(op: str, before: str, after: str) -> str:
        return f"{_INSERT} SELECT x.txid, {NOW}, {name}, '{op}', {before}, {after}, {_TAGS} {_FROM}"

    bodies = {
        "i": (f"AFTER INSERT ON {target}", [record("I", "NULL", new)]),
        "u": (f"AFTER UPDATE ON {target}", [f"{record('U', old, new)} WHERE {same}",
                                            f"{record('D', old, 'NULL')} WHERE NOT ({same})",
                                            f"{record('I', 'NULL', new)} WHERE NOT ({same})"]),
        "d": (f"AFTER DELETE ON {target}", [record("D", old, "NULL")]),
    }  # fmt: skip
    return {trigger_name(op, table): f"CREATE TRIGGER {quote(trigger_name(op, table))} {when} BEGIN\n    "
            + ";\n    ".join(steps) + ";\nEND" for op, (when, steps) in bodies.items()}


def drop_triggers(table: str) -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {quote(trigger_name(op, table))}" for op in OPS]
