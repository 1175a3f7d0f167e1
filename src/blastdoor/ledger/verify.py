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

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field

from blastdoor.ledger import chain, witness
from blastdoor.ledger.checkpoint import Checkpoint, CheckpointError, PublicKey
from blastdoor.ledger.entry import GENESIS_CHAIN
from blastdoor.ledger.ledger import Ledger
from blastdoor.ledger.merkle import EMPTY_ROOT, Frontier
from blastdoor.ledger.store import LedgerError, Store

_JSON = json.JSONDecoder()


@dataclass(kw_only=True)
class Report:
    entries: int = 0
    checkpoints: int = 0
    witnesses: int = 0
    readers: int = 1  # processes that read the entries (one per core for a large ledger)
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
    roots = _scan(ledger, trusted, report, wanted={c.size for c in [*signed.values(), *held.values()]})
    for name, checkpoint in [*signed.items(), *held.items()]:  # steps 3 and 4
        if checkpoint.size > report.entries and report.first_bad is None:
            report.fail(f"{name} covers {checkpoint.size} entries but the ledger holds {report.entries}: "
                        "entries were removed (the ledger was truncated)", entry=report.entries + 1)  # fmt: skip
        elif roots.get(checkpoint.size) != checkpoint.root and (checkpoint.size in roots or report.first_bad is None):
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


@dataclass
class Segment:
    """What one reader found in entries ``start``..``stop`` (``stop`` 0: to the end)."""

    start: int
    stop: int
    checked: int = 0  # the last entry found good
    problem: str = ""  # what is wrong with entry checked + 1 ('' when nothing)
    roots: dict[int, bytes] = field(default_factory=dict)


def _scan(ledger: Ledger, key: PublicKey, report: Report, *, wanted: set[int]) -> dict[int, bytes]:
    """Step 2; returns the recomputed roots at the sizes in ``wanted``.

    A large ledger is read by one process per core, each taking a range of entries and starting
    from the chain hash and Merkle frontier stored just before it. That start is only trusted if
    the ranges before it verify, which is what the stitching checks: the first problem in range
    order is the one reported, and nothing after it counts.
    """
    size = ledger.store.size()
    readers = min(MAX_READERS, os.cpu_count() or 1, max(1, size // PER_READER)) if ledger.url else 1
    bounds = [size * part // readers for part in range(readers + 1)]
    segments = [Segment(start=bounds[i] + 1, stop=bounds[i + 1] if i + 1 < readers else 0) for i in range(readers)]
    if readers == 1:
        segments = [_segment(ledger.store, segments[0], key, wanted)]
    else:
        later = [_start_reader(ledger.url, part, key.vkey, wanted) for part in segments[1:]]
        first = _segment(ledger.store, segments[0], key, wanted)
        segments = [first, *(_finish_reader(child, part) for child, part in zip(later, segments[1:], strict=True))]
    report.readers = len(segments)
    roots: dict[int, bytes] = {0: EMPTY_ROOT}
    for part in segments:
        roots |= part.roots
        report.entries = part.checked
        if part.problem:
            report.fail(f"entry {part.checked + 1}: {part.problem}", entry=part.checked + 1)
            break
    return roots


MAX_READERS = 4
PER_READER = 100_000  # fewer entries than this per process do not repay starting it


def _start_reader(url: str, part: Segment, vkey: str, wanted: set[int]) -> subprocess.Popen[bytes]:
    """A process that verifies one range (``python -m blastdoor.ledger.verify``); the database URL
    goes on its standard input, never on its command line."""
    # -I and cwd "/": nothing in the folder verify was started from (a json.py an agent left there)
    # or in PYTHON* variables can stand in for the verifier's own modules
    child = subprocess.Popen([sys.executable, "-I", "-m", "blastdoor.ledger.verify"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd="/")  # fmt: skip
    order = {"url": url, "start": part.start, "stop": part.stop, "vkey": vkey, "wanted": sorted(wanted)}
    assert child.stdin is not None
    child.stdin.write(json.dumps(order).encode())
    child.stdin.close()
    return child


def _finish_reader(child: subprocess.Popen[bytes], part: Segment) -> Segment:
    assert child.stdout is not None and child.stderr is not None
    out, err = child.stdout.read(), child.stderr.read()  # its output is one line, its errors a few
    child.wait()
    try:
        found = json.loads(out)
        part.checked, part.problem = int(found["checked"]), str(found["problem"])
        part.roots = {int(size): bytes.fromhex(root) for size, root in found["roots"].items()}
        end = part.stop or part.checked  # 0: to the end
        if not part.start - 1 <= part.checked <= end or (part.checked < end and not part.problem):
            raise ValueError("a range's report does not fit the range")
    except (ValueError, KeyError, TypeError):
        said = err.decode("utf-8", "replace").strip().splitlines()
        raise LedgerError(f"a verifying process failed on entries {part.start}-{part.stop or 'end'}: "
                          f"{said[-1] if said else 'no output'}", hint="run blastdoor ledger verify again") from None  # fmt: skip
    return part


def _read_range() -> None:
    """The reader process: an order on standard input, the range's findings on standard output."""
    from blastdoor.ledger.ledger import open_store

    order = json.loads(sys.stdin.buffer.read())
    store = open_store(order["url"])
    try:
        part = _segment(store, Segment(start=order["start"], stop=order["stop"]), _KeyName(order["vkey"]),
                        set(order["wanted"]))  # fmt: skip
    finally:
        store.close()
    print(json.dumps({"checked": part.checked, "problem": part.problem,
                      "roots": {str(size): root.hex() for size, root in part.roots.items()}}))  # fmt: skip


@dataclass(frozen=True)
class _KeyName:
    """Only the key's name is needed past entry 1 (which the first range always holds)."""

    vkey: str


def _segment(store: Store, part: Segment, key: PublicKey | _KeyName, wanted: set[int]) -> Segment:
    """Verify the entries of ``part``, starting from the state stored just before it.

    The loop is the verifier's hot path (a million entries is a normal ledger), so entry.py's
    leaf and chain hashes are spelled out here with local names; the tamper tests (every kind of
    damage, one reader and several) are what keep the two in step.
    """
    expected = part.start - 1
    part.checked = expected
    if expected:
        try:
            edge = store.rows(chain.frontier_seqs(expected))
            frontier, previous = chain.frontier_at(expected, edge), edge[expected].chain_hash
        except (LedgerError, KeyError):
            part.problem = "entries before it are missing"
            return part
    else:
        frontier, previous = Frontier(), GENESIS_CHAIN
    push, sha256 = frontier.push, hashlib.sha256
    problem = ""
    for row in store.scan(start=part.start, stop=part.stop):
        expected += 1
        body = row.body
        leaf = sha256(b"\x00" + body).digest()
        if row.seq != expected:
            problem = f"found entry {row.seq} where entry {expected} belongs: entries were removed or reordered"
        elif leaf != row.leaf_hash:
            problem = "its content does not match its hash: the entry was altered"
        elif sha256(previous + leaf).digest() != row.chain_hash:
            problem = "its link to the previous entry is broken: entries were altered, removed or reordered"
        elif b"".join([node for _, _, node in push(leaf)]) != row.nodes:  # completed in level order, as stored
            problem = "its Merkle tree nodes were altered"
        else:
            problem = _content(body, expected, key)
        if problem:
            expected -= 1
            break
        previous = row.chain_hash
        if expected in wanted:
            part.roots[expected] = frontier.root()
    if not problem and part.stop and expected < part.stop:  # the range ended early: say what comes next
        after = next(iter(store.scan(start=expected + 1)), None)
        problem = (f"found entry {after.seq} where entry {expected + 1} belongs: entries were removed or reordered"
                   if after else "it is missing: entries were removed")  # fmt: skip
    part.checked, part.problem = expected, problem
    return part


def _content(body: bytes, seq: int, key: PublicKey | _KeyName) -> str:
    """What is wrong with an entry's JSON ('' when nothing)."""
    try:
        text = body.decode("utf-8")
        payload, end = _JSON.raw_decode(text)
    except ValueError:
        return "its content is not JSON"
    if end != len(text):
        return "its content is not JSON"
    if type(payload) is not dict:
        return "its content is not a JSON object"
    if seq == 1 and payload.get("key") != key.vkey:
        return "the ledger was created with another key than the trusted one"
    return ""


if __name__ == "__main__":
    _read_range()
