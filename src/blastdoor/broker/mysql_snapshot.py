"""Saving what a SQL statement will destroy on MySQL / MariaDB, and putting it back.

Rows (``DELETE``, ``UPDATE``) are copied into a table of their own in the ``blastdoor_snapshots``
database on the same server (``CREATE TABLE ... AS SELECT``), outside the reach of a ``DROP`` of
the application's database, with a digest of its columns and rows (snapshot.rows_digest). Whole tables
and databases go to ``mysqldump`` / ``mariadb-dump`` files in ``HOME/snapshots/ID/`` (a table as
two files: its definition with triggers, then its rows), each set with its sha256.

Restore checks every digest first (:func:`check`) and restores nothing if one differs. Then, newest part first: a
dropped table, view or database comes back from its dump (only if it is still gone), a truncated
table gets its rows back (only if it is still empty), deleted rows are inserted again (rows whose
primary key is back already are kept; without a key, exactly the missing copies, with ``EXCEPT
ALL``), and updated rows get their old values back by primary key. What cannot be restored
automatically is said, with the table or file that holds the old data.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from blastdoor.broker.errors import BrokerError
from blastdoor.broker.mysql_connect import (
    client_programs,
    dump_programs,
    fetch,
    fetch_value,
    quote_name,
)
from blastdoor.broker.snapshot import check_files, check_rows, rows_digest, split_name
from blastdoor.broker.snapshot_plan import ROWS, SCHEMA, Part
from blastdoor.files import sha256_of

if TYPE_CHECKING:
    from blastdoor.broker.engines.mysql import MySQL
    from blastdoor.broker.snapshot import Snapshots

SNAPSHOT_DATABASE = "blastdoor_snapshots"
_DUMP = ["--single-transaction", "--hex-blob", "--no-tablespaces", "--skip-add-locks", "--skip-add-drop-table"]
_CASCADING = ("CASCADE", "SET NULL", "SET DEFAULT")


def take(engine: MySQL, snapshots: Snapshots, manifest: dict[str, Any], parts: tuple[Part, ...]) -> None:
    """Save every part; the manifest lists what was saved. Raises before the statement runs."""
    folder = snapshots.folder / str(manifest["id"])
    db = engine.server.connect(program="blastdoor-snapshot")
    try:
        db.autocommit(True)
        version = fetch_value(db, "SELECT VERSION()")
        manifest["server"] = version
        for number, part in enumerate(parts):
            found = _locate(db, part)
            if found is None:
                continue  # nothing there to lose (DROP ... IF EXISTS); the statement will say
            database, name = found
            shown = f"{database}.{name}" if name else database
            saved: dict[str, Any] = {**asdict(part), "number": number, "target": shown, "database": database, "table": name}
            if part.kind == ROWS:
                saved |= _copy_rows(db, part, database, name, f"{manifest['id']}_{number}".replace("-", "_"))
            else:
                folder.mkdir(mode=0o700, parents=True, exist_ok=True)
                saved |= _dump(engine, version, part, database, name, folder, number)
            manifest["parts"].append(saved)
            snapshots.write(manifest)
    finally:
        db.close()


def identity(engine: MySQL) -> dict[str, str]:
    """The server's own id and the URL's database. MySQL has ``@@server_uuid``; MariaDB has none,
    so its host name, port, data folder and ``@@server_id`` stand for it."""
    db = engine.server.connect(program="blastdoor-snapshot", database=False)
    try:
        found = dict(fetch(db, "SHOW GLOBAL VARIABLES WHERE Variable_name IN "
                              "('server_uuid', 'hostname', 'port', 'datadir', 'server_id')", None))  # fmt: skip
    finally:
        db.close()
    said = {str(name).lower(): str(value) for name, value in found.items()}
    server = (f"MySQL server {said['server_uuid']}" if said.get("server_uuid") else
              f"MariaDB at {said.get('hostname')}:{said.get('port')} in {said.get('datadir')} (server id {said.get('server_id')})")  # fmt: skip
    return {"server": server, "database": engine.server.database}


def check(engine: MySQL, snapshots: Snapshots, manifest: Mapping[str, Any]) -> None:
    """Raise unless every part is there as it was saved: the row copies (by their digest) and the
    dump files (by their sha256)."""
    folder = snapshots.folder / str(manifest["id"])
    db = engine.server.connect(program="blastdoor-restore", database=False)  # the database may be the part that is gone
    try:
        for saved in manifest["parts"]:
            if saved["kind"] != ROWS:
                check_files(saved["target"], [folder / name for name in saved["files"]], saved.get("sha256"))
                continue
            copy = str(saved["copy"]).split(".", 1)[1]
            digest = _rows_digest(db, copy) if _exists(db, SNAPSHOT_DATABASE, copy) else None
            check_rows(saved["target"], saved["copy"], digest, saved.get("sha256"))
    finally:
        db.close()


def restore(engine: MySQL, snapshots: Snapshots, manifest: Mapping[str, Any]) -> Iterator[str]:
    """Put every part back, newest first; a line per part saying what happened, once it has."""
    folder = snapshots.folder / str(manifest["id"])
    db = engine.server.connect(program="blastdoor-restore", database=False)  # the database may be the part that is gone
    try:
        version = fetch_value(db, "SELECT VERSION()")
        for saved in reversed(manifest["parts"]):
            if saved["kind"] == ROWS:
                line = _restore_rows(db, saved)
                db.commit()
                yield line
            else:
                yield _restore_dump(db, engine, version, saved, folder)
    finally:
        db.close()


def _locate(db: Any, part: Part) -> tuple[str, str] | None:
    """(database, table) the part names as the server resolves it ('' table for a database)."""
    names = split_name(part.relation, quote="`")  # as the plan writes it: `db`.`table`
    if part.kind == SCHEMA:
        return (names[-1], "") if _exists(db, names[-1], "") else None
    schema, table = (names[0], names[1]) if len(names) == 2 else (None, names[0])
    rows = fetch(db, "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES "
                    "WHERE TABLE_SCHEMA = COALESCE(%s, DATABASE()) AND TABLE_NAME = %s", (schema, table))  # fmt: skip
    exact = [row for row in rows if row[1] == table] or rows
    return (str(exact[0][0]), str(exact[0][1])) if exact else None


def _copy_rows(db: Any, part: Part, database: str, table: str, copy: str) -> dict[str, Any]:
    if part.change == "delete":
        _refuse_cascades(db, database, table, whole=part.source == f"FROM {part.relation}")
    qualified = f"{quote_name(SNAPSHOT_DATABASE)}.{quote_name(copy)}"
    with db.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE IF NOT EXISTS {quote_name(SNAPSHOT_DATABASE)}")
        cursor.execute(f"CREATE TABLE {qualified} AS SELECT * {part.source}")
        rows = cursor.rowcount
    return {"copy": f"{SNAPSHOT_DATABASE}.{copy}", "rows": rows, "key": _primary_key(db, database, table),
            "sha256": _rows_digest(db, copy)}  # fmt: skip


def _refuse_cascades(db: Any, database: str, table: str, *, whole: bool) -> None:
    """Deleting rows that others refer to ``ON DELETE CASCADE`` / ``SET NULL`` changes rows that are
    not saved: refuse (within one table saved whole, the copy holds them all)."""
    rows = fetch(db, "SELECT CONSTRAINT_SCHEMA, TABLE_NAME, DELETE_RULE FROM information_schema.REFERENTIAL_CONSTRAINTS "
                    "WHERE UNIQUE_CONSTRAINT_SCHEMA = %s AND REFERENCED_TABLE_NAME = %s", (database, table))  # fmt: skip
    reaching = sorted({f"{row[0]}.{row[1]} ({row[2]})" for row in rows if str(row[2]).upper() in _CASCADING
                       and not (whole and (row[0], row[1]) == (database, table))})  # fmt: skip
    if reaching:
        raise BrokerError(f"deleting from {database}.{table} would also change rows of {', '.join(reaching)} through "
                          "foreign keys, which are not saved with it",
                          hint="delete from those tables first in statements of their own, or let a person run it after a verified backup")  # fmt: skip


def _dump(engine: MySQL, version: str, part: Part, database: str, table: str, folder: Path,
          number: int) -> dict[str, Any]:  # fmt: skip
    """Dump a table (definition, then rows) or a whole database into ``folder``."""
    tools = dump_programs(version)
    if part.kind == SCHEMA:
        files = [folder / f"{number}.database.sql"]
        engine.tool(tools, [*_DUMP, "--routines", "--events", "--triggers", f"--result-file={files[0]}",
                            "--databases", database], doing=f"save the database {database}").checked()  # fmt: skip
    else:
        files = [folder / f"{number}.definition.sql", folder / f"{number}.rows.sql"]
        engine.tool(tools, [*_DUMP, "--no-data", "--triggers", f"--result-file={files[0]}", database, table],
                    doing=f"save the definition of {database}.{table}").checked()  # fmt: skip
        engine.tool(tools, [*_DUMP, "--no-create-info", "--skip-triggers", "--complete-insert",
                            f"--result-file={files[1]}", database, table], doing=f"save the rows of {database}.{table}").checked()  # fmt: skip
    return {"files": [file.name for file in files], "sha256": sha256_of(files)[0]}


def _restore_rows(db: Any, saved: dict[str, Any]) -> str:
    database, table, copy = saved["database"], saved["table"], str(saved["copy"]).split(".", 1)[1]
    if not _exists(db, database, table):
        return f"{saved['target']}: the table is gone; its rows are in {saved['copy']} (restore the table first)"
    names = [n for n in _columns(db, database, table) if n in set(_columns(db, SNAPSHOT_DATABASE, copy))]
    into, source = f"{quote_name(database)}.{quote_name(table)}", f"{quote_name(SNAPSHOT_DATABASE)}.{quote_name(copy)}"
    listed = ", ".join(quote_name(n) for n in names)
    key = [k for k in saved.get("key") or [] if k in names]
    with db.cursor() as cursor:
        if saved["change"] == "delete":
            if key:  # rows whose key is back already are kept as they are
                same = " AND ".join(f"d.{quote_name(k)} = s.{quote_name(k)}" for k in key)
                cursor.execute(f"INSERT INTO {into} ({listed}) SELECT {', '.join(f's.{quote_name(n)}' for n in names)} "
                               f"FROM {source} AS s WHERE NOT EXISTS (SELECT 1 FROM {into} AS d WHERE {same})")  # fmt: skip
            else:  # exactly the copies that are missing: a whole-table copy must not duplicate survivors
                cursor.execute(f"INSERT INTO {into} ({listed}) SELECT {listed} FROM {source} EXCEPT ALL SELECT {listed} FROM {into}")
            done, rows = cursor.rowcount, saved["rows"]
            return f"{saved['target']}: {done} of {rows} deleted rows put back" + (
                f"; {rows - done} were there again and kept as they are" if rows - done else "")
        if not key:
            return f"{saved['target']}: no primary key, so the old values cannot be matched to rows; they are in {saved['copy']}"
        assign = ", ".join(f"d.{quote_name(n)} = s.{quote_name(n)}" for n in names if n not in key)
        if not assign:
            return f"{saved['target']}: every column is part of the primary key, so old rows cannot be matched; they are in {saved['copy']}"
        same = " AND ".join(f"d.{quote_name(k)} = s.{quote_name(k)}" for k in key)
        cursor.execute(f"UPDATE {into} AS d JOIN {source} AS s ON {same} SET {assign}")
        return f"{saved['target']}: old values of {cursor.rowcount} of {saved['rows']} updated rows put back"


def _restore_dump(db: Any, engine: MySQL, version: str, saved: dict[str, Any], folder: Path) -> str:
    database, table = saved["database"], saved["table"]
    files = [folder / name for name in saved["files"]]
    shown = ", ".join(map(str, files))
    exists = _exists(db, database, table)
    db.rollback()
    tools = client_programs(version)
    if saved["change"] in ("drop", "drop-schema"):
        if exists:
            return f"{saved['target']}: exists again, so it was left alone; the saved copy is {shown}"
        for file in files:
            with file.open("rb") as stdin:
                engine.tool(tools, [f"--database={database}"] if table else [], stdin=stdin,
                            doing=f"restore {saved['target']} from {file.name}").checked()  # fmt: skip
        return f"{saved['target']}: restored from {shown}"
    if saved["change"] == "truncate" and exists:
        if fetch_value(db, f"SELECT EXISTS (SELECT 1 FROM {quote_name(database)}.{quote_name(table)})") == "1":
            db.rollback()
            return f"{saved['target']}: has rows again, so it was left alone; the saved copy is {shown}"
        db.rollback()
        with files[1].open("rb") as stdin:
            engine.tool(tools, [f"--database={database}"], stdin=stdin, doing=f"put the rows of {saved['target']} back").checked()
        return f"{saved['target']}: its rows are back from {files[1]}"
    return f"{saved['target']}: the table as it was is in {shown}; restore by hand (mariadb {database} < FILE)"


def _exists(db: Any, database: str, table: str) -> bool:
    if not table:
        return bool(fetch(db, "SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", (database,)))
    rows = fetch(db, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
                (database, table))  # fmt: skip
    return any(row[0] == table for row in rows)


def _primary_key(db: Any, database: str, table: str) -> list[str]:
    rows = fetch(db, "SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = %s "
                    "AND TABLE_NAME = %s AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION", (database, table))  # fmt: skip
    return [str(row[0]) for row in rows]


def _columns(db: Any, database: str, table: str) -> list[str]:
    """Columns that take values (not generated), in order."""
    rows = fetch(db, "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s "
                    "AND COALESCE(GENERATION_EXPRESSION, '') = '' ORDER BY ORDINAL_POSITION", (database, table))  # fmt: skip
    return [str(row[0]) for row in rows]


def _rows_digest(db: Any, copy: str) -> str:
    """A row copy's digest (snapshot.rows_digest): its columns' names and types, and each row's
    sha256 (every value as its bytes in hex, NULL as ``-``, joined by commas; ``TIMESTAMP`` values
    read in UTC), streamed from the server sorted."""
    import hashlib

    import pymysql

    columns = [(str(name), str(kind)) for name, kind in fetch(
        db, "SELECT COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s "
            "ORDER BY ORDINAL_POSITION", (SNAPSHOT_DATABASE, copy))]  # fmt: skip
    values = ", ".join(f"IF({quote_name(name)} IS NULL, '-', HEX(CAST({quote_name(name)} AS BINARY)))" for name, _ in columns)
    rows = hashlib.sha256()
    with db.cursor(pymysql.cursors.SSCursor) as cursor:
        cursor.execute("SET @blastdoor_zone = @@session.time_zone, time_zone = '+00:00'")
        try:
            cursor.execute(f"SELECT UNHEX(SHA2(CONCAT_WS(',', {values}), 256)) AS h "
                           f"FROM {quote_name(SNAPSHOT_DATABASE)}.{quote_name(copy)} ORDER BY h")  # fmt: skip
            for (found,) in cursor:
                rows.update(found)
        finally:
            cursor.execute("SET time_zone = @blastdoor_zone")
    return rows_digest(columns, rows.digest())
