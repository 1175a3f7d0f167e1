"""Inclusion and consistency proofs that anyone can check offline with only the public key.

A proof document is JSON. ``blastdoor ledger prove N`` gives the entry's canonical body, its RFC 9162
inclusion proof (2.1.3) and the signed checkpoint whose root it leads to; ``blastdoor ledger
consistency OLD NEW`` gives two signed checkpoints and the RFC 9162 consistency proof (2.1.4) that
the newer tree extends the older one unchanged. ``blastdoor ledger check-proof FILE --key PUB``
verifies either kind without the database.
"""

from __future__ import annotations

import json
from typing import Any

from blastdoor.errors import InputError
from blastdoor.ledger import merkle, merkle_verify
from blastdoor.ledger.checkpoint import Checkpoint, PublicKey
from blastdoor.ledger.entry import leaf_hash
from blastdoor.ledger.ledger import Ledger
from blastdoor.ledger.store import LedgerError, StoredCheckpoint

INCLUSION = "blastdoor-inclusion-proof/v1"
CONSISTENCY = "blastdoor-consistency-proof/v1"


def _covering(ledger: Ledger, size: int) -> StoredCheckpoint:
    """The newest checkpoint covering ``size`` entries, signing a new one if none does yet."""
    found = [c for c in ledger.store.checkpoints() if c.size >= size]
    return found[-1] if found else ledger.checkpoint()


def prove(ledger: Ledger, seq: int) -> dict[str, Any]:
    size = ledger.store.size()
    if not 1 <= seq <= size:
        raise LedgerError(f"there is no entry {seq}", hint=f"entries are numbered 1 to {size}")
    stored = _covering(ledger, seq)
    row = ledger.store.rows([seq])[seq]
    path = merkle.inclusion_proof(ledger, seq - 1, stored.size)
    return {
        "format": INCLUSION,
        "entry": seq,
        "leaf_index": seq - 1,
        "tree_size": stored.size,
        "body": row.body.decode("utf-8"),
        "proof": [node.hex() for node in path],
        "checkpoint": stored.note,
    }


def consistency(ledger: Ledger, old_id: int, new_id: int) -> dict[str, Any]:
    by_id = {c.id: c for c in ledger.store.checkpoints()}
    missing = [str(i) for i in (old_id, new_id) if i not in by_id]
    if missing:
        raise LedgerError(
            f"no checkpoint {', '.join(missing)}", hint="`blastdoor ledger checkpoints` lists them"
        )
    old, new = by_id[old_id], by_id[new_id]
    if old.size > new.size:
        raise LedgerError(
            f"checkpoint {old_id} is larger than checkpoint {new_id}",
            hint="give the older one first",
        )
    return {
        "format": CONSISTENCY,
        "old_checkpoint": old.note,
        "new_checkpoint": new.note,
        "proof": [node.hex() for node in merkle.consistency_proof(ledger, old.size, new.size)],
    }


def check(document: str, key: PublicKey) -> str:
    """Verify a proof document offline; a one-line description of what it proves."""
    data = _load(document)
    if data.get("format") == INCLUSION:
        checkpoint = key.verify(_text(data, "checkpoint"))
        index, size = _number(data, "leaf_index"), _number(data, "tree_size")
        if size != checkpoint.size:
            raise merkle.ProofError(
                "the proof's tree size is not the checkpoint's", hint="the proof was altered"
            )
        body = _text(data, "body").encode("utf-8")
        merkle_verify.verify_inclusion(
            leaf=leaf_hash(body), index=index, size=size, proof=_hashes(data), root=checkpoint.root
        )
        return f"entry {index + 1} is in the ledger signed at {_when(checkpoint)} ({size} entries)"
    if data.get("format") == CONSISTENCY:
        old = key.verify(_text(data, "old_checkpoint"))
        new = key.verify(_text(data, "new_checkpoint"))
        merkle_verify.verify_consistency(
            old_size=old.size,
            new_size=new.size,
            old_root=old.root,
            new_root=new.root,
            proof=_hashes(data),
        )
        return f"the ledger of {new.size} entries ({_when(new)}) extends the one of {old.size} entries ({_when(old)}) unchanged"
    raise InputError(
        "this is not a Blastdoor proof document", hint="make one with `blastdoor ledger prove N`"
    )


def _when(checkpoint: Checkpoint) -> str:
    return checkpoint.time or "an unknown time"


def _load(document: str) -> dict[str, Any]:
    try:
        data = json.loads(document)
    except ValueError:
        raise InputError(
            "the proof is not JSON", hint="pass the file `blastdoor ledger prove` wrote"
        ) from None
    if not isinstance(data, dict):
        raise InputError(
            "the proof is not a JSON object", hint="pass the file `blastdoor ledger prove` wrote"
        )
    return data


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str):
        raise InputError(f"the proof lacks {name!r}", hint="the proof file is damaged")
    return value


def _number(data: dict[str, Any], name: str) -> int:
    value = data.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InputError(
            f"the proof's {name!r} is not a whole number", hint="the proof file is damaged"
        )
    return value


def _hashes(data: dict[str, Any]) -> list[bytes]:
    values = data.get("proof")
    if not isinstance(values, list):
        raise InputError("the proof lacks its hashes", hint="the proof file is damaged")
    try:
        return [bytes.fromhex(value) for value in values]
    except (TypeError, ValueError):
        raise InputError(
            "the proof's hashes are not hex", hint="the proof file is damaged"
        ) from None
