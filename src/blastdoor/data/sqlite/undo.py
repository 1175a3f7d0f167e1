"""``data undo`` on SQLite: the same plan as on PostgreSQL (per key, the image before the
selection's first change written back; conflicts refused unless told otherwise), worked out in
Python inside one ``BEGIN IMMEDIATE`` transaction, which holds the write lock throughout.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from blastdoor.data.errors import DataError
from blastdoor.data.selection import Selection
from blastdoor.data.sqlite import install, schema
from blastdoor.data.sqlite.changes import insert_rows, key_of, replay, row
from blastdoor.data.sqlite.schema import PREFIX, quote
from blastdoor.data.target import Target
from blastdoor.data.undo import REFUSE, SHOWN_CONFLICTS, SKIP, TableUndo, UndoReport

LOOKUPS = 2000  # up to this many keys, look live rows up one by one; beyond, read the table once


@dataclass
class _Key:
    first_id: int
    before: dict[str, Any] | None
    after: dict[str, Any] | None = None
    ids: list[int] = field(default_factory=list)
    conflict: str = ""
    exists: bool = False  # the row is in the table now


@dataclass
class _Plan:
    table: str
    last_id: int = 0
    keys: dict[tuple[Any, ...], _Key] = field(default_factory=dict)
    shape: install.Tracked | None = None


def undo(target: Target, selection: Selection, *, undo_id: str, on_conflict: str = REFUSE,
         dry_run: bool = False) -> UndoReport:  # fmt: skip
    report = UndoReport(undo_id, selection, dry_run)
    db = install.connect(target)
    try:
        db.execute("BEGIN IMMEDIATE")
        install.require(db, target)
        where, params = selection.where("c", sqlite=True)
        db.execute(f"CREATE TEMP TABLE bd_sel AS SELECT c.id AS id FROM {PREFIX}changes c WHERE {where}", params)
        db.execute("CREATE UNIQUE INDEX temp.bd_sel_id ON bd_sel (id)")
        plans = _plans(db)
        live = [plan for plan in plans if _describe(db, plan, report)]
        for plan in live:
            _conflicts(db, plan, report)
        if on_conflict == REFUSE and (report.problems or report.conflict_count):
            db.execute("ROLLBACK")
            return report
        with install.tagged(db, run_id=undo_id):
            for plan in live:
                report.tables.append(_apply(db, plan, undo_id, skip=on_conflict == SKIP))
        db.execute("DROP TABLE temp.bd_sel")
        db.execute("ROLLBACK" if dry_run else "COMMIT")
        report.done = not dry_run
        return report
    except sqlite3.Error as error:
        install.rollback_quietly(db)
        raise DataError(f"undo failed on {target.label}: {error}", hint="it ran in one transaction, so nothing was changed") from None
    except KeyboardInterrupt:
        install.rollback_quietly(db)
        raise DataError("undo interrupted", hint="it ran in one transaction, which was rolled back: nothing was changed") from None
    except BaseException:
        install.rollback_quietly(db)
        raise
    finally:
        db.close()


def _plans(db: sqlite3.Connection) -> list[_Plan]:
    """Per table, per key of the selected changes (``temp.bd_sel``): the first change's id and
    before image, the last change's after image; tables ordered newest change first."""
    keys = {name: json.loads(k) for name, k in db.execute(f"SELECT table_name, key_columns FROM {PREFIX}tracked")}
    plans: dict[str, _Plan] = {}
    for change, table, old, new in db.execute(f"SELECT c.id, c.table_name, c.old_row, c.new_row FROM temp.bd_sel s "
                                              f"JOIN {PREFIX}changes c ON c.id = s.id ORDER BY c.id"):  # fmt: skip
        plan = plans.setdefault(table, _Plan(table))
        plan.last_id = change
        before, after = row(old), row(new)
        image = before if before is not None else after
        assert image is not None
        key = key_of(image, keys.get(table, list(image)))
        entry = plan.keys.setdefault(key, _Key(change, before))
        entry.after = after
        entry.ids.append(change)
    for plan in plans.values():
        _replaced(db, plan, keys.get(plan.table))
    return sorted(plans.values(), key=lambda p: p.last_id, reverse=True)


def _replaced(db: sqlite3.Connection, plan: _Plan, keys: list[str] | None) -> None:
    """Rows the selection first *inserted* that history says were already there: an ``INSERT OR
    REPLACE`` (SQLite fires no delete trigger for the row it replaces). Their before image is the
    row as history saw it just before that insert, so undo puts it back instead of deleting it."""
    fresh = {key: entry for key, entry in plan.keys.items() if entry.before is None}
    if not fresh or not keys:
        return
    first = {entry.first_id: key for key, entry in fresh.items()}
    state: dict[tuple[Any, ...], str] = {}
    for change, key, old, new in replay(db, plan.table, keys, through=max(first)):
        if key not in fresh:
            continue
        if first.get(change) == key and key in state:
            fresh[key].before = row(state[key])
        if old is not None:
            state.pop(key, None)
        if new is not None:
            state[key] = new


def _describe(db: sqlite3.Connection, plan: _Plan, report: UndoReport) -> bool:
    tracked = db.execute(f"SELECT key_columns FROM {PREFIX}tracked WHERE table_name = ?", (plan.table,)).fetchone()
    exists = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (plan.table,)).fetchone()
    changes = sum(len(k.ids) for k in plan.keys.values())
    if tracked is None or exists is None:
        report.problems.append(f"{plan.table} is gone ({changes} changes): rebuild it first with "
                               f"blastdoor data restore --table {plan.table}, then undo again")  # fmt: skip
        return False
    plan.shape = install.describe(db, plan.table)
    if plan.shape.keys != json.loads(tracked[0]):
        report.problems.append(f"{plan.table} has another key than when history recorded it ({changes} changes): "
                               "undo it by hand from blastdoor data history")  # fmt: skip
        return False
    return True


def _conflicts(db: sqlite3.Connection, plan: _Plan, report: UndoReport) -> None:
    assert plan.shape is not None
    keys = plan.shape.keys
    first = min(k.first_id for k in plan.keys.values())
    for change, run, txid, old, new in db.execute(
            f"SELECT c.id, c.run_id, c.txid, c.old_row, c.new_row FROM {PREFIX}changes c WHERE c.table_name = ? "
            "AND c.id > ? AND NOT EXISTS (SELECT 1 FROM temp.bd_sel s WHERE s.id = c.id) ORDER BY c.id", (plan.table, first)):  # fmt: skip
        image = row(old) or row(new)
        entry = plan.keys.get(key_of(image or {}, keys))
        if entry is not None and change > entry.first_id and not entry.conflict:
            entry.conflict = f"changed later by {run} (change {change}, txid {txid if txid is not None else '-'})"
    live = _live(db, plan)
    for key, entry in plan.keys.items():
        now = live.get(key)
        entry.exists = now is not None
        if not entry.conflict:
            if (now is None) != (entry.after is None):
                entry.conflict = "row is missing now" if now is None else "row exists again"
            elif now is not None and now != entry.after:
                entry.conflict = "row differs from what the selection left"
        if entry.conflict:
            report.conflict_count += 1
            if len(report.conflicts) < SHOWN_CONFLICTS:
                shown = schema.printable(dict(zip(keys, key, strict=True)))
                report.conflicts.append({"table": plan.table, "key": shown, "why": entry.conflict})


def _match(keys: list[str]) -> str:
    return " AND ".join(f"{quote(k)} IS ?" for k in keys)


def _live(db: sqlite3.Connection, plan: _Plan) -> dict[tuple[Any, ...], dict[str, Any]]:
    """The rows of the table now, by key, for the keys the plan holds: looked up one by one for a
    few keys, read in one scan for many."""
    assert plan.shape is not None
    keys = plan.shape.keys
    select = f"SELECT {schema.image('t', plan.shape.columns)} FROM {quote(plan.table)} t"
    if len(plan.keys) <= LOOKUPS:
        found = (db.execute(f"{select} WHERE {_match(keys)}", key).fetchone() for key in plan.keys)
        images = (row(hit[0]) for hit in found if hit)
    else:
        images = (row(hit[0]) for hit in db.execute(select))
    live = {}
    for image in images:
        assert image is not None
        key = key_of(image, keys)
        if key in plan.keys:
            live[key] = image
    return live


def _apply(db: sqlite3.Connection, plan: _Plan, undo_id: str, *, skip: bool) -> TableUndo:
    assert plan.shape is not None
    table, shape = quote(plan.table), plan.shape
    result = TableUndo(plan.table)
    chosen = [(key, entry) for key, entry in plan.keys.items() if not (skip and entry.conflict)]
    result.skipped = len(plan.keys) - len(chosen)
    match = _match(shape.keys)
    gone = [key for key, entry in chosen if entry.before is None]
    db.executemany(f"DELETE FROM {table} WHERE {match}", gone)
    settable = [c for c in shape.writable if c not in shape.keys]
    updates: dict[tuple[str, ...], list[list[Any]]] = {}  # by the columns the image holds (older ones lack new columns)
    for key, entry in chosen:
        if entry.before is not None and entry.exists:
            present = tuple(c for c in settable if c in entry.before)
            updates.setdefault(present, []).append([*(entry.before[c] for c in present), *key])
    for present, rows in updates.items():
        if present:
            db.executemany(f"UPDATE {table} SET {', '.join(f'{quote(c)} = ?' for c in present)} WHERE {match}", rows)
    inserts = [entry.before for _key, entry in chosen if entry.before is not None and not entry.exists]
    insert_rows(db, plan.table, shape.writable, inserts)
    result.deleted, result.updated, result.inserted = len(gone), sum(map(len, updates.values())), len(inserts)
    result.changes = sum(len(entry.ids) for _key, entry in chosen)
    if result.skipped:
        done = [(change, undo_id) for _key, entry in chosen for change in entry.ids]
        db.executemany(f"INSERT OR IGNORE INTO {PREFIX}undone (change_id, undo_id) VALUES (?, ?)", done)
    else:  # every selected change of this table: one statement
        db.execute(f"INSERT OR IGNORE INTO {PREFIX}undone (change_id, undo_id) SELECT s.id, ? FROM temp.bd_sel s "
                   f"JOIN {PREFIX}changes c ON c.id = s.id WHERE c.table_name = ?", (undo_id, plan.table))  # fmt: skip
    return result
