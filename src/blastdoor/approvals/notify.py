"""Telling people about a new request: a POST to the webhook in config.toml.

``json``: the request as an object (``type: "blastdoor.approval-request"``). ``slack``: a
Slack-compatible incoming-webhook payload (``text`` plus one section block). Best effort with a
short timeout: a webhook that is down never blocks the hold itself; the failure is returned so the
caller can record it.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from blastdoor.approvals.request import Request

TIMEOUT_SECONDS = 3.0


def payload(request: Request, *, style: str) -> dict[str, Any]:
    body = request.body
    who = body.get("requester", {})
    if style == "slack":
        text = (f"Blastdoor is holding an action for approval: *{request.id}*\n"
                f"`{request.summary}`\n{'; '.join(body.get('effects', [])[:3])}\n"
                f"requested by {who.get('agent') or 'unknown agent'} (session {who.get('session') or '?'}); "
                f"expires {request.expires[:16].replace('T', ' ')} UTC. Approve: `blastdoor approve {request.id}`")  # fmt: skip
        return {
            "text": text,
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
        }
    return {"type": "blastdoor.approval-request", "id": request.id, "digest": request.digest,
            "created": request.created, "expires": request.expires, "required": request.required,
            "action": body.get("action", {}), "effects": body.get("effects", []),
            "reasons": body.get("reasons", []), "requester": who,
            "approve": f"blastdoor approve {request.id}"}  # fmt: skip


def send(url: str, request: Request, *, style: str) -> str:
    """POST the notice; '' when it was accepted, otherwise what went wrong."""
    data = json.dumps(payload(request, style=style)).encode()
    message = urllib.request.Request(url, data=data, method="POST",
                                     headers={"Content-Type": "application/json"})  # fmt: skip
    try:
        with urllib.request.urlopen(message, timeout=TIMEOUT_SECONDS) as response:
            return "" if 200 <= response.status < 300 else f"HTTP {response.status}"
    except (OSError, ValueError) as error:
        return str(error)[:300]
