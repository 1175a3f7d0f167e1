"""``data enable`` and ``data disable`` on PostgreSQL: one transaction each, so a failure halfway
leaves the database as it was.

Enable is additive: run again with more tables, it tracks those too. Each newly tracked table
gets its capture function and triggers, and a baseline copy of the rows it holds now (row
triggers never see rows that are simply there, and the baseline is what is left of them if a
superuser ever switches history off and drops the table).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from blastdoor.data import pg_sql
from blastdoor.data.errors import DataError
from blastdoor.data.target import Target

MIN_SERVER = 130000  # pg_current_xact_id()
_SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", pg_sql.SCHEMA, "blastdoor_snapshots")


@dataclass
class Enabled:
    database_id: str
    key: str
    added: list[dict[str, Any]] = field(default_factory=list)  # table, rows (baseline), key
    already: list[str] = field(default_factory=list)
    guarded: bool = False


def installed(cursor: Any) -> bool:
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", (f"{pg_sql.SCHEMA}.meta",))
    return bool(cursor.fetchone()[0])


def require(cursor: Any, target: Target) -> None:
    """Raise unless row history is enabled on ``target``."""
    if not installed(cursor):
        raise DataError(f"row history is not enabled on {target.label}",
                        hint="a person enables it: blastdoor data enable --dsn URL")  # fmt: skip


def enable(target: Target, *, tables: list[str], guard: bool = True) -> Enabled:
    with target.transaction("enable row history", hint="nothing was changed; fix the cause and run it again") as db, \
            db.cursor() as cursor:  # fmt: skip
        _check_server(cursor, guard=guard)
        fresh = not installed(cursor)
        if fresh:
            cursor.execute(pg_sql.INSTALL)
            cursor.execute(f"INSERT INTO {pg_sql.SCHEMA}.meta (database_id, guard_key, version) VALUES (%s, %s, %s)",
                           (f"db-{secrets.token_hex(8)}", secrets.token_hex(32), pg_sql.VERSION))  # fmt: skip
        cursor.execute(f"SELECT database_id, guard_key, version FROM {pg_sql.SCHEMA}.meta")
        database_id, key, version = cursor.fetchone()
        if version != pg_sql.VERSION:
            raise DataError(f"{target.label} has row history version {version}; this Blastdoor knows {pg_sql.VERSION}",
                            hint="use the Blastdoor release that enabled it, or disable and enable again")  # fmt: skip
        result = Enabled(database_id, key)
        for relid, schema, name in _tables(cursor, tables):
            cursor.execute(f"SELECT 1 FROM {pg_sql.SCHEMA}.tracked WHERE relid = %s", (relid,))
            if cursor.fetchone():
                result.already.append(f"{schema}.{name}")
                continue
            result.added.append(_track(cursor, relid, schema, name))
        if fresh and guard:
            cursor.execute(pg_sql.GUARD)
        cursor.execute("SELECT count(*) FROM pg_event_trigger WHERE evtname LIKE %s", (pg_sql.TRIGGER_PREFIX + "%",))
        result.guarded = cursor.fetchone()[0] == 2
    return result


def disable(target: Target) -> list[str]:
    """Remove triggers, functions and the history schema; the tables that were tracked."""
    with target.transaction("disable row history", hint="nothing was changed; disabling needs the role that "
                            "enabled it, or a superuser") as db, db.cursor() as cursor:  # fmt: skip
        require(cursor, target)
        cursor.execute(pg_sql.UNGUARD)
        cursor.execute(f"SELECT relid, table_schema, table_name FROM {pg_sql.SCHEMA}.tracked ORDER BY 2, 3")
        tracked = cursor.fetchall()
        for relid, _schema, _name in tracked:
            cursor.execute("SELECT %s::oid::regclass::text", (relid,))
            table = cursor.fetchone()[0]
            for suffix in pg_sql.TRIGGERS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {pg_sql.TRIGGER_PREFIX}{suffix} ON {table}")
        cursor.execute(f"DROP SCHEMA {pg_sql.SCHEMA} CASCADE")
    return [f"{schema}.{name}" for _relid, schema, name in tracked]


def _check_server(cursor: Any, *, guard: bool) -> None:
    cursor.execute("SELECT current_setting('server_version_num')::int, "
                   "(SELECT rolsuper FROM pg_roles WHERE rolname = current_user)")  # fmt: skip
    version, superuser = cursor.fetchone()
    if version < MIN_SERVER:
        raise DataError(f"row history needs PostgreSQL 13 or newer (this server is {version // 10000})",
                        hint="upgrade the server")  # fmt: skip
    if guard and not superuser:
        raise DataError("refusing DROP of tracked tables needs event triggers, which only a superuser can create",
                        hint="connect as a superuser, or pass --without-drop-guard and accept that a DROP TABLE "
                        "by the application role goes unrecorded")  # fmt: skip


def _tables(cursor: Any, names: list[str]) -> list[tuple[int, str, str]]:
    """(oid, schema, name) of the tables asked for, or every user table when none is named."""
    if names:
        found = []
        for name in names:
            cursor.execute("SELECT c.oid, n.nspname, c.relname, c.relkind, c.relispartition FROM pg_class c "
                           "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass(%s)", (name,))  # fmt: skip
            row = cursor.fetchone()
            if row is None or row[3] not in ("r", "p"):
                raise DataError(f"no table {name!r} in this database", hint="name tables as TABLE or SCHEMA.TABLE")
            if row[4]:
                raise DataError(f"{name} is a partition; track its partitioned table instead",
                                hint="history on the parent records the rows of every partition")  # fmt: skip
            found.append((row[0], row[1], row[2]))
        return found
    cursor.execute("SELECT c.oid, n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                   "WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname <> ALL(%s) "
                   "AND n.nspname NOT LIKE 'pg\\_%%' ORDER BY 2, 3", (list(_SYSTEM_SCHEMAS),))  # fmt: skip
    return [(row[0], row[1], row[2]) for row in cursor.fetchall()]


def primary_key(cursor: Any, relid: int) -> list[str]:
    cursor.execute("SELECT a.attname FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, pos) "
                   "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
                   "WHERE i.indrelid = %s AND i.indisprimary ORDER BY k.pos", (relid,))  # fmt: skip
    return [row[0] for row in cursor.fetchall()]


def _track(cursor: Any, relid: int, schema: str, name: str) -> dict[str, Any]:
    from psycopg import sql

    keys = primary_key(cursor, relid)
    table = sql.Identifier(schema, name).as_string(cursor.connection)
    quoted = [sql.Identifier(key).as_string(cursor.connection) for key in keys]
    function = f"capture_{relid}"
    for suffix in pg_sql.TRIGGERS:  # a table restored from a dump brings the triggers it had
        cursor.execute(f"DROP TRIGGER IF EXISTS {pg_sql.TRIGGER_PREFIX}{suffix} ON {table}")
    cursor.execute(pg_sql.capture_function(function, quoted))
    cursor.execute(pg_sql.table_triggers(table, function))
    cursor.execute(f"INSERT INTO {pg_sql.SCHEMA}.baseline (relid, table_schema, table_name, row_image) "
                   f"SELECT %s, %s, %s, to_jsonb(r) FROM {table} r", (relid, schema, name))  # fmt: skip
    rows = cursor.rowcount
    cursor.execute(f"INSERT INTO {pg_sql.SCHEMA}.tracked (relid, table_schema, table_name, key_columns) "
                   "VALUES (%s, %s, %s, %s)", (relid, schema, name, keys))  # fmt: skip
    return {"table": f"{schema}.{name}", "baseline_rows": rows, "key": keys}
