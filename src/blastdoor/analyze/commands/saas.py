"""SaaS, storage, backup, messaging and CI command lines shaped ``TOOL NOUN... VERB``.

One :class:`Cli` entry per tool says how it names things (target kind, extra verbs, options that
take values, scope-hint options); :func:`cli_effects` turns the parsed line into effects with the
shared vocabulary of :mod:`blastdoor.analyze.commands.verbs`: ``delete``/``purge``/``forget`` delete
(irreversible, scope left for :mod:`blastdoor.scope`), ``create``/``update``/``deploy`` change,
``list``/``get``/``describe`` read, and ``get`` on secrets is credential use. The few tools whose
danger hides in options or operands (rclone, mc, azcopy, kafka, glab api, doppler run) have small
handlers of their own. The families are registered by :mod:`blastdoor.analyze.commands.cloud`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from blastdoor.analyze.commands import CommandFamily
from blastdoor.analyze.commands.verbs import (
    HINT_OPTIONS,
    IRREVERSIBLE_WORDS,
    Parsed,
    hint_tags,
    parse,
    secret_read,
    target_name,
    verb_word,
    words,
)
from blastdoor.analyze.invocation import Analysis, Invocation, Word, effect
from blastdoor.model import Effect, Reversibility, Scope, Target, Verb

_BACKUP_NOUNS = frozenset({"backup", "backups", "snapshot", "snapshots", "archive", "archives"})
_FORCE = words(
    """
    --force -f --yes -y --auto-approve --quiet -q --confirm
    """
)


@dataclass(frozen=True, kw_only=True)
class Cli:
    """How one tool names things."""

    kind: str  # the target kind ("launchdarkly", "vault", ...)
    verbs: Mapping[str, str] = field(default_factory=dict)  # extra subcommand words -> kind
    values: frozenset[str] = frozenset()  # options that take a separate value
    flags: frozenset[str] = frozenset()  # options that never do
    hints: Mapping[str, str] = field(default_factory=dict)  # extra option -> scope hint key
    secrets: bool = False  # every read prints secret values
    nouns: frozenset[str] = (
        frozenset()
    )  # when set, the first word must be one (else another program)
    local: bool = False  # it acts on this machine only (minikube, kind, vagrant)
    depth: int = 4

    @property
    def valued(self) -> frozenset[str]:
        """Options that take a value: the declared ones and every scope-hint option, so that
        ``--config dev`` or ``--env test`` keep their value even when it reads like a verb."""
        hints = {*HINT_OPTIONS, *self.hints}
        return self.values | {f"-{h}" if len(h) == 1 else f"--{h}" for h in hints}


def cli_effects(inv: Invocation, ctx: Analysis, cli: Cli, parsed: Parsed) -> Iterator[Effect]:
    """The effects of a parsed ``TOOL NOUN... VERB`` command line."""
    tags = hint_tags(inv, ctx, parsed, extra=cli.hints) | {cli.kind}
    if _FORCE & set(parsed.options):
        tags.add("force")
    name = target_name(parsed)
    where = " ".join(parsed.nouns)
    target = Target(cli.kind, name or where or inv.name)
    said = f"{inv.name} {where} {parsed.verb} {name}".replace("  ", " ").strip()
    scope = Scope.LOCAL if cli.local else Scope.UNKNOWN
    kind = parsed.kind
    if parsed.help or parsed.dry_run or (not parsed.positionals and not kind):
        yield effect(
            inv,
            Verb.READ,
            target,
            f"{said} only shows help, a dry run or status",
            scope=scope,
            tags=tags,
        )
    elif kind == "read":
        if (
            cli.secrets
            and verb_word(parsed.verb) in ("get", "read", "show", "export", "download", "reveal")
        ) or (secret_read(parsed.nouns, parsed.verb)):
            yield effect(
                inv,
                Verb.CREDENTIAL_USE,
                target,
                f"{said} prints secret values",
                tags=tags | {"secret"},
            )
        else:
            yield effect(inv, Verb.READ, target, f"{said} only reads", scope=scope, tags=tags)
    elif kind == "delete":
        yield effect(
            inv,
            Verb.DELETE,
            target,
            f"{said} deletes {name or where or 'resources'}; it cannot be undone",
            scope=scope,
            reversibility=Reversibility.IRREVERSIBLE,
            tags=tags,
        )
    elif kind == "backup" or (
        kind == "modify" and _BACKUP_NOUNS & {n.lower() for n in parsed.nouns}
    ):
        yield effect(
            inv,
            Verb.CREATE,
            target,
            f"{said} makes a backup copy",
            scope=scope,
            tags=tags | {"backup"},
        )
    elif kind == "modify":
        lasting = verb_word(parsed.verb) in IRREVERSIBLE_WORDS
        yield effect(
            inv,
            Verb.MODIFY,
            target,
            f"{said} changes {cli.kind} {name or where}".strip(),
            scope=scope,
            reversibility=Reversibility.IRREVERSIBLE if lasting else Reversibility.REVERSIBLE,
            tags=tags,
        )
    else:
        yield effect(
            inv,
            Verb.EXECUTE,
            Target("program", inv.name),
            f"run {said}",
            scope=Scope.LOCAL,
            tags=tags,
        )


def analyzer(cli: Cli) -> Callable[[Invocation, Analysis], Iterator[Effect]]:
    def analyze(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
        if cli.nouns and not (
            inv.args and inv.args[0].text.lower() in cli.nouns | {"--help", "help", "--version"}
        ):
            yield effect(
                inv, Verb.EXECUTE, Target("program", inv.name), f"run {inv.name}", scope=Scope.LOCAL
            )
            return
        parsed = parse(
            inv.args, values=cli.valued, flags=cli.flags, verbs=cli.verbs, depth=cli.depth
        )
        yield from cli_effects(inv, ctx, cli, parsed)

    return analyze


def _remote(text: str) -> bool:
    """A storage location that is not a local path (``remote:path``, ``s3://``, ``alias/b``)."""
    if "://" in text:
        return not text.startswith("file://")
    if text.startswith(("/", ".", "~")):
        return False
    head = text.split("/", 1)[0]
    return head.endswith(":") or ":" in head


def transfer(
    inv: Invocation,
    ctx: Analysis,
    source: Word | None,
    dest: Word,
    *,
    kind: str,
    deletes: bool,
    moves: bool,
    remote: Callable[[str], bool] = _remote,
) -> Iterator[Effect]:
    """Copy, move or sync ``source`` to ``dest``: what is deleted, and what is written where."""
    from blastdoor.analyze.commands.filesystem import delete_effects, write_effect

    tags = hint_tags(inv, ctx) | {kind}
    for word, gone, how in (
        (dest, deletes, "make identical to the source (deleting extra files in)"),
        (source, moves, "move away"),
    ):
        if word is None or not gone:
            continue
        if remote(word.text):
            yield effect(
                inv,
                Verb.DELETE,
                Target(kind, word.text),
                f"{how} {word.text}; deleted files cannot be recovered",
                reversibility=Reversibility.IRREVERSIBLE,
                tags=tags | {"recursive"},
            )
        else:
            yield from delete_effects(inv, ctx, [word], recursive=True, how=how)
    if remote(dest.text):
        yield effect(
            inv,
            Verb.MODIFY,
            Target(kind, dest.text),
            f"upload files to {dest.text}, overwriting what is there",
            tags=tags,
        )
    else:
        found = write_effect(inv, ctx, dest, how="download files into", overwrite=True)
        if found is not None:
            yield found
    if source is not None and remote(source.text) and not moves:
        yield effect(inv, Verb.READ, Target(kind, source.text), f"read {source.text}", tags=tags)


_TRANSFER = words(
    """
    cp copy copyto mv move moveto sync mirror bisync
    """
)


def _storage(cli: Cli, *, sync_deletes: bool) -> Callable[[Invocation, Analysis], Iterator[Effect]]:
    """rclone and mc: copy/move/sync direction matters; ``sync`` deletes at the destination."""
    generic = analyzer(cli)

    def analyze(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
        parsed = parse(inv.args, values=cli.valued, flags=cli.flags, verbs=cli.verbs)
        verb = parsed.verb.lower()
        if verb not in _TRANSFER or len(parsed.operands) < 2 or parsed.dry_run or parsed.help:
            yield from generic(inv, ctx)
            return
        removes = parsed.has(
            "--remove", "--delete", "--delete-after", "--delete-before", "--delete-during"
        )
        deletes = removes or (verb in ("sync", "bisync") and sync_deletes)
        yield from transfer(
            inv,
            ctx,
            parsed.operands[0],
            parsed.operands[-1],
            kind=cli.kind,
            deletes=deletes,
            moves=verb in ("mv", "move", "moveto"),
        )

    return analyze


def _azcopy(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    parsed = parse(inv.args, values={"--delete-destination"}, verbs=_AZCOPY.verbs)
    if parsed.verb.lower() in ("copy", "cp", "sync") and len(parsed.operands) >= 2:
        deletes = parsed.value("--delete-destination").lower() in ("true", "prompt")
        yield from transfer(
            inv,
            ctx,
            parsed.operands[0],
            parsed.operands[-1],
            kind="azure-storage",
            deletes=deletes,
            moves=False,
        )
        return
    yield from cli_effects(inv, ctx, _AZCOPY, parsed)


def _kafka(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    """kafka-topics & co.: the action is an option (--delete, --alter, --reset-offsets)."""
    parsed = parse(
        inv.args,
        values={
            "--bootstrap-server",
            "--topic",
            "--group",
            "--entity-name",
            "--entity-type",
            "--zookeeper",
            "--command-config",
            "--delete-config",
            "--add-config",
        },
    )
    opts = set(parsed.options)
    name = parsed.value("--topic", "--group", "--entity-name") or inv.name
    if inv.name.startswith("kafka-delete-records") or opts & {"--delete", "--remove"}:
        kind = "delete"
    elif (
        opts & {"--alter", "--create", "--add", "--delete-config"}
        or ("--reset-offsets" in opts and "--execute" in opts)
        or inv.name.startswith(("kafka-console-producer", "kafka-producer"))
    ):
        kind = "modify"
    else:
        kind = "read"
    verb = {"delete": "delete", "modify": "update", "read": "list"}[kind]
    cli = Cli(kind="kafka", hints={"bootstrap-server": "host"})
    yield from cli_effects(
        inv,
        ctx,
        cli,
        Parsed(
            verb=verb,
            kind=kind,
            options=parsed.options,
            operands=(Word(name),),
            positionals=(Word(name),),
        ),
    )


def _api(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    """``glab api -X DELETE path``: the HTTP method decides."""
    parsed = parse(inv.args[1:], values={"-X", "--method", "-F", "-f", "--field", "-H", "--header"})
    method = parsed.value("-X", "--method").upper() or (
        "POST" if parsed.has("-F", "-f", "--field") else "GET"
    )
    kind = {"GET": "read", "HEAD": "read", "DELETE": "delete"}.get(method, "modify")
    path = (
        parsed.operands[0].text
        if parsed.operands
        else (parsed.positionals[0].text if parsed.positionals else "")
    )
    cli = Cli(kind=f"{inv.name}-api")
    yield from cli_effects(
        inv,
        ctx,
        cli,
        Parsed(
            verb=method.lower(),
            kind=kind,
            options=parsed.options,
            operands=(Word(path),),
            positionals=(Word(path),),
        ),
    )


def _forge(cli: Cli) -> Callable[[Invocation, Analysis], Iterator[Effect]]:
    generic = analyzer(cli)

    def analyze(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
        if inv.args and inv.args[0].text == "api":
            yield from _api(inv, ctx)
        else:
            yield from generic(inv, ctx)

    return analyze


def _runner(cli: Cli) -> Callable[[Invocation, Analysis], Iterator[Effect]]:
    """doppler/op/vault ``run -- CMD``: the command runs with secrets in its environment."""
    generic = analyzer(cli)

    def analyze(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
        words = [w.text for w in inv.args]
        if words[:1] == ["run"] and "--" in words:
            inner = list(inv.args[words.index("--") + 1 :])
            yield from ctx.run_argv(inv, inner, via=f"{inv.name} run")
            return
        yield from generic(inv, ctx)

    return analyze


def _onepassword(
    rest: Callable[[Invocation, Analysis], Iterator[Effect]],
) -> Callable[[Invocation, Analysis], Iterator[Effect]]:
    """``op read op://vault/item/field`` prints one secret; ``op inject`` without ``--out-file``
    prints the template with its secrets filled in. The rest is an ordinary ``TOOL NOUN VERB``."""

    def analyze(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
        words = [w.text for w in inv.args]
        helping = any(w in ("-h", "--help") for w in words)
        printing = words[:1] == ["read"] or (
            words[:1] == ["inject"] and not any(w.startswith(("-o", "--out-file")) for w in words)
        )
        if printing and not helping:
            reference = next((w for w in words[1:] if not w.startswith("-")), "a template")
            yield effect(inv, Verb.CREDENTIAL_USE, Target("1password", reference),
                         f"op {words[0]} prints the secret {reference}", tags={"1password", "secret"})  # fmt: skip
            return
        yield from rest(inv, ctx)

    return analyze


_AZCOPY = Cli(kind="azure-storage", verbs={"remove": "delete", "jobs": "read", "env": "read"})
_D, _M, _R, _L, _B = "delete", "modify", "read", "local", "backup"

CLIS: dict[str, Cli] = {
    "apigeecli": Cli(kind="apigee", hints={"org": "account", "env": "env"}),
    "deck": Cli(kind="kong", verbs={"file": _R, "dump": _R, "gateway": ""}),
    "kong": Cli(kind="kong", verbs={"stop": _M, "quit": _M, "health": _R, "migrations": ""}),
    "ldcli": Cli(kind="launchdarkly"),
    "flipt": Cli(kind="flipt", verbs={"server": _L, "serve": _L, "config": _L}),
    "unleash": Cli(kind="unleash"),
    "split": Cli(
        kind="split",
        nouns=words(
            "splits environments segments traffic-types workspaces split environment segment"
        ),
        verbs={"kill": _D},
    ),
    "fastly": Cli(kind="fastly", verbs={"activate": _M}),
    "wrangler": Cli(
        kind="cloudflare", verbs={"dev": _L, "tail": _R, "whoami": _R, "deployments": ""}
    ),
    "circleci": Cli(kind="circleci", verbs={"local": _L, "diagnostic": _R, "setup": _L}),
    "gitlab-runner": Cli(kind="gitlab-runner", verbs={"run": _L, "unregister": _D, "verify": _R}),
    "nats": Cli(kind="nats", verbs={"pub": _M, "sub": _R, "bench": _R, "server": _R}),
    "rpk": Cli(kind="redpanda"),
    "rabbitmqadmin": Cli(kind="rabbitmq"),
    "rabbitmqctl": Cli(kind="rabbitmq", verbs={"report": _R, "stop_app": _M, "start_app": _M}),
    "stripe": Cli(kind="stripe", verbs={"listen": _R, "trigger": _M, "roll": _M}),
    "square": Cli(kind="square"),
    "algolia": Cli(kind="algolia", verbs={"browse": _R, "search": _R}),
    "pd": Cli(kind="pagerduty"),
    "datadog-ci": Cli(kind="datadog"),
    "newrelic": Cli(kind="newrelic", verbs={"query": _R, "search": _R}),
    "splunk": Cli(kind="splunk", verbs={"search": _R}),
    "grafana-cli": Cli(kind="grafana"),
    "promtool": Cli(kind="prometheus", verbs={"check": _R, "query": _R, "test": _R}),
    "velero": Cli(
        kind="velero", verbs={"install": _M, "uninstall": _D, "restore": "", "backup": ""}
    ),
    "restic": Cli(
        kind="restic",
        verbs={
            "backup": _B,
            "restore": _L,
            "mount": _L,
            "forget": _D,
            "prune": _D,
            "check": _R,
            "snapshots": _R,
            "copy": _B,
            "init": _L,
        },
        values=words("-r --repo --target --keep-last --keep-daily --tag --host"),
    ),
    "borg": Cli(
        kind="borg",
        verbs={
            "create": _B,
            "extract": _L,
            "mount": _L,
            "recreate": _D,
            "break-lock": _M,
            "compact": _D,
            "check": _R,
            "init": _L,
            "export-tar": _L,
        },
    ),
    "b2": Cli(kind="backblaze", verbs={"authorize_account": _L, "authorize-account": _L}),
    "doctl": Cli(kind="digitalocean", hints={"context": "context"}),
    "linode-cli": Cli(kind="linode"),
    "eksctl": Cli(kind="aws-eks"),
    "nomad": Cli(kind="nomad", verbs={"agent": _L, "plan": _R}),
    "consul": Cli(kind="consul", verbs={"agent": _L}),
    "packer": Cli(kind="packer", verbs={"build": _M, "fmt": _L, "init": _L}),
    "skaffold": Cli(kind="kubernetes", verbs={"dev": _M, "run": _M, "build": _L, "render": _R}),
    "doppler": Cli(
        kind="doppler", hints={"config": "env", "c": "env", "p": "project"}, verbs={"run": _L}
    ),
    "op": Cli(kind="1password", verbs={"read": _R, "inject": _R}),
    "vault": Cli(
        kind="vault",
        secrets=True,
        verbs={"disable": _D, "read": _R, "write": _M, "unwrap": _R, "auth": ""},
        hints={"address": "host"},
    ),
    "glab": Cli(
        kind="gitlab",
        verbs={"clone": _L, "checkout": _L, "archive": _M, "alias": _L, "config": _L, "auth": _L},
    ),
    "minikube": Cli(kind="minikube", local=True),
    "kind": Cli(kind="kind", local=True, nouns=words("create delete get load export build")),
    "vagrant": Cli(kind="vagrant", local=True, verbs={"up": _M, "halt": _M, "ssh": _L}),
    "kubectx": Cli(kind="kubeconfig", local=True),
    "kubens": Cli(kind="kubeconfig", local=True),
}

_CUSTOM: dict[str, Callable[[Invocation, Analysis], Iterator[Effect]]] = {
    "rclone": _storage(
        Cli(
            kind="rclone",
            verbs={"config": _L, "cleanup": _D, "dedupe": _D, "size": _R, "check": _R},
        ),
        sync_deletes=True,
    ),
    "mc": _storage(
        Cli(kind="minio", verbs={"admin": "", "alias": "", "head": _R}), sync_deletes=False
    ),
    "azcopy": _azcopy,
    "glab": _forge(CLIS["glab"]),
    "doppler": _runner(CLIS["doppler"]),
    "op": _onepassword(_runner(CLIS["op"])),
}
_KAFKA = (
    "kafka-topics",
    "kafka-consumer-groups",
    "kafka-configs",
    "kafka-acls",
    "kafka-delete-records",
    "kafka-console-producer",
    "kafka-console-consumer",
    "kafka-broker-api-versions",
)

FAMILIES = (
    *(CommandFamily.of([name], _CUSTOM.get(name) or analyzer(cli)) for name, cli in CLIS.items()),
    *(CommandFamily.of([name], fn) for name, fn in _CUSTOM.items() if name not in CLIS),
    CommandFamily.of([*_KAFKA, *(name + ".sh" for name in _KAFKA)], _kafka),
)
