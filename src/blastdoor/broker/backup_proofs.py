"""Whether a verified backup stands behind a destructive production action.

``blastdoor backup verify`` writes a ``backup-proof`` entry to the ledger; this module keeps an
index (``HOME/backup-proofs.json``: profile name → the entry number of its newest verified proof)
and answers, for a brokered call, whether every backup the profile depends on has a proof younger
than ``[safeguards] backup_max_age_hours``. The index only says where to look: the entry itself is
read back from the ledger, its bytes checked against their leaf hash, and its profile, result and
dump time read from there, so an edited or forged index finds nothing and the call is refused.

Which backups a profile depends on: those it names with ``--backup-proof NAME`` (a Terraform or
cloud profile names the database profile whose data it could destroy), else its own when it holds a
database URL. A profile with neither cannot show a backup, so its destructive production actions
are refused until a person declares one.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from blastdoor.broker.backup_verify import too_old
from blastdoor.broker.profile import Profile
from blastdoor.config import Settings
from blastdoor.files import write_atomic
from blastdoor.model import Decision, DecisionKind, Effect, Scope, Verb

PROOF = "backup-proof"
RULE = "safeguard.backup-required"
STATEFUL_TAGS = frozenset({"stateful", "k8s-data"})  # a Terraform plan's, an HTTP platform's, Kubernetes'


def remember(settings: Settings, profile: str, seq: int) -> None:
    """Point the index at entry ``seq``, the newest verified proof of ``profile``'s backup."""
    index = _index(settings.backup_proofs)
    index[profile] = seq
    write_atomic(settings.backup_proofs, json.dumps(index, indent=2, sort_keys=True) + "\n", mode=0o600)


def refusal(decision: Decision, profile: Profile, settings: Settings, ledger: Any) -> str:
    """Why ``decision`` may not go ahead without a fresher backup ('' when it may)."""
    if profile.scope is not Scope.PRODUCTION or decision.kind is DecisionKind.DENY or not decision.enforced:
        return ""
    losing = [found for found in decision.effects if found.scope is Scope.PRODUCTION and _loses(found, settings.require_backup)]
    if not losing:
        return ""
    what = f"it would {losing[0].verb.value} {losing[0].target}" + (f" (and {len(losing) - 1} more)" if len(losing) > 1 else "")
    sources = profile.backup_sources()
    if not sources:
        return (f"{what} with production profile {profile.name}, which names no backup that stands behind it; a person "
                f"declares one (blastdoor profile add {profile.name} ... --backup-proof DATABASE-PROFILE --replace)")  # fmt: skip
    index = _index(settings.backup_proofs)
    stale = [problem for name in sources if (problem := _problem(name, index.get(name), settings, ledger))]
    if not stale:
        return ""
    return f"{what}, and no recent verified backup stands behind it: {'; '.join(stale)}"


def _loses(found: Effect, mode: str) -> bool:
    """Whether ``found`` is a loss the ``[safeguards] require_backup`` mode guards."""
    if found.verb not in (Verb.DESTROY, Verb.DELETE) or mode == "off":
        return False
    return (mode == "delete" or (mode == "destroy" and found.verb is Verb.DESTROY)
            or bool(STATEFUL_TAGS & found.tags))  # fmt: skip


def _problem(name: str, seq: object, settings: Settings, ledger: Any) -> str:
    """What is wrong with ``name``'s proof, which the index says is entry ``seq`` ('' when nothing)."""
    fix = f"run blastdoor backup verify --profile {name}"
    if not isinstance(seq, int):
        return f"{name} has no verified backup ({fix})"
    row = ledger.store.rows([seq]).get(seq)
    entry = row.entry() if row is not None else None
    payload = entry.payload if entry is not None and entry.body_intact() else {}
    if payload.get("type") != PROOF or payload.get("profile") != name or payload.get("result") != "verified":
        return f"the proof recorded for {name} (entry {seq}) is not a verified backup of it ({fix})"
    try:
        made = datetime.strptime(str(payload.get("dump", {}).get("created", "")), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return f"the proof for {name} (entry {seq}) has no dump time ({fix})"
    old = too_old(f"the newest verified backup of {name}", made, now=datetime.now(UTC), max_age_hours=settings.backup_max_age_hours)
    return f"{old} ({fix} on a fresh dump)" if old else ""


def _index(path: Path) -> dict[str, Any]:
    try:
        if os.path.getsize(path) > 1_000_000:
            return {}
        value = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}
