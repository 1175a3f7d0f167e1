"""Secrets read into the agent's context, and data sent off the machine.

Credential use: ``printenv``, bare ``set``, ``export -p`` and ``declare -p`` (every variable), a
secret variable printed (``echo $AWS_SECRET_ACCESS_KEY``, ``printenv GITHUB_TOKEN``), password stores
and keychains (``security find-generic-password -w``, ``pass``, ``gopass``, ``bw``, ``lpass``,
``secret-tool``, ``keepassxc-cli``, ``sops -d``, ``gpg --export-secret-keys``, ``chamber``,
``infisical``, ``aws-vault``) and the token printers of ``gh`` and ``heroku``. Cloud CLIs and the
vault/op/doppler CLIs belong to their own families.

Exfiltration: ``scp``/``sftp`` uploads of secret files, ``nc``/``ncat``/``socat`` fed a secret file;
a network listener or connection that runs a shell (``nc -e /bin/sh``) hands the machine to whoever
is at the other end (escalate). Ordinary uploads change a remote host whose environment is unknown.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from functools import lru_cache

from blastdoor.analyze import paths
from blastdoor.analyze.commands import BUILTIN_MODULES, CommandFamily, families_of
from blastdoor.analyze.commands.filesystem import write_effect
from blastdoor.analyze.commands.generic import ordinary_program
from blastdoor.analyze.invocation import (
    Analysis,
    Family,
    Invocation,
    Word,
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


# --- sending data off the machine ----------------------------------------------------------------
_REMOTE = re.compile(r"^(?:scp://|sftp://|(?:[\w.+-]+@)?\[?[\w.:-]+\]?:(?!//))")


def _remote_split(text: str) -> tuple[str, str] | None:
    """``user@host:path`` → (host, path); None for a local path."""
    if text.startswith(("/", "./", "../", "~")) or not _REMOTE.match(text):
        return None
    if "://" in text:
        rest = text.split("://", 1)[1]
        host, _, path = rest.partition("/")
        return host, "/" + path
    host, _, path = text.partition(":")
    return host, path or "~"


def upload(inv: Invocation, ctx: Analysis, source: Word, host: str, path: str) -> Effect:
    """Copying the local file ``source`` to ``host:path``."""
    info = paths.path_info(source, ctx)
    tags = {"remote", f"host={host.split('@')[-1]}"}
    if paths.is_secret_path(source.text):
        return effect(
            inv,
            Verb.EXFILTRATE,
            Target("secret-file", info.resolved),
            f"send the secret file {source.text} to {host}",
            scope=Scope.LOCAL,
            tags=tags | {"secret"},
        )
    remote_path = Word(path if path.startswith(("/", "~")) else "~/" + path)
    remote = paths.classify(remote_path, cwd="/__remote__", env={})
    tags |= remote.tags & {paths.SYSTEM, paths.ROOT, paths.TEMP, paths.HOME}
    if paths.ROOT in tags:
        tags.add(paths.SYSTEM)
    return effect(
        inv,
        Verb.MODIFY,
        Target("host", f"{host}:{path}"),
        f"copy {source.text} to {host}:{path}, overwriting what is there",
        tags=tags,
    )


_SCP_VALUED = frozenset("cFiJloPSDX")


def _scp(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    words, operands = list(inv.args), []
    while words:
        text = words.pop(0).text if words[0].text.startswith("-") else ""
        if not text:
            operands.append(words.pop(0))
        elif text in ("-h", "--help", "-V"):
            return
        elif text[1:2] in _SCP_VALUED and len(text) == 2 and words:
            value = words.pop(0).text
            if text == "-o" and value.lower().startswith(("proxycommand", "localcommand")):
                yield from ctx.run_script(
                    inv, value.split("=", 1)[-1].split(None, 1)[-1], via="scp -o"
                )
    if len(operands) < 2:
        return
    *sources, dest = operands
    remote_dest = _remote_split(dest.text)
    for source in sources:
        remote_src = _remote_split(source.text)
        if remote_dest and not remote_src:
            yield upload(inv, ctx, source, *remote_dest)
        elif remote_src and paths.is_secret_path(remote_src[1]):
            yield credential(inv, source.text, f"copy the secrets in {source.text} here")
    if remote_dest is None:
        found = write_effect(inv, ctx, dest, how="copy files over", overwrite=True)
        if found is not None:
            yield found


def _sftp(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    words = [w.text for w in inv.args]
    batch = (
        words[words.index("-b") + 1]
        if "-b" in words and words.index("-b") + 1 < len(words)
        else None
    )
    hosts = [
        w
        for i, w in enumerate(words)
        if not w.startswith("-")
        and (
            i == 0 or words[i - 1] not in (
        "-b", "-P", "-i", "-o", "-F", "-c", "-l", "-R", "-s", "-S", "-D", "-B", "-J", "-X",
    )
        )
    ]  # fmt: skip
    host = hosts[0].split(":")[0] if hosts else "(a host)"
    text = inv.stdin.text if batch in (None, "-") else ctx.read_file(batch)
    if text is None:
        yield effect(
            inv,
            Verb.EXECUTE,
            Target("host", host),
            f"open an SFTP session to {host}",
            tags={"remote", f"host={host}"},
        )
        return
    for line in text.splitlines():
        parts = line.strip().lstrip("-@").split()
        if len(parts) >= 2 and parts[0] in ("put", "mput", "reput"):
            yield upload(
                inv,
                ctx,
                Word(parts[1]),
                host,
                parts[2] if len(parts) > 2 else parts[1].rsplit("/", 1)[-1],
            )
        elif len(parts) >= 2 and parts[0] in ("rm", "rmdir"):
            yield effect(
                inv,
                Verb.DELETE,
                Target("host", f"{host}:{parts[1]}"),
                f"delete {parts[1]} on {host}",
                tags={"remote", f"host={host}"},
            )


_NC_VALUED = frozenset({
    "-p", "-s", "-w", "-i", "-q", "-x", "-X", "-P", "-T", "-O", "-I", "-o", "-M", "-m", "--proxy",
    "--proxy-type", "--source", "--wait", "--output", "-g", "-G", "-V", "-W",
})  # fmt: skip
_NC_EXEC = frozenset({"-e", "-c", "--exec", "--sh-exec", "--lua-exec"})


def _netcat(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    words, operands, program = list(inv.args), [], ""
    flags: set[str] = set()
    while words:
        text = words.pop(0).text
        if text in _NC_EXEC and words:
            program = words.pop(0).text
        elif text in _NC_VALUED and words:
            words.pop(0)
        elif text.startswith("-") and text != "-":
            flags.update(text[1:] if not text.startswith("--") else [text])
        else:
            operands.append(text)
    host = operands[0] if operands else "(any host that connects)"
    yield from _sent(inv, ctx, host, program=program, listening="l" in flags, scanning="z" in flags)


def _socat(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    addresses = [w.text for w in inv.args if not w.text.startswith("-") or w.text == "-"]
    runs = next(
        (
            a.split(":", 1)[1].split(",")[0]
            for a in addresses
            if a.upper().startswith(("EXEC:", "SYSTEM:"))
        ),
        "",
    )
    network = next(
        (a for a in addresses if re.match(r"(?i)(tcp|udp|openssl|ssl|sctp|dccp)[\w-]*:", a)), ""
    )
    files = [
        a.split(":", 1)[-1].split(",")[0]
        for a in addresses
        if re.match(r"(?i)(file|open|gopen|create):", a)
    ]
    for path in files:
        if network and paths.is_secret_path(path):
            yield effect(
                inv,
                Verb.EXFILTRATE,
                Target("secret-file", path),
                f"send the secret file {path} to {network}",
                scope=Scope.LOCAL,
                tags={"secret", "remote"},
            )
    if network:
        yield from _sent(
            inv, ctx, network, program=runs, listening="LISTEN" in network.upper(), scanning=False
        )
    elif any("haproxy" in a for a in addresses):
        yield from _haproxy(inv)
    elif runs:
        yield from ctx.run_script(inv, runs, via="socat exec")


def _sent(
    inv: Invocation, ctx: Analysis, host: str, *, program: str, listening: bool, scanning: bool
) -> Iterator[Effect]:
    tags = {"remote", f"host={host}"}
    if program and not _SHELLS.search(program):
        yield from ctx.run_script(inv, program, via=f"{inv.name} serving {host}")
    elif program:
        yield effect(
            inv,
            Verb.ESCALATE,
            Target("host", host),
            f"hand a shell ({program}) on this machine to whoever is at the other end of {host}",
            scope=Scope.LOCAL,
            tags=tags | {"remote-shell"},
        )
        return
    if "haproxy" in host or (inv.stdin.text is not None and host.endswith(".sock")):
        yield from _haproxy(inv)
        return
    source = inv.stdin.source.removeprefix("file ") if inv.stdin.source.startswith("file ") else ""
    if source and paths.is_secret_path(source):
        yield effect(
            inv,
            Verb.EXFILTRATE,
            Target("secret-file", source),
            f"send the secret file {source} to {host}",
            scope=Scope.LOCAL,
            tags=tags | {"secret"},
        )
    elif scanning:
        yield effect(
            inv, Verb.READ, Target("host", host), f"check which ports are open on {host}", tags=tags
        )
    else:
        what = "listen for a connection" if listening else f"open a raw connection to {host}"
        yield effect(
            inv,
            Verb.EXECUTE,
            Target("host", host),
            what + (f" and send {source}" if source else ""),
            tags=tags,
        )


_SHELLS = re.compile(
    r"(^|/)((ba|da|z|k|c|tc|fi|a)?sh|python[\d.]*|perl|ruby|php|node|lua|irb|powershell|pwsh|cmd(\.exe)?)(\s+-i)?\s*$"
)
_HAPROXY_READS = ("show", "help", "get", "prompt", "quit")


def _haproxy(inv: Invocation) -> Iterator[Effect]:
    """Commands sent to HAProxy's runtime socket: ``show ...`` reads, the rest change traffic."""
    for command in re.split(r"[;\n]", inv.stdin.text or ""):
        command = command.strip()
        if command and not command.startswith(_HAPROXY_READS):
            yield effect(
                inv,
                Verb.MODIFY,
                Target("service", "haproxy"),
                f"send '{command}' to the running HAProxy, changing live traffic",
                tags={"service"},
            )


def _names(*groups: Sequence[str]) -> list[str]:
    return [name for group in groups for name in group]


FAMILIES = (
    CommandFamily.of(["printenv"], _printenv),
    CommandFamily.of(["echo", "printf"], _echo),
    CommandFamily.of(["set", *_LISTING_FLAGS], _variable_listing),
    CommandFamily.of(_names(list(_SECRET_COMMANDS), list(_RUNNERS)), _secret_tool),
    CommandFamily.of(["scp"], _scp),
    CommandFamily.of(["sftp"], _sftp),
    CommandFamily.of(["nc", "ncat", "netcat"], _netcat),
    CommandFamily.of(["socat"], _socat),
)
