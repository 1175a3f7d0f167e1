"""``blastdoor backup verify`` on PostgreSQL: a ``pg_dump`` restored into a throwaway database and
counted against the database (the rules: broker/backup_verify.py).

The scratch database is made on the source's server unless ``scratch`` names another server, and
restored into as a role made for it, allowed into that database only: restoring as the profile's
role would let a hostile dump do whatever that role may (a superuser's ``COPY ... FROM PROGRAM`` runs
a program on the server; an owner's ``DROP DATABASE`` names the real one). Both are dropped
afterwards whatever happened; the admin (the profile's role, or ``--scratch-profile``'s) needs to
create and drop databases and roles. The source is only read, in one read-only
repeatable-read transaction, so every table is counted at the same moment. Blastdoor's own schemas
(``blastdoor_*``) are left out of the comparison. A plain dump is read first as psql reads it and
refused when it would make psql do more than run SQL (broker/psql_script.py); psql then runs it
restricted (``\\restrict`` with a key of Blastdoor's), without a psqlrc, stopping at the first error.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Generator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from blastdoor.broker import client_tools, psql_script
from blastdoor.broker.backup_verify import RESTORE_SECONDS, Proof, compared
from blastdoor.broker.dumps import PLAIN, Dump, check_plain, opened
from blastdoor.broker.errors import BrokerError, failing
from blastdoor.errors import error_line

if TYPE_CHECKING:
    from blastdoor.broker.engines.postgresql import PostgreSQL

_TABLES = """SELECT n.nspname, c.relname, format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
                AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname NOT LIKE 'blastdoor\\_%'
              ORDER BY 1, 2"""


def verify(engine: PostgreSQL, dump: Dump, *, scratch: str = "", tolerance: float = 0.1, max_age_hours: int = 24,
           clean: Callable[[str], str] = str) -> Proof:  # fmt: skip
    """Restore ``dump`` into a new database on ``scratch``'s server (default: ``engine``'s), as a
    role made for it, count, compare with ``engine``'s database and drop both."""
    from blastdoor.broker.engines.postgresql import PostgreSQL

    if dump.format == PLAIN:
        check_plain(dump.path)
    checked = datetime.now(UTC)
    source = _counts(engine.url, read_only=True)
    name, password = f"blastdoor_verify_{secrets.token_hex(6)}", secrets.token_urlsafe(24)
    server = scratch or engine.url
    made = False  # the role: once it is, the database and it are dropped whatever happens
    try:
        _admin(server, _ROLE, name=name, password=password, doing="create a scratch database and its role")
        made = True
        _admin(server, _DATABASE, name=name, doing="create a scratch database and its role")
        _admin(_with_database(server, name), _SCHEMA, name=name, doing="let the scratch role into the public schema")
        restorer = _with_database(server, name, user=name, password=password)
        restore_error = _restore(dump, PostgreSQL(restorer))
        backup = _counts(restorer, read_only=False)
    finally:
        if made:
            _admin(server, _DROP, name=name, doing=f"drop the scratch database and role {name}")
    return compared(dump, checked=checked, source=source, backup=backup, restore_error=restore_error,
                    tolerance=tolerance, max_age_hours=max_age_hours, clean=clean)  # fmt: skip


# The restoring role may do nothing outside the scratch database: not a superuser (no COPY ... FROM
# PROGRAM, no untrusted languages), no other database's owner (no DROP DATABASE of one), no roles.
_ROLE = ("CREATE ROLE {name} LOGIN PASSWORD {password} NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT",)
_DATABASE = ("CREATE DATABASE {name}", "GRANT CONNECT, CREATE, TEMPORARY ON DATABASE {name} TO {name}")
_SCHEMA = ("GRANT ALL ON SCHEMA public TO {name}",)  # since PostgreSQL 15 only its owner may create there
_DROP = ("DROP DATABASE IF EXISTS {name} WITH (FORCE)", "DROP ROLE IF EXISTS {name}")


def _failing(what: str, *, hint: str) -> contextlib.AbstractContextManager[None]:
    """A database error inside the block as one line: ``WHAT: the driver's message``."""
    import psycopg

    return failing(what, hint=hint, errors=psycopg.Error, said=lambda error: error_line(error, limit=300))


def _connect(dsn: str, *, autocommit: bool) -> Any:
    import psycopg

    with _failing("cannot connect to the database", hint="check that the server is up and the profile's URL is right"):
        return psycopg.connect(dsn, autocommit=autocommit, connect_timeout=10)


def _counts(dsn: str, *, read_only: bool) -> dict[str, int]:
    """Exact row counts of every ordinary table, as one snapshot."""
    from psycopg import sql

    with _connect(dsn, autocommit=False) as db, _failing("cannot count the rows", hint="the profile needs to read every table"):
        if read_only:
            db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        counts = {}
        for schema, table, name in db.execute(_TABLES).fetchall():
            query = sql.SQL("SELECT count(*) FROM ONLY {}").format(sql.Identifier(schema, table))
            counts[name] = int(db.execute(query).fetchone()[0])
        db.rollback()
    return counts


def _admin(server: str, statements: tuple[str, ...], *, name: str, password: str = "", doing: str) -> None:
    from psycopg import sql

    with _connect(server, autocommit=True) as db, \
            _failing(f"cannot {doing}", hint="name a server where this role may create databases and roles with --scratch-profile NAME"):  # fmt: skip
        for statement in statements:
            db.execute(sql.SQL(statement).format(name=sql.Identifier(name), password=sql.Literal(password)))


def _with_database(dsn: str, name: str, **also: str) -> str:
    from psycopg.conninfo import make_conninfo

    return make_conninfo(dsn, dbname=name, **also)


def _restore(dump: Dump, target: PostgreSQL) -> str:
    """Restore ``dump`` into ``target``; the first error it reported ('' when none)."""
    if dump.format == PLAIN:
        return _restore_plain(dump, target)
    args = ["--no-owner", "--no-privileges", str(dump.path)]
    return target.tool(["pg_restore"], args, doing="restore the dump", timeout=RESTORE_SECONDS).failure()


def _restore_plain(dump: Dump, target: PostgreSQL) -> str:
    """psql reading the dump from a pipe, restricted first (``\\restrict`` with a key the dump
    cannot know, so psql itself refuses any backslash command the check missed), stopping at the
    first error; the dump goes through the check again on its way, without pg_dump's own
    ``\\restrict`` / ``\\unrestrict`` lines."""
    key = secrets.token_hex(24)

    def checked() -> Generator[bytes, None, None]:
        with opened(dump.path) as handle:
            yield from (piece for piece, keep in psql_script.lines(handle, dump.path.name) if keep)

    with client_tools.fed(checked()) as source:
        ran = target.tool(["psql"], ["--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1", f"--command=\\restrict {key}", "--file=-"],
                          doing="restore the dump", stdin=source, timeout=RESTORE_SECONDS)  # fmt: skip
    if not ran.ok and "invalid command \\restrict" in ran.stderr.decode("utf-8", "replace"):
        raise BrokerError("this psql cannot restrict its own commands, so Blastdoor will not give it a plain dump",
                          hint="install PostgreSQL's client 17.6, 16.10, 15.14, 14.19 or 13.22 or newer, or verify a --format=custom dump")  # fmt: skip
    return ran.failure().replace(key, "KEY")
