"""Judging a brokered call: the hook's judgement, plus what the credential itself allows.

1. The action is analyzed like any other; every effect that is not on local files lands where the
   profile's credential reaches (the stricter of the profile's scope and what the text says).
2. The policy decides. ``ask`` becomes ``hold``: the broker has no confirmation window in the
   agent's client, so a person approves out of band.
3. The profile can only narrow that: a production profile refuses sessions (:mod:`sessions`), and
   any effect outside the profile's allowed actions is denied, approval or not (rule
   ``broker.out-of-purpose``); a call the broker cannot make safe (SQL it cannot save first,
   Terraform without a saved plan) is denied; a production action that destroys data with no fresh
   verified backup behind it is denied (:mod:`backup_proofs`).
4. A hold opens or uses an approval request, as for the hooks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from blastdoor.broker import backup_proofs
from blastdoor.broker.profile import Profile
from blastdoor.broker.sessions import refusal
from blastdoor.integrations.service import Runtime
from blastdoor.model import Action, Decision, DecisionKind, Effect, Reversibility, Scope, Verb

if TYPE_CHECKING:
    from blastdoor.analyze.sql_estimate import RowEstimate

Estimator = Callable[[str], "list[RowEstimate]"]

PURPOSE_RULE = "broker.out-of-purpose"
SESSION_RULE = "broker.session-refused"
ASK_RULE = "broker.ask-is-hold"
SNAPSHOT_RULE = "broker.no-snapshot"
STATIC_KEYS_RULE = "broker.static-aws-keys"
DENY = DecisionKind.DENY
_STRICTNESS = {Scope.LOCAL: 0, Scope.DEVELOPMENT: 1, Scope.STAGING: 2, Scope.UNKNOWN: 3, Scope.PRODUCTION: 4}


@dataclass(frozen=True)
class Judged:
    decision: Decision
    request: str
    policy_digest: str

    @property
    def allowed(self) -> bool:
        return self.decision.kind is DecisionKind.ALLOW or not self.decision.enforced


def judge_brokered(action: Action, profile: Profile, runtime: Runtime, *, argv: Sequence[str] = (),
                   refuse: tuple[str, str] = ("", ""), estimate: Estimator | None = None,
                   adds: Sequence[Effect] = ()) -> Judged:  # fmt: skip
    """The decision for ``action`` run with ``profile``'s credential. ``refuse`` is a (rule, reason)
    found before judging (a statement the broker cannot snapshot) that makes it a deny;
    ``estimate`` asks the database how many rows SQL would touch (its engine's); ``adds`` are
    effects the text cannot show (what a saved plan file does)."""
    policy = runtime.policy(action.context.cwd or "")
    decision = runtime.judge(action, policy, enrich=_enrich(estimate, action.input, adds),
                             place=lambda found: _where(found, profile))  # fmt: skip
    session = refusal(argv) if argv and profile.scope is Scope.PRODUCTION else ""
    outside = [found for found in decision.effects if not profile.permits(found)]
    unsaved = [found for found in decision.effects if _loses_data(found)] if argv and profile.scope is Scope.PRODUCTION else []
    static = bool(argv) and profile.scope is Scope.PRODUCTION and not profile.aws_role and "AWS_SECRET_ACCESS_KEY" in profile.secrets
    if session:
        decision = decision.overruled(DENY, f"Refused with production profile {profile.name}: {session}", SESSION_RULE)
    elif static:
        decision = decision.overruled(DENY, f"Refused with production profile {profile.name}: it would hand the program "
                                      "its long-lived AWS keys. Store the profile again with --aws-role ARN, so each "
                                      "call gets credentials of its own for minutes, named after the run in CloudTrail",
                                      STATIC_KEYS_RULE)  # fmt: skip
    elif outside:
        decision = decision.overruled(DENY, _out_of_purpose(profile, outside), PURPOSE_RULE)
    elif unsaved:
        decision = decision.overruled(DENY, _through_sql(profile, unsaved[0]), SNAPSHOT_RULE)
    elif refuse[1]:
        decision = decision.overruled(DENY, refuse[1], refuse[0])
    elif backup := backup_proofs.refusal(decision, profile, runtime.settings, runtime.ledger()):
        decision = decision.overruled(DENY, backup, backup_proofs.RULE)
    elif decision.kind is DecisionKind.ASK:
        decision = decision.overruled(DecisionKind.HOLD, "The broker cannot ask in the agent's window: "
                                      "a person approves it out of band", ASK_RULE)  # fmt: skip
    decision, request = runtime.settle(action, decision)
    return Judged(decision, request, policy.digest)


def _enrich(estimate: Estimator | None, sql: str, adds: Sequence[Effect]) -> Callable[[list[Effect]], list[Effect]] | None:
    """The step that adds how many rows ``sql`` would touch (``estimate`` asks), and ``adds``."""
    if estimate is None and not adds:
        return None

    def step(effects: list[Effect]) -> list[Effect]:
        if estimate is not None:
            from blastdoor.analyze.sql_estimate import annotate

            effects = annotate(effects, estimate(sql))
        return [*effects, *adds]

    return step


def _where(found: Effect, profile: Profile) -> Effect:
    if found.scope is Scope.LOCAL:
        return found
    scope = profile.scope
    if found.scope is not Scope.UNKNOWN and _STRICTNESS[found.scope] > _STRICTNESS[scope]:
        scope = found.scope
    return found.with_scope(scope, (*found.signals, f"credential {profile.label} ({profile.scope.value})"))


def _loses_data(found: Effect) -> bool:
    """SQL a client program would run that deletes or changes data for good: what ``exec`` cannot
    save first, and ``sql`` can."""
    return ("sql" in found.tags and found.verb in (Verb.DELETE, Verb.DESTROY, Verb.MODIFY)
            and found.reversibility is Reversibility.IRREVERSIBLE)  # fmt: skip


def _through_sql(profile: Profile, found: Effect) -> str:
    return (f"Refused with production profile {profile.name}: {found.detail}, run by a database client under exec, "
            "which cannot save what it destroys first. Run the statement with `blastdoor sql --profile "
            f"{profile.name} -- \"SQL\"`, which snapshots it before it runs (and is approved the same way)")  # fmt: skip


def _out_of_purpose(profile: Profile, outside: list[Effect]) -> str:
    what = "; ".join(f"{found.verb.value} {found.target}" for found in outside[:3])
    return (f"Outside the purpose of profile {profile.name} ({profile.purpose or 'no purpose given'}; "
            f"it allows {', '.join(profile.allow)}): it would {what}. An approval cannot widen a "
            "credential's purpose; a person stores a credential made for this job")  # fmt: skip
