"""``blastdoor backup verify`` on MySQL / MariaDB: the newest ``mysqldump`` / ``mariadb-dump`` of the
profile's database restored into a throwaway database on the same server (or ``--scratch-profile``'s),
its tables counted against the database's (the rules: broker/backup_verify.py).

A dump is a script the ``mysql`` client runs, and in MySQL one connection reaches every database
its user may: a dump made with ``--databases`` says ``USE shop`` and would restore itself over the
real database, and a hostile one could do anything the profile's user can. So the restore runs as a
user made for it, allowed into the scratch database only (``GRANT ALL ON scratch.*``; no global
privilege, no other database), and ``--binary-mode`` turns off the client's own commands (``\\!``
runs a shell, ``source`` reads a file, ``connect`` goes elsewhere). A dump that says ``USE`` or
creates, drops or alters a database on a line of its own is refused first with a clear word; one that
hides it is stopped by the privileges. Two kinds of line are rewritten on the way in:
``DEFINER=`user`@`host``` clauses (views, triggers, routines) become ``DEFINER=CURRENT_USER``, since
only a privileged user may name another definer; and the ``ALTER DATABASE `db` CHARACTER SET ...``
lines ``--routines`` writes around a routine made under another character set lose their name, so
they change the database being restored into (the scratch one). The scratch database and the user are dropped afterwards whatever happened; the admin (the
profile's user, or ``--scratch-profile``'s) needs to create and drop both.

The source is only read, in one consistent-snapshot read-only transaction, so every table is
counted at the same moment. A dump made with comments ends with ``-- Dump completed on ...``: one
that does not did not finish. Its age is its file time (the completion line has no time zone).
"""

from __future__ import annotations

import contextlib
import re
import secrets
from collections.abc import Callable, Generator, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from blastdoor.broker import client_tools
from blastdoor.broker.backup_verify import RESTORE_SECONDS, Proof, compared
from blastdoor.broker.dumps import UNREADABLE, Dump, opened, unreadable
from blastdoor.broker.errors import BrokerError, failing
from blastdoor.broker.mysql_connect import (
    Server,
    client_programs,
    describe,
    fetch_value,
    quote_name,
)
from blastdoor.files import sha256_of

if TYPE_CHECKING:
    from blastdoor.broker.engines.mysql import MySQL

FORMAT = "mysqldump"
LINE_BYTES = 1 << 22
_HEADERS = (b"-- MySQL dump", b"-- MariaDB dump")
_SANDBOX = b"/*M!999999\\- enable the sandbox mode */"  # MariaDB's dumps begin with it since 2024
_LEAVING = re.compile(rb"^\s*(USE\s|(CREATE|DROP)\s+(DATABASE|SCHEMA)\b|ALTER\s+(DATABASE|SCHEMA)\s+(?!CHARACTER\s|COLLATE\s))",
                      re.IGNORECASE)  # fmt: skip
# mysqldump's ALTER DATABASE `db` CHARACTER SET cs COLLATE co ; (routines made under another character set)
_CHARSET = re.compile(rb"^(\s*ALTER\s+(?:DATABASE|SCHEMA)\s+)`(?:[^`]|``)*`\s+(?=(?:CHARACTER\s+SET|COLLATE)\s)", re.IGNORECASE)
_DEFINER = re.compile(rb"DEFINER\s*=\s*`(?:[^`]|``)*`@`(?:[^`]|``)*`")
_SCRATCH_HINT = "name a server where this user may create databases and users with --scratch-profile NAME"


def read_dump(path: Path) -> Dump:
    """What ``path`` is (a mysqldump script), when it was made (its file time) and its digest."""
    try:
        if not path.is_file():
            raise BrokerError(f"{path} is not a regular file", hint="name a mysqldump file")
        with opened(path) as handle:
            head = handle.read(8192)
        digest, size = sha256_of([path])
        stamp = path.stat().st_mtime
    except UNREADABLE as error:
        raise unreadable(path, error) from None
    if b"\0" in head or not head.strip():
        raise BrokerError(f"{path.name} is not a MySQL dump (empty or binary)", hint="name a mysqldump file (plain SQL, or gzipped)")
    lines = [line.strip() for line in head.splitlines()[:5] if line.strip() and line.strip() != _SANDBOX]
    if not lines or not (lines[0].startswith(_HEADERS) or lines[0].startswith(b"/*!40101 SET")):
        raise BrokerError(f"{path.name} is text but not a mysqldump script", hint="name a dump made by mysqldump or mariadb-dump")
    return Dump(path=path, format=FORMAT, created=datetime.fromtimestamp(stamp, UTC), created_from="file time",
                sha256=digest, bytes=size)  # fmt: skip


def verify(engine: MySQL, dump: Dump, *, scratch: Server | None, tolerance: float, max_age_hours: int,
           clean: Callable[[str], str]) -> Proof:  # fmt: skip
    """Restore ``dump`` into a throwaway database on ``scratch`` (default: ``engine``'s server) as a
    user allowed nowhere else, count, compare with ``engine``'s database, and drop both."""
    from blastdoor.broker.engines.mysql import MySQL

    source = engine.server
    if not source.database:
        raise BrokerError("the profile's MySQL URL names no database, so there is nothing to compare the dump with",
                          hint="store the URL with its database: mysql://USER:PASSWORD@HOST/DATABASE")  # fmt: skip
    unfinished = _check(dump.path)
    checked = datetime.now(UTC)
    counted = _counts(source, source.database, consistent=True)
    admin = scratch or replace(source, database="")
    name = f"blastdoor_verify_{secrets.token_hex(6)}"
    db = admin.connect(program="blastdoor-backup-verify", database=False)
    try:
        db.autocommit(True)
        host = fetch_value(db, "SELECT SUBSTRING_INDEX(USER(), '@', -1)")  # where the server sees this machine
        version = fetch_value(db, "SELECT VERSION()")
        password = secrets.token_urlsafe(24)
        user = f"{quote_name(name)}@{_string(db, host)}"
        with _failing("cannot create a scratch database and its user", hint=_SCRATCH_HINT):
            _run(db, f"CREATE DATABASE {quote_name(name)}")
            _run(db, f"CREATE USER {user} IDENTIFIED BY {_string(db, password)}")
            _run(db, f"GRANT ALL ON {quote_name(name)}.* TO {user}")
        try:
            restorer = MySQL(server=replace(admin, user=name, password=password, database=name))
            restore_error = _restore(restorer, dump, client_programs(version), database=name)
            backup = _counts(admin, name, consistent=False)
        finally:
            with _failing(f"cannot drop the scratch database {name} and its user", hint="drop them by hand"):
                _run(db, f"DROP DATABASE IF EXISTS {quote_name(name)}")
                _run(db, f"DROP USER IF EXISTS {user}")
    finally:
        db.close()
    proof = compared(dump, checked=checked, source=counted, backup=backup, restore_error=restore_error,
                     tolerance=tolerance, max_age_hours=max_age_hours, clean=clean)  # fmt: skip
    return replace(proof, problems=(*proof.problems, unfinished)) if unfinished else proof


def _check(path: Path) -> str:
    """Refuse a dump that would leave the scratch database on a line of its own; the problem of
    one that did not finish ('' when it did, or cannot say: made without comments)."""
    header, last = False, b""
    try:
        with opened(path) as handle:
            for number, line in enumerate(_lines(handle), 1):
                if _LEAVING.match(_for_scratch(line)):
                    said = line.strip()[:60].decode("utf-8", "replace")
                    raise BrokerError(f"{path.name} line {number} ('{said}') names a database of its own, as a dump made with "
                                      "--databases or --all-databases does; it would not restore into a scratch database",
                                      hint="verify a dump of the one database: mysqldump [OPTIONS] DATABASE (no --databases)")  # fmt: skip
                header = header or (number <= 5 and line.startswith(_HEADERS))
                last = line.strip() or last
    except UNREADABLE as error:
        raise unreadable(path, error) from None
    if header and not last.startswith(b"-- Dump completed"):
        return "the dump did not finish: it does not end with the '-- Dump completed' line"
    return ""


def _restore(restorer: MySQL, dump: Dump, programs: tuple[str, str], *, database: str) -> str:
    """Run the dump with the client, as ``restorer``'s user; the first error it reported ('' when none)."""
    with _fed(dump.path) as stdin:
        return restorer.tool(programs, ["--binary-mode", "--batch", "--local-infile=0", f"--database={database}"],
                             stdin=stdin, doing="restore the dump", timeout=RESTORE_SECONDS).failure()  # fmt: skip


def _fed(path: Path) -> contextlib.AbstractContextManager[IO[bytes]]:
    """A pipe the dump flows through (client_tools.fed), its definers made the restoring user."""

    def for_scratch() -> Generator[bytes, None, None]:
        with opened(path) as source:
            yield from (_for_scratch(line) for line in _lines(source))

    return client_tools.fed(for_scratch())


def _lines(handle: IO[bytes]) -> Iterator[bytes]:
    """The file's lines, a line longer than ``LINE_BYTES`` in pieces of that size (a dump with no
    newline is not read whole; mysqldump's lines are at most about 1 MiB, --net-buffer-length)."""
    return iter(lambda: handle.readline(LINE_BYTES), b"")


def _for_scratch(line: bytes) -> bytes:
    """A dump line as it is restored: definers made the restoring user, and a character set
    change of the dumped database made one of the database restored into."""
    if line.lstrip().startswith((b"/*!", b"CREATE")):
        return _DEFINER.sub(b"DEFINER=CURRENT_USER", line)
    return _CHARSET.sub(rb"\1", line)


def _counts(server: Server, database: str, *, consistent: bool) -> dict[str, int]:
    """Exact row counts of every base table of ``database``, in one snapshot when ``consistent``."""
    db = replace(server, database=database).connect(program="blastdoor-backup-verify")
    with _failing("cannot count the rows", hint="the profile needs to read every table"):
        try:
            with db.cursor() as cursor:
                cursor.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY" if consistent else "START TRANSACTION")
                cursor.execute("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s "
                               "AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME", (database,))  # fmt: skip
                tables = [str(row[0]) for row in cursor.fetchall()]
                counts = {}
                for table in tables:
                    cursor.execute(f"SELECT COUNT(*) FROM {quote_name(database)}.{quote_name(table)}")
                    counts[table] = int(cursor.fetchone()[0])
            db.rollback()
        finally:
            db.close()
    return counts


def _failing(what: str, *, hint: str) -> contextlib.AbstractContextManager[None]:
    """A database error inside the block as one line: ``WHAT: (code) the server's message``."""
    import pymysql

    return failing(what, hint=hint, errors=pymysql.Error, said=describe)


def _run(db: Any, statement: str) -> None:
    with db.cursor() as cursor:
        cursor.execute(statement)


def _string(db: Any, value: str) -> str:
    """``value`` as a quoted SQL string literal, escaped by the driver for this connection."""
    return str(db.escape(value))
