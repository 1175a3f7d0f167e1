"""``blastdoor ledger verify``: recompute everything and report the first thing that is wrong.

Steps, in order:

1. Every checkpoint's signature verifies with the trusted public key (RFC 8032 Ed25519, C2SP signed
   note) and checkpoint sizes never go backwards.
2. Entries are read in order. Each one: its id follows the previous one (no gap, no reordering); its
   body is a JSON object; SHA-256(0x00 || body) equals its stored leaf hash (RFC 9162, 2.1.1); its
   chain hash is SHA-256(previous chain hash || leaf hash); the Merkle nodes it stores equal the
   nodes recomputed from all leaves so far. The first entry names the trusted key.
3. At each checkpoint's size the root recomputed from the leaves equals the signed root.
4. Every witness's copy verifies with the same key, covers no more entries than the ledger holds,
   and its root equals the recomputed one: a truncated and rebuilt ledger fails here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from blastdoor.ledger import witness
from blastdoor.ledger.checkpoint import Checkpoint, CheckpointError, PublicKey
from blastdoor.ledger.entry import GENESIS_CHAIN, chain_hash, leaf_hash
from blastdoor.ledger.ledger import Ledger
from blastdoor.ledger.merkle import EMPTY_ROOT, Frontier
from blastdoor.ledger.store import Row


@dataclass(kw_only=True)
class Report:
    entries: int = 0
    checkpoints: int = 0
    witnesses: int = 0
    first_bad: int | None = None  # the first entry id that fails
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def fail(self, message: str, *, entry: int | None = None) -> None:
        if entry is not None and self.first_bad is None:
            self.first_bad = entry
        self.problems.append(message)


def verify(ledger: Ledger, *, key: PublicKey | None = None) -> Report:
    report = Report()
    trusted = key or ledger.public_key()
    signed = {
        f"checkpoint {cid}": c for cid, c in _checkpoints(ledger, trusted, report).items()
    }  # step 1
    held = _witnesses(ledger, trusted, report)
    roots = _scan(
        ledger.store.scan(),
        trusted,
        report,
        wanted={c.size for c in [*signed.values(), *held.values()]},
    )
    for name, checkpoint in [*signed.items(), *held.items()]:  # steps 3 and 4
        if checkpoint.size > report.entries and report.first_bad is None:
            report.fail(f"{name} covers {checkpoint.size} entries but the ledger holds {report.entries}: "
                        "entries were removed (the ledger was truncated)", entry=report.entries + 1)  # fmt: skip
        elif checkpoint.size in roots and roots[checkpoint.size] != checkpoint.root:
            report.fail(
                f"{name} (size {checkpoint.size}) does not match the entries: the ledger was rewritten"
            )
    covered = max((c.size for c in signed.values()), default=0)
    if report.ok and covered < report.entries:
        report.notes.append(f"entries {covered + 1}-{report.entries} are not covered by a checkpoint yet "
                            "(`blastdoor ledger checkpoint` signs one)")  # fmt: skip
    return report


def _checkpoints(ledger: Ledger, key: PublicKey, report: Report) -> dict[int, Checkpoint]:
    signed: dict[int, Checkpoint] = {}
    largest = 0
    for stored in ledger.store.checkpoints():
        try:
            checkpoint = key.verify(stored.note)
        except CheckpointError as error:
            report.fail(f"checkpoint {stored.id}: {error.diagnostics()}")
            continue
        if checkpoint.size != stored.size:
            report.fail(
                f"checkpoint {stored.id}: its stored size {stored.size} differs from the signed {checkpoint.size}"
            )
        if checkpoint.size < largest:
            report.fail(
                f"checkpoint {stored.id} covers fewer entries ({checkpoint.size}) than an earlier one ({largest})"
            )
        largest = max(largest, checkpoint.size)
        signed[stored.id] = checkpoint
    report.checkpoints = len(signed)
    return signed


def _witnesses(ledger: Ledger, key: PublicKey, report: Report) -> dict[str, Checkpoint]:
    held: dict[str, Checkpoint] = {}
    for target in ledger.witnesses:
        try:
            notes = witness.fetch(target, origin=key.name)
        except (OSError, UnicodeDecodeError) as error:
            report.fail(f"witness {target} cannot be read: {error}")
            continue
        if not notes:
            report.notes.append(f"witness {target} holds no checkpoint yet")
        for number, note in enumerate(notes, start=1):
            name = f"witness {target}" + (f" (copy {number})" if len(notes) > 1 else "")
            try:
                held[name] = key.verify(note)
            except CheckpointError as error:
                report.fail(f"{name}: {error.diagnostics()}")
    report.witnesses = len(held)
    return held


def _scan(
    rows: Iterable[Row], key: PublicKey, report: Report, *, wanted: set[int]
) -> dict[int, bytes]:
    """Step 2; returns the recomputed roots at the sizes in ``wanted``."""
    frontier = Frontier()
    previous = GENESIS_CHAIN
    roots: dict[int, bytes] = {0: EMPTY_ROOT}
    for row in rows:
        expected = frontier.size + 1
        problem = _check(row, expected, previous, frontier, key)
        if problem:
            report.fail(f"entry {expected}: {problem}", entry=expected)
            break
        previous = row.chain_hash
        if frontier.size in wanted:
            roots[frontier.size] = frontier.root()
    report.entries = frontier.size
    return roots


def _check(row: Row, expected: int, previous: bytes, frontier: Frontier, key: PublicKey) -> str:
    if row.seq != expected:
        return f"found entry {row.seq} where entry {expected} belongs: entries were removed or reordered"
    leaf = leaf_hash(row.body)
    if leaf != row.leaf_hash:
        return "its content does not match its hash: the entry was altered"
    if chain_hash(previous, leaf) != row.chain_hash:
        return (
            "its link to the previous entry is broken: entries were altered, removed or reordered"
        )
    nodes = b"".join(node for _, _, node in sorted(frontier.push(leaf)))
    if nodes != row.nodes:
        return "its Merkle tree nodes were altered"
    try:
        payload = json.loads(row.body)
    except ValueError:
        return "its content is not JSON"
    if not isinstance(payload, dict):
        return "its content is not a JSON object"
    if expected == 1 and payload.get("key") != key.vkey:
        return "the ledger was created with another key than the trusted one"
    return ""
