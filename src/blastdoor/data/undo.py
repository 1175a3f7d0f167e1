"""``data undo``: put every row a selection changed back the way it was, in one transaction.

Per table and per primary key, the selection's changes collapse to two images: the row before the
selection's first change (none if it inserted the row) and after its last (none if it deleted it).
Undo writes the "before" image back, set-based, which is the same as reverting the changes newest
first. Tables are undone newest change first too, so rows a run deleted child-first come back
parent-first.

A key is a conflict, and undo refuses, when someone outside the selection changed that row after
the selection first did, or when the live row is not what the selection left (changed while the
history was off). Tables undo cannot handle (no primary key, dropped since) are refused too.
``on_conflict="skip"`` leaves those rows and tables as they are and undoes the rest;
``"overwrite"`` puts the old image back anyway. The tables are locked against writes meanwhile.

Undo's own writes go through the triggers like any others, under the undo's id as run id, so an
undo can itself be examined and undone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from blastdoor.data import pg_sql
from blastdoor.data.errors import DataError
from blastdoor.data.install import require
from blastdoor.data.selection import Selection
from blastdoor.data.target import Target, rollback_quietly

REFUSE, SKIP, OVERWRITE = "refuse", "skip", "overwrite"
SHOWN_CONFLICTS = 20


@dataclass
class TableUndo:
    table: str
    changes: int = 0
    deleted: int = 0
    updated: int = 0
    inserted: int = 0
    skipped: int = 0


@dataclass
class UndoReport:
    undo_id: str
    selection: Selection
    dry_run: bool
    tables: list[TableUndo] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    conflict_count: int = 0
    problems: list[str] = field(default_factory=list)  # whole tables undo cannot handle (no key, gone)
    done: bool = False

    @property
    def changes(self) -> int:
        return sum(t.changes for t in self.tables)


@dataclass(frozen=True)
class _Table:
    relid: int
    name: str  # quoted, as of now
    label: str
    keys: list[str]  # quoted
    raw_keys: list[str]
    columns: list[str]  # quoted, writable (not generated)


def undo(target: Target, selection: Selection, *, undo_id: str, on_conflict: str = REFUSE,
         dry_run: bool = False) -> UndoReport:  # fmt: skip
    import psycopg

    report = UndoReport(undo_id, selection, dry_run)
    db = target.connect()
    try:
        with db.cursor() as cursor:
            require(cursor, target)
            for name, value in (("blastdoor.run_id", undo_id), ("blastdoor.session_id", ""), ("blastdoor.request", "")):
                cursor.execute("SELECT set_config(%s, %s, true)", (name, value))
            where, params = selection.where("c")
            cursor.execute(f"CREATE TEMP TABLE bd_sel ON COMMIT DROP AS SELECT c.id, c.relid, c.old_row, c.new_row "
                           f"FROM {pg_sql.SCHEMA}.changes c WHERE {where}", params)  # fmt: skip
            cursor.execute("SELECT relid, count(*), max(id) FROM bd_sel GROUP BY relid ORDER BY max(id) DESC")
            order = cursor.fetchall()
            tables = [_describe(cursor, relid, count, report) for relid, count, _ in order]
            live = [t for t in tables if t is not None]
            if live:
                cursor.execute(f"LOCK TABLE {', '.join(t.name for t in live)} IN SHARE ROW EXCLUSIVE MODE")
            for table in live:
                _plan(cursor, table)
                _conflicts(cursor, table, report)
            if on_conflict == REFUSE and (report.problems or report.conflict_count):
                db.rollback()
                return report
            for table in live:
                report.tables.append(_apply(cursor, table, report.undo_id, skip=on_conflict == SKIP))
        if dry_run:
            db.rollback()
        else:
            db.commit()
            report.done = True
        return report
    except psycopg.Error as error:
        rollback_quietly(db)
        lost = db.broken or db.closed
        raise DataError(f"undo failed on {target.label}: {target.clean(error)}",
                        hint=("the connection was lost; if it happened during COMMIT, check blastdoor data history "
                              "before retrying" if lost else "it ran in one transaction, so nothing was changed")) from None  # fmt: skip
    except KeyboardInterrupt:
        rollback_quietly(db)
        raise DataError("undo interrupted", hint="it ran in one transaction, which was rolled back: nothing was changed") from None
    except BaseException:
        rollback_quietly(db)
        raise
    finally:
        db.close()


def _describe(cursor: Any, relid: int, count: int, report: UndoReport) -> _Table | None:
    from psycopg import sql

    cursor.execute(f"SELECT t.table_schema || '.' || t.table_name, t.key_columns, c.oid "
                   f"FROM {pg_sql.SCHEMA}.tracked t LEFT JOIN pg_class c ON c.oid = t.relid WHERE t.relid = %s", (relid,))  # fmt: skip
    row = cursor.fetchone()
    if row is None or row[2] is None:
        cursor.execute(f"SELECT table_schema || '.' || table_name FROM {pg_sql.SCHEMA}.changes WHERE relid = %s LIMIT 1", (relid,))
        label = (cursor.fetchone() or ("?",))[0]
        report.problems.append(f"{label} is gone or no longer tracked ({count} changes): restore it first "
                               "(blastdoor restore SNAPSHOT) and enable history on it again")  # fmt: skip
        return None
    label, keys = row[0], list(row[1])
    if not keys:
        report.problems.append(f"{label} has no primary key, so its rows cannot be told apart ({count} changes): "
                               "give it one, or undo it by hand from blastdoor data history")  # fmt: skip
        return None
    connection = cursor.connection
    cursor.execute("SELECT attname FROM pg_attribute WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped "
                   "AND attgenerated = '' ORDER BY attnum", (relid,))  # fmt: skip
    columns = [sql.Identifier(r[0]).as_string(connection) for r in cursor.fetchall()]
    cursor.execute("SELECT %s::oid::regclass::text", (relid,))
    return _Table(relid, cursor.fetchone()[0], label, [sql.Identifier(k).as_string(connection) for k in keys], keys, columns)


def _key(table: _Table, image: str) -> str:
    """A jsonb object of the key columns of ``image`` (an expression yielding a row image)."""
    return "jsonb_build_object(" + ", ".join(f"'{_literal(k)}', ({image})->'{_literal(k)}'" for k in table.raw_keys) + ")"


def _literal(text: str) -> str:
    return text.replace("'", "''")


def _typed(table: _Table) -> str:
    """The plan's key columns, typed as the table's own (k1, k2 ...), for index-friendly joins."""
    return ", ".join(f"(jsonb_populate_record(NULL::{table.name}, k)).{key} AS k{n}" for n, key in enumerate(table.keys, 1))


def _match(table: _Table, alias: str) -> str:
    return " AND ".join(f"{alias}.{key} = p.k{n}" for n, key in enumerate(table.keys, 1))


def _plan(cursor: Any, table: _Table) -> None:
    key = _key(table, "coalesce(old_row, new_row)")
    plan, rows = f"bd_plan_{table.relid}", f"bd_rows_{table.relid}"
    cursor.execute(f"CREATE TEMP TABLE {rows} ON COMMIT DROP AS SELECT id, {key} AS k FROM bd_sel WHERE relid = %s", (table.relid,))
    cursor.execute(f"CREATE TEMP TABLE {plan} ON COMMIT DROP AS SELECT g.*, {_typed(table)} FROM ("
                   "SELECT r.k, min(s.id) AS first_id, (array_agg(s.old_row ORDER BY s.id))[1] AS before, "
                   "(array_agg(s.new_row ORDER BY s.id DESC))[1] AS after "
                   f"FROM {rows} r JOIN bd_sel s ON s.id = r.id GROUP BY r.k) g")  # fmt: skip
    cursor.execute(f"CREATE INDEX ON {plan} (k)")
    cursor.execute(f"ANALYZE {plan}")


def _conflicts(cursor: Any, table: _Table, report: UndoReport) -> None:
    plan = f"bd_plan_{table.relid}"
    later = _key(table, "coalesce(c.old_row, c.new_row)")
    cursor.execute(f"CREATE TEMP TABLE bd_conflicts_{table.relid} ON COMMIT DROP AS "
                   f"SELECT p.k, 'changed later by ' || c.run_id || ' (change ' || c.id || ', txid ' || c.txid || ')' AS why "
                   f"FROM {pg_sql.SCHEMA}.changes c JOIN {plan} p ON {later} = p.k "
                   f"WHERE c.relid = %s AND c.id > (SELECT min(first_id) FROM {plan}) AND c.id > p.first_id "
                   f"AND NOT EXISTS (SELECT 1 FROM bd_sel s WHERE s.id = c.id) "
                   f"UNION ALL SELECT p.k, CASE WHEN t IS NULL THEN 'row is missing now' WHEN p.after IS NULL "
                   f"THEN 'row exists again' ELSE 'row differs from what the selection left' END "
                   f"FROM {plan} p LEFT JOIN {table.name} t ON {_match(table, 't')} "
                   f"WHERE (p.after IS NULL) <> (t IS NULL) OR (p.after IS NOT NULL AND to_jsonb(t) <> p.after)",
                   (table.relid,))  # fmt: skip
    cursor.execute(f"SELECT count(DISTINCT k) FROM bd_conflicts_{table.relid}")
    report.conflict_count += cursor.fetchone()[0]
    room = SHOWN_CONFLICTS - len(report.conflicts)
    if room > 0:
        cursor.execute(f"SELECT k, why FROM bd_conflicts_{table.relid} ORDER BY k LIMIT %s", (room,))
        report.conflicts += [{"table": table.label, "key": k, "why": why} for k, why in cursor.fetchall()]


def _apply(cursor: Any, table: _Table, undo_id: str, *, skip: bool) -> TableUndo:
    plan, rows = f"bd_plan_{table.relid}", f"bd_rows_{table.relid}"
    result = TableUndo(table.label)
    if skip:
        cursor.execute(f"DELETE FROM {plan} p USING bd_conflicts_{table.relid} x WHERE x.k = p.k")
        result.skipped = cursor.rowcount
    keys = set(table.keys)
    settable = [c for c in table.columns if c not in keys]
    cursor.execute(f"DELETE FROM {table.name} t USING {plan} p WHERE p.before IS NULL AND {_match(table, 't')}")
    result.deleted = cursor.rowcount
    if settable:
        assign = ", ".join(f"{c} = r.{c}" for c in settable)
        cursor.execute(f"UPDATE {table.name} t SET {assign} FROM {plan} p CROSS JOIN LATERAL "
                       f"jsonb_populate_record(NULL::{table.name}, p.before) r "
                       f"WHERE p.before IS NOT NULL AND {_match(table, 't')}")  # fmt: skip
        result.updated = cursor.rowcount
    columns = ", ".join(table.columns)
    picked = ", ".join(f"r.{c}" for c in table.columns)
    cursor.execute(f"INSERT INTO {table.name} ({columns}) OVERRIDING SYSTEM VALUE SELECT {picked} FROM {plan} p "
                   f"CROSS JOIN LATERAL jsonb_populate_record(NULL::{table.name}, p.before) r WHERE p.before IS NOT NULL "
                   f"AND NOT EXISTS (SELECT 1 FROM {table.name} t WHERE {_match(table, 't')})")  # fmt: skip
    result.inserted = cursor.rowcount
    cursor.execute(f"INSERT INTO {pg_sql.SCHEMA}.undone (change_id, undo_id) SELECT r.id, %s FROM {rows} r "
                   f"JOIN {plan} p ON p.k = r.k ON CONFLICT (change_id) DO NOTHING", (undo_id,))  # fmt: skip
    cursor.execute(f"SELECT count(*) FROM {rows} r JOIN {plan} p ON p.k = r.k")
    result.changes = cursor.fetchone()[0]
    return result
