"""Blastdoor's vocabulary: Action, Effect and Decision (shared/DESIGN.md, "Core vocabulary").

Everything here is a frozen dataclass. Analyzers turn an :class:`Action` into :class:`Effect` objects,
the scope resolver fills in each effect's :class:`Scope`, and the policy engine turns the effects into
one :class:`Decision`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from types import MappingProxyType
from typing import Any


class ActionKind(str, Enum):
    """What an agent asked for."""

    SHELL = "shell"
    SQL = "sql"
    TERRAFORM_PLAN = "terraform_plan"
    HTTP = "http"
    MCP_CALL = "mcp_call"
    FILE_WRITE = "file_write"
    DIFF = "diff"


class Verb(str, Enum):
    """What one effect does to its target, from harmless to hostile."""

    READ = "read"
    EXECUTE = "execute"  # runs a program whose own effects are known to be local and ordinary
    CREATE = "create"
    MODIFY = "modify"
    DELETE = "delete"
    DESTROY = "destroy"
    CREDENTIAL_USE = "credential-use"  # reads or uses a secret
    EXFILTRATE = "exfiltrate"  # sends data or secrets somewhere else
    ESCALATE = "escalate"  # gains privileges
    PERSIST = "persist"  # makes itself run again later (cron, rc files, units, hooks)
    DISABLE_GUARD = "disable-guard"  # weakens Blastdoor, agent rules or other guards
    EXECUTE_UNKNOWN = "execute-unknown"  # runs something Blastdoor could not understand


class Scope(str, Enum):
    """Where a target lives."""

    PRODUCTION = "production"
    STAGING = "staging"
    DEVELOPMENT = "development"
    LOCAL = "local"
    UNKNOWN = "unknown"


class Reversibility(str, Enum):
    REVERSIBLE = "reversible"
    RECOVERABLE_WITH_BACKUP = "recoverable-with-backup"
    IRREVERSIBLE = "irreversible"


class DecisionKind(str, Enum):
    """The four answers, ordered by severity."""

    ALLOW = "allow"
    ASK = "ask"
    HOLD = "hold"
    DENY = "deny"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]

    @classmethod
    def strictest(cls, kinds: list[DecisionKind]) -> DecisionKind:
        return max(kinds, key=_SEVERITY.__getitem__, default=cls.ALLOW)


_SEVERITY = {
    DecisionKind.ALLOW: 0,
    DecisionKind.ASK: 1,
    DecisionKind.HOLD: 2,
    DecisionKind.DENY: 3,
}

_EMPTY: Mapping[str, str] = MappingProxyType({})


def frozen_map(values: Mapping[str, str] | None) -> Mapping[str, str]:
    """A read-only copy of ``values`` (so frozen objects stay frozen)."""
    return MappingProxyType(dict(values)) if values else _EMPTY


@dataclass(frozen=True, kw_only=True)
class Context:
    """Where an action comes from and runs: the signals scope resolution reads."""

    cwd: str | None = None
    env: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    agent: str = ""
    session_id: str = ""
    run_id: str = ""
    tool_use_id: str = ""
    tool: str = ""  # the agent's tool that asked (Bash, Write, mcp__github__delete_repo ...)
    target: str = ""  # for non-shell kinds: a DSN, URL or workspace naming where the action lands
    dialect: str = ""
    uid: int | None = None  # the OS user who asked, from the daemon socket's peer credentials

    @classmethod
    def create(cls, *, env: Mapping[str, str] | None = None, **kwargs: Any) -> Context:
        return cls(env=frozen_map(env), **kwargs)


@dataclass(frozen=True, kw_only=True)
class Action:
    """One thing an agent asked to do."""

    kind: ActionKind
    input: str
    context: Context = field(default_factory=Context)

    @classmethod
    def shell(cls, command: str, **context: Any) -> Action:
        return cls(kind=ActionKind.SHELL, input=command, context=Context.create(**context))


@dataclass(frozen=True)
class Target:
    """What an effect touches: a resource kind and an identifier (a path, a ref, a table, ...)."""

    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}" if self.name else self.kind


@dataclass(frozen=True)
class Blast:
    """How much an effect touches, when it can be counted."""

    rows: int | None = None
    files: int | None = None
    resources: int | None = None

    def as_dict(self) -> dict[str, int]:
        counts = {"rows": self.rows, "files": self.files, "resources": self.resources}
        return {key: value for key, value in counts.items() if value is not None}


@dataclass(frozen=True, kw_only=True)
class Effect:
    """One thing an action would do, with the evidence it was derived from.

    ``tags`` carry facts the policy can match on (``history-rewrite``, ``system-path``,
    ``regenerable``, ``auto-approve``, ...); ``evidence`` quotes the command text the effect came
    from; ``detail`` says in plain words what would happen.
    """

    verb: Verb
    target: Target
    detail: str
    evidence: str
    scope: Scope = Scope.UNKNOWN
    reversibility: Reversibility = Reversibility.REVERSIBLE
    blast: Blast = field(default_factory=Blast)
    tags: frozenset[str] = frozenset()
    signals: tuple[str, ...] = ()  # what the scope was decided from

    def with_scope(self, scope: Scope, signals: tuple[str, ...]) -> Effect:
        return replace(self, scope=scope, signals=signals)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "verb": self.verb.value,
            "target": {"kind": self.target.kind, "name": self.target.name},
            "scope": self.scope.value,
            "reversibility": self.reversibility.value,
            "detail": self.detail,
            "evidence": self.evidence,
        }
        blast = self.blast.as_dict()
        if blast:
            data["blast"] = blast
        if self.tags:
            data["tags"] = sorted(self.tags)
        if self.signals:
            data["signals"] = list(self.signals)
        return data


@dataclass(frozen=True, kw_only=True)
class Decision:
    """The verdict on one action: what to do, why, which rules said so, and the effects seen."""

    kind: DecisionKind
    reasons: tuple[str, ...]
    rule_ids: tuple[str, ...]
    effects: tuple[Effect, ...]
    enforced: bool = True  # False in observe mode: recorded, not enforced

    def overruled(self, kind: DecisionKind, reason: str, rule: str) -> Decision:
        """This decision made ``kind`` (and enforced) by a check after the policy, which says why
        first. A check only tightens: an enforced decision already stricter than ``kind`` keeps
        its kind (a deny never becomes an approvable hold)."""
        if self.enforced:
            kind = DecisionKind.strictest([self.kind, kind])
        return replace(self, kind=kind, enforced=True, reasons=(reason, *self.reasons),
                       rule_ids=(rule, *self.rule_ids))  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        return {
            "decision": self.kind.value,
            "enforced": self.enforced,
            "reasons": list(self.reasons),
            "rules": list(self.rule_ids),
            "effects": [effect.to_json() for effect in self.effects],
        }
