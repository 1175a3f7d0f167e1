"""The ``data`` commands with their ledger entries: what a person did to history, and every seal
head, go into the ledger, where the database cannot rewrite them.

Entries: ``data-enable``, ``data-disable``, ``data-seal`` (the chain head: the anchor ``verify``
compares against), ``data-verify``, ``data-restore`` (SQLite), and ``data-undo`` twice, ``started``
before and the result after, so an undo that died halfway still left a trace.

PostgreSQL's modules sit in ``data/``; SQLite's, with the same functions, in ``data/sqlite/``.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from blastdoor.broker.engines import SQLITE
from blastdoor.config import Settings
from blastdoor.data import history as pg_history
from blastdoor.data import install, seal, undo
from blastdoor.data.errors import DataError
from blastdoor.data.history import History
from blastdoor.data.selection import Selection
from blastdoor.data.target import Target, save_key
from blastdoor.ledger.entry import person_entry

SEAL_TYPE = "data-seal"


def _record(settings: Settings, target: Target, kind: str, **fields: Any) -> None:
    from blastdoor.ledger.ledger import Ledger

    with Ledger.open(settings) as ledger:
        ledger.record(target.scrubber.value(person_entry(kind, target=target.label, **fields)))


def enable(settings: Settings, target: Target, *, tables: list[str], guard: bool) -> install.Enabled:
    if target.engine == SQLITE:
        from blastdoor.data.sqlite import install as lite

        result = lite.enable(target, tables=tables)
    else:
        result = install.enable(target, tables=tables, guard=guard)
        save_key(settings, result.database_id, result.key)
    _record(settings, target, "data-enable", database=result.database_id, added=result.added,
            already=result.already, guarded=result.guarded, file=_file(target))  # fmt: skip
    return result


def _file(target: Target) -> str:
    """A SQLite database's absolute path: what ties its history id to it in the ledger."""
    path = target.sqlite_path
    return str(path.resolve()) if path is not None else ""


def disable(settings: Settings, target: Target) -> list[str]:
    if target.engine == SQLITE:
        from blastdoor.data.sqlite import install as lite

        tables = lite.disable(target)
    else:
        tables = install.disable(target)
    _record(settings, target, "data-disable", tables=tables)
    return tables


def history(target: Target, selection: Selection) -> History:
    if target.engine == SQLITE:
        from blastdoor.data.sqlite import changes

        return changes.history(target, selection)
    return pg_history.history(target, selection)


def restore(settings: Settings, target: Target, table: str) -> int:
    """Rebuild a dropped table from its history (SQLite, where a DROP cannot be refused)."""
    if target.engine != SQLITE:
        raise DataError("restore rebuilds tables on SQLite, which cannot refuse a DROP; on PostgreSQL the DROP guard "
                        "refuses it", hint="for a table dropped with the guard off, restore the broker's snapshot or a backup")  # fmt: skip
    from blastdoor.data.sqlite import changes

    rows = changes.restore(target, table)
    _record(settings, target, "data-restore", table=table, rows=rows)
    return rows


def seal_now(settings: Settings, target: Target) -> seal.Sealed:
    if target.engine == SQLITE:
        from blastdoor.data.sqlite import seal as lite_seal

        sealed = lite_seal.seal(target)
    else:
        sealed = seal.seal(target)
    if sealed.added:
        _record(settings, target, SEAL_TYPE, database=sealed.database_id, seq=sealed.seq,
                head=f"sha256:{sealed.head}", added=sealed.added, below_txid=sealed.below)  # fmt: skip
    return sealed


def _recorded(settings: Settings, file: str = "") -> tuple[dict[str, list[tuple[int, str]]], list[str]]:
    """From one pass over the ledger: every seal head by database id, and the history ids ``data
    enable`` recorded for the SQLite file ``file`` (oldest first)."""
    import json

    from blastdoor.ledger.ledger import Ledger

    heads: dict[str, list[tuple[int, str]]] = defaultdict(list)
    enabled: list[str] = []
    with Ledger.open(settings) as ledger:
        for row in ledger.store.scan():
            if SEAL_TYPE.encode() not in row.body and b"data-enable" not in row.body:
                continue  # most entries: not parsed at all
            payload = json.loads(row.body)
            if payload.get("type") == SEAL_TYPE and isinstance(payload.get("seq"), int):
                heads[str(payload.get("database", ""))].append((payload["seq"], str(payload.get("head", "")).removeprefix("sha256:")))
            elif payload.get("type") == "data-enable" and file and payload.get("file") == file:
                enabled.append(str(payload.get("database", "")))
    return heads, enabled


def verify(settings: Settings, target: Target, *, record: bool = True) -> seal.Verified:
    if target.engine == SQLITE:
        from blastdoor.data.sqlite import seal as lite_seal

        heads, known = _recorded(settings, _file(target))
        result = lite_seal.verify(target, heads)
        if known and result.database_id not in known:
            result.problem(f"this file's history id is {result.database_id}, but the ledger recorded {known[-1]} when "
                           "history was enabled on it: its history was removed and made again")  # fmt: skip
    else:
        result = seal.verify(target, _recorded(settings)[0])
    if record:
        _record(settings, target, "data-verify", database=result.database_id, sealed=result.sealed,
                anchors=result.anchors_checked, problems=result.problem_count, shown=result.problems)  # fmt: skip
    return result


def undo_run(settings: Settings, target: Target, selection: Selection, *, on_conflict: str,
             dry_run: bool) -> undo.UndoReport:  # fmt: skip
    """Check the seals, then undo; refused when history was tampered with."""
    checked = verify(settings, target, record=not dry_run)
    if not checked.ok:
        raise DataError(f"history on {target.label} fails verification ({checked.problem_count} problems, "
                        f"first: {checked.problems[0]}), so undo will not trust it",
                        hint="run blastdoor data verify for the list; restore from a backup instead")  # fmt: skip
    undo_id = f"undo-{uuid.uuid4().hex[:16]}"
    run = undo.undo
    if target.engine == SQLITE:
        from blastdoor.data.sqlite import undo as lite_undo

        run = lite_undo.undo
    if dry_run:
        return run(target, selection, undo_id=undo_id, on_conflict=on_conflict, dry_run=True)
    _record(settings, target, "data-undo", undo=undo_id, state="started", selection=selection.record(),
            on_conflict=on_conflict)  # fmt: skip
    try:
        report = run(target, selection, undo_id=undo_id, on_conflict=on_conflict)
    except BaseException as error:
        message = getattr(error, "message", "") or type(error).__name__
        _record(settings, target, "data-undo", undo=undo_id, state="failed", error=message,
                known="one transaction: rolled back unless the connection was lost during COMMIT")  # fmt: skip
        raise
    _record(settings, target, "data-undo", undo=undo_id, state="done" if report.done else "refused",
            changes=report.changes, tables=[vars(t) for t in report.tables], conflicts=report.conflict_count,
            problems=report.problems)  # fmt: skip
    return report
