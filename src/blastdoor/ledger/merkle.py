"""The ledger's Merkle tree (RFC 9162, section 2.1; the same tree as RFC 6962): roots, proofs, checks.

Leaf ``i`` of the tree is ledger entry ``seq = i + 1``; its hash is :func:`leaf_hash` of the entry's
canonical body. A store keeps the hash of every *complete, aligned* subtree, named ``(level, index)``:
the subtree over leaves ``[index * 2**level, (index + 1) * 2**level)``; level 0 is the leaf hash
itself. Every hash the RFC's recursive definitions ask for, ``MTH(D[a:b])``, is a right-to-left fold
of a few such subtrees (:func:`subtree_keys`), so a proof needs O(log n) stored nodes, which this
module asks the store for in one batch.

Appending needs no reads at all: :class:`Frontier` keeps the right edge of the tree (one hash per
set bit of the size) and hands back the nodes each new leaf completes, for the store to persist.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Protocol

from blastdoor.errors import BlastdoorError
from blastdoor.ledger.entry import leaf_hash as leaf_hash  # re-exported: the 0x00 half of 2.1.1

HASH_SIZE = 32  # SHA-256, the hash RFC 6962 fixes (RFC 9162, section 2.1.1, with SHA-256)
EMPTY_ROOT = hashlib.sha256(b"").digest()  # RFC 9162, section 2.1.1: MTH({}) = HASH()

Key = tuple[int, int]  # (level, index) of a complete aligned subtree
Span = tuple[int, int]  # [start, end) of a leaf range


class MerkleError(BlastdoorError, ValueError):
    """A tree request that cannot be answered, or stored tree data that does not add up."""


class ProofError(BlastdoorError):
    """An inclusion or consistency proof failed verification (RFC 9162, 2.1.3.2 and 2.1.4.2)."""


class NodeSource(Protocol):
    """Where stored subtree hashes come from (a database store, or a dict in tests)."""

    def nodes(self, keys: Sequence[Key]) -> list[bytes]:
        """The hash of each complete, aligned subtree ``(level, index)``, in the order asked.

        Level 0 is the leaf hash of leaf ``index``. One call should be one query.
        """
        ...


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162, section 2.1.1: MTH(D[n]) = HASH(0x01 || MTH(D[0:k]) || MTH(D[k:n]))."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """RFC 9162, section 2.1.1: k, the largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def subtree_keys(start: int, end: int) -> list[Key]:
    """The complete aligned subtrees whose hashes, folded right to left, give MTH(D[start:end]).

    RFC 9162's recursion splits ``D[start:end]`` at the largest power of two below its length, so
    the pieces are the binary digits of ``end - start``, largest first. Every range the RFC's root,
    PATH and SUBPROOF definitions ask for starts on a multiple of its largest piece; any other range
    has no stored nodes to build it from and raises :class:`MerkleError`.
    """
    if start < 0 or end < start:
        raise MerkleError(
            f"leaf range [{start}, {end}) is not a range of the tree",
            hint="ranges start at 0 or later and end no earlier than they start",
        )
    keys: list[Key] = []
    position, remaining = start, end - start
    while remaining:
        level = remaining.bit_length() - 1
        if position % (1 << level):
            raise MerkleError(
                f"leaf range [{start}, {end}) is not a subtree of the RFC 9162 tree",
                hint="ask for ranges that PATH or SUBPROOF use (RFC 9162, section 2.1)",
            )
        keys.append((level, position >> level))
        position += 1 << level
        remaining -= 1 << level
    return keys


def _fold(hashes: Sequence[bytes]) -> bytes:
    """RFC 9162, section 2.1.1, for a range already cut into its pieces: hash right to left."""
    acc = hashes[-1]
    for piece in reversed(hashes[:-1]):
        acc = node_hash(piece, acc)
    return acc


def _fetch(source: NodeSource, keys: list[Key]) -> list[bytes]:
    """The stored hashes of ``keys`` in one ``nodes()`` call, checked for count and length."""
    if not keys:
        return []
    found = source.nodes(keys)
    if len(found) != len(keys) or any(len(h) != HASH_SIZE for h in found):
        raise MerkleError(
            f"the node store answered {len(found)} hashes for {len(keys)} tree nodes",
            hint="the store must return one 32-byte hash per key, in order",
        )
    return list(found)


def _range_hashes(source: NodeSource, ranges: Sequence[Span]) -> list[bytes]:
    """MTH(D[a:b]) of each ``(a, b)`` in ``ranges``, with all stored nodes fetched in one call."""
    plans = [subtree_keys(a, b) for a, b in ranges]
    found = _fetch(source, [key for plan in plans for key in plan])
    hashes: list[bytes] = []
    at = 0
    for plan in plans:
        hashes.append(_fold(found[at : at + len(plan)]))
        at += len(plan)
    return hashes


def root(source: NodeSource, size: int) -> bytes:
    """RFC 9162, section 2.1.1: MTH(D[size]), the root of the first ``size`` leaves."""
    if size < 0:
        raise MerkleError(f"tree size {size} is negative", hint="tree sizes count leaves from 0")
    if size == 0:
        return EMPTY_ROOT
    return _range_hashes(source, [(0, size)])[0]


def _path_ranges(index: int, size: int) -> list[Span]:
    """RFC 9162, section 2.1.3.1: the ranges whose MTH make PATH(index, D[size]), in proof order.

    For n > 1 and k the largest power of two below n, PATH(m, D[n]) is
    PATH(m, D[0:k]) : MTH(D[k:n]) when m < k, and PATH(m - k, D[k:n]) : MTH(D[0:k]) otherwise.
    Walking down collects the siblings top first; the proof lists them bottom first.
    """
    siblings: list[Span] = []
    low, high = 0, size
    while high - low > 1:
        k = _split(high - low)
        if index - low < k:
            siblings.append((low + k, high))
            high = low + k
        else:
            siblings.append((low, low + k))
            low += k
    siblings.reverse()
    return siblings


def inclusion_proof(source: NodeSource, index: int, size: int) -> list[bytes]:
    """RFC 9162, section 2.1.3.1: the audit path of leaf ``index`` in the tree of ``size`` leaves."""
    if not 0 <= index < size:
        raise MerkleError(
            f"leaf {index} is not in a tree of {size} leaves",
            hint="ask for a leaf index from 0 to the tree size minus 1",
        )
    return _range_hashes(source, _path_ranges(index, size))


def _subproof_ranges(old_size: int, new_size: int) -> list[Span]:
    """RFC 9162, section 2.1.4.1: the ranges whose MTH make PROOF(old_size, D[new_size]).

    SUBPROOF(m, D[m], true) = {} and SUBPROOF(m, D[m], false) = {MTH(D[m])}; for m < n with k the
    largest power of two below n, SUBPROOF(m, D[n], b) is SUBPROOF(m, D[0:k], b) : MTH(D[k:n]) when
    m <= k, and SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k]) otherwise.
    """
    siblings: list[Span] = []
    low, high, m, known = 0, new_size, old_size, True
    while m != high - low:
        k = _split(high - low)
        if m <= k:
            siblings.append((low + k, high))
            high = low + k
        else:
            siblings.append((low, low + k))
            low, m, known = low + k, m - k, False
    if not known:
        siblings.append((low, high))
    siblings.reverse()
    return siblings


def consistency_proof(source: NodeSource, old_size: int, new_size: int) -> list[bytes]:
    """RFC 9162, section 2.1.4.1: proof that the tree of ``old_size`` leaves is a prefix of ``new_size``.

    The RFC defines PROOF for 0 < old_size < new_size; for old_size 0 or old_size == new_size there
    is nothing to prove and the proof is empty.
    """
    if not 0 <= old_size <= new_size:
        raise MerkleError(
            f"no consistency proof from tree size {old_size} to {new_size}",
            hint="the old size must be between 0 and the new size",
        )
    if old_size in (0, new_size):
        return []
    return _range_hashes(source, _subproof_ranges(old_size, new_size))


class Frontier:
    """The right edge of the tree: the root of each maximal complete subtree, largest first.

    A tree of ``size`` leaves has one such subtree per set bit of ``size`` (the pieces of
    :func:`subtree_keys` ``(0, size)``), so the frontier is enough to append a leaf and to compute
    the root (RFC 9162, section 2.1.1) without reading any node. It changes in place as leaves are
    pushed; store it with :meth:`to_bytes` next to its size.
    """

    __slots__ = ("_peaks", "_size")

    def __init__(self) -> None:
        self._size = 0
        self._peaks: list[bytes] = []

    @property
    def size(self) -> int:
        """How many leaves the tree has."""
        return self._size

    @property
    def peaks(self) -> tuple[bytes, ...]:
        """The hashes of the frontier's subtrees, largest (leftmost) first."""
        return tuple(self._peaks)

    def __repr__(self) -> str:
        return f"Frontier(size={self._size})"

    def push(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Append leaf hash ``leaf``; return the ``(level, index, hash)`` nodes it completes.

        The new leaf completes one node per trailing 1 bit of the old size (a right child whose left
        sibling is the smallest peak), so a push costs O(log n) and one new node on average.
        Level-0 nodes are the leaf hashes themselves and are not returned.
        """
        if len(leaf) != HASH_SIZE:
            raise MerkleError(
                f"leaf hash is {len(leaf)} bytes, not {HASH_SIZE}",
                hint="push leaf_hash(body), not the body itself",
            )
        completed: list[tuple[int, int, bytes]] = []
        carry, level, index = leaf, 0, self._size
        while index & 1:
            carry = node_hash(self._peaks.pop(), carry)
            level, index = level + 1, index >> 1
            completed.append((level, index, carry))
        self._peaks.append(carry)
        self._size += 1
        return completed

    def root(self) -> bytes:
        """RFC 9162, section 2.1.1: MTH of all leaves pushed so far."""
        return _fold(self._peaks) if self._peaks else EMPTY_ROOT

    def copy(self) -> Frontier:
        """A frontier of the same tree that changes apart from this one."""
        return self._of(self._size, list(self._peaks))

    def to_bytes(self) -> bytes:
        """The peaks, concatenated (32 bytes per set bit of the size); the size is kept apart."""
        return b"".join(self._peaks)

    @classmethod
    def from_bytes(cls, size: int, data: bytes) -> Frontier:
        """The frontier of a tree of ``size`` leaves, from :meth:`to_bytes` of it."""
        if size < 0:
            raise MerkleError(f"stored Merkle frontier has negative size {size}")
        expected = size.bit_count() * HASH_SIZE
        if len(data) != expected:
            raise MerkleError(
                f"stored Merkle frontier for {size} leaves is {len(data)} bytes, not {expected}",
                hint="the stored tree state is damaged; rebuild it with Frontier.from_source",
            )
        return cls._of(
            size, [bytes(data[at : at + HASH_SIZE]) for at in range(0, expected, HASH_SIZE)]
        )

    @classmethod
    def from_source(cls, source: NodeSource, size: int) -> Frontier:
        """The frontier of a tree of ``size`` leaves, read from stored nodes in one call."""
        return cls._of(size, _fetch(source, subtree_keys(0, size)))

    @classmethod
    def _of(cls, size: int, peaks: list[bytes]) -> Frontier:
        frontier = cls()
        frontier._size = size
        frontier._peaks = peaks
        return frontier
