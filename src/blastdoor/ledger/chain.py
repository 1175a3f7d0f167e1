"""Appending to the chain and the Merkle tree: the pure part of an append.

A store calls :func:`extend` while it holds its write lock, with the rows on the right edge of the
tree; the result is the new rows, each linked to the one before (``chain_hash``) and carrying the
Merkle nodes it completes (see :mod:`blastdoor.ledger.store` for where nodes live).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from blastdoor.ledger.entry import GENESIS_CHAIN, chain_hash, leaf_hash
from blastdoor.ledger.merkle import Frontier, subtree_keys
from blastdoor.ledger.store import LedgerError, Row

HASH = 32


def locate(level: int, index: int) -> tuple[int, int]:
    """Entry id and byte offset of Merkle node (level, index); level 0 is the entry's leaf hash."""
    return (index + 1) << level, HASH * (level - 1)


def node_of(row: Row, level: int) -> bytes:
    if level == 0:
        return row.leaf_hash
    start = HASH * (level - 1)
    found = row.nodes[start : start + HASH]
    if len(found) != HASH:
        raise LedgerError(f"entry {row.seq} lacks its level-{level} Merkle node",
                          hint="the ledger was altered; run `blastdoor ledger verify`")  # fmt: skip
    return found


def frontier_seqs(size: int) -> list[int]:
    """The entry ids an append must read: the right edge's nodes (which include entry ``size``)."""
    return [locate(level, index)[0] for level, index in subtree_keys(0, size)]


def frontier_at(size: int, rows: Mapping[int, Row]) -> Frontier:
    hashes = []
    for level, index in subtree_keys(0, size):
        seq, _ = locate(level, index)
        if seq not in rows:
            raise LedgerError(
                f"entry {seq} is missing from the ledger", hint="run `blastdoor ledger verify`"
            )
        hashes.append(node_of(rows[seq], level))
    return Frontier.from_bytes(size, b"".join(hashes))


@dataclass(frozen=True)
class Head:
    """The end of a ledger of ``size`` entries: the last chain hash and the Merkle frontier. A
    writer that keeps it can append without reading a row, and can sign a checkpoint of ``size``
    without reading a node."""

    size: int
    chain: bytes
    frontier: Frontier

    @classmethod
    def of(cls, size: int, edge: Sequence[Row]) -> Head:
        """The head of a ledger of ``size`` from the rows :func:`frontier_seqs` named."""
        by_seq = {row.seq: row for row in edge}
        frontier = frontier_at(size, by_seq)
        return cls(size, by_seq[size].chain_hash if size else GENESIS_CHAIN, frontier)

    def grow(self, bodies: Sequence[tuple[str, bytes]]) -> tuple[list[Row], Head]:
        """The rows that append ``bodies`` (``(time, canonical bytes)`` pairs), and the head after
        them; this head is left as it was."""
        frontier = self.frontier.copy()
        previous, rows = self.chain, []
        for offset, (time, body) in enumerate(bodies, start=self.size + 1):
            leaf = leaf_hash(body)
            completed = frontier.push(leaf)
            previous = chain_hash(previous, leaf)
            nodes = b"".join(node for _, _, node in completed)  # pushed bottom-up: levels 1, 2, ...
            rows.append(Row(seq=offset, time=time, body=body, leaf_hash=leaf, chain_hash=previous, nodes=nodes))
        return rows, Head(self.size + len(rows), previous, frontier)


def extend(size: int, edge: Sequence[Row], bodies: Sequence[tuple[str, bytes]]) -> list[Row]:
    """The rows that append ``bodies`` (``(time, canonical bytes)`` pairs) to a ledger of ``size``."""
    return Head.of(size, edge).grow(bodies)[0]
