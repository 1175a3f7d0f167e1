"""Saving what a SQL statement will destroy on PostgreSQL, and putting it back.

Rows go to a table in the ``blastdoor_snapshots`` schema of the same database
(``CREATE TABLE ... AS SELECT``); whole tables and schemas go to a ``pg_dump`` custom-format file in
``HOME/snapshots/ID/``, outside the database and so outside a ``DROP``'s reach.

Restoring first checks every part (the row copies against their digest, the dump files against
their sha256) and restores nothing if one is gone or changed. Then it works newest part first: a dropped table or schema comes back with ``pg_restore`` (only
if it is gone), a truncated table gets its rows back (only if it is still empty), deleted rows are
inserted again (rows whose key is back already are kept and counted as conflicts), and updated rows
get their old values back by primary key. What cannot be restored automatically is said, with the
file or table holding the old data.

A ``DELETE`` or ``UPDATE`` whose change foreign keys would carry into rows that are not saved (other
tables' ``ON DELETE`` / ``ON UPDATE CASCADE``, ``SET NULL``, ``SET DEFAULT``) is refused before
anything is saved or run, as MySQL's is (mysql_snapshot).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from blastdoor.broker.errors import BrokerError
from blastdoor.broker.snapshot import check_files, check_rows, rows_digest, split_name
from blastdoor.broker.snapshot_plan import ROWS, SCHEMA, TABLE, Part
from blastdoor.files import sha256_of

if TYPE_CHECKING:
    from blastdoor.broker.engines.postgresql import PostgreSQL
    from blastdoor.broker.snapshot import Snapshots

SNAPSHOT_SCHEMA = "blastdoor_snapshots"
# The object a name means under the session's search_path, always schema-qualified and quoted.
_TABLE_NAME = ("SELECT format('%%I.%%I', n.nspname, c.relname) FROM pg_class c "
               "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass(%s)")
_SCHEMA_NAME = "SELECT quote_ident(nspname) FROM pg_namespace WHERE oid = to_regnamespace(%s)"
# The tables whose foreign keys change their own rows (ON DELETE / ON UPDATE CASCADE, SET NULL, SET DEFAULT:
# pg_constraint.confdeltype / confupdtype 'c', 'n', 'd') when rows of %(table)s or of its partitions and
# child tables (which the statement reaches too) go, or when their key columns named in %(columns)s
# change (NULL for a DELETE); and whether each such table is itself one of them.
_REFERRING = ("WITH RECURSIVE family(oid) AS (SELECT %(table)s::regclass::oid UNION "
              "SELECT i.inhrelid FROM pg_inherits i JOIN family f ON i.inhparent = f.oid) "
              "SELECT DISTINCT format('%%I.%%I', n.nspname, r.relname), c.{action}, c.conrelid IN (SELECT oid FROM family) "
              "FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace "
              "WHERE c.contype = 'f' AND c.{action} IN ('c', 'n', 'd') AND c.confrelid IN (SELECT oid FROM family) "
              "AND (%(columns)s::text[] IS NULL OR EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.confrelid "
              "AND a.attnum = ANY(c.confkey) AND a.attname = ANY(%(columns)s::text[])))")  # fmt: skip
_ACTIONS = {"c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}
# How values print as text, fixed while a row copy is digested.
_TEXT_SETTINGS = (("DateStyle", "ISO, MDY"), ("IntervalStyle", "postgres"), ("TimeZone", "UTC"),
                  ("extra_float_digits", "3"), ("bytea_output", "hex"))  # fmt: skip


def take(engine: PostgreSQL, snapshots: Snapshots, manifest: dict[str, Any], parts: tuple[Part, ...]) -> None:
    """Save every part; the manifest lists what was saved. Raises before the statement runs."""
    import psycopg
    from psycopg import sql

    dumps = snapshots.folder / str(manifest["id"])
    with psycopg.connect(engine.url, autocommit=True, application_name="blastdoor-snapshot", connect_timeout=10) as db:
        for number, part in enumerate(parts):
            found = db.execute(_SCHEMA_NAME if part.kind == SCHEMA else _TABLE_NAME, (part.relation,)).fetchone()
            if found is None or found[0] is None:
                continue  # nothing there to lose (DROP ... IF EXISTS); the statement will say
            saved: dict[str, Any] = {**asdict(part), "number": number, "target": found[0]}
            if part.kind == ROWS:
                _refuse_cascades(db, part, found[0])
                copy = f"{manifest['id']}_{number}".replace("-", "_")
                db.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(SNAPSHOT_SCHEMA)))
                made = db.execute(sql.SQL("CREATE TABLE {}.{} AS SELECT * {}").format(
                    sql.Identifier(SNAPSHOT_SCHEMA), sql.Identifier(copy), sql.SQL(part.source)))  # fmt: skip
                saved |= {"copy": f"{SNAPSHOT_SCHEMA}.{copy}", "rows": made.rowcount,
                          "key": _primary_key(db, found[0]), "sha256": _rows_digest(db, f"{SNAPSHOT_SCHEMA}.{copy}")}  # fmt: skip
            else:
                _refuse_hidden_losses(db, part, found[0])
                dumps.mkdir(mode=0o700, parents=True, exist_ok=True)
                file = dumps / f"{number}.dump"
                option = "--schema" if part.kind == SCHEMA else "--table"
                engine.tool(["pg_dump"], ["--format=custom", f"--file={file}", f"{option}={_pattern(found[0])}"],
                            doing=f"save {found[0]} before the statement").checked()  # fmt: skip
                saved |= {"file": str(file), "sha256": sha256_of([file])[0]}
            manifest["parts"].append(saved)
            snapshots.write(manifest)


def identity(engine: PostgreSQL) -> dict[str, str]:
    """The cluster's system identifier (made by initdb, the same on its physical replicas) and the
    database's name."""
    import psycopg

    with psycopg.connect(engine.url, application_name="blastdoor-snapshot", connect_timeout=10) as db:
        system, database = db.execute("SELECT system_identifier, current_database() FROM pg_control_system()").fetchone() or ("?", "?")
        db.rollback()
    return {"server": f"PostgreSQL system {system}", "database": str(database)}


def check(engine: PostgreSQL, manifest: Mapping[str, Any]) -> None:
    """Raise unless every part is there as it was saved: the row copies (by their digest) and the
    dump files (by their sha256)."""
    import psycopg

    with psycopg.connect(engine.url, application_name="blastdoor-restore", connect_timeout=10) as db:
        for saved in manifest["parts"]:
            if saved["kind"] != ROWS:
                check_files(saved["target"], [Path(saved["file"])], saved.get("sha256"))
                continue
            digest = None if _gone(db, saved["copy"]) else _rows_digest(db, saved["copy"])
            check_rows(saved["target"], saved["copy"], digest, saved.get("sha256"))
        db.rollback()


def restore(engine: PostgreSQL, manifest: Mapping[str, Any]) -> Iterator[str]:
    """Put every part back, newest first; a line per part saying what happened, once it has."""
    import psycopg

    with psycopg.connect(engine.url, application_name="blastdoor-restore", connect_timeout=10) as db:
        for saved in reversed(manifest["parts"]):
            if saved["kind"] == ROWS:
                line = _restore_rows(db, saved)
                db.commit()
                yield line
            else:
                yield _restore_dump(db, saved, engine)


def _refuse_hidden_losses(db: Any, part: Part, name: str) -> None:
    """A table dump holds one table: refuse when the statement would also empty others."""
    if part.kind != TABLE:
        return
    children = db.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = %s::regclass", (name,)).fetchone()[0]
    if children:
        raise BrokerError(f"{name} has {children} partitions or child tables, which Blastdoor cannot yet save with it",
                          hint="run the statement on each partition, or take and verify a backup and let a person run it")  # fmt: skip
    if part.cascade:
        referring = db.execute("SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND confrelid = %s::regclass "
                               "AND conrelid <> confrelid", (name,)).fetchone()[0]  # fmt: skip
        if referring:
            raise BrokerError(f"CASCADE would also empty or drop the {referring} tables referring to {name}, which are not saved",
                              hint="name those tables in the statement, or drop CASCADE")  # fmt: skip


def _refuse_cascades(db: Any, part: Part, name: str) -> None:
    """Deleting rows that others refer to ``ON DELETE CASCADE`` / ``SET NULL`` / ``SET DEFAULT``, or
    updating a key they refer to ``ON UPDATE`` so, changes rows that are not saved: refuse (within one
    table saved whole, the copy holds them all)."""
    deleting = part.change == "delete"
    action = "confdeltype" if deleting else "confupdtype"
    rows = db.execute(_REFERRING.format(action=action), {"table": name, "columns": None if deleting else list(part.columns)}).fetchall()
    whole = part.source == f"FROM {part.relation}"
    reaching = sorted({f"{row[0]} ({_ACTIONS[row[1]]})" for row in rows if not (whole and row[2])})
    if reaching:
        raise BrokerError(f"{'deleting from' if deleting else 'updating'} {name} would also change rows of {', '.join(reaching)} "
                          "through foreign keys, which are not saved with it",
                          hint=f"{'delete from' if deleting else 'change'} those tables first in statements of their own, "
                               "or let a person run it after a verified backup")  # fmt: skip


def _restore_rows(db: Any, saved: Mapping[str, Any]) -> str:
    from psycopg import sql

    target, copy = saved["target"], saved["copy"]
    if _gone(db, target):
        return f"{target}: the table is gone; its rows are in {copy} (restore the table first)"
    names = _insertable(db, target, copy)
    table, source = _qualified(target), _qualified(copy)
    listed = sql.SQL(", ").join(sql.Identifier(name) for name in names)
    if saved["change"] == "delete":
        # With a key, rows already back are skipped by ON CONFLICT; without one, EXCEPT ALL puts back
        # exactly the copies that are missing (a whole-table copy must not duplicate surviving rows).
        if saved.get("key"):
            query = sql.SQL("INSERT INTO {} ({}) OVERRIDING SYSTEM VALUE SELECT {} FROM {} ON CONFLICT DO NOTHING")
            done = db.execute(query.format(table, listed, listed, source))
        else:
            query = sql.SQL("INSERT INTO {} ({}) OVERRIDING SYSTEM VALUE SELECT {} FROM {} EXCEPT ALL SELECT {} FROM {}")
            done = db.execute(query.format(table, listed, listed, source, listed, table))
        kept = saved["rows"] - done.rowcount
        return f"{target}: {done.rowcount} of {saved['rows']} deleted rows put back" + (
            f"; {kept} were there again and kept as they are" if kept else "")
    if not saved.get("key"):
        return f"{target}: no primary key, so the old values cannot be matched to rows; they are in {copy}"
    key = saved["key"]
    if not [n for n in names if n not in key]:
        return f"{target}: every column is part of the primary key, so old rows cannot be matched; they are in {copy}"
    assign = sql.SQL(", ").join(sql.SQL("{} = s.{}").format(sql.Identifier(n), sql.Identifier(n))
                                for n in names if n not in key)  # fmt: skip
    match = sql.SQL(" AND ").join(sql.SQL("t.{} = s.{}").format(sql.Identifier(k), sql.Identifier(k)) for k in key)
    done = db.execute(sql.SQL("UPDATE {} AS t SET {} FROM {} AS s WHERE {}").format(table, assign, source, match))
    return f"{target}: old values of {done.rowcount} of {saved['rows']} updated rows put back"


def _restore_dump(db: Any, saved: Mapping[str, Any], engine: PostgreSQL) -> str:
    target, file = saved["target"], saved["file"]
    exists = db.execute("SELECT to_regnamespace(%s)" if saved["kind"] == SCHEMA else "SELECT to_regclass(%s)",
                        (target,)).fetchone()[0] is not None  # fmt: skip
    db.rollback()
    if saved["change"] in ("drop", "drop-schema"):
        if exists:
            return f"{target}: exists again, so it was left alone; the saved copy is {file}"
        engine.tool(["pg_restore"], ["--single-transaction", "--no-owner", file], doing=f"restore {target}").checked()
        return f"{target}: restored from {file}"
    if saved["change"] == "truncate" and exists:
        from psycopg import sql

        if db.execute(sql.SQL("SELECT EXISTS (SELECT FROM {})").format(_qualified(target))).fetchone()[0]:
            db.rollback()
            return f"{target}: has rows again, so it was left alone; the saved copy is {file}"
        db.rollback()
        engine.tool(["pg_restore"], ["--single-transaction", "--data-only", file],
                    doing=f"put the rows of {target} back").checked()
        return f"{target}: its rows are back from {file}"
    return f"{target}: the table as it was is in {file}; restore by hand (pg_restore --help)"


def _gone(db: Any, table: str) -> bool:
    return db.execute("SELECT to_regclass(%s)", (table,)).fetchone()[0] is None


def _rows_digest(db: Any, copy: str) -> str:
    """A row copy's digest (snapshot.rows_digest): its columns' names and types, and its rows in no
    particular order, each row's sha256 taken of it as text printed in fixed settings (so another
    session prints it the same); duplicate rows count."""
    from psycopg import sql

    with db.transaction():
        for setting, value in _TEXT_SETTINGS:
            db.execute("SELECT set_config(%s, %s, true)", (setting, value))
        columns = db.execute("SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = %s::regclass "
                             "AND attnum > 0 AND NOT attisdropped ORDER BY attnum", (copy,)).fetchall()  # fmt: skip
        rows = db.execute(sql.SQL("SELECT sha256(coalesce(string_agg(h, '' ORDER BY h), '')) FROM "
                                  "(SELECT sha256(convert_to(t::text, 'UTF8')) AS h FROM {} AS t) AS rows").format(
                                      _qualified(copy))).fetchone()[0]  # fmt: skip
    return rows_digest(columns, bytes(rows))


def _primary_key(db: Any, table: str) -> list[str]:
    rows = db.execute("SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                      "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary "
                      "ORDER BY array_position(i.indkey, a.attnum)", (table,)).fetchall()  # fmt: skip
    return [row[0] for row in rows]


def _insertable(db: Any, table: str, copy: str) -> list[str]:
    """Columns of ``copy`` that ``table`` still has and accepts values for (not generated)."""
    query = ("SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
             "AND NOT attisdropped AND attgenerated = '' ORDER BY attnum")  # fmt: skip
    have = {row[0] for row in db.execute(query, (table,)).fetchall()}
    return [row[0] for row in db.execute(query, (copy,)).fetchall() if row[0] in have]


def _qualified(name: str) -> Any:
    from psycopg import sql

    schema, table = _schema_and_table(name)
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table)) if schema else sql.Identifier(table)


def _schema_and_table(name: str) -> tuple[str, str]:
    """``schema.table`` as PostgreSQL prints a regclass (quoted where needed) → its two names ('' schema for none)."""
    parts = split_name(name, quote='"')
    return (parts[0], parts[1]) if len(parts) == 2 else ("", parts[0])


def _pattern(name: str) -> str:
    """A pg_dump pattern matching exactly the object PostgreSQL printed as ``name``."""
    schema, table = _schema_and_table(name)
    return f"{_quote(schema)}.{_quote(table)}" if schema else _quote(table)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'

