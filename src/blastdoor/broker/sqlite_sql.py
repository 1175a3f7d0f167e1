"""``blastdoor sql`` on a SQLite profile (``DATABASE_URL=sqlite:////ABSOLUTE/PATH``): run, save, restore.

SQLite URLs are read as SQLAlchemy (and so most Python code that takes a database URL) reads them:
three slashes and a relative path, four slashes and an absolute one (:func:`database_path`, the one
reader of SQLite URLs for ``blastdoor sql`` and ``blastdoor data``). A relative path means nothing
to a broker, which has no working folder of its own: ``blastdoor profile add`` stores it made
absolute against the folder it was run in, and says so.

SQLite has no server to hold a snapshot schema, and one file is the whole database, so what a
destructive statement may destroy is saved as a consistent copy of that file, taken with SQLite's
online backup API into the snapshots folder (outside the blast radius) before the statement runs;
``blastdoor restore`` copies it back the same way. The statements run in one transaction
(``BEGIN IMMEDIATE``, so no other writer slips in between the copy and the change), their rows
printed as tab-separated lines scrubbed of the profile's secrets, as on PostgreSQL.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote, unquote, urlsplit

from blastdoor.broker.errors import BrokerError
from blastdoor.broker.scrub import Scrubber
from blastdoor.broker.sql_run import COMMITTED, FAILED, Printed, SqlOutcome, show_rows
from blastdoor.errors import error_line
from blastdoor.files import sha256_of

BUSY_SECONDS = 10.0
FORMS = "sqlite:///relative/path.db or sqlite:////absolute/path.db"


def database_path(url: str, *, base: Callable[[], Path] | None = None) -> Path:
    """The database file a ``sqlite:`` URL names, read as SQLAlchemy reads it: after ``sqlite://``
    and the empty host comes the path, so ``sqlite:///app.db`` is the relative ``app.db`` (resolved
    against the folder ``base`` gives, asked only then: refused without one) and
    ``sqlite:////srv/app.db`` the absolute /srv/app.db. Percent-escapes are decoded; a host, a
    query or a URL naming no file is refused."""
    path = _written_path(url)
    if path.startswith("/"):
        return Path(path)
    if base is None:
        raise BrokerError(f"the SQLite URL names the relative path {path[:200]}, and nothing says relative to what",
                          hint=f"store it with its absolute path (four slashes): sqlite:////{path[:200]} if /{path[:200]} is meant")  # fmt: skip
    return Path(os.path.abspath(base() / path))


def absolute_url(url: str, *, base: Callable[[], Path]) -> tuple[str, Path | None]:
    """``url`` with a relative path made absolute against the folder ``base`` gives, and that path
    (None when it was absolute already)."""
    if _written_path(url).startswith("/"):
        return url, None
    resolved = database_path(url, base=base)
    return "sqlite:///" + quote(str(resolved)), resolved


def working_folder() -> Path:
    """This process's working folder, which a relative SQLite path given on the command line is
    read against (BrokerError when it was deleted or cannot be read)."""
    try:
        return Path.cwd()
    except OSError as error:
        raise BrokerError(f"the SQLite URL names a relative path, and the working folder it is relative to cannot be read "
                          f"({error.strerror or error})",
                          hint="run it from a folder that exists, or give the absolute path: sqlite:////ABSOLUTE/PATH") from None  # fmt: skip


def url_problem(url: str) -> str:
    """Why Blastdoor cannot read the SQLite URL ``url`` ('' when it can)."""
    try:
        _written_path(url)
    except BrokerError as error:
        return error.message
    return ""


def _written_path(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme.lower() != "sqlite" or not url[len("sqlite:"):].startswith("//"):
        raise BrokerError("a SQLite URL starts with sqlite:///", hint=FORMS)
    if parts.netloc:
        raise BrokerError(f"the SQLite URL names the host {parts.netloc[:40]!r}; SQLite has none", hint=FORMS)
    if parts.query or parts.fragment:
        raise BrokerError("the SQLite URL has options (after ? or #), which Blastdoor does not read", hint=FORMS)
    path = unquote(parts.path)[1:]  # the slash that ends the (empty) host part is not the path's
    if not path.strip("/") or path == ":memory:":
        raise BrokerError("the SQLite URL names no file", hint=FORMS)
    return path


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
        outcome.result, outcome.error = FAILED, scrubber.text(error.diagnostics() if isinstance(error, BrokerError) else error_line(error))
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
