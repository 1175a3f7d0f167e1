"""Policy rules: a condition over one effect, and the decision it yields with a reason.

A rule matches an effect when every condition it names holds: the verb is one of ``verb``, the
scope one of ``scope``, the reversibility one of ``reversibility``, the target kind one of
``target``, at least one of ``tags`` is present, all of ``all_tags`` are, and none of ``not_tags``.
A condition left out matches anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from blastdoor.errors import ConfigError
from blastdoor.model import DecisionKind, Effect, Reversibility, Scope, Verb

_KEYS = frozenset({"id", "decision", "reason", "verb", "scope", "reversibility", "target", "tags",
                   "all_tags", "not_tags", "description"})  # fmt: skip


E = TypeVar("E", Verb, Scope, Reversibility)
T = TypeVar("T", Verb, Scope, Reversibility, DecisionKind)


@dataclass(frozen=True, kw_only=True)
class Rule:
    id: str
    decision: DecisionKind
    reason: str
    verbs: frozenset[Verb] = frozenset()
    scopes: frozenset[Scope] = frozenset()
    reversibility: frozenset[Reversibility] = frozenset()
    targets: frozenset[str] = frozenset()
    any_tags: frozenset[str] = frozenset()
    all_tags: frozenset[str] = frozenset()
    not_tags: frozenset[str] = frozenset()

    def matches(self, effect: Effect) -> bool:
        """Reads only :func:`match_key`'s fields of ``effect`` (the engine memoizes on them)."""
        return (
            (not self.verbs or effect.verb in self.verbs)
            and (not self.scopes or effect.scope in self.scopes)
            and (not self.reversibility or effect.reversibility in self.reversibility)
            and (not self.targets or effect.target.kind in self.targets)
            and (not self.any_tags or bool(self.any_tags & effect.tags))
            and self.all_tags <= effect.tags
            and not (self.not_tags & effect.tags)
        )

    @classmethod
    def from_table(cls, table: Mapping[str, Any], *, source: str) -> Rule:
        unknown = set(table) - _KEYS
        rule_id = str(table.get("id", ""))
        where = f"rule {rule_id!r} in {source}" if rule_id else f"a rule in {source}"
        if unknown:
            raise ConfigError(f"{where} has unknown keys {sorted(unknown)}",
                              hint=f"allowed keys: {', '.join(sorted(_KEYS))}")  # fmt: skip
        if not rule_id:
            raise ConfigError(f"{where} has no id", hint='give every [[rule]] an id = "..."')
        return cls(
            id=rule_id,
            decision=_enum(DecisionKind, table.get("decision"), "decision", where),
            reason=str(table.get("reason") or table.get("description") or rule_id),
            verbs=_enums(Verb, table.get("verb"), "verb", where),
            scopes=_enums(Scope, table.get("scope"), "scope", where),
            reversibility=_enums(Reversibility, table.get("reversibility"), "reversibility", where),
            targets=_strings(table.get("target"), "target", where),
            any_tags=_strings(table.get("tags"), "tags", where),
            all_tags=_strings(table.get("all_tags"), "all_tags", where),
            not_tags=_strings(table.get("not_tags"), "not_tags", where),
        )


def _listed(value: Any, key: str, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise ConfigError(f"{where}: {key} must be a string or a list of strings")


def _strings(value: Any, key: str, where: str) -> frozenset[str]:
    return frozenset(_listed(value, key, where))


def _enums(kind: type[E], value: Any, key: str, where: str) -> frozenset[E]:
    return frozenset(_enum(kind, item, key, where) for item in _listed(value, key, where))


def _enum(kind: type[T], value: Any, key: str, where: str) -> T:
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(member.value for member in kind)
        raise ConfigError(f"{where}: {key} = {value!r} is not one of: {choices}") from None


MatchKey = tuple[Verb, Scope, Reversibility, str, frozenset[str]]


def match_key(effect: Effect) -> MatchKey:
    """Everything of ``effect`` that :meth:`Rule.matches` reads: effects with the same key match
    the same rules. Keep the two in step when a condition is added."""
    return (effect.verb, effect.scope, effect.reversibility, effect.target.kind, effect.tags)
