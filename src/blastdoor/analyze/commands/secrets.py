"""Secrets read into the agent's context.

Credential use: ``printenv``, bare ``set``, ``export -p`` and ``declare -p`` (every variable), a
secret variable printed (``echo $AWS_SECRET_ACCESS_KEY``, ``printenv GITHUB_TOKEN``), password stores
and keychains (``security find-generic-password -w``, ``pass``, ``gopass``, ``bw``, ``lpass``,
``secret-tool``, ``keepassxc-cli``, ``sops -d``, ``gpg --export-secret-keys``, ``chamber``,
``infisical``, ``aws-vault``) and the token printers of ``gh`` and ``heroku``. Cloud CLIs and the
vault/op/doppler CLIs belong to their own families; secrets sent off the machine (``scp .env
host:``, ``nc host < .env``) to :mod:`.transfers`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from functools import lru_cache

from blastdoor.analyze.commands import BUILTIN_MODULES, CommandFamily, families_of
from blastdoor.analyze.commands.generic import ordinary_program
from blastdoor.analyze.invocation import (
    Analysis,
    Family,
    Invocation,
    effect,
    prints_to_terminal,
)
from blastdoor.model import Effect, Scope, Target, Verb

SECRET_NAME = re.compile(
    r"TOKEN|SECRET|PASSW|PASSPHRASE|CREDENTIAL|PRIVATE|API_?KEY|ACCESS_?KEY|_KEY$|^KEY|AUTH(?!OR)|COOKIE"
    r"|SESSION|SIGNING|DSN$|DATABASE_URL|(DB|REDIS|MONGO\w*|POSTGRES\w*|PG|MYSQL|AMQP|RABBITMQ)_?(URL|URI)$"
    r"|CONN(ECTION)?_?STR",
    re.IGNORECASE,
)


def is_secret_variable(name: str) -> bool:
    """Whether an environment variable's name says it holds a credential (``GITHUB_TOKEN``, ...)."""
    return bool(SECRET_NAME.search(name)) and name.upper() not in ("PWD", "OLDPWD", "SSH_AUTH_SOCK")


def credential(inv: Invocation, what: str, detail: str) -> Effect:
    return effect(
        inv, Verb.CREDENTIAL_USE, Target("secret", what), detail, scope=Scope.LOCAL, tags={"secret"}
    )


def _printenv(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    names = [w.text for w in inv.args if not w.text.startswith("-")]
    if any(w.text in ("--help", "--version") for w in inv.args):
        return
    if not names:
        yield effect(
            inv,
            Verb.CREDENTIAL_USE,
            Target("environment", "all variables"),
            "print every environment variable, secrets included",
            scope=Scope.LOCAL,
            tags={"secret", "env-dump"},
        )
    for name in names:
        if is_secret_variable(name):
            found = credential(inv, f"${name}", f"print the secret environment variable {name}")
            yield replace(found, tags=found.tags | {"prints-secret"})
        else:
            yield effect(
                inv, Verb.READ, Target("environment", name), f"print {name}", scope=Scope.LOCAL
            )


def _echo(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    """``echo $AWS_SECRET_ACCESS_KEY``, ``printf '%s' "$TOKEN"``: a secret variable's value printed."""
    names = sorted({n for w in inv.args for n in w.variables if is_secret_variable(n)})
    if names and prints_to_terminal(inv):
        shown = ", ".join(f"${name}" for name in names)
        found = credential(inv, shown, f"print the secret environment variable {shown}")
        yield replace(found, tags=found.tags | {"prints-secret"})


# Flags with which these builtins print variables (names and values) instead of setting them.
_LISTING_FLAGS: dict[str, frozenset[str]] = {
    "export": frozenset({"-p"}),
    "declare": frozenset({"-p", "-x", "-a", "-A", "-i", "-r", "-g", "-l", "-u", "-t", "-n"}),
    "typeset": frozenset({"-p", "-x", "-a", "-A", "-i", "-r", "-g", "-l", "-u", "-t", "-n"}),
    "readonly": frozenset({"-p"}),
}


def _variable_listing(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    """Bare ``set``, ``export``/``export -p``, ``declare``/``declare -p``, ``typeset -x``: every
    variable of the shell printed, secrets included (bash(1), SHELL BUILTIN COMMANDS)."""
    flags = {w.text for w in inv.args if w.text.startswith(("-", "+"))}
    names = [w.text for w in inv.args if not w.text.startswith(("-", "+"))]
    letters = {"-" + letter for flag in flags for letter in flag.lstrip("-+")}
    if inv.name == "set":
        listing = not inv.args
    else:
        listing = not names and letters <= _LISTING_FLAGS[inv.name]
    if listing:
        yield effect(
            inv,
            Verb.CREDENTIAL_USE,
            Target("environment", "all variables"),
            f"print every shell variable ({inv.text.strip()}), secrets included",
            scope=Scope.LOCAL,
            tags={"secret", "env-dump"},
        )
        return
    if "-p" in letters:
        for name in names:
            if is_secret_variable(name):
                yield credential(inv, f"${name}", f"print the secret variable {name}")


# (program, subcommand words) whose output is a secret; "*" matches any word.
_SECRET_COMMANDS: dict[str, tuple[tuple[str, ...], ...]] = {
    "security": (
        ("find-generic-password", "-w"),
        ("find-generic-password", "-g"),
        ("find-internet-password", "-w"),
        ("find-internet-password", "-g"),
        ("dump-keychain", "-d"),
        ("export",),
    ),
    "pass": (("show",), ("*",)),
    "gopass": (("show",), ("cat",), ("otp",)),
    "bw": (("get",), ("list", "items"), ("export",)),
    "lpass": (("show",), ("export",)),
    "secret-tool": (("lookup",),),
    "keepassxc-cli": (("show",), ("clip",), ("export",)),
    "sops": (("-d",), ("--decrypt",), ("decrypt",), ("exec-env",), ("exec-file",)),
    "gpg": (("--export-secret-keys",), ("--export-secret-subkeys",)),
    "chamber": (("read",), ("export",), ("env",)),
    "infisical": (("secrets",), ("export",)),
    "aws-vault": (("export",),),
    "gh": (("auth", "token"), ("auth", "status", "-t"), ("auth", "status", "--show-token")),
    "heroku": (("config",), ("config:get",), ("auth:token",), ("pg:credentials:url",)),
}
_NOT_SECRET_PASS = frozenset({
    "ls", "list", "find", "search", "grep", "init", "git", "insert", "edit", "generate", "rm",
    "mv", "cp", "help", "version", "--help", "--version",
})  # fmt: skip
_RUNNERS = {"chamber": "exec", "infisical": "run", "aws-vault": "exec"}


def secret_command(inv: Invocation) -> Effect | None:
    """The credential-use effect of ``inv`` when it prints a secret, else None."""
    words = [w.text for w in inv.args]
    if inv.name == "pass" and (not words or words[0] in _NOT_SECRET_PASS):
        return None
    for pattern in _SECRET_COMMANDS.get(inv.name, ()):
        head, *flags = pattern
        if (head == "*" or head in words[:3]) and all(flag in words for flag in flags):
            shown = " ".join(w for w in words if not w.startswith("-"))[:80]
            return credential(
                inv,
                f"{inv.name} {shown}".strip(),
                f"print secrets with {inv.name} {' '.join(pattern)}".replace(" *", ""),
            )
    return None


def _secret_tool(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    found = secret_command(inv)
    if found is not None:
        yield found
        return
    runner = _RUNNERS.get(inv.name)
    words = list(inv.args)
    if runner and words and words[0].text == runner:
        inner = (
            words[[w.text for w in words].index("--") + 1 :]
            if "--" in (w.text for w in words)
            else words[2:]
        )
        yield credential(
            inv, inv.name, f"run a command with secrets from {inv.name} in its environment"
        )
        yield from ctx.run_argv(inv, inner, via=f"{inv.name} {runner}")
        return
    later = _later_family(inv.name)
    yield from (later(inv, ctx) if later is not None else [ordinary_program(inv)])


@lru_cache(maxsize=64)
def _later_family(name: str) -> Family | None:
    """The family a later module registers for ``name`` (gh, heroku: this module only claims their
    token-printing subcommands and hands the rest on)."""
    start = (
        BUILTIN_MODULES.index(__name__) + 1 if __name__ in BUILTIN_MODULES else len(BUILTIN_MODULES)
    )
    for module_name in BUILTIN_MODULES[start:]:
        for family in families_of(module_name):
            if name in family.names:
                return family.analyze
    return None


def _names(*groups: Sequence[str]) -> list[str]:
    return [name for group in groups for name in group]


FAMILIES = (
    CommandFamily.of(["printenv"], _printenv),
    CommandFamily.of(["echo", "printf"], _echo),
    CommandFamily.of(["set", *_LISTING_FLAGS], _variable_listing),
    CommandFamily.of(_names(list(_SECRET_COMMANDS), list(_RUNNERS)), _secret_tool),
)
