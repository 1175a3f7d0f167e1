"""The batch contract (docs/batch.md): JSONL actions in, exactly one JSONL decision per line out.

Input line: ``{"id": ..., "kind": "shell", "input": "...", "context": {"env": {...}, "cwd": "..."}}``.
Output line: ``{"id", "decision", "reasons", "effects"}``, or ``{"line": N, "error": "..."}`` for a
line that cannot be read. Nothing a line contains can stop the lines after it from being answered.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from blastdoor.credentials import Credential
from blastdoor.errors import InputError
from blastdoor.judge import judge
from blastdoor.model import Action, ActionKind, Context, Decision
from blastdoor.policy.engine import Policy

MAX_LINE_BYTES = 2_000_000


def parse_action(record: Any) -> Action:
    """Validate one decoded JSON record into an Action (raises InputError)."""
    if not isinstance(record, dict):
        raise InputError('a line must be a JSON object with an "input" field')
    kind_name = record.get("kind", "shell")
    if not isinstance(kind_name, str):
        raise InputError('"kind" must be a string such as "shell"')
    if "input" not in record:
        raise InputError('the line has no "input" field')
    raw = record["input"]
    try:
        kind = ActionKind(kind_name)
    except ValueError:
        kind = None
    if kind in (ActionKind.SHELL, ActionKind.SQL) and not isinstance(raw, str):
        raise InputError(f'"input" must be a string for kind {kind_name!r}')
    text = raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False)
    context = _context(record.get("context", {}), plan=kind is ActionKind.TERRAFORM_PLAN)
    if kind is None:
        # A kind Blastdoor does not know yet: judged as execute-unknown (see judge.analyze).
        return Action(kind=ActionKind.MCP_CALL, input=f"[{kind_name}] {text}", context=context)
    return Action(kind=kind, input=text, context=context)


def _context(value: Any, *, plan: bool = False) -> Context:
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise InputError('"context" must be an object like {"env": {}, "cwd": "/path"}')
    env = value.get("env", {}) or {}
    if not isinstance(env, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in env.items()
    ):
        raise InputError('"context.env" must map names to string values')
    cwd = value.get("cwd")
    if cwd is not None and not isinstance(cwd, str):
        raise InputError('"context.cwd" must be a string path')
    strings = {
        key: value.get(key, "")
        for key in ("agent", "session_id", "run_id", "tool_use_id", "target", "dialect")
    }
    if not all(isinstance(v, str) for v in strings.values()):
        raise InputError(
            "context fields agent, session_id, run_id, tool_use_id, target, dialect must be strings"
        )
    workspace = value.get("workspace", "")
    if not isinstance(workspace, str):
        raise InputError("context.workspace must be a string (the Terraform workspace)")
    if plan and workspace and not strings["target"]:
        strings["target"] = workspace  # where a terraform_plan lands
    return Context.create(env=env, cwd=cwd, **strings)


def answer(decision: Decision, record_id: Any) -> dict[str, Any]:
    data = decision.to_json()
    return {"id": record_id, "decision": data["decision"], "reasons": data["reasons"],
            "rules": data["rules"], "effects": data["effects"]}  # fmt: skip


Judged = Callable[[Action, Decision], None]


def run(
    lines: Iterable[bytes],
    policy: Policy,
    *,
    credentials: tuple[Credential, ...] = (),
    after: Callable[[Decision], Decision] | None = None,
    on_decision: Judged | None = None,
) -> Iterator[str]:
    """One output line (JSON text, no newline) per input line, in order.

    Each action is judged as ``blastdoor check`` judges one: against the policy and the purposes
    of the configured ``credentials``, then through ``after`` (the Terraform state check, when the
    batch is recorded). ``on_decision`` sees every action judged, before its answer line is yielded.
    """

    def decide(action: Action) -> Decision:
        decision = judge(action, policy, credentials=credentials)
        return after(decision) if after is not None else decision

    for number, raw in enumerate(lines, start=1):
        yield json.dumps(_one(number, raw, decide, on_decision), ensure_ascii=False)


def _one(
    number: int, raw: bytes, decide: Callable[[Action], Decision], on_decision: Judged | None
) -> dict[str, Any]:
    if len(raw) > MAX_LINE_BYTES:
        return {
            "line": number,
            "error": f"line is longer than {MAX_LINE_BYTES} bytes; split the input",
        }
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"line": number, "error": "line is not valid UTF-8; encode the input as UTF-8 JSON"}
    if not text.strip():
        return {"line": number, "error": "empty line; each line must be one JSON object"}
    try:
        record = json.loads(text)
    except json.JSONDecodeError as error:
        return {"line": number, "error": f"not JSON ({error.msg} at column {error.colno})"}
    try:
        action = parse_action(record)
    except InputError as error:
        return {"line": number, "error": error.diagnostics()}
    decision = decide(action)
    if on_decision:
        on_decision(action, decision)
    return answer(decision, record.get("id"))
