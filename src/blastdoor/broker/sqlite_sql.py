"""``blastdoor sql`` on a SQLite profile (``DATABASE_URL=sqlite:///PATH``): run, save, restore.

SQLite has no server to hold a snapshot schema, and one file is the whole database, so what a
destructive statement may destroy is saved as a consistent copy of that file, taken with SQLite's
online backup API into the snapshots folder (outside the blast radius) before the statement runs;
``blastdoor restore`` copies it back the same way. The statements run in one transaction
(``BEGIN IMMEDIATE``, so no other writer slips in between the copy and the change), their rows
printed as tab-separated lines scrubbed of the profile's secrets, as on PostgreSQL.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import unquote, urlsplit

from blastdoor.broker.errors import BrokerError
from blastdoor.broker.scrub import Scrubber
from blastdoor.broker.sql_run import COMMITTED, FAILED, Printed, SqlOutcome, show_rows
from blastdoor.errors import error_line
from blastdoor.files import sha256_of

BUSY_SECONDS = 10.0


def database_path(dsn: str) -> Path:
    """The database file a ``sqlite:`` URL names, always absolute (``sqlite:///srv/app.db`` and
    ``sqlite:////srv/app.db`` both name /srv/app.db: a broker has no working folder of its own)."""
    path = unquote(urlsplit(dsn).path)
    if not path.strip("/"):
        raise BrokerError("the SQLite URL names no file", hint="store it as sqlite:///ABSOLUTE/PATH.db")
    return Path("/" + path.lstrip("/"))


def _open(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise BrokerError(f"the SQLite database {path} does not exist", hint="check the profile's DATABASE_URL")
    # mode=rw: never create a database by accident; autocommit off by hand (isolation_level None)
    db = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=BUSY_SECONDS, isolation_level=None)
    db.execute("PRAGMA foreign_keys = ON")
    return db


def save_copy(dsn: str, into: Path) -> dict[str, Any]:
    """Copy the whole database into ``into`` (a new file); the part a snapshot manifest keeps."""
    source = database_path(dsn)
    with contextlib.closing(_open(source)) as db, contextlib.closing(sqlite3.connect(into)) as copy:
        db.backup(copy)
        tables = [row[0] for row in copy.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {"target": str(source), "change": "whole database", "file": into.name, "tables": len(tables),
            "sha256": sha256_of([into])[0]}  # fmt: skip


def restore_copy(dsn: str, copy: Path) -> str:
    """Put a saved copy (checked first: broker/engines/sqlite.py) back over the database; one line
    for the report."""
    target = database_path(dsn)
    with contextlib.closing(sqlite3.connect(f"file:{copy}?mode=ro", uri=True)) as saved, \
            contextlib.closing(_open(target)) as db:  # fmt: skip
        saved.backup(db)
    return f"{target}: put back as it was before the statement"


def run_sqlite(dsn: str, text: str, *, scrubber: Scrubber, out: BinaryIO) -> SqlOutcome:
    """Run ``text`` (one or more statements) in one transaction."""
    outcome = SqlOutcome()
    printed = Printed(scrubber, out)
    emit = printed.line

    try:
        db = _open(database_path(dsn))
    except (BrokerError, sqlite3.Error) as error:
        outcome.result, outcome.error = FAILED, scrubber.text(getattr(error, "message", str(error)))
        return outcome
    try:
        db.execute("BEGIN IMMEDIATE")
        for statement in statements(text):
            cursor = db.execute(statement)
            status = statement.split(None, 1)[0].upper()
            outcome.statements.append({"status": status, "rows": cursor.rowcount})
            if cursor.description:
                _show(cursor, emit)
            else:
                emit(f"{status} {max(cursor.rowcount, 0)}")
        db.execute("COMMIT")
        outcome.result = COMMITTED
    except sqlite3.Error as error:
        outcome.result, outcome.error = FAILED, scrubber.text(error_line(error))
        with contextlib.suppress(sqlite3.Error):
            db.execute("ROLLBACK")
    finally:
        db.close()
        out.flush()
    outcome.output_sha256 = printed.sha256()
    return outcome


def statements(text: str) -> Iterator[str]:
    """The statements of ``text``, cut at each semicolon that SQLite itself says ends one (not one
    inside a string or a comment)."""
    start = 0
    for at, char in enumerate(text):
        if char == ";" and sqlite3.complete_statement(text[start:at + 1]):
            if text[start:at].strip():
                yield text[start:at].strip()
            start = at + 1
    rest = text[start:].strip()
    if rest and not all(line.strip().startswith("--") or not line.strip() for line in rest.splitlines()):
        yield rest


def _show(cursor: sqlite3.Cursor, emit: Any) -> None:
    show_rows([column[0] for column in cursor.description], cursor, emit)
