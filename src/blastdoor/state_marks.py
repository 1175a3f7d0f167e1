"""Terraform states going backwards: the check after the policy that catches an older state put
back over a newer one (DataTalks.Club: an old state archive unpacked, then ``terraform destroy``).

Every state-writing terraform command is analyzed with the lineage and serial of the local state
it would write over (``tfstate=LINEAGE:SERIAL``; ``state push FILE`` adds ``tfstate-push=``). Those
tags go into the ledger with the decision. The highest serial seen per lineage is also kept in
Blastdoor's home (``terraform-states.json``, a cache of what the ledger holds), so the check is one
small file read: a serial below the highest seen for its lineage turns the decision into a hold.
When that file is gone or unreadable (deleted, say, to make Blastdoor forget), it is rebuilt from
the ledger's entries before the check, so forgetting takes rewriting the ledger.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from blastdoor.analyze.terraform_state import PUSH_TAG, from_tag
from blastdoor.files import write_atomic
from blastdoor.model import Decision, DecisionKind

INDEX = "terraform-states.json"
RULE = "terraform.state-regression"
MAX_LINEAGES = 10_000
_IN_ENTRY = re.compile(rb'"(tfstate(?:-push)?=[^"]{1,100})"')  # a tag, read by from_tag

History = Callable[[], Iterable[bytes]]
"""The ledger's entry bodies, oldest first: read only when the index must be rebuilt."""


def check(decision: Decision, home: Path, history: History | None = None) -> Decision:
    """``decision``, held when a state it names is older than one seen before; the index updated
    (rebuilt from ``history`` first when it is missing)."""
    marks = [found for effect in decision.effects for tag in effect.tags if (found := from_tag(tag)) is not None]
    if not marks:
        return decision
    path = home / INDEX
    loaded = _load(path)
    changed = loaded is None
    index = loaded if loaded is not None else (rebuild(history()) if history is not None else {})
    for name, mark in marks:
        highest = index.get(mark.lineage)
        if highest is not None and mark.serial < highest:
            what = "the state file it would push" if name == PUSH_TAG else "the local state"
            decision = decision.overruled(DecisionKind.HOLD, f"Terraform state going backwards: {what} (lineage "
                                          f"{mark.lineage}) is at serial {mark.serial}, but serial {highest} was seen "
                                          "before; an older state would overwrite newer infrastructure. Restore the "
                                          "newest state, or have a person approve this.", RULE)  # fmt: skip
        elif highest is None or mark.serial > highest:
            index[mark.lineage] = mark.serial
            changed = True
    if changed and len(index) <= MAX_LINEAGES:
        _save(path, index)
    return decision


def rebuild(bodies: Iterable[bytes]) -> dict[str, int]:
    """The highest serial per lineage that the entry ``bodies`` name."""
    index: dict[str, int] = {}
    for body in bodies:
        if b"tfstate" not in body:
            continue  # most entries: not searched at all
        for tag in _IN_ENTRY.findall(body):
            if (found := from_tag(tag.decode("utf-8", "replace"))) is not None:
                _, mark = found
                index[mark.lineage] = max(index.get(mark.lineage, 0), mark.serial)
    return index


def _load(path: Path) -> dict[str, int] | None:
    """The index, or None when it is missing or unreadable."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return {str(k): v for k, v in data.items() if isinstance(v, int)} if isinstance(data, dict) else None


def _save(path: Path, index: dict[str, int]) -> None:
    with contextlib.suppress(OSError):
        write_atomic(path, json.dumps(index, sort_keys=True), mode=0o600)
