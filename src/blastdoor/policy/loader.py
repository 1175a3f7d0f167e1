"""Loading policy files (TOML) into a layered :class:`Policy`.

A policy file may hold ``mode``, ``[[rule]]`` tables, a ``[scope]`` table naming the user's
environments (``production = ["db.acme.internal", "acme-prod-*"]``) and ``protected_branches``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from blastdoor.errors import ConfigError
from blastdoor.model import Scope
from blastdoor.policy.engine import ENFORCE, OBSERVE, Policy, digest_of
from blastdoor.policy.rules import Rule
from blastdoor.scope import PROTECTED_BRANCHES, ScopeConfig

_TOP_KEYS = frozenset({"mode", "rule", "scope", "protected_branches", "description", "stateful_resources"})
REPO_POLICY_NAME = ".blastdoor.toml"


def builtin_text() -> str:
    # A plain path, not importlib.resources (which costs the hook's start-up ~8 ms of imports).
    return (Path(__file__).parent / "default.toml").read_text("utf-8")


def parse(text: str, *, source: str) -> dict[str, Any]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(
            f"{source} is not valid TOML: {error}", hint="fix the file or remove it"
        ) from None
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise ConfigError(f"{source} has unknown settings {sorted(unknown)}",
                          hint=f"allowed: {', '.join(sorted(_TOP_KEYS))}")  # fmt: skip
    mode = data.get("mode", ENFORCE)
    if mode not in (ENFORCE, OBSERVE):
        raise ConfigError(f'{source}: mode = {mode!r} must be "enforce" or "observe"')
    return data


def _rules(data: Mapping[str, Any], source: str) -> tuple[Rule, ...]:
    tables = data.get("rule", [])
    if not isinstance(tables, list):
        raise ConfigError(f"{source}: rules must be written as [[rule]] tables")
    return tuple(Rule.from_table(table, source=source) for table in tables)


def _scope(datas: list[Mapping[str, Any]], sources: list[str]) -> ScopeConfig:
    names: dict[Scope, tuple[str, ...]] = {}
    branches: tuple[str, ...] = PROTECTED_BRANCHES
    for data, source in zip(datas, sources, strict=True):
        table = data.get("scope", {})
        if not isinstance(table, dict):
            raise ConfigError(f"{source}: [scope] must be a table of scope = [patterns]")
        for key, patterns in table.items():
            try:
                scope = Scope(key)
            except ValueError:
                raise ConfigError(f"{source}: [scope] {key!r} is not a scope",
                                  hint="use production, staging, development or local") from None  # fmt: skip
            if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
                raise ConfigError(f"{source}: [scope] {key} must be a list of name patterns")
            names[scope] = names.get(scope, ()) + tuple(patterns)
        extra = data.get("protected_branches")
        if extra is not None:
            if not isinstance(extra, list) or not all(isinstance(p, str) for p in extra):
                raise ConfigError(f"{source}: protected_branches must be a list of branch patterns")
            branches = tuple(dict.fromkeys((*branches, *extra)))
    return ScopeConfig(names=names, protected_branches=branches)


def _read(path: Path) -> str:
    try:
        return path.read_text("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"policy file {path} does not exist", hint="check the path") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"policy file {path} cannot be read: {error}") from None


def load(*, user: Path | None = None, repo: Path | None = None, frozen: bool = False) -> Policy:
    """The built-in policy, with the user's file in front and the repository's file tightening."""
    text = builtin_text()
    builtin = parse(text, source="the built-in policy")
    layers = [(builtin, "built-in")]
    texts = [text]
    user_data: dict[str, Any] = {}
    if user is not None:
        text = _read(user)
        user_data = parse(text, source=str(user))
        layers.append((user_data, str(user)))
        texts.append(text)
    repo_rules: tuple[Rule, ...] = ()
    if repo is not None:
        text = _read(repo)
        repo_data = parse(text, source=str(repo))
        repo_rules = _rules(repo_data, str(repo))
        layers.append((repo_data, str(repo)))
        texts.append(text)
    rules = _rules(user_data, str(user)) + _rules(builtin, "the built-in policy")
    return Policy(
        rules=rules,
        tightening=repo_rules,
        mode=user_data.get(
            "mode", builtin.get("mode", ENFORCE)
        ),  # a repository cannot loosen the mode
        scope=_scope([data for data, _ in layers], [source for _, source in layers]),
        stateful_resources=_stateful([data for data, _ in layers], [source for _, source in layers]),
        frozen=frozen,
        sources=tuple(source for _, source in layers),
        digest=digest_of(texts),
    )


def _stateful(datas: list[Mapping[str, Any]], sources: list[str]) -> tuple[str, ...]:
    """Every layer's ``stateful_resources``: marking more resources as holding data only tightens."""
    found: list[str] = []
    for data, source in zip(datas, sources, strict=True):
        patterns = data.get("stateful_resources", [])
        if not isinstance(patterns, list) or not all(isinstance(item, str) and item for item in patterns):
            raise ConfigError(f"{source}: stateful_resources must be a list of resource addresses or types",
                              hint='e.g. stateful_resources = ["module.db.*", "acme_cluster"]')  # fmt: skip
        found += patterns
    return tuple(dict.fromkeys(found))


def find_repo_policy(cwd: str | None) -> Path | None:
    """The nearest ``.blastdoor.toml`` at or above ``cwd``."""
    if not cwd:
        return None
    here = Path(cwd)
    for folder in (here, *here.parents):
        candidate = folder / REPO_POLICY_NAME
        try:
            if candidate.is_file():
                return candidate
        except OSError as error:  # a folder this user may not search: a policy there may tighten
            raise ConfigError(f"cannot look for {candidate}: {error.strerror}",
                              hint="let Blastdoor's user search that folder, or work in another one") from None  # fmt: skip
    return None
