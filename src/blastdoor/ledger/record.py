"""What a decision looks like as a ledger entry (the payload; see :mod:`blastdoor.ledger.entry`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from blastdoor.ledger.entry import ENTRY_VERSION, now
from blastdoor.model import Action, Decision


def decision_payload(
    action: Action,
    decision: Decision,
    *,
    policy_digest: str,
    source: str,
    rules_files: Mapping[str, str] | None = None,
    credential: str = "",
    request: str = "",
) -> dict[str, Any]:
    context = action.context
    payload: dict[str, Any] = {
        "v": ENTRY_VERSION,
        "type": "decision",
        "time": now(),
        "source": source,
        "agent": context.agent,
        "session": context.session_id,
        "run": context.run_id,
        "tool_use": context.tool_use_id,
        "cwd": context.cwd or "",
        **({"uid": context.uid} if context.uid is not None else {}),
        "action": _clean(
            {
                "kind": action.kind.value,
                "tool": context.tool,
                "input": action.input,
                "target": context.target,
            }
        ),
        "decision": decision.to_json(),
        "policy_digest": policy_digest,
        "rules_files": dict(rules_files or {}),
        "credential_name": credential,
        "request": request,
    }
    return _clean(payload)


def _clean(payload: dict[str, Any]) -> dict[str, Any]:
    """Leave out empty fields, and make every string valid Unicode (RFC 8785 needs it)."""
    return {key: _text(value) for key, value in payload.items() if value not in ("", None, {}, [])}


def _text(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {str(k): _text(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_text(v) for v in value]
    return value
