"""The policy engine: effects (with scope) + policy → one Decision. Pure: no I/O.

Layers (DESIGN.md): built-in < user < repository. The user's rules are tried before the built-in
ones, so a user may loosen or tighten anything; a repository's rules are evaluated on their own and
can only make the decision stricter. An effect no rule matches is asked about (fail closed).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from blastdoor.model import Decision, DecisionKind, Effect, Scope, Verb
from blastdoor.policy.rules import MatchKey, Rule, match_key
from blastdoor.scope import ScopeConfig

OBSERVE = "observe"
ENFORCE = "enforce"

FREEZE_RULE = Rule(
    id="freeze",
    decision=DecisionKind.DENY,
    reason="a code freeze is in force (blastdoor freeze); no writes to production until a person unfreezes",
    verbs=frozenset({Verb.CREATE, Verb.MODIFY, Verb.DELETE, Verb.DESTROY, Verb.EXECUTE_UNKNOWN}),
    scopes=frozenset({Scope.PRODUCTION, Scope.UNKNOWN}),
    not_tags=frozenset({"temp-path", "workspace-path", "regenerable"}),
)
NO_MATCH = Rule(
    id="policy.no-match",
    decision=DecisionKind.ASK,
    reason="no policy rule decides this effect, so a person is asked",
)


@dataclass(frozen=True, kw_only=True)
class Policy:
    """A loaded, layered policy."""

    rules: tuple[Rule, ...]
    tightening: tuple[Rule, ...] = ()
    mode: str = ENFORCE
    scope: ScopeConfig = field(default_factory=ScopeConfig)
    stateful_resources: tuple[str, ...] = ()  # Terraform addresses or types that hold data, beyond the built-in list
    frozen: bool = False
    sources: tuple[str, ...] = ()
    digest: str = ""

    def decide(self, effects: Sequence[Effect]) -> Decision:
        verdicts = [(found, self._verdict(found)) for found in effects]
        if not verdicts:
            return Decision(
                kind=DecisionKind.ALLOW,
                reasons=("it runs nothing Blastdoor needs to stop",),
                rule_ids=(),
                effects=(),
                enforced=self.mode == ENFORCE,
            )
        kind = DecisionKind.strictest([rule.decision for _, rule in verdicts])
        deciding = [(found, rule) for found, rule in verdicts if rule.decision is kind]
        reasons = _unique(f"{_capital(found.detail)}: {rule.reason}." for found, rule in deciding)
        return Decision(
            kind=kind,
            reasons=tuple(reasons),
            rule_ids=tuple(_unique(rule.id for _, rule in deciding)),
            effects=tuple(effects),
            enforced=self.mode == ENFORCE,
        )

    def explain(self, found: Effect) -> Rule:
        """The rule that decides one effect."""
        return self._verdict(found)

    def _verdict(self, found: Effect) -> Rule:
        frozen = FREEZE_RULE if self.frozen and FREEZE_RULE.matches(found) else None
        base = frozen or first_match(self.rules, found) or NO_MATCH
        if self.tightening:
            repo = first_match(self.tightening, found)
            if repo is not None and repo.decision.severity > base.decision.severity:
                return repo
        return base


# The first matching rule, remembered per rule list (by identity: a policy's rules are a tuple that
# never changes) and per match key. Bounded: a memo that fills up is started again.
_MEMO_RULE_LISTS = 16
_MEMO_KEYS = 4096
_memos: dict[int, tuple[tuple[Rule, ...], dict[MatchKey, Rule | None]]] = {}


def first_match(rules: tuple[Rule, ...], found: Effect) -> Rule | None:
    """The first rule of ``rules`` that matches ``found``, or None."""
    entry = _memos.get(id(rules))
    if entry is None or entry[0] is not rules:
        if len(_memos) >= _MEMO_RULE_LISTS:
            _memos.clear()
        entry = _memos[id(rules)] = (rules, {})
    memo, key = entry[1], match_key(found)
    try:
        return memo[key]
    except KeyError:
        pass
    except TypeError:  # an effect built with unhashable tags: decide it without the memo
        return next((rule for rule in rules if rule.matches(found)), None)
    rule = next((rule for rule in rules if rule.matches(found)), None)
    if len(memo) >= _MEMO_KEYS:
        memo.clear()
    memo[key] = rule
    return rule


def digest_of(texts: Iterable[str]) -> str:
    h = hashlib.sha256()
    for text in texts:
        h.update(hashlib.sha256(text.encode()).digest())
    return "sha256:" + h.hexdigest()


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
