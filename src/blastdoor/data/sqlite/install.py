"""Connecting to a SQLite database, ``data enable`` and ``data disable`` on it, and tagging a
transaction with the run that makes it.

Every write here runs in one ``BEGIN IMMEDIATE`` transaction, which takes SQLite's write lock
first: nothing changes under it, and a failure leaves the file as it was.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

from blastdoor.data.errors import DataError
from blastdoor.data.install import Enabled
from blastdoor.data.sqlite import schema
from blastdoor.data.sqlite.schema import PREFIX, quote
from blastdoor.data.target import SQLITE_HEADER, Target

BUSY_SECONDS = 10
CACHE_KIB = 256 * 1024  # this connection's page cache, at most (SQLite allocates it as needed)


@dataclass(frozen=True)
class Tracked:
    name: str
    keys: list[str]  # the primary key, or one of schema.ROWID_NAMES
    columns: list[str]  # every column the images hold, the key included
    writable: list[str]  # the columns an INSERT may name (no generated ones)
    create_sql: str


def connect(target: Target) -> sqlite3.Connection:
    """The database, opened for reading and writing but never created: a mistyped path is an error."""
    path = target.sqlite_path
    if path is None:
        raise DataError(f"{target.label} is not a SQLite address", hint="give --dsn sqlite:///PATH")
    try:
        with path.open("rb") as handle:
            header = handle.read(16)
    except OSError as error:
        raise DataError(f"no SQLite database at {path}: {error.strerror}", hint="check the path; sqlite:////abs/path for an absolute one") from None
    if header and header != SQLITE_HEADER:
        raise DataError(f"{path} is not a SQLite database", hint="give the path of the application's database file")
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True, timeout=BUSY_SECONDS,
                             isolation_level=None, check_same_thread=False)  # fmt: skip
    except sqlite3.Error as error:
        raise DataError(f"cannot open {path}: {error}", hint="check the file's permissions") from None
    db.execute("PRAGMA foreign_keys = ON")
    db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")  # history's indexes grow fast in a big undo
    return db


@contextlib.contextmanager
def transaction(target: Target, doing: str, *, hint: str) -> Iterator[sqlite3.Connection]:
    """One write transaction, committed at the end of the block or rolled back; a database error
    becomes one line ("could not DOING on TARGET: ...")."""
    db = connect(target)
    try:
        db.execute("BEGIN IMMEDIATE")
        yield db
        db.execute("COMMIT")
    except sqlite3.Error as error:
        rollback_quietly(db)
        raise DataError(f"could not {doing} on {target.label}: {error}", hint=hint) from None
    except BaseException:
        rollback_quietly(db)
        raise
    finally:
        db.close()


def rollback_quietly(db: sqlite3.Connection) -> None:
    """Roll back the open transaction, if any; a rollback that fails has nothing left to undo."""
    if db.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            db.execute("ROLLBACK")


def installed(db: sqlite3.Connection) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (f"{PREFIX}meta",)).fetchone() is not None


def require(db: sqlite3.Connection, target: Target) -> None:
    if not installed(db):
        raise DataError(f"row history is not enabled on {target.label}",
                        hint="a person enables it: blastdoor data enable --dsn sqlite:///PATH")  # fmt: skip


def database_id(db: sqlite3.Connection) -> str:
    return str(db.execute(f"SELECT database_id FROM {PREFIX}meta").fetchone()[0])


@contextlib.contextmanager
def tagged(db: sqlite3.Connection, *, run_id: str, session_id: str = "", request: str = "", entry: str = "",
           snapshot_id: str = "") -> Iterator[int]:  # fmt: skip
    """Attribute the writes made in the block to ``run_id``: the caller's transaction (begun here
    when none is open) gets a transaction id and the tags; the tags are cleared before it ends,
    so no later write inherits them. Yields the transaction id. A transaction begun here is
    committed at the end of the block, or rolled back if it raises."""
    began = not db.in_transaction
    if began:
        db.execute("BEGIN IMMEDIATE")
    db.execute(f"UPDATE {PREFIX}meta SET last_txid = last_txid + 1")
    txid = int(db.execute(f"SELECT last_txid FROM {PREFIX}meta").fetchone()[0])
    db.execute(f"INSERT OR REPLACE INTO {PREFIX}context (slot, txid, run_id, session_id, request, entry, snapshot_id) "
               "VALUES (1, ?, ?, ?, ?, ?, ?)", (txid, run_id, session_id, request, entry, snapshot_id))  # fmt: skip
    try:
        yield txid
    except BaseException:
        if not db.in_transaction:
            _clear_tags(db)
        elif began:
            rollback_quietly(db)  # the tags go with the transaction
        else:
            db.execute(f"DELETE FROM {PREFIX}context")
        raise
    if not db.in_transaction:
        _clear_tags(db)
        raise DataError("the tagged block committed its own transaction; writes after that commit were not "
                        "tagged", hint="commit once, after the with-block (tagged commits for you)")  # fmt: skip
    db.execute(f"DELETE FROM {PREFIX}context")
    if began:
        db.execute("COMMIT")


def _clear_tags(db: sqlite3.Connection) -> None:
    """Remove tags a committed block left behind, so no later write inherits them."""
    db.execute("BEGIN IMMEDIATE")
    db.execute(f"DELETE FROM {PREFIX}context")
    db.execute("COMMIT")


def enable(target: Target, *, tables: list[str]) -> Enabled:
    with transaction(target, "enable row history", hint="nothing was changed; fix the cause and run it again") as db:
        if not installed(db):
            for statement in schema.INSTALL.split(";\n"):
                if statement.strip():
                    db.execute(statement)
            db.execute(f"INSERT INTO {PREFIX}meta (database_id, version) VALUES (?, ?)", (f"db-{secrets.token_hex(8)}", schema.VERSION))
        version = db.execute(f"SELECT version FROM {PREFIX}meta").fetchone()[0]
        if version != schema.VERSION:
            raise DataError(f"{target.label} has row history version {version}; this Blastdoor knows {schema.VERSION}",
                            hint="use the Blastdoor release that enabled it, or disable and enable again")  # fmt: skip
        result = Enabled(database_id(db), key="")
        known = {row[0]: row[1] for row in db.execute(f"SELECT table_name, columns FROM {PREFIX}tracked")}
        for name in _tables(db, tables):
            table = describe(db, name)
            if name not in known:
                result.added.append(_track(db, table))
            elif json.loads(known[name]) != table.columns:  # columns were added or dropped: capture them all again
                track_again(db, table)
                result.already.append(f"{name} (its new columns are now recorded too)")
            elif not _has_triggers(db, table):
                track_again(db, table)
                result.already.append(f"{name} (its history triggers were missing or replaced and are back; writes meanwhile went unrecorded)")
            else:
                result.already.append(name)
    return result


def disable(target: Target) -> list[str]:
    with transaction(target, "disable row history", hint="nothing was changed") as db:
        require(db, target)
        tracked = [row[0] for row in db.execute(f"SELECT table_name FROM {PREFIX}tracked ORDER BY 1")]
        for name in tracked:
            for statement in schema.drop_triggers(name):
                db.execute(statement)
        for table in schema.TABLES:
            db.execute(f"DROP TABLE {PREFIX}{table}")
        if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").fetchone():  # SQLite keeps the table itself
            db.execute("DELETE FROM sqlite_sequence WHERE name = ?", (f"{PREFIX}changes",))
    return tracked


def describe(db: sqlite3.Connection, name: str) -> Tracked:
    """The table ``name`` as it is now: key, columns, and the statement that creates it."""
    rows = db.execute(f"PRAGMA table_xinfo({quote(name)})").fetchall()  # cid, name, type, notnull, default, pk, hidden
    if not rows:
        raise DataError(f"no table {name!r} in this database", hint="name tables as they appear in sqlite_master")
    columns = [row[1] for row in rows]
    writable = [row[1] for row in rows if row[6] == 0]
    declared = sorted((r for r in rows if r[5]), key=lambda r: r[5])
    keys = [row[1] for row in declared]
    if keys and _nullable_key(db, name, declared):  # rowid table: its key may hold NULLs, which never match
        keys = []
    if not keys:  # a rowid table without a usable declared key: its rowid tells rows apart
        free = [alias for alias in schema.ROWID_NAMES if alias not in columns]
        keys = free[:1]
        columns, writable = keys + columns, keys + writable
    for column in columns[schema.JSON_PAIRS:]:
        if '"' in column:
            raise DataError(f"{name}.{column}: a column name with a double quote, past the {schema.JSON_PAIRS}th column, "
                            "cannot be recorded", hint="rename the column, or leave the table out with --tables")  # fmt: skip
    created = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone()
    return Tracked(name, keys, columns, writable, created[0] if created else "")


def _nullable_key(db: sqlite3.Connection, name: str, declared: list[tuple[object, ...]]) -> bool:
    """Whether a declared primary key can hold NULL: in a rowid table unless it is NOT NULL or the
    INTEGER PRIMARY KEY (the rowid itself); WITHOUT ROWID tables never allow it."""
    if len(declared) == 1 and str(declared[0][2]).upper() == "INTEGER":
        return False
    listed = db.execute("SELECT wr FROM pragma_table_list WHERE schema = 'main' AND name = ?", (name,)).fetchone()
    if listed is not None and listed[0] == 1:
        return False
    return any(not row[3] for row in declared)


def _tables(db: sqlite3.Connection, names: list[str]) -> list[str]:
    """The tables asked for, or every ordinary table but SQLite's and Blastdoor's own."""
    listed = {row[1]: row[2] for row in db.execute("PRAGMA main.table_list")}  # schema, name, type, ...
    if names:
        for name in names:
            if name.startswith(PREFIX):
                raise DataError(f"{name} is row history itself", hint="name the application's tables")
            if listed.get(name) != "table":
                raise DataError(f"no table {name!r} in this database" + (f" (it is a {listed[name]})" if name in listed else ""),
                                hint="row history records ordinary tables; names are case-sensitive as written")  # fmt: skip
        return list(dict.fromkeys(names))
    return sorted(name for name, kind in listed.items()
                  if kind == "table" and not name.startswith(("sqlite_", PREFIX)))  # fmt: skip


def _track(db: sqlite3.Connection, table: Tracked) -> dict[str, object]:
    if not table.keys:
        raise DataError(f"{table.name} has no primary key and no free rowid alias", hint="give it a primary key")
    _install_triggers(db, table)
    cursor = db.execute(f"INSERT INTO {PREFIX}baseline (table_name, row_image) "
                        f"SELECT ?, {schema.image('t', table.columns)} FROM {quote(table.name)} t", (table.name,))  # fmt: skip
    db.execute(f"INSERT INTO {PREFIX}tracked (table_name, key_columns, columns, create_sql) VALUES (?, ?, ?, ?)",
               (table.name, json.dumps(table.keys), json.dumps(table.columns), table.create_sql))  # fmt: skip
    return {"table": table.name, "baseline_rows": cursor.rowcount, "key": table.keys}


def track_again(db: sqlite3.Connection, table: Tracked) -> None:
    """Record ``table`` as it is now: after its columns changed, or once it was rebuilt."""
    _install_triggers(db, table)
    db.execute(f"UPDATE {PREFIX}tracked SET columns = ?, key_columns = ?, create_sql = ? WHERE table_name = ?",
               (json.dumps(table.columns), json.dumps(table.keys), table.create_sql, table.name))  # fmt: skip


def trigger_damage(db: sqlite3.Connection, table: str, columns: list[str], keys: list[str]) -> tuple[list[str], list[str]]:
    """The history triggers of ``table`` that are missing, and those whose text is not what
    ``enable`` made (SQLite cannot refuse ``DROP TRIGGER``, or one put back with another body)."""
    expected = schema.triggers(table, columns, keys)
    marks = ", ".join("?" for _ in expected)
    stored = dict(db.execute(f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN ({marks})", list(expected)))
    missing = [name for name in expected if name not in stored]
    altered = [name for name, text in expected.items() if name in stored and _words(stored[name]) != _words(text)]
    return missing, altered


def _words(text: str) -> str:
    return " ".join(text.replace(";", " ; ").split()).rstrip(" ;")


def _has_triggers(db: sqlite3.Connection, table: Tracked) -> bool:
    return trigger_damage(db, table.name, table.columns, table.keys) == ([], [])


def _install_triggers(db: sqlite3.Connection, table: Tracked) -> None:
    for statement in schema.drop_triggers(table.name):  # a table restored from a copy brings the triggers it had
        db.execute(statement)
    for statement in schema.triggers(table.name, table.columns, table.keys).values():
        db.execute(statement)

