"""Checking Merkle proofs offline (RFC 9162, sections 2.1.3.2 and 2.1.4.2): all a holder of a
proof, a checkpoint and the public key needs, apart from the signature check (ledger/proofs.py)."""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from blastdoor.ledger.merkle import EMPTY_ROOT, HASH_SIZE, ProofError, node_hash

# What to do about a proof that does not check out: the hint of every ProofError raised below.
TAMPER_HINT = "the ledger or the proof changed after the root was recorded; do not trust it"


def _require_hash(what: str, value: bytes) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{what} is {len(value)} bytes, not a {HASH_SIZE}-byte SHA-256 hash")


def _same(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)


def verify_inclusion(
    *, leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162, section 2.1.3.2: check that leaf hash ``leaf`` is leaf ``index`` under ``root``.

    ``root`` is the trusted (signed) root of the tree of ``size`` leaves: the size is bound by that
    root, not by the proof. Raises :class:`ProofError` unless every step below holds.
    """
    _require_hash("leaf hash", leaf)
    _require_hash("root", root)
    for position, hash_ in enumerate(proof):
        _require_hash(f"inclusion proof hash {position}", hash_)
    # 1. If leaf_index is greater than or equal to tree_size, fail.
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} cannot be in a tree of {size} leaves", hint=TAMPER_HINT)
    # 2. Set fn to leaf_index and sn to tree_size - 1.
    fn, sn = index, size - 1
    # 3. Set r to hash.
    r = leaf
    # 4. For each value p in the inclusion_path array:
    for p in proof:
        # 4a. If sn is 0, stop the iteration and fail.
        if sn == 0:
            raise ProofError("inclusion proof is longer than the tree is deep", hint=TAMPER_HINT)
        # 4b. If LSB(fn) is set, or fn equals sn:
        if fn & 1 or fn == sn:
            # 4b.i. Set r to HASH(0x01 || p || r).
            r = node_hash(p, r)
            # 4b.ii. If LSB(fn) is not set, right-shift fn and sn until LSB(fn) is set or fn is 0.
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            # 4b. Otherwise: set r to HASH(0x01 || r || p).
            r = node_hash(r, p)
        # 4c. Right-shift both fn and sn one time.
        fn, sn = fn >> 1, sn >> 1
    # 5. Succeed only if sn is 0 and r equals root_hash.
    if sn != 0:
        raise ProofError("inclusion proof is shorter than the tree is deep", hint=TAMPER_HINT)
    if not _same(r, root):
        raise ProofError(
            f"leaf {index} and its inclusion proof do not lead to the root of the {size}-leaf tree",
            hint=TAMPER_HINT,
        )


def _verify_trivial_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Sizes outside RFC 9162's 0 < first < second: only an empty proof of a true claim passes."""
    if proof:
        raise ProofError(
            f"a consistency proof from size {old_size} to {new_size} must be empty",
            hint=TAMPER_HINT,
        )
    if old_size == 0 and not _same(old_root, EMPTY_ROOT):
        raise ProofError("the root of the empty tree is not SHA-256 of nothing", hint=TAMPER_HINT)
    if old_size == new_size and not _same(old_root, new_root):
        raise ProofError(f"two different roots for one tree size {old_size}", hint=TAMPER_HINT)


def verify_consistency(
    *, old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162, section 2.1.4.2: check that the ``old_size`` tree is a prefix of the ``new_size`` one.

    Raises :class:`ProofError` unless every step below holds.
    """
    _require_hash("old root", old_root)
    _require_hash("new root", new_root)
    for position, hash_ in enumerate(proof):
        _require_hash(f"consistency proof hash {position}", hash_)
    if not 0 <= old_size <= new_size:
        raise ProofError(f"tree size went from {old_size} to {new_size}", hint=TAMPER_HINT)
    if old_size in (0, new_size):
        _verify_trivial_consistency(old_size, new_size, old_root, new_root, proof)
        return
    # 1. If consistency_path is an empty array, stop and fail.
    if not proof:
        raise ProofError("the consistency proof is empty", hint=TAMPER_HINT)
    path = list(proof)
    # 2. If first is an exact power of 2, prepend first_hash to consistency_path.
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    # 3. Set fn to first - 1 and sn to second - 1.
    fn, sn = old_size - 1, new_size - 1
    # 4. If LSB(fn) is set, right-shift fn and sn equally until LSB(fn) is not set.
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    # 5. Set both fr and sr to the first value in consistency_path.
    fr = sr = path[0]
    # 6. For each subsequent value c in consistency_path:
    for c in path[1:]:
        # 6a. If sn is 0, stop the iteration and fail.
        if sn == 0:
            raise ProofError("consistency proof is longer than the tree is deep", hint=TAMPER_HINT)
        # 6b. If LSB(fn) is set, or fn equals sn:
        if fn & 1 or fn == sn:
            # 6b.i-ii. Set fr to HASH(0x01 || c || fr) and sr to HASH(0x01 || c || sr).
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            # 6b.iii. If LSB(fn) is not set, right-shift fn and sn until LSB(fn) is set or fn is 0.
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            # 6b. Otherwise: set sr to HASH(0x01 || sr || c).
            sr = node_hash(sr, c)
        # 6c. Right-shift both fn and sn one time.
        fn, sn = fn >> 1, sn >> 1
    # 7. Succeed only if fr equals first_hash, sr equals second_hash and sn is 0.
    if sn != 0 or not _same(fr, old_root) or not _same(sr, new_root):
        raise ProofError(
            f"the {new_size}-leaf tree does not extend the recorded {old_size}-leaf tree",
            hint=TAMPER_HINT,
        )
