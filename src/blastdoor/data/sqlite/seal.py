"""Sealing SQLite history and checking the seals: the chain and its checks are PostgreSQL's
(``data.seal``); what differs is how rows are read, and that ``BEGIN IMMEDIATE`` holds the write
lock, so every row visible then is committed and no other writer can add one below it."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence

from blastdoor.data.errors import DataError
from blastdoor.data.seal import BATCH, Sealed, Verified, check_anchors, extend, walk
from blastdoor.data.sqlite import install
from blastdoor.data.sqlite.schema import PREFIX
from blastdoor.data.target import Target
from blastdoor.ledger.entry import GENESIS_CHAIN

# every field of a history row, as text
_FIELDS = ", ".join(f"CAST(c.{name} AS TEXT)" for name in (
    "id", "txid", "at", "table_name", "op", "old_row", "new_row", "run_id", "session_id", "request", "entry", "snapshot_id"))  # fmt: skip


def seal(target: Target) -> Sealed:
    with install.transaction(target, "seal history", hint="nothing was sealed; run it again") as db:
        install.require(db, target)
        database_id, through = db.execute(f"SELECT database_id, sealed_through FROM {PREFIX}meta").fetchone()
        seq, head = db.execute(f"SELECT seq, chain FROM {PREFIX}seals ORDER BY seq DESC LIMIT 1").fetchone() or (0, GENESIS_CHAIN)
        head, added, last = bytes(head), 0, through
        rows = db.execute(f"SELECT {_FIELDS} FROM {PREFIX}changes c WHERE c.id > ? ORDER BY c.id", (through,))
        while batch := rows.fetchmany(BATCH):
            sealed, head, seq = extend(head, seq, batch)
            db.executemany(f"INSERT INTO {PREFIX}seals (seq, change_id, row_sha256, chain) VALUES (?, ?, ?, ?)", sealed)
            added, last = added + len(sealed), sealed[-1][1]
        db.execute(f"UPDATE {PREFIX}meta SET sealed_through = ?", (last,))
    return Sealed(database_id, added, seq, head.hex(), last)


def verify(target: Target, anchors: Mapping[str, Iterable[tuple[int, str]]]) -> Verified:
    """Check every seal and the ledger's anchors, as on PostgreSQL; and, since SQLite cannot
    refuse it, that no tracked table lost its history triggers."""
    db = install.connect(target)
    try:
        db.execute("BEGIN")
        install.require(db, target)
        database_id, through = db.execute(f"SELECT database_id, sealed_through FROM {PREFIX}meta").fetchone()
        result = Verified(database_id)
        check_anchors(result, walk(_seals(db), result), anchors.get(database_id, ()))
        for (change,) in db.execute(f"SELECT c.id FROM {PREFIX}changes c WHERE c.id <= ? AND NOT EXISTS "
                                    f"(SELECT 1 FROM {PREFIX}seals s WHERE s.change_id = c.id) ORDER BY c.id", (through,)):  # fmt: skip
            result.problem(f"history row {change} appeared below the sealed horizon: it was added after sealing")
        result.pending = db.execute(f"SELECT count(*) FROM {PREFIX}changes WHERE id > ?", (through,)).fetchone()[0]
        _triggers(db, result)
    except sqlite3.Error as error:
        raise DataError(f"could not verify history on {target.label}: {error}", hint="check the file and its permissions") from None
    finally:
        db.close()
    return result


def _triggers(db: sqlite3.Connection, result: Verified) -> None:
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    tracked = db.execute(f"SELECT table_name, key_columns, columns FROM {PREFIX}tracked ORDER BY 1").fetchall()
    for table, keys, columns in tracked:
        if table not in tables:
            continue  # dropped: data undo and data restore say so
        missing, altered = install.trigger_damage(db, table, json.loads(columns), json.loads(keys))
        if missing:
            result.problem(f"{table} lost history triggers ({', '.join(missing)}): its writes since went unrecorded "
                           "(blastdoor data enable puts them back)")  # fmt: skip
        if altered:
            result.problem(f"{table}'s history triggers were replaced ({', '.join(altered)}): its writes may have gone "
                           "unrecorded (blastdoor data enable puts the real ones back)")  # fmt: skip


def _seals(db: sqlite3.Connection) -> Iterator[tuple[int, int, bytes, bytes, Sequence[str | None]]]:
    rows = db.execute(f"SELECT s.seq, s.change_id, s.row_sha256, s.chain, {_FIELDS} FROM {PREFIX}seals s "
                      f"LEFT JOIN {PREFIX}changes c ON c.id = s.change_id ORDER BY s.seq")  # fmt: skip
    while batch := rows.fetchmany(BATCH):
        for found in batch:
            yield found[0], found[1], bytes(found[2]), bytes(found[3]), tuple(found[4:])
