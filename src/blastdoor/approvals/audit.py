"""What the approval files and the ledger must agree on, checked by ``blastdoor ledger verify``.

In single-user mode the agent's user can write the approvers' folder and the request book, so those
files cannot refuse an attack; the ledger, whose every entry is chained, signed and witnessed, can
expose one. Every public key in ``HOME/approvers/`` was enrolled through Blastdoor, which recorded
an ``approver-added`` entry with the key's id: a key without one was planted. Every grant is used
once, atomically, and recorded as one ``approval-used`` entry: a request used twice was replayed
by rewriting the book.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from blastdoor.approvals.keys import registered

_TYPES = (b'"type":"approver-added"', b'"type":"approval-used"')


def recorded(bodies: Iterable[bytes]) -> list[dict[str, Any]]:
    """The ``approver-added`` and ``approval-used`` entries among canonical entry bodies (read
    only where their type appears, so the rest of the ledger costs a substring search)."""
    found = []
    for body in bodies:
        if any(kind in body for kind in _TYPES):
            try:
                entry = json.loads(body)
            except ValueError:
                continue  # a body that is not JSON fails the chain's check, which says so
            if isinstance(entry, dict):
                found.append(entry)
    return found


def problems(entries: Iterable[dict[str, Any]], public_folder: Path) -> list[str]:
    """Where the approvers' folder or the uses of requests disagree with ``entries``."""
    added, used = set(), Counter[str]()
    for entry in entries:
        if entry.get("type") == "approver-added":
            added.add((str(entry.get("approver", "")), str(entry.get("key", ""))))
        elif entry.get("type") == "approval-used":
            used[str(entry.get("request", ""))] += 1
    found = [f"approver {name}'s key {approver.key_id} in {public_folder} was never enrolled through Blastdoor "
             "(no approver-added entry): it was put there by hand"
             for name, approver in registered(public_folder).items() if (name, approver.key_id) not in added]  # fmt: skip
    found += [f"approval request {request} was used {count} times; a grant is used once: the request book was rewritten"
              for request, count in sorted(used.items()) if count > 1]  # fmt: skip
    return found
