"""An approval request: the exact action held, named by a digest nothing else shares.

The digest covers the normalized action (kind, tool, text, working folder, target), every effect
with its target and scope, and the content of every file the action names that exists (a saved
Terraform plan, a SQL file, a script): another flag, another target or a re-made plan file is
another digest, so it needs another approval.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from blastdoor.files import sha256_of
from blastdoor.model import Action, ActionKind, Decision

MAX_NAMED_FILES = 20
MAX_NAMED_FILE_BYTES = 256 * 1024 * 1024
PENDING, APPROVED, DENIED, USED, EXPIRED = "pending", "approved", "denied", "used", "expired"


@dataclass(frozen=True)
class Request:
    id: str
    digest: str
    created: str
    expires: str
    state: str
    required: int
    body: dict[str, Any]
    closed: str = ""

    def state_at(self, now: str) -> str:
        """The state, with a pending or approved request past its expiry read as expired."""
        if self.state in (PENDING, APPROVED) and self.expires <= now:
            return EXPIRED
        return self.state

    @property
    def summary(self) -> str:
        action = self.body.get("action", {})
        text = " ".join(str(action.get("input", "")).split())
        tool = action.get("tool") or action.get("kind", "")
        return f"{tool}: {text[:160]}" if tool else text[:160]


def action_digest(action: Action, decision: Decision, *, files: dict[str, str] | None = None) -> str:
    """``sha256:…`` over the action, its scoped effects and the files it names (``files``, when
    the caller already has :func:`named_files`)."""
    material = {
        "kind": action.kind.value, "tool": action.context.tool, "input": action.input,
        "cwd": action.context.cwd or "", "target": action.context.target,
        "effects": sorted(f"{e.verb.value} {e.target} {e.scope.value}" for e in decision.effects),
        "files": named_files(action) if files is None else files,
    }  # fmt: skip
    text = json.dumps(material, sort_keys=True, ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def named_files(action: Action) -> dict[str, str]:
    """Digests of the existing regular files a shell action names (relative to its folder)."""
    if action.kind is not ActionKind.SHELL:
        return {}
    try:
        words = shlex.split(action.input, comments=False)
    except ValueError:
        words = action.input.split()
    found: dict[str, str] = {}
    cwd = action.context.cwd or ""
    for word in words:
        for candidate in (word, word.partition("=")[2]):  # -var-file=x.tfvars, --file=plan
            if len(found) >= MAX_NAMED_FILES or not candidate or candidate.startswith("-"):
                continue
            path = (
                candidate
                if os.path.isabs(candidate)
                else os.path.join(cwd, candidate)
                if cwd
                else ""
            )
            digest = _file_digest(path) if path else ""
            if digest:
                found[candidate] = digest
    return found


def _file_digest(path: str) -> str:
    try:
        if not os.path.isfile(path) or os.path.getsize(path) > MAX_NAMED_FILE_BYTES:
            return ""
        return sha256_of([Path(path)])[0]
    except OSError:
        return ""


def describe(action: Action, decision: Decision, *, uid: int, files: dict[str, str] | None = None) -> dict[str, Any]:
    """What a person reading the request needs: the action, its effects in plain words, who asked."""
    context = action.context
    return {
        "action": {"kind": action.kind.value, "tool": context.tool, "input": action.input[:20_000],
                   "cwd": context.cwd or "", "target": context.target},
        "effects": [e.detail for e in decision.effects][:50],
        "reasons": list(decision.reasons)[:20],
        "rules": list(decision.rule_ids),
        "files": named_files(action) if files is None else files,
        "requester": {"agent": context.agent, "session": context.session_id, "run": context.run_id,
                      "tool_use": context.tool_use_id, "uid": uid},
    }  # fmt: skip
