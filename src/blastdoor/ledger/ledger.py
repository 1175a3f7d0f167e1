"""The ledger: record entries, sign checkpoints, answer Merkle-node reads.

``Ledger.open(settings)`` picks the store from the database URL (SQLite by default, PostgreSQL for
``postgresql://``). :meth:`Ledger.record` redacts secrets, canonicalises (RFC 8785), appends durably
and, every ``checkpoint_every`` entries, signs a checkpoint and copies it to the witnesses.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import secrets as random
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from blastdoor.config import Settings
from blastdoor.ledger import chain, merkle
from blastdoor.ledger.checkpoint import PublicKey, Signer
from blastdoor.ledger.entry import ENTRY_VERSION, Entry, canonical, now
from blastdoor.ledger.store import Group, LedgerError, Pending, Row, Store, StoredCheckpoint

REDACTION_KEY = "redaction.key"
_SPOOL_COUNTER = itertools.count()  # keeps one process's spooled entries in order within a nanosecond


def open_store(url: str) -> Store:
    if url.startswith("sqlite:///"):
        from blastdoor.ledger.sqlite_store import SQLiteStore

        return SQLiteStore.open(Path(url.removeprefix("sqlite:///")))
    if url.startswith(("postgresql://", "postgres://")):
        from blastdoor.ledger.postgres_store import PostgresStore

        return PostgresStore.open(url)
    raise LedgerError(f"unsupported ledger database URL {url.split('://')[0]}://...",
                      hint="use sqlite:///PATH or postgresql://USER@HOST/DB in BLASTDOOR_DATABASE_URL")  # fmt: skip


# Identifiers and digests Blastdoor or the agent generated: stored as they are, never scanned for
# secrets (a random-looking tool-use id is an id, and redacting it would cut an entry from its call).
VERBATIM = frozenset({"v", "type", "time", "source", "agent", "session", "run", "tool_use",
                      "policy_digest", "rules_files", "request", "key"})  # fmt: skip


class Ledger:
    def __init__(
        self,
        *,
        store: Store,
        keys: Path,
        checkpoint_every: int = 100,
        witnesses: Sequence[str] = (),
        url: str = "",
        appender: Path | None = None,
    ) -> None:
        self.store = store
        self.url = url  # the store's address, for a second reader (parallel verify); '' when unknown
        self._keys = keys
        self._every = checkpoint_every
        self.witnesses = tuple(witnesses)
        self._signer: Signer | None = None
        self._redactor: Any = None
        self.witness_problems: list[str] = []
        self._appender = appender  # the appender's socket, tried before appending directly
        self._link: Any = None
        self._head: chain.Head | None = None  # the ledger's end as this writer last appended it
        self._alone = True  # no other writer appended between this writer's last two appends

    @classmethod
    def open(cls, settings: Settings, *, through_appender: bool = True) -> Ledger:
        """The ledger of ``settings``; its appends go through the home's appender when one runs
        (``through_appender=False``: always directly, as the appender itself does)."""
        store = open_store(settings.database_url)
        return cls(
            store=store,
            keys=settings.keys,
            checkpoint_every=settings.checkpoint_every,
            witnesses=settings.witnesses,
            url=settings.database_url,
            appender=appender_socket(settings.home) if through_appender else None,
        )

    def close(self) -> None:
        if self._link is not None:
            self._link.close()
        self.store.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # keys ---------------------------------------------------------------------------------------
    @property
    def signer(self) -> Signer:
        if self._signer is None:
            self._signer = Signer.load(self._keys / "install.ed25519")
        return self._signer

    def public_key(self) -> PublicKey:
        return PublicKey.load(self._keys / "install.ed25519.pub")

    def redact(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        if self._redactor is None:
            from blastdoor.ledger.redact import Redactor

            self._redactor = Redactor(redaction_key(self._keys))
        redactor = self._redactor
        return {
            key: value if key in VERBATIM else redactor.payload(value)
            for key, value in payload.items()
        }

    # writing ------------------------------------------------------------------------------------
    def record(self, payload: Mapping[str, Any]) -> Entry:
        """Append one entry (secrets redacted); acknowledged only once it is on disk."""
        return self.record_many([payload])[-1]

    def record_many(self, payloads: Sequence[Mapping[str, Any]]) -> list[Entry]:
        """Append several entries, in order, acknowledged once they are on disk.

        Redaction and canonical JSON happen here, in the caller's process. When an appender serves
        this ledger (appender.py) it appends the entries with other writers' in one transaction;
        otherwise, or when it is gone, they are appended directly. Direct appends share commits
        too on SQLite: when another writer is appending, the entries are spooled, and whichever
        writer holds the store's write lock next appends everything spooled in one transaction.
        """
        bodies = [_body(self.redact(payload)) for payload in payloads]
        stamp = time.time_ns()
        ids = [f"{stamp:020d}-{os.getpid()}-{next(_SPOOL_COUNTER):08d}-{random.token_hex(4)}" for _ in bodies]
        items = [Pending(ident, when, body) for ident, (when, body) in zip(ids, bodies, strict=True)]
        if self._appender is not None:
            handed = self._through_appender(items)
            if handed is not None:
                return handed
        return self._append_directly(items)

    def _append_directly(self, items: Sequence[Pending], *, once: bool = False) -> list[Entry]:
        """:meth:`append`, then a checkpoint when one is due; the entries of ``items``."""
        group = self.append(items, once=once)
        self.checkpoint_due(group)
        return [row.entry() for row in group.mine]

    def _through_appender(self, items: Sequence[Pending]) -> list[Entry] | None:
        """The entries as the appender acknowledged them; None when no appender took them (the
        caller appends them itself). An appender that took them and gave no answer may or may not
        have committed them: they are appended once, by id, whichever it was."""
        if self._link is None:
            assert self._appender is not None
            if not self._appender.exists():  # no appender (and nothing more to import)
                return None
            from blastdoor.ledger.appender_link import AppenderLink

            self._link = AppenderLink(self._appender, identity=self.identity())
        from blastdoor.ledger.appender_link import Unsure

        try:
            answer = self._link.append(items)
        except Unsure:
            return self._append_directly(items, once=True)
        if answer is None:
            return None
        self.witness_problems = answer.problems
        return [Entry(seq=seq, body=item.body, leaf_hash=leaf, chain_hash=link)
                for item, (seq, leaf, link) in zip(items, answer.entries, strict=True)]  # fmt: skip

    def append(self, items: Sequence[Pending], *, once: bool = False) -> Group:
        """Append ``items`` in one store transaction (the genesis entry first when the ledger is
        empty), extending the head this writer keeps in memory while no other writer moved it
        (then nothing is read but the last entry's id and link) and reading the tree's right edge
        otherwise. ``once``: :meth:`Store.append_once`. Where the store has a one-statement
        append for a known end (:meth:`Store.append_after`), it is tried first while this writer
        found the ledger where it left it last time."""
        head, made = self._head, []
        if head is not None and self._alone and self.store.appends_after_head:
            rows, end = head.grow(self._after_genesis(head.size, [(i.time, i.body) for i in items]))
            self._head = None  # until the append is known to be on disk
            if self.store.append_after(head, rows, [item.id for item in items] if once else []):
                self._head = end
                return Group(rows[len(rows) - len(items) :], rows)

        def frontier_seqs(size: int) -> list[int]:
            if head is not None and head.size == size:
                return [size] if size else []
            return chain.frontier_seqs(size)

        def extend(size: int, edge: Sequence[Row], waiting: Sequence[tuple[str, bytes]]) -> list[Row]:
            self._alone = head is not None and head.size == size
            start = head if self._alone and head is not None else chain.Head.of(size, edge)
            if size and (last := next((row for row in edge if row.seq == size), None)) and last.chain_hash != start.chain:
                raise LedgerError(f"entry {size} changed while this writer held the ledger open",
                                  hint="run `blastdoor ledger verify`")  # fmt: skip
            rows, end = start.grow(self._after_genesis(size, waiting))
            made.append(end)
            return rows

        self._head = None  # until this append is known to be on disk
        group = (self.store.append_once if once else self.store.append_entries)(items, extend, frontier_seqs)
        if made and group.appended and group.appended[-1].seq == made[-1].size:
            self._head = made[-1]
        return group

    def checkpoint_due(self, group: Group) -> None:
        """Sign a checkpoint when ``group`` appended an entry whose id is a multiple of the cadence."""
        if any(row.seq % self._every == 0 for row in group.appended):
            self.checkpoint()

    def identity(self) -> str:
        """What names this ledger to an appender: its database and its keys folder (a digest)."""
        where = self.store.url
        if where.startswith("sqlite:///"):
            where = "sqlite:///" + os.path.realpath(where.removeprefix("sqlite:///"))
        return hashlib.sha256(f"{where}\n{os.path.realpath(self._keys)}".encode()).hexdigest()

    def _after_genesis(self, size: int, bodies: Sequence[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
        """``bodies``, after the genesis entry when they go into an empty ledger (``size`` 0)."""
        return [_body(self._genesis()), *bodies] if size == 0 else list(bodies)

    def _genesis(self) -> dict[str, Any]:
        return {
            "v": ENTRY_VERSION,
            "type": "ledger-created",
            "time": now(),
            "key": self.signer.public.vkey,
        }

    def checkpoint(self) -> StoredCheckpoint:
        """Sign the current tree head, store it and copy it to every witness."""
        signer = self.signer
        stored = self.store.add_checkpoint(
            lambda size: signer.sign(size=size, root=self._root_at(size), time=now())
        )
        from blastdoor.ledger import witness

        self.witness_problems = witness.publish(
            self.witnesses, note=stored.note, origin=signer.public.name,
            prover=lambda old, root: self._prove(old, root, stored.size),
        )  # fmt: skip
        return stored

    def _prove(self, old_size: int, old_root: bytes, size: int) -> list[bytes]:
        """A consistency proof for a witness, refusing when the witness holds another tree."""
        if old_size > size or self.root(old_size) != old_root:
            raise LedgerError(f"holds a checkpoint of {old_size} entries that this ledger does not contain: "
                              "the ledger was rewritten or truncated", hint="run `blastdoor ledger verify`")  # fmt: skip
        return merkle.consistency_proof(self, old_size, size) if old_size else []

    # reading ------------------------------------------------------------------------------------
    def nodes(self, keys: Sequence[tuple[int, int]]) -> list[bytes]:
        """:class:`blastdoor.ledger.merkle.NodeSource`: node hashes read from the entries holding them."""
        places = [chain.locate(level, index) for level, index in keys]
        rows = self.store.rows(sorted({seq for seq, _ in places}))
        found = []
        for (level, _), (seq, _) in zip(keys, places, strict=True):
            if seq not in rows:
                raise LedgerError(
                    f"entry {seq} is missing from the ledger", hint="run `blastdoor ledger verify`"
                )
            found.append(chain.node_of(rows[seq], level))
        return found

    def root(self, size: int) -> bytes:
        return merkle.root(self, size) if size else merkle.EMPTY_ROOT

    def _root_at(self, size: int) -> bytes:
        """The root of the first ``size`` entries, from the head this writer keeps when it is that size."""
        head = self._head
        return head.frontier.root() if head is not None and head.size == size else self.root(size)


def _body(payload: Mapping[str, Any]) -> tuple[str, bytes]:
    try:
        return str(payload.get("time", "")), canonical(payload)
    except (
        TypeError,
        ValueError,
    ) as error:  # rfc8785 rejects floats out of range, lone surrogates, ...
        raise LedgerError(
            f"an entry cannot be written as canonical JSON: {error}", hint="report this as a bug"
        ) from None


def appender_socket(home: Path) -> Path:
    """Where a home's appender listens (appender.py)."""
    return home / "run" / "ledger.sock"


def redaction_key(keys: Path) -> bytes:
    """The per-install HMAC key for redaction markers (created on first use, never rewritten)."""
    path = keys / REDACTION_KEY
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    keys.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{REDACTION_KEY}.{os.getpid()}")
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
        handle.write(random.token_bytes(32))
        handle.flush()
        os.fsync(handle.fileno())
    try:
        os.link(tmp, path)  # the first writer wins; every process then uses the same key
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return _read_key(path)


def _read_key(path: Path) -> bytes:
    data = path.read_bytes()
    if len(data) != 32:
        raise LedgerError(f"the redaction key {path} is damaged", hint="restore it from a backup")
    return data
