"""Sealing history rows into a hash chain, off the write path, and checking the seals.

``seal`` takes, in one repeatable-read transaction, the history rows of every transaction that
has finished since the last seal: those with a transaction id below the snapshot's ``xmin``, which
are all visible and can no longer change. It hashes each row (its fields as text, canonical JSON),
chains the hashes in (txid, id) order, and stores one ``seals`` row per history row. The caller
anchors the new chain head in the ledger, out of the database's reach.

``verify`` recomputes every seal: a sealed history row deleted or altered, a seal row removed or
edited, a history row slipped in below the sealed horizon, or a chain that no longer reaches a head
the ledger anchored, is reported by id.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from blastdoor.data import pg_sql
from blastdoor.data.errors import DataError
from blastdoor.data.install import require
from blastdoor.data.target import Target, rollback_quietly
from blastdoor.ledger.entry import GENESIS_CHAIN, chain_hash

BATCH = 5000
SHOWN = 20

# every field of a history row, as text that does not depend on the session's settings
_FIELDS = ("c.id::text, c.txid::text, (extract(epoch FROM c.at) * 1000000)::bigint::text, c.role, c.relid::text, "
           "c.table_schema, c.table_name, c.op, c.old_row::text, c.new_row::text, c.run_id, c.session_id, "
           "c.request, c.entry, c.snapshot_id")  # fmt: skip


@dataclass(frozen=True)
class Sealed:
    database_id: str
    added: int
    seq: int  # the last seal's number (0: nothing sealed yet)
    head: str  # hex of the chain head
    below: int  # every transaction below this id is sealed


@dataclass
class Verified:
    database_id: str
    sealed: int = 0
    pending: int = 0
    anchors_checked: int = 0
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0

    def problem(self, text: str) -> None:
        self.problem_count += 1
        if len(self.problems) < SHOWN:
            self.problems.append(text)

    @property
    def ok(self) -> bool:
        return self.problem_count == 0


def row_hash(fields: Iterable[str | None]) -> bytes:
    return hashlib.sha256(json.dumps(list(fields), ensure_ascii=False, separators=(",", ":")).encode()).digest()


def extend(head: bytes, seq: int, batch: Iterable[Sequence[str | None]]) -> tuple[list[tuple[int, int, bytes, bytes]], bytes, int]:
    """Seal the history rows ``batch`` (their fields as text, the id first) after ``head`` and
    ``seq``: the seal rows (seq, change id, row hash, chain), and the new head and seq."""
    sealed = []
    for fields in batch:
        digest = row_hash(fields)
        head, seq = chain_hash(head, digest), seq + 1
        sealed.append((seq, int(str(fields[0])), digest, head))
    return sealed, head, seq


def seal(target: Target) -> Sealed:
    import psycopg

    db = target.connect()
    try:
        db.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        with db.cursor() as cursor:
            require(cursor, target)
            cursor.execute(f"SELECT database_id, sealed_below FROM {pg_sql.SCHEMA}.meta FOR UPDATE")
            database_id, below = cursor.fetchone()
            cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
            horizon = cursor.fetchone()[0]
            cursor.execute(f"SELECT seq, chain FROM {pg_sql.SCHEMA}.seals ORDER BY seq DESC LIMIT 1")
            seq, head = cursor.fetchone() or (0, GENESIS_CHAIN)
            head = bytes(head)
            added = 0
            with db.cursor(name="bd_seal") as rows:  # read a batch, then COPY it: one connection does one at a time
                rows.execute(f"SELECT {_FIELDS} FROM {pg_sql.SCHEMA}.changes c WHERE c.txid >= %s AND c.txid < %s "
                             "ORDER BY c.txid, c.id", (below, horizon))  # fmt: skip
                while batch := rows.fetchmany(BATCH):
                    sealed, head, seq = extend(head, seq, batch)
                    with cursor.copy(f"COPY {pg_sql.SCHEMA}.seals (seq, change_id, row_sha256, chain) FROM STDIN") as copy:
                        for row in sealed:
                            copy.write_row(row)
                    added += len(sealed)
            cursor.execute(f"UPDATE {pg_sql.SCHEMA}.meta SET sealed_below = %s", (max(below, horizon),))
        db.commit()
    except psycopg.errors.SerializationFailure:
        rollback_quietly(db)
        raise DataError("another seal ran at the same time", hint="run blastdoor data seal again") from None
    except psycopg.Error as error:
        rollback_quietly(db)
        raise DataError(f"could not seal history on {target.label}: {target.clean(error)}",
                        hint="sealing needs the role that enabled history; nothing was sealed") from None  # fmt: skip
    finally:
        db.close()
    return Sealed(database_id, added, seq, head.hex(), max(below, horizon))


def verify(target: Target, anchors: Mapping[str, Iterable[tuple[int, str]]]) -> Verified:
    """Check every seal, and the chain against the ledger's ``anchors``: (seq, head hex) pairs by
    database id."""
    import psycopg

    with target.transaction("verify history", hint="verifying needs the role that enabled history") as db, db.cursor() as cursor:
        db.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        require(cursor, target)
        cursor.execute(f"SELECT database_id, sealed_below FROM {pg_sql.SCHEMA}.meta")
        database_id, below = cursor.fetchone()
        result = Verified(database_id)
        check_anchors(result, walk(_seals(db), result), anchors.get(database_id, ()))
        cursor.execute(f"SELECT c.id FROM {pg_sql.SCHEMA}.changes c WHERE c.txid < %s AND NOT EXISTS "
                       f"(SELECT 1 FROM {pg_sql.SCHEMA}.seals s WHERE s.change_id = c.id) ORDER BY c.id", (below,))  # fmt: skip
        for (change,) in cursor.fetchall():
            result.problem(f"history row {change} appeared below the sealed horizon: it was added after sealing")
        cursor.execute(f"SELECT count(*) FROM {pg_sql.SCHEMA}.changes WHERE txid >= %s", (below,))
        result.pending = cursor.fetchone()[0]
    return result


def walk(seals: Iterable[tuple[int, int, bytes, bytes, Sequence[str | None]]], result: Verified) -> dict[int, str]:
    """Recompute the chain seal by seal, from (seq, change id, row hash, chain, the row's fields,
    all None when the row is gone); the head (hex) at each seq, for the anchors."""
    heads: dict[int, str] = {}
    head, expected = GENESIS_CHAIN, 1
    for seq, change, stored_row, stored_chain, fields in seals:
        if seq != expected:
            result.problem(f"seals {expected}..{seq - 1} are missing: seal rows were deleted")
        expected = seq + 1
        if fields[0] is None:
            result.problem(f"history row {change} (seal {seq}) was deleted after sealing")
        elif row_hash(fields) != stored_row:
            result.problem(f"history row {change} (seal {seq}) was altered after sealing")
        head = chain_hash(head, stored_row)
        if head != stored_chain:
            result.problem(f"seal {seq} was edited: its chain value does not follow from the seals before it")
            head = stored_chain
        heads[seq] = head.hex()
        result.sealed = seq
    return heads


def check_anchors(result: Verified, heads: Mapping[int, str], anchors: Iterable[tuple[int, str]]) -> None:
    """Each (seq, head) the ledger anchored must be reached by the chain the database holds."""
    for seq, head in sorted(set(anchors)):
        result.anchors_checked += 1
        if seq > result.sealed:
            result.problem(f"the ledger anchored seal {seq}, but the database holds only {result.sealed}: seals were removed")
        elif heads.get(seq) != head:
            result.problem(f"seal {seq} does not reach the head the ledger anchored: the chain was rewritten")


def _seals(db: Any) -> Iterator[tuple[int, int, bytes, bytes, tuple[str | None, ...]]]:
    with db.cursor(name="bd_verify") as rows:
        rows.itersize = BATCH
        rows.execute(f"SELECT s.seq, s.change_id, s.row_sha256, s.chain, {_FIELDS} FROM {pg_sql.SCHEMA}.seals s "
                     f"LEFT JOIN {pg_sql.SCHEMA}.changes c ON c.id = s.change_id ORDER BY s.seq")  # fmt: skip
        for row in rows:
            yield row[0], row[1], bytes(row[2]), bytes(row[3]), tuple(row[4:])
