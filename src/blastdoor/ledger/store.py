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
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from blastdoor.errors import BlastdoorError
from blastdoor.ledger.entry import Entry

if TYPE_CHECKING:
    from blastdoor.ledger.chain import Head


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

    @classmethod
    def from_columns(cls, values: Sequence[Any]) -> Row:
        """A row as a store's query returns it: ``seq, time, body, leaf_hash, chain_hash, nodes``
        (a body a database hands back as bytes is read as UTF-8, as leniently as verify reads it)."""
        seq, time, body, leaf, chain, nodes = values
        text = body if isinstance(body, str) else bytes(body).decode("utf-8", "replace")
        return cls(seq=int(seq), time=str(time), body=text.encode("utf-8"),
                   leaf_hash=bytes(leaf), chain_hash=bytes(chain), nodes=bytes(nodes))  # fmt: skip

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

@dataclass(frozen=True)
class Pending:
    """An entry to append: a unique id that sorts oldest first (for a store that makes writers wait
    in a spool), the entry's time and its canonical body."""

    id: str
    time: str
    body: bytes


@dataclass(frozen=True)
class Group:
    """What an append did: the rows of the caller's own entries (in order), and every row this
    caller's transaction appended ([] when another writer's group commit appended its entries)."""

    mine: list[Row]
    appended: list[Row]


# Migration 3 on every backend: ``ledger_spooled (seq, id)``, which writer-chosen id became which
# entry, for entries that may be asked for again (spooled ones on SQLite, ``append_once`` on both),
# kept for the newest RESULTS_KEPT entries.
RESULTS_KEPT = 100_000
PRUNE_EVERY = 1_024  # noted ids older than RESULTS_KEPT entries are removed once per this many entries


def prune_below(before: int, after: int) -> int | None:
    """When an append takes the ledger from ``before`` to ``after`` entries across a multiple of
    PRUNE_EVERY, the entry id below which noted ids are removed (those of all but the newest
    RESULTS_KEPT entries); None otherwise. Every append that notes ids follows this rule
    (PostgreSQL's ``ledger_append_after`` in SQL, postgres_store.py)."""
    return after - RESULTS_KEPT if after // PRUNE_EVERY != before // PRUNE_EVERY else None


def edge(last: Sequence[Row], frontier_seqs: Callable[[int], list[int]],
         rows: Callable[[Sequence[int]], dict[int, Row]]) -> tuple[int, list[Row]]:  # fmt: skip
    """What every store's append reads under its write lock: the ledger's size (the id of ``last``,
    its last row, or 0 when it is empty) and the rows an append needs, ``last`` and the rest of
    ``frontier_seqs(size)`` (read with ``rows``)."""
    size = last[0].seq if last else 0
    rest = [seq for seq in frontier_seqs(size) if seq != size]
    return size, [*last, *rows(rest).values()]


def first_time(items: Sequence[Pending], noted: Mapping[str, int]) -> list[Pending]:
    """The items whose ids are not noted yet, each id once (a repeated id is one entry)."""
    seen = set(noted)
    fresh = []
    for item in items:
        if item.id not in seen:
            seen.add(item.id)
            fresh.append(item)
    return fresh


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
    appends_after_head = False  # True: :meth:`append_after` is worth trying

    def append_after(self, head: Head, rows: Sequence[Row], ids: Sequence[str]) -> bool:
        """Append ``rows``, made by extending ``head``, and note ``ids`` with the last of them,
        in one transaction, if the ledger still ends at ``head`` and no id is noted yet; False
        (and nothing appended) otherwise. A shortcut for a writer that keeps the ledger's end in
        memory (one statement where the usual append reads first); a store without one says False."""
        return False

    @abstractmethod
    def append(self, extend: Extender, frontier_seqs: Callable[[int], list[int]]) -> list[Row]:
        """Append atomically and durably (fsynced before returning), under the store's write lock.

        ``frontier_seqs(size)`` names the entry ids whose rows ``extend`` needs (the right edge of
        the tree); ``extend(size, rows)`` returns the new rows, numbered from ``size + 1``.
        """

    def append_entries(self, items: Sequence[Pending], extend: GroupExtender,
                       frontier_seqs: Callable[[int], list[int]]) -> Group:  # fmt: skip
        """Append ``items`` durably, in order. A store may let a writer that finds the write lock
        taken wait for the holder to append its entries too (group commit, sqlite_store.py); this
        default appends them in a transaction of their own."""
        bodies = [(item.time, item.body) for item in items]
        new = self.append(lambda size, edge: extend(size, edge, bodies), frontier_seqs)
        return Group(new[-len(items) :], new)

    @abstractmethod
    def append_once(self, items: Sequence[Pending], extend: GroupExtender,
                    frontier_seqs: Callable[[int], list[int]]) -> Group:  # fmt: skip
        """Append ``items`` durably, in order, except those an earlier ``append_once`` appended
        (told by their ids), and note every id with its entry in the same commit. For a writer
        that may ask again without knowing whether its last commit happened: the appender, and a
        client whose appender died before answering (appender.py). ``mine`` holds the row of
        every item, appended now or before."""

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
