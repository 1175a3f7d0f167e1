"""Telling people about a new request: a POST to the webhook in config.toml.

``json``: the request as an object (``type: "blastdoor.approval-request"``). ``slack``: a
Slack-compatible incoming-webhook payload (``text`` plus one section block). The POST is made by a
process of its own (:func:`dispatch`, ``python -m blastdoor.approvals.notify``), so the hook that
opened the request answers the agent at once however slow the webhook is; that process records
how it went as an ``approval-notice`` entry (sent, or what went wrong).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from typing import Any

from blastdoor.approvals.request import Request
from blastdoor.config import Settings

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


def dispatch(settings: Settings, request: Request) -> str:
    """Start the process that announces ``request``; what the request entry says about it."""
    env = {**os.environ, "BLASTDOOR_HOME": str(settings.home)}
    try:
        subprocess.Popen([sys.executable, "-m", "blastdoor.approvals.notify", request.id], env=env,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True, close_fds=True)  # fmt: skip
    except OSError as error:
        return f"failed: cannot start the notifier: {error.strerror or error}"
    return f"queued ({settings.webhook_format})"


def announce(settings: Settings, ident: str) -> dict[str, Any]:
    """POST request ``ident`` to the webhook and record the result; the ``approval-notice`` entry."""
    from blastdoor.approvals.book import Book
    from blastdoor.ledger.entry import ENTRY_VERSION, now
    from blastdoor.ledger.ledger import Ledger

    with Ledger.open(settings) as ledger:
        request = Book(ledger.store).get(ident)
        failed = send(settings.webhook, request, style=settings.webhook_format) if request else "no such request"
        entry = {"v": ENTRY_VERSION, "type": "approval-notice", "time": now(), "source": "approvals",
                 "request": ident, "format": settings.webhook_format, "result": "failed" if failed else "sent",
                 **({"error": failed} if failed else {})}  # fmt: skip
        ledger.record(entry)
    return entry


if __name__ == "__main__":  # the notifier process dispatch() starts
    if len(sys.argv) == 2:
        try:
            announce(Settings.resolve(), sys.argv[1])
        except Exception:  # nobody reads this process's output; the request entry said "queued"
            sys.exit(1)
