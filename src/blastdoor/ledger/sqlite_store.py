"""The embedded ledger store: SQLite in Blastdoor's home, WAL journal, ``synchronous=FULL``.

Durability: with WAL and ``synchronous=FULL`` SQLite fsyncs the write-ahead log before a commit
returns, so an acknowledged entry survives ``kill -9`` and power loss. Writers from several
processes are serialised twice: an advisory ``flock`` on ``<database>.lock`` (so a waiting writer
wakes the moment the lock is free, rather than after SQLite's busy-handler sleeps), then
``BEGIN IMMEDIATE`` (SQLite's own write lock, which also guards against writers that skip the flock).
A writer that finds the flock taken leaves its entries in the spool and the holder's successor
appends them with its own, in one commit (group commit, sqlite_spool.py).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from blastdoor.ledger.entry import GENESIS_CHAIN
from blastdoor.ledger.sqlite_spool import SPOOLED_TABLE, Spool, rows_of
from blastdoor.ledger.store import (
    APPROVAL_TABLES,
    Extender,
    Group,
    GroupExtender,
    LedgerError,
    Pending,
    Row,
    Store,
    StoredCheckpoint,
    edge,
    first_time,
    prune_below,
)

MIGRATIONS: tuple[tuple[int, str], ...] = (
    (
        1,
        """
        CREATE TABLE ledger_entries (
            seq INTEGER PRIMARY KEY,
            time TEXT NOT NULL,
            body TEXT NOT NULL,
            leaf_hash BLOB NOT NULL,
            chain_hash BLOB NOT NULL,
            nodes BLOB NOT NULL
        );
        CREATE INDEX ledger_entries_time ON ledger_entries (time);
        CREATE TABLE ledger_checkpoints (
            id INTEGER PRIMARY KEY,
            size INTEGER NOT NULL,
            note TEXT NOT NULL
        );
        """,
    ),
    (2, APPROVAL_TABLES),
    (3, SPOOLED_TABLE),
)

if TYPE_CHECKING:
    from blastdoor.ledger.chain import Head

_HINT = "move the file aside and run `blastdoor init` for a new ledger, or restore it from a backup"


class SQLiteStore(Store):
    appends_after_head = True
    def __init__(self, *, path: Path, connection: sqlite3.Connection) -> None:
        self.url = f"sqlite:///{path}"
        self._path = path
        self._db = connection
        self._lock_path = path.with_name(path.name + ".lock")
        self._lock_file: int | None = None  # opened on first use and kept (opening it cost more than locking it)
        self._spool = Spool(path.with_name(path.name + ".spool"))  # where writers wait (group commit)

    @classmethod
    def open(cls, path: Path) -> SQLiteStore:
        if path.exists() and not path.is_file():
            raise LedgerError(
                f"the ledger path {path} is not a file",
                hint="set BLASTDOOR_DATABASE_URL to a file path",
            )
        try:
            connection = sqlite3.connect(
                path, isolation_level=None, timeout=30.0, check_same_thread=False
            )
        except sqlite3.Error as error:
            raise LedgerError(
                f"cannot open the ledger database {path}: {error}",
                hint="check the path and its permissions",
            ) from None
        store = cls(path=path, connection=connection)
        with store._errors("open"):
            store._use_wal()
            connection.execute("PRAGMA synchronous=FULL")
            store._migrate()
        with contextlib.suppress(OSError):
            os.chmod(path, 0o600)
        return store

    @contextlib.contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.DatabaseError as error:
            raise LedgerError(
                f"the ledger database {self._path} cannot be read ({doing}): {error}", hint=_HINT
            ) from None
        except sqlite3.Error as error:
            raise LedgerError(f"the ledger database {self._path} failed ({doing}): {error}",
                              hint="check the disk and the file's permissions") from None  # fmt: skip

    def _lock(self, *, wait: bool = True) -> bool:
        """Take the writers' lock (a ``flock`` on the lock file); False when ``wait`` is False and
        another writer holds it. Released with :meth:`_unlock`."""
        if self._lock_file is None:
            self._lock_file = os.open(self._lock_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o666)
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(self) -> None:
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """The writers' lock, held exclusively for the block."""
        self._lock()
        try:
            yield
        finally:
            self._unlock()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction under both locks; committed (fsynced) or rolled back."""
        with self._locked(), self._transaction() as db:
            yield db

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``, or a rollback (the caller holds the writers' flock)."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:  # SQLite may have rolled back already (a full disk, an I/O error)
                self._db.execute("ROLLBACK")
            raise

    def _use_wal(self) -> None:
        """Switch a new database to WAL under the writers' lock, so the switch never races another
        opener, and refuse a database that cannot use WAL instead of running it in another mode
        (the durability this store promises is WAL with synchronous=FULL)."""
        with self._locked():
            mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise LedgerError(f"the ledger database {self._path} cannot use WAL journaling (got {mode})",
                              hint="put it on a local disk that supports shared memory")  # fmt: skip

    def _migrate(self) -> None:
        current = self._version()
        if current >= len(MIGRATIONS):
            self._check_known(current)
            return
        with self._write() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)"
            )
            current = self._version()
            for version, script in MIGRATIONS:
                if version > current:
                    for statement in filter(str.strip, script.split(";")):
                        db.execute(statement)
                    db.execute("INSERT INTO schema_migrations (version) VALUES (?)", (version,))

    def _version(self) -> int:
        found = self._db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
        ).fetchone()
        if not found:
            return 0
        return int(
            self._db.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()[
                0
            ]
        )

    def _check_known(self, version: int) -> None:
        if version > len(MIGRATIONS):
            raise LedgerError(f"the ledger {self._path} has schema version {version}, newer than this Blastdoor knows",
                              hint="upgrade Blastdoor")  # fmt: skip

    def append(self, extend: Extender, frontier_seqs: Callable[[int], list[int]]) -> list[Row]:
        with self._errors("append"), self._write() as db:
            new = extend(*self._edge(db, frontier_seqs))
            self._insert(db, new)
        return new

    def spool(self, items: Sequence[Pending]) -> None:
        """Leave entries for the next group append (not durable until it has committed)."""
        self._spool.write(items)

    def append_entries(self, items: Sequence[Pending], extend: GroupExtender,
                       frontier_seqs: Callable[[int], list[int]]) -> Group:  # fmt: skip
        with self._errors("append"):
            if not self._lock(wait=False):  # another writer is appending: join the next group
                try:
                    self.spool(items)
                except LedgerError:  # no spool (disk, permissions): wait and append alone
                    with self._locked():
                        return self._lead([], items, extend, frontier_seqs)
                with self._locked():
                    return self._group([item.id for item in items], extend, frontier_seqs)
            try:
                return self._lead([], items, extend, frontier_seqs)
            finally:
                self._unlock()

    def append_group(self, ids: Sequence[str], extend: GroupExtender,
                     frontier_seqs: Callable[[int], list[int]]) -> Group:  # fmt: skip
        with self._errors("append"), self._locked():
            return self._group(ids, extend, frontier_seqs)

    def append_once(self, items: Sequence[Pending], extend: GroupExtender,
                    frontier_seqs: Callable[[int], list[int]]) -> Group:  # fmt: skip
        with self._errors("append"), self._locked():
            return self._lead([], items, extend, frontier_seqs, once=True)

    def append_after(self, head: Head, rows: Sequence[Row], ids: Sequence[str]) -> bool:
        with self._errors("append"), self._locked():
            try:
                with self._transaction() as db:
                    last = db.execute("SELECT seq, chain_hash FROM ledger_entries ORDER BY seq DESC LIMIT 1").fetchone()
                    if ((int(last[0]), bytes(last[1])) if last else (0, GENESIS_CHAIN)) != (head.size, head.chain):
                        return False  # another writer moved the end (spooled entries wait for the lock: they are next)
                    if rows[0].seq != head.size + 1:
                        return False
                    self._insert(db, rows)
                    if ids:  # a row left by an entry that was removed gives way; a noted id does not
                        db.executemany("INSERT INTO ledger_spooled (seq, id) VALUES (?, ?) ON CONFLICT (seq) DO UPDATE SET id = excluded.id",
                                       zip((row.seq for row in rows[len(rows) - len(ids) :]), ids, strict=True))  # fmt: skip
                        self._prune(head.size, rows[-1].seq)
            except sqlite3.IntegrityError:  # an id was noted already: rolled back, nothing appended
                return False
        return True

    def _group(self, ids: Sequence[str], extend: GroupExtender, frontier_seqs: Callable[[int], list[int]]) -> Group:
        """Under the writers' lock: the rows of spooled entries ``ids``, appending them (with
        everything else spooled) unless another writer did."""
        done = self._results(self._db, ids)
        if len(done) == len(ids):  # another writer appended them: read them back
            return Group(rows_of(ids, done, self._rows(self._db, list(done.values()))), [])
        return self._lead(ids, [], extend, frontier_seqs)

    def _lead(self, ids: Sequence[str], own: Sequence[Pending], extend: GroupExtender,
              frontier_seqs: Callable[[int], list[int]], *, once: bool = False) -> Group:  # fmt: skip
        """Under the writers' lock: one transaction appending what is spooled (the caller's
        spooled ``ids`` among it) and then ``own``, which was never spooled (``once``: noting
        their ids, and skipping those noted before)."""
        batches = self._spool.waiting(ids)
        waiting = [item for _, batch in batches for item in batch]
        with self._transaction():
            appended, taken = self._take(waiting, own, extend, frontier_seqs, once=once)
        self._spool.clear([name for name, _ in batches])  # appended now, or by a writer that died before clearing them
        rows = {row.seq: row for row in appended}
        wanted = [*ids, *(item.id for item in own)] if once else list(ids)
        missing = [taken[i] for i in wanted if i in taken and taken[i] not in rows]  # only the caller's
        rows |= self._rows(self._db, missing) if missing else {}
        plain = appended[-len(own):] if own and not once else []
        return Group(rows_of(wanted, taken, rows) + plain, appended)

    def _take(self, waiting: list[Pending], own: Sequence[Pending], extend: GroupExtender,
              frontier_seqs: Callable[[int], list[int]], *, once: bool) -> tuple[list[Row], dict[str, int]]:  # fmt: skip
        """Inside the write transaction: append the spooled entries not appended before, then
        ``own`` (``once``: those not appended before); the new rows, and which noted id became
        which entry."""
        noting = [*waiting, *own] if once else waiting
        before = self._results(self._db, [item.id for item in noting])
        fresh = first_time(noting, before)
        plain = [] if once else list(own)
        if not fresh and not plain:
            return [], before
        new = extend(*self._edge(self._db, frontier_seqs), [(item.time, item.body) for item in (*fresh, *plain)])
        self._insert(self._db, new)
        if not fresh:
            return new, before
        noted = new[len(new) - len(plain) - len(fresh) : len(new) - len(plain)]
        self._db.execute("DELETE FROM ledger_spooled WHERE seq >= ?", (new[0].seq,))  # left by removed entries
        self._prune(new[0].seq - 1, new[-1].seq)
        taken = {item.id: row.seq for item, row in zip(fresh, noted, strict=True)}
        self._db.executemany("INSERT INTO ledger_spooled (seq, id) VALUES (?, ?)", [(seq, i) for i, seq in taken.items()])
        return new, before | taken

    def _prune(self, before: int, after: int) -> None:
        """Inside the write transaction: remove old noted ids when :func:`prune_below` says so."""
        if (below := prune_below(before, after)) is not None:
            self._db.execute("DELETE FROM ledger_spooled WHERE seq < ?", (below,))

    @staticmethod
    def _insert(db: sqlite3.Connection, rows: Sequence[Row]) -> None:
        db.executemany(
            "INSERT INTO ledger_entries (seq, time, body, leaf_hash, chain_hash, nodes) VALUES (?, ?, ?, ?, ?, ?)",
            [(r.seq, r.time, r.body.decode("utf-8"), r.leaf_hash, r.chain_hash, r.nodes) for r in rows],
        )

    @staticmethod
    def _results(db: sqlite3.Connection, ids: Sequence[str]) -> dict[str, int]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        return {str(i): int(seq) for seq, i in db.execute(f"SELECT seq, id FROM ledger_spooled WHERE id IN ({marks})", list(ids))}

    @classmethod
    def _edge(cls, db: sqlite3.Connection, frontier_seqs: Callable[[int], list[int]]) -> tuple[int, list[Row]]:
        """:func:`~blastdoor.ledger.store.edge`, the last row read first (it gives the size)."""
        last = [Row.from_columns(found) for found in db.execute(
            "SELECT seq, time, body, leaf_hash, chain_hash, nodes FROM ledger_entries ORDER BY seq DESC LIMIT 1")]  # fmt: skip
        return edge(last, frontier_seqs, lambda seqs: cls._rows(db, seqs))

    @staticmethod
    def _size(db: sqlite3.Connection) -> int:
        return int(db.execute("SELECT COALESCE(MAX(seq), 0) FROM ledger_entries").fetchone()[0])

    def size(self) -> int:
        with self._errors("read"):
            return self._size(self._db)

    @staticmethod
    def _rows(db: sqlite3.Connection, seqs: Sequence[int]) -> dict[int, Row]:
        if not seqs:
            return {}
        marks = ",".join("?" * len(seqs))
        found = db.execute(
            f"SELECT seq, time, body, leaf_hash, chain_hash, nodes FROM ledger_entries WHERE seq IN ({marks})",
            list(seqs),
        )
        return {row.seq: row for row in map(Row.from_columns, found)}

    def rows(self, seqs: Sequence[int]) -> dict[int, Row]:
        with self._errors("read"):
            return self._rows(self._db, seqs)

    def scan(self, *, start: int = 1, since: str = "", stop: int = 0) -> Iterator[Row]:
        query = "SELECT seq, time, body, leaf_hash, chain_hash, nodes FROM ledger_entries WHERE seq >= ?"
        params: list[object] = [start]
        if stop:
            query += " AND seq <= ?"
            params.append(stop)
        if since:
            query += " AND seq >= COALESCE((SELECT MIN(seq) FROM ledger_entries WHERE time >= ?), 1 << 62)"
            params.append(since)
        with self._errors("read"):
            cursor = self._db.execute(query + " ORDER BY seq", params)
            while batch := cursor.fetchmany(2048):
                yield from map(Row.from_columns, batch)

    def add_checkpoint(self, sign: Callable[[int], str]) -> StoredCheckpoint:
        with self._errors("checkpoint"), self._write() as db:
            size = self._size(db)
            note = sign(size)
            cursor = db.execute(
                "INSERT INTO ledger_checkpoints (size, note) VALUES (?, ?)", (size, note)
            )
            return StoredCheckpoint(id=int(cursor.lastrowid or 0), size=size, note=note)

    def checkpoints(self) -> list[StoredCheckpoint]:
        with self._errors("read"):
            found = self._db.execute("SELECT id, size, note FROM ledger_checkpoints ORDER BY id")
            return [StoredCheckpoint(id=int(i), size=int(s), note=str(n)) for i, s, n in found]

    def select(self, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
        with self._errors("read"):
            return [tuple(row) for row in self._db.execute(sql, list(params)).fetchall()]

    def change(self, sql: str, params: Sequence[object] = ()) -> int:
        with self._errors("write"), self._write() as db:
            return int(db.execute(sql, list(params)).rowcount)

    def close(self) -> None:
        self._db.close()
        if self._lock_file is not None:
            os.close(self._lock_file)
            self._lock_file = None
