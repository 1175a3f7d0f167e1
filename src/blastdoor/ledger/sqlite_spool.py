"""Group commit for the SQLite store: the spool where writers wait, and the table of results.

A writer that finds the writers' lock taken does not queue its own transaction behind it. It writes
its entries into the spool (``<database>.spool/``, one file per batch, named so that they sort
oldest first) and then waits for the lock. The writer that holds the lock next appends everything spooled
in one transaction (one fsync for all of them) and notes, in ``ledger_spooled`` and in the same
commit, which spooled id became which entry. A writer that gets the lock and finds its ids there is
done; it only reads its rows. Because the note is committed with the entries, a writer killed
between its commit and the spool's cleanup leaves files that the next writer recognises and
removes instead of appending twice.

Measured (docs/benchmarks.md): on SQLite this raised 4 writers' appends by about a tenth; on
PostgreSQL, where a commit's WAL flush is cheap and every extra round trip is not, a spool made
appends slower, so that store appends directly.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

from blastdoor.ledger.store import LedgerError, Pending, Row

# Migration 3: which spooled entry (or entry appended with ``append_once``) became which entry,
# kept for the last RESULTS_KEPT entries (store.py).
SPOOLED_TABLE = """
        CREATE TABLE ledger_spooled (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE
        );
        """
GROUP_LIMIT = 1_000  # spooled entries one group append takes besides the caller's own


class Spool:
    """One file per waiting batch (one writer's ``record_many``), named after its first entry."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def write(self, items: Sequence[Pending]) -> None:
        """The batch as one file, made whole under a temporary name and then renamed, so a group
        append takes all of it or none. No fsync: the append that takes it is the fsync."""
        temporary = f"{self.folder}/.{items[0].id}.tmp"
        try:
            self.folder.mkdir(mode=0o700, exist_ok=True)
            handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(handle, json.dumps([[i.id, i.time, i.body.decode("utf-8")] for i in items]).encode("utf-8"))
            finally:
                os.close(handle)
            os.rename(temporary, f"{self.folder}/{items[0].id}.entry")
        except OSError as error:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise LedgerError(f"cannot write to the ledger's spool {self.folder}: {error.strerror or error}",
                              hint="check the disk and the folder's permissions") from None  # fmt: skip

    def waiting(self, ids: Sequence[str]) -> list[tuple[str, list[Pending]]]:
        """The batches a group append takes, oldest first: the oldest GROUP_LIMIT and the caller's
        own (the file named after its first id). Each as (file name, its entries)."""
        try:
            names = sorted(name for name in os.listdir(self.folder) if name.endswith(".entry"))
        except OSError:
            return []
        mine = {f"{ident}.entry" for ident in ids[:1]}
        found = []
        for name in sorted(set(names[:GROUP_LIMIT]) | (mine & set(names))):
            try:
                batch = json.loads((self.folder / name).read_text("utf-8"))
                found.append((name, [Pending(str(i), str(t), str(b).encode("utf-8")) for i, t, b in batch]))
            except (OSError, ValueError, TypeError):
                continue  # not a spooled batch (or removed meanwhile): never appended
        return found

    def clear(self, names: Sequence[str]) -> None:
        """Remove batches that are appended (best effort: a leftover is recognised and removed later)."""
        for name in names:
            with contextlib.suppress(OSError):
                os.unlink(f"{self.folder}/{name}")


def rows_of(ids: Sequence[str], results: dict[str, int], rows: dict[int, Row]) -> list[Row]:
    """The rows of spooled ``ids`` from a group append's results (id → entry id); LedgerError when
    one is neither appended nor waiting any more (its spooled copy was removed by hand)."""
    missing = [ident for ident in ids if results.get(ident) not in rows]
    if missing:
        raise LedgerError(f"entry {missing[0]} left the spool without being appended",
                          hint="something removed spooled entries; check the ledger with `blastdoor ledger verify`")  # fmt: skip
    return [rows[results[ident]] for ident in ids]
