"""One hook call, start to finish: parse → judge → record → answer, failing closed.

Used the same way by the resident daemon (:mod:`blastdoor.integrations.daemon`) and in process
when the daemon is not running. A decision is given to the agent only after it is in the ledger;
any error on the way becomes a block.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from blastdoor.config import Settings
from blastdoor.errors import BlastdoorError
from blastdoor.integrations.adapter import Adapter, HookCall, Reply, Verdict
from blastdoor.integrations.agents import adapter_for
from blastdoor.integrations.payload import decode
from blastdoor.model import Action, Context, Decision, DecisionKind
from blastdoor.policy.engine import Policy

if TYPE_CHECKING:
    from blastdoor.ledger.entry import Entry

RULES_FILES = ("CLAUDE.md", "CLAUDE.local.md", "AGENTS.md", "GEMINI.md", ".cursorrules",
               ".github/copilot-instructions.md", ".blastdoor.toml")  # fmt: skip
MAX_RULES_FILE_BYTES = 1_000_000


def run_id(agent: str, session_id: str, env: Mapping[str, str]) -> str:
    """The run a call belongs to: ``BLASTDOOR_RUN_ID`` when ``blastdoor run`` opened one, otherwise
    one per agent session (stable across resumes, which keep the session id)."""
    given = env.get("BLASTDOOR_RUN_ID", "")
    if given:
        return given[:200]
    if not session_id:
        return ""
    return "run-" + hashlib.sha256(f"{agent}\0{session_id}".encode()).hexdigest()[:16]


def verdict_of(decision: Decision, *, request: str) -> Verdict:
    """The message the agent reads: what was decided, why, and what it may do next."""
    if not decision.enforced or decision.kind is DecisionKind.ALLOW:
        return Verdict(None if not decision.enforced else DecisionKind.ALLOW)
    why = "; ".join(decision.reasons) or "the policy says so"
    rules = f" (rules: {', '.join(decision.rule_ids)})" if decision.rule_ids else ""
    if decision.kind is DecisionKind.ASK:
        return Verdict(DecisionKind.ASK, f"Blastdoor asks for confirmation: {why}{rules}")
    if decision.kind is DecisionKind.HOLD:
        return Verdict(DecisionKind.HOLD, (
            f"Blastdoor is holding this action until a person approves it out of band: {why}{rules}. "
            f"Approval request {request}. Do not try to reach the same result another way. Tell the "
            "user the request id; after a person has approved it, retry exactly the same action."
        ))  # fmt: skip
    return Verdict(DecisionKind.DENY, (
        f"Blastdoor denied this action: {why}{rules}. Do not try to work around this block; tell the "
        "user what you meant to do and why."
    ))  # fmt: skip


def failure_verdict(reason: str) -> Verdict:
    return Verdict(
        DecisionKind.DENY, f"Blastdoor blocked this call because it could not judge it: {reason}"
    )


@dataclass
class Runtime:
    """What stays loaded between calls in the daemon: settings, policies and the open ledger."""

    settings: Settings
    _policies: dict[tuple[Any, ...], Policy] = field(default_factory=dict)
    _ledger: Any = None
    _rules: dict[tuple[str, int, int], str] = field(default_factory=dict)

    def policy(self, cwd: str) -> Policy:
        from blastdoor.policy.freeze import is_frozen
        from blastdoor.policy.loader import find_repo_policy, load

        user = self.settings.policy if self.settings.policy.exists() else None
        repo = find_repo_policy(cwd or None)
        frozen = is_frozen(self.settings.freeze_file)
        key = (_stamp(user), _stamp(repo), frozen)
        if key not in self._policies:
            if len(self._policies) > 64:
                self._policies.clear()
            self._policies[key] = load(user=user, repo=repo, frozen=frozen)
        return self._policies[key]

    def ledger(self) -> Any:
        from blastdoor.ledger.ledger import Ledger

        if self._ledger is None:
            self._ledger = Ledger.open(self.settings)
        return self._ledger

    def record(self, payload: Mapping[str, Any]) -> Entry:
        entry: Entry = self.ledger().record(payload)
        return entry

    def decide(self, action: Action) -> tuple[Policy, Decision, str]:
        """Judge ``action`` under the policy for its folder and the configured credential purposes,
        then settle a hold: the policy used, the decision to enforce and the request it names."""
        policy = self.policy(action.context.cwd or "")
        decision = self.judge(action, policy, credentials=self.settings.credentials)
        return (policy, *self.settle(action, decision))

    def judge(self, action: Action, policy: Policy, **options: Any) -> Decision:
        """:func:`blastdoor.judge.judge`, then the checks that read this home's state (a Terraform
        state going backwards): what every caller that enforces a decision runs."""
        from blastdoor.judge import judge
        from blastdoor.state_marks import check

        return check(judge(action, policy, **options), self.settings.home,
                     lambda: (row.body for row in self.ledger().store.scan()))  # fmt: skip

    def settle(self, action: Action, decision: Decision) -> tuple[Decision, str]:
        """A hold either uses a valid approval of this exact action or names its request."""
        if decision.kind is not DecisionKind.HOLD:
            return decision, ""
        from blastdoor.approvals.book import Book
        from blastdoor.approvals.gate import settle

        ledger = self.ledger()
        return settle(action, decision, book=Book(ledger.store), settings=self.settings,
                      record=ledger.record, redact=ledger.redact)  # fmt: skip

    def rules_files(self, cwd: str) -> dict[str, str]:
        """Digests of the agent rule files in ``cwd`` (cached by size and modification time)."""
        found: dict[str, str] = {}
        for name in RULES_FILES:
            path = os.path.join(cwd, name)
            try:
                info = os.stat(path)
            except OSError:
                continue
            if info.st_size > MAX_RULES_FILE_BYTES:
                continue
            key = (path, info.st_size, info.st_mtime_ns)
            if key not in self._rules:
                try:
                    self._rules[key] = (
                        "sha256:" + hashlib.sha256(Path(path).read_bytes()).hexdigest()
                    )
                except OSError:
                    continue
            found[name] = self._rules[key]
        return found

    def close(self) -> None:
        if self._ledger is not None:
            self._ledger.close()
            self._ledger = None


def _stamp(path: Path | None) -> tuple[str, int, int] | None:
    if path is None:
        return None
    try:
        info = path.stat()
    except OSError:
        return (str(path), -1, -1)
    return (str(path), info.st_size, info.st_mtime_ns)


def handle(agent: str, raw: bytes, *, env: Mapping[str, str], cwd: str, runtime: Runtime, uid: int | None = None) -> Reply:
    """The agent's answer for one hook call (``uid``: the caller's OS user, when a daemon serving
    other users knows it). Never raises: every failure is a block."""
    try:
        adapter = adapter_for(agent)
    except BlastdoorError as error:
        return Reply(
            "", 1, f"blastdoor: {error.diagnostics()}\n"
        )  # the wrapper turns this into the agent's block
    try:
        return _handle(adapter, raw, env=env, cwd=cwd, runtime=runtime, uid=uid)
    except BlastdoorError as error:
        return adapter.reply(failure_verdict(error.diagnostics()))
    except Exception as error:
        return adapter.reply(failure_verdict(f"internal error ({type(error).__name__}: {error})"))


def _handle(
    adapter: Adapter, raw: bytes, *, env: Mapping[str, str], cwd: str, runtime: Runtime, uid: int | None
) -> Reply:
    call = adapter.parse(decode(raw))
    if call.kind is None:
        return adapter.reply(Verdict(None))
    action = action_of(call, env=env, cwd=cwd, uid=uid)
    from blastdoor.ledger.record import decision_payload

    policy, decision, request = runtime.decide(action)
    payload = decision_payload(action, decision, policy_digest=policy.digest, source=f"hook:{adapter.name}",
                               rules_files=runtime.rules_files(action.context.cwd or ""), request=request)  # fmt: skip
    runtime.record(payload)
    return adapter.reply(verdict_of(decision, request=request))


def action_of(call: HookCall, *, env: Mapping[str, str], cwd: str, uid: int | None = None) -> Action:
    assert call.kind is not None
    where = call.cwd or cwd
    context = Context.create(
        env=env, cwd=os.path.abspath(where) if where else None, agent=call.agent,
        session_id=call.session_id, run_id=run_id(call.agent, call.session_id, env),
        tool_use_id=call.tool_use_id, tool=call.tool, target=call.server, uid=uid,
    )  # fmt: skip
    return Action(kind=call.kind, input=call.text, context=context)
