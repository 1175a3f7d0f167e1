"""Credentials and their purposes: which one an action uses, and whether it is used for its job.

The ``[credentials.NAME]`` tables of ``config.toml`` name the credentials an agent may find on the
machine (environment variables, token files, or the sha256 of a token's value, which matches it
under any name) with the purpose they were made for and the actions that purpose covers, written
as the broker's profiles write them: ``VERB`` or ``VERB:TARGET-KIND`` (``read``, ``modify:dns-record``,
``*``). PocketOS lost its production volume to a token made for custom domains; with its purpose
written down, that call is denied, approval or not.

An action uses a credential when its text references the variable (``$RAILWAY_TOKEN``), names the
file, carries the value, or runs a program that reads a variable set in its environment on its
own (``railway`` reads ``RAILWAY_TOKEN``). Once any credential is described, a credential *not*
described that is used against production, to read it too, counts as out of purpose. With no
credential described there is nothing to tell purposes by, and none of this applies.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from blastdoor.model import Action, ActionKind, Decision, DecisionKind, Effect, Scope, Verb

PURPOSE_RULE = "credential.out-of-purpose"
UNKNOWN_RULE = "credential.unknown"
_VERBS = frozenset(verb.value for verb in Verb)
_REFERENCE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")
_WORD = re.compile(r"[A-Za-z0-9_\-.+/=:]{20,}")
# Programs that read a credential from their environment without it appearing on the command line.
IMPLICIT = {
    "railway": ("RAILWAY_TOKEN", "RAILWAY_API_TOKEN"), "flyctl": ("FLY_API_TOKEN", "FLY_ACCESS_TOKEN"),
    "fly": ("FLY_API_TOKEN", "FLY_ACCESS_TOKEN"), "heroku": ("HEROKU_API_KEY",), "vercel": ("VERCEL_TOKEN",),
    "netlify": ("NETLIFY_AUTH_TOKEN",), "render": ("RENDER_API_KEY",), "supabase": ("SUPABASE_ACCESS_TOKEN",),
    "neonctl": ("NEON_API_KEY",), "neon": ("NEON_API_KEY",), "wrangler": ("CLOUDFLARE_API_TOKEN", "CLOUDFLARE_API_KEY"),
    "gh": ("GH_TOKEN", "GITHUB_TOKEN"), "aws": ("AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN", "AWS_PROFILE"),
    "psql": ("PGPASSWORD", "DATABASE_URL"), "pg_dump": ("PGPASSWORD",), "mysql": ("MYSQL_PWD",),
    "terraform": ("TF_TOKEN_app_terraform_io", "AWS_ACCESS_KEY_ID", "GOOGLE_CREDENTIALS", "ARM_CLIENT_SECRET"),
    "kubectl": ("KUBECONFIG",), "doctl": ("DIGITALOCEAN_ACCESS_TOKEN",), "gcloud": ("CLOUDSDK_AUTH_ACCESS_TOKEN",),
}  # fmt: skip


@dataclass(frozen=True)
class Credential:
    name: str
    purpose: str
    allow: tuple[str, ...]
    env: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    digests: tuple[str, ...] = ()


def permitted(allow: Iterable[str], found: Effect) -> bool:
    """Whether ``found`` is among the actions ``allow`` lists (effects on local files always are)."""
    if found.scope is Scope.LOCAL:
        return True
    for pattern in allow:
        verb, _, kind = pattern.partition(":")
        if verb in ("*", found.verb.value) and (not kind or fnmatch.fnmatchcase(found.target.kind, kind)):
            return True
    return False


def allow_problem(pattern: str) -> str:
    """What is wrong with one allow pattern ('' when nothing)."""
    verb, colon, kind = pattern.partition(":")
    if verb != "*" and verb not in _VERBS:
        return f"{verb[:40]!r} is not a verb (use one of {', '.join(sorted(_VERBS))}, optionally :TARGET-KIND)"
    if colon and not kind:
        return "no target kind after ':' (e.g. delete:dns-record, or just delete)"
    return ""


def used(action: Action, described: Iterable[Credential]) -> tuple[list[Credential], list[str]]:
    """The described credentials ``action`` uses, and the secret-looking variables it uses that no
    description covers."""
    if action.kind not in (ActionKind.SHELL, ActionKind.HTTP, ActionKind.MCP_CALL):
        return [], []
    from blastdoor.ledger.redact import is_secret_name

    text, env = action.input, action.context.env
    names = set(_REFERENCE.findall(text))
    for word in set(re.findall(r"[A-Za-z0-9_.-]+", text)):
        names |= {variable for variable in IMPLICIT.get(word, ()) if env.get(variable)}
    described = tuple(described)
    by_value = any(credential.digests for credential in described)  # hash the text's words only when a digest can match them
    digests = ({_digest(env[n]) for n in names if env.get(n)} | {_digest(w) for w in _WORD.findall(text)}) if by_value else set()
    found: list[Credential] = []
    for credential in described:
        files = [os.path.expanduser(f) for f in credential.files]
        if (names & set(credential.env) or digests & set(credential.digests)
                or any(f in text or os.path.basename(f) in text.split() for f in files)):  # fmt: skip
            found.append(credential)
    covered = {variable for credential in found for variable in credential.env}
    unknown = sorted(n for n in names - covered if is_secret_name(n) and not _covered_by_digest(env.get(n, ""), found))
    return found, unknown


def check(action: Action, decision: Decision, described: tuple[Credential, ...]) -> Decision:
    """``decision``, turned into a deny when the action uses a credential outside its purpose."""
    if not described or not decision.effects:
        return decision
    found, unknown = used(action, described)
    remote = [e for e in decision.effects if e.scope is not Scope.LOCAL]
    for credential in found:
        outside = [e for e in remote if not permitted(credential.allow, e)]
        if outside:
            what = "; ".join(f"{e.verb.value} {e.target}" for e in outside[:3])
            return decision.overruled(DecisionKind.DENY,
                         f"Credential {credential.name} exists to {credential.purpose} (it allows "
                         f"{', '.join(credential.allow)}), not to {what}. An approval cannot widen a credential's purpose", PURPOSE_RULE)  # fmt: skip
    if unknown and any(e.scope is Scope.PRODUCTION for e in remote):
        return decision.overruled(DecisionKind.DENY,
                     f"It uses {', '.join('$' + n for n in unknown[:3])}, which config.toml's [credentials] does not "
                     "describe, against production; an undescribed credential has no purpose that covers that: "
                     "describe it there, with what it is for", UNKNOWN_RULE)  # fmt: skip
    return decision


def from_config(tables: Mapping[str, object]) -> tuple[Credential, ...]:
    """``[credentials.NAME]`` tables → credentials; raises ConfigError with the fix."""
    from blastdoor.errors import ConfigError

    described: list[Credential] = []
    for name, table in tables.items():
        where = f"[credentials.{name}]"
        if not isinstance(table, dict):
            raise ConfigError(f"{where} must be a table", hint=f'e.g. {where} env = ["RAILWAY_TOKEN"] purpose = "..." allow = ["read"]')
        unknown = set(table) - {"env", "files", "digests", "purpose", "allow"}
        lists = {key: table.get(key, []) for key in ("env", "files", "digests", "allow")}
        if unknown or not all(isinstance(v, list) and all(isinstance(i, str) for i in v) for v in lists.values()):
            raise ConfigError(f"{where} has unknown or malformed settings",
                              hint="env, files, digests and allow are lists of strings; purpose is a string")  # fmt: skip
        problems = [f"{p!r}: {allow_problem(p)}" for p in lists["allow"] if allow_problem(p)]
        if problems or not isinstance(table.get("purpose", ""), str) or not lists["allow"]:
            raise ConfigError(f"{where} allow is missing or wrong{': ' + problems[0] if problems else ''}",
                              hint='e.g. allow = ["read", "modify:dns-record"]')  # fmt: skip
        if not (lists["env"] or lists["files"] or lists["digests"]):
            raise ConfigError(f"{where} names no env, files or digests", hint='e.g. env = ["RAILWAY_TOKEN"]')
        described.append(Credential(name=name, purpose=str(table.get("purpose", "")) or "(no purpose given)",
                                    allow=tuple(lists["allow"]), env=tuple(lists["env"]),
                                    files=tuple(lists["files"]), digests=tuple(d.lower() for d in lists["digests"])))  # fmt: skip
    return tuple(described)


def _digest(value: str) -> str:
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()


def _covered_by_digest(value: str, found: list[Credential]) -> bool:
    return bool(value) and any(_digest(value) in c.digests for c in found)
