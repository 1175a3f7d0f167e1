"""Proving a backup is real: its dump restored into a throwaway database, and its rows counted
table by table against the database it was taken from.

A backup nobody has restored is a hope (PocketOS's backups went with the volume they lived on;
Replit's agent claimed a rollback was impossible). The proof this module builds says: the dump
restores without errors, every table of the database is in it, no table holds far fewer rows than
the database does now (``tolerance``, 10% by default: rows written since the dump are expected),
and it is younger than ``max_age_hours``. More rows in the backup than in the database is not a
fault (rows deleted since, which is what a backup is for); it is reported.

The scratch database is made on the source's server unless ``scratch`` names another server, and
is dropped afterwards whatever happened. The source is only read, in one read-only
repeatable-read transaction, so every table is counted at the same moment. Blastdoor's own schemas
(``blastdoor_*``) are left out of the comparison.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from blastdoor.broker.dumps import PLAIN, Dump, check_plain
from blastdoor.broker.errors import BrokerError
from blastdoor.broker.snapshot import split_conninfo
from blastdoor.errors import error_line, first_line

RESTORE_SECONDS = 24 * 3600
MAX_TABLES_RECORDED = 2_000
_TABLES = """SELECT n.nspname, c.relname, format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
                AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname NOT LIKE 'blastdoor\\_%'
              ORDER BY 1, 2"""


@dataclass(frozen=True)
class Proof:
    dump: Dump
    checked: datetime
    max_age_hours: int
    tolerance: float
    counts: dict[str, tuple[int, int | None]]  # table -> (rows in the database, rows in the backup or None)
    extra: tuple[str, ...] = ()  # tables only the backup has
    problems: tuple[str, ...] = field(default=())
    facts: dict[str, Any] = field(default_factory=dict)  # where the backup lives and what protects it

    @property
    def verified(self) -> bool:
        return not self.problems

    @property
    def age_hours(self) -> float:
        return (self.checked - self.dump.created).total_seconds() / 3600

    def fields(self) -> dict[str, Any]:
        """The ledger entry's fields (without who and which profile)."""
        shown = dict(list(self.counts.items())[:MAX_TABLES_RECORDED])
        return {"result": "verified" if self.verified else "failed", "dump": self.dump.describe(),
                "age_hours": round(self.age_hours, 2), "max_age_hours": self.max_age_hours,
                "tolerance": self.tolerance, "tables": len(self.counts),
                "rows": {name: {"database": source, "backup": backup} for name, (source, backup) in shown.items()},
                "only_in_backup": list(self.extra[:MAX_TABLES_RECORDED]), "problems": list(self.problems[:200]),
                **({"location": self.facts} if self.facts else {})}  # fmt: skip


def verify(dsn: str, dump: Dump, *, scratch: str = "", tolerance: float = 0.1, max_age_hours: int = 24,
           clean: Callable[[str], str] = str) -> Proof:  # fmt: skip
    """Restore ``dump`` into a new database on ``scratch``'s server (default: ``dsn``'s), count,
    compare with ``dsn`` and drop it. ``clean`` removes secrets from any text kept."""
    if dump.format == PLAIN:
        check_plain(dump.path)
    checked = datetime.now(UTC)
    source = _counts(dsn, read_only=True)
    name = f"blastdoor_verify_{secrets.token_hex(6)}"
    server = scratch or dsn
    _admin(server, f'CREATE DATABASE "{name}"', doing="create a scratch database")
    try:
        restore_error = _restore(dump, _with_database(server, name))
        backup = _counts(_with_database(server, name), read_only=False)
    finally:
        _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', doing=f"drop the scratch database {name}")
    problems = []
    if restore_error:
        problems.append(f"the restore reported errors: {clean(restore_error)}")
    if not source:
        problems.append("the database has no tables to compare the backup with")
    for table, rows in source.items():
        kept = backup.get(table)
        if kept is None:
            problems.append(f"{table} is not in the backup")
        elif kept < rows * (1 - tolerance):
            problems.append(f"{table}: the backup holds {kept:,} rows, the database {rows:,}")
    if old := too_old("the dump", dump.created, now=checked, max_age_hours=max_age_hours):
        problems.append(old)
    return Proof(dump=dump, checked=checked, max_age_hours=max_age_hours, tolerance=tolerance,
                 counts={table: (rows, backup.get(table)) for table, rows in source.items()},
                 extra=tuple(sorted(set(backup) - set(source))), problems=tuple(problems))  # fmt: skip


def too_old(what: str, made: datetime, *, now: datetime, max_age_hours: int) -> str:
    """The problem with a backup ``what`` made at ``made`` that is older than ``max_age_hours`` at
    ``now`` ('' when it is young enough): the one age rule of dumps, snapshots and recorded proofs."""
    hours = (now - made).total_seconds() / 3600
    return f"{what} is {hours:.1f} hours old, more than {max_age_hours}" if hours > max_age_hours else ""


@contextlib.contextmanager
def _failing(what: str, *, hint: str) -> Iterator[None]:
    """A database error inside the block as one line: ``WHAT: the driver's message``."""
    import psycopg

    try:
        yield
    except psycopg.Error as error:
        raise BrokerError(f"{what}: {error_line(error, limit=300)}", hint=hint) from None


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


def _admin(server: str, statement: str, *, doing: str) -> None:
    with _connect(server, autocommit=True) as db, \
            _failing(f"cannot {doing}", hint="name a server where this role may create databases with --scratch-profile NAME"):  # fmt: skip
        db.execute(statement)


def _with_database(dsn: str, name: str) -> str:
    from psycopg.conninfo import make_conninfo

    return make_conninfo(dsn, dbname=name)


def _restore(dump: Dump, target: str) -> str:
    """Restore ``dump`` into ``target``; the first error it reported ('' when none)."""
    conninfo, secret_env = split_conninfo(target)
    if dump.format == PLAIN:
        program, args = "psql", ["--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1", f"--dbname={conninfo}", f"--file={dump.path}"]
    else:
        program, args = "pg_restore", ["--no-owner", "--no-privileges", f"--dbname={conninfo}", str(dump.path)]
    found = shutil.which(program)
    if found is None:
        raise BrokerError(f"{program} is not installed, so the dump cannot be restored",
                          hint="install the PostgreSQL client tools matching the server's version")  # fmt: skip
    try:
        done = subprocess.run([found, *args], env={**os.environ, **secret_env}, capture_output=True, text=True,
                              timeout=RESTORE_SECONDS, check=False)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"{program} did not finish: {error}"
    if done.returncode == 0:
        return ""
    errors = [line for line in done.stderr.splitlines() if "error" in line.lower()]
    return first_line(errors[0] if errors else done.stderr)
