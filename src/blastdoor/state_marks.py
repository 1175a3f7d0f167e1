"""Terraform states going backwards: the check after the policy that catches an older state put
back over a newer one (DataTalks.Club: an old state archive unpacked, then ``terraform destroy``).

Every state-writing terraform command is analyzed with the lineage and serial of the local state
it would write over (``tfstate=LINEAGE:SERIAL``; ``state push FILE`` adds ``tfstate-push=``). Those
tags go into the ledger with the decision. The highest serial seen per lineage is also kept in
Blastdoor's home (``terraform-states.json``, a cache of what the ledger holds), so the check is one
small file read: a serial below the highest seen for its lineage turns the decision into a hold.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from blastdoor.analyze.terraform_state import PUSH_TAG, from_tag
from blastdoor.files import write_atomic
from blastdoor.model import Decision, DecisionKind

INDEX = "terraform-states.json"
RULE = "terraform.state-regression"
MAX_LINEAGES = 10_000


def check(decision: Decision, home: Path) -> Decision:
    """``decision``, held when a state it names is older than one seen before; the index updated."""
    marks = [found for effect in decision.effects for tag in effect.tags if (found := from_tag(tag)) is not None]
    if not marks:
        return decision
    path = home / INDEX
    index = _load(path)
    changed = False
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


def _load(path: Path) -> dict[str, int]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): v for k, v in data.items() if isinstance(v, int)} if isinstance(data, dict) else {}


def _save(path: Path, index: dict[str, int]) -> None:
    with contextlib.suppress(OSError):
        write_atomic(path, json.dumps(index, sort_keys=True), mode=0o600)
