"""The table of ``TOOL NOUN... VERB`` command lines (:data:`CLIS`) and the few tools whose danger
hides in options or operands: kafka's scripts (the action is an option), ``glab api`` (judged as
the HTTP request it sends, as ``gh api`` is), secret runners (``doppler run -- CMD``) and 1Password's printing commands."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from blastdoor.analyze.commands import CommandFamily
from blastdoor.analyze.commands.forge_api import api_url, read_call
from blastdoor.analyze.commands.saas import Cli, analyzer, cli_effects
from blastdoor.analyze.commands.saas_transfer import azcopy, storage
from blastdoor.analyze.commands.verbs import Parsed, parse, words
from blastdoor.analyze.http import analyze_request
from blastdoor.analyze.invocation import Analysis, Invocation, Word, effect
from blastdoor.model import Effect, Target, Verb

__all__ = ["CLIS", "FAMILIES"]


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


def _forge(cli: Cli) -> Callable[[Invocation, Analysis], Iterator[Effect]]:
    generic = analyzer(cli)

    def analyze(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
        call = read_call(inv.args[1:]) if inv.args and inv.args[0].text == "api" else None
        if call is not None and call.endpoint:
            # glab api is judged as the HTTP request it sends, as gh api is
            url = api_url(call, "glab")
            yield from analyze_request(call.method, url, None, call.body, evidence=inv.evidence)
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
    "rclone": storage(
        Cli(
            kind="rclone",
            verbs={"config": _L, "cleanup": _D, "dedupe": _D, "size": _R, "check": _R},
        ),
        sync_deletes=True,
    ),
    "mc": storage(
        Cli(kind="minio", verbs={"admin": "", "alias": "", "head": _R}), sync_deletes=False
    ),
    "azcopy": azcopy,
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
