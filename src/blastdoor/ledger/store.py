"""The storage interface every ledger backend implements (SQLite, PostgreSQL).

A store keeps three things: entries (one row each: canonical body, leaf hash, chain hash and the Merkle
nodes that the entry completed), signed checkpoints, and its schema version. It does no hashing of its
own: :func:`blastdoor.ledger.chain.extend` computes the new rows while the store holds its write lock,
so two writers can never both append entry N (the chain cannot fork).

Where Merkle nodes live: appending leaf ``i`` (0-based) completes one subtree per trailing one-bit
of ``i``; their hashes (levels 1, 2, ...) are stored, concatenated, in that entry's ``nodes`` column.
So node (level, index) sits in entry ``(index + 1) << level`` at offset ``32 * (level - 1)``, and
every node can be fetched by entry id in one indexed query (:func:`blastdoor.ledger.chain.locate`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from blastdoor.errors import BlastdoorError
from blastdoor.ledger.entry import Entry


class LedgerError(BlastdoorError):
    """The ledger cannot be opened, read or written."""


@dataclass(frozen=True, kw_only=True)
class Row:
    """One stored entry with the Merkle nodes it completed."""

    seq: int
    time: str
    body: bytes
    leaf_hash: bytes
    chain_hash: bytes
    nodes: bytes = b""

    def entry(self) -> Entry:
        return Entry(
            seq=self.seq, body=self.body, leaf_hash=self.leaf_hash, chain_hash=self.chain_hash
        )


@dataclass(frozen=True, kw_only=True)
class StoredCheckpoint:
    """A signed checkpoint as stored: the signed note's text and where it was written."""

    id: int
    size: int
    note: str  # the complete signed note (C2SP signed-note format)


# Migration 2 on every backend (portable SQL): approval requests and grants beside the ledger.
APPROVAL_TABLES = """
        CREATE TABLE approval_requests (
            id TEXT PRIMARY KEY,
            digest TEXT NOT NULL,
            created TEXT NOT NULL,
            expires TEXT NOT NULL,
            state TEXT NOT NULL,
            required INTEGER NOT NULL,
            body TEXT NOT NULL,
            closed TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX approval_requests_digest ON approval_requests (digest);
        CREATE TABLE approval_grants (
            id TEXT PRIMARY KEY,
            request_id TEXT NOT NULL,
            approver TEXT NOT NULL,
            body TEXT NOT NULL,
            signature TEXT NOT NULL,
            expires TEXT NOT NULL,
            used TEXT NOT NULL DEFAULT '',
            UNIQUE (request_id, approver)
        );
        """

# Given the rows a writer holds (the last one and the frontier's), return the rows to append.
Extender = Callable[[int, Sequence[Row]], list[Row]]
# The same for a group append: also given the (time, body) pairs to append, oldest first.
GroupExtender = Callable[[int, Sequence[Row], Sequence[tuple[str, bytes]]], list[Row]]

# Migration 3 on every backend: which spooled entry became which entry (a group append's results,
# kept for the last GROUP_RESULTS entries; see :meth:`Store.append_group`).
SPOOLED_TABLE = """
        CREATE TABLE ledger_spooled (
            seq BIGINT PRIMARY KEY,
            id TEXT NOT NULL UNIQUE
        );
        """
GROUP_RESULTS = 100_000
GROUP_LIMIT = 1_000  # spooled entries one group append takes at most


@dataclass(frozen=True)
class Spooled:
    """An entry waiting for a group append: a unique id that sorts oldest first, and its content."""

    id: str
    time: str
    body: bytes


@dataclass(frozen=True)
class Group:
    """What a group append did: the rows of the caller's own entries (in the order of its ids), and
    every row it appended itself ([] when another writer had appended the caller's entries)."""

    mine: list[Row]
    appended: list[Row]


def group_rows(ids: Sequence[str], results: dict[str, int], rows: dict[int, Row]) -> list[Row]:
    """The rows of ``ids`` from a group append's results (id → entry id); LedgerError when one
    is neither appended nor waiting any more (its spooled copy was removed by hand)."""
    missing = [ident for ident in ids if results.get(ident) not in rows]
    if missing:
        raise LedgerError(f"entry {missing[0]} left the spool without being appended",
                          hint="something removed spooled entries; check the ledger with `blastdoor ledger verify`")  # fmt: skip
    return [rows[results[ident]] for ident in ids]


class SideTables(ABC):
    """Plain SQL on the tables that live beside the ledger in the same database (approval
    requests and grants, :mod:`blastdoor.approvals.book`). ``?`` placeholders on every backend."""

    @abstractmethod
    def select(self, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
        """The rows ``sql`` returns."""

    @abstractmethod
    def change(self, sql: str, params: Sequence[object] = ()) -> int:
        """Run one write statement atomically under the writers' lock; the rows it changed."""


class Store(SideTables):
    """One ledger database."""

    url: str

    @abstractmethod
    def append(self, extend: Extender, frontier_seqs: Callable[[int], list[int]]) -> list[Row]:
        """Append atomically and durably (fsynced before returning), under the store's write lock.

        ``frontier_seqs(size)`` names the entry ids whose rows ``extend`` needs (the right edge of
        the tree); ``extend(size, rows)`` returns the new rows, numbered from ``size + 1``.
        """

    @abstractmethod
    def spool(self, items: Sequence[Spooled]) -> None:
        """Leave entries for the next group append. Not durable by itself: nobody has been told
        they are stored until a group append that includes them has committed."""

    @abstractmethod
    def append_entries(self, items: Sequence[Spooled], extend: GroupExtender,
                       frontier_seqs: Callable[[int], list[int]]) -> Group:  # fmt: skip
        """Append ``items`` durably, in order. When no other writer holds the write lock, at once
        (with anything left spooled); otherwise spool them and join the next group
        (:meth:`append_group`), so one commit serves every writer that was waiting."""

    @abstractmethod
    def append_group(self, ids: Sequence[str], extend: GroupExtender,
                     frontier_seqs: Callable[[int], list[int]]) -> Group:  # fmt: skip
        """Group commit. Under the write lock: when the spooled entries ``ids`` were appended by
        another writer meanwhile, only read their rows; otherwise append every spooled entry
        (oldest first, ``ids`` among them, at most GROUP_LIMIT others) in one durable transaction,
        recording which spooled id became which entry, so that a crash between the commit and the
        spool's cleanup never appends an entry twice."""

    @abstractmethod
    def size(self) -> int:
        """How many entries there are."""

    @abstractmethod
    def rows(self, seqs: Sequence[int]) -> dict[int, Row]:
        """The rows with these entry ids (missing ones are absent from the answer)."""

    @abstractmethod
    def scan(self, *, start: int = 1, since: str = "", stop: int = 0) -> Iterator[Row]:
        """Entries in order from ``start`` (or from the first at or after time ``since``), up to
        entry ``stop`` when it is given."""

    @abstractmethod
    def add_checkpoint(self, sign: Callable[[int], str]) -> StoredCheckpoint:
        """Under the write lock, sign the current size (``sign(size)`` gives the note) and store it.

        Holding the lock keeps checkpoints in tree order however many writers there are.
        """

    @abstractmethod
    def checkpoints(self) -> list[StoredCheckpoint]:
        """Every stored checkpoint, oldest first."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
