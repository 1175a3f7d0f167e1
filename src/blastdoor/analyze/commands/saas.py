"""SaaS, storage, backup, messaging and CI command lines shaped ``TOOL NOUN... VERB``.

One :class:`Cli` entry per tool says how it names things (target kind, extra verbs, options that
take values, scope-hint options); :func:`cli_effects` turns the parsed line into effects with the
shared vocabulary of :mod:`blastdoor.analyze.commands.verbs`: ``delete``/``purge``/``forget`` delete
(irreversible, scope left for :mod:`blastdoor.scope`), ``create``/``update``/``deploy`` change,
``list``/``get``/``describe`` read, and ``get`` on secrets is credential use. The few tools whose
danger hides in options or operands (rclone, mc, azcopy, kafka, glab api, doppler run) have small
handlers of their own (:mod:`~blastdoor.analyze.commands.saas_transfer` for copy and sync,
:mod:`~blastdoor.analyze.commands.saas_tools` for the rest and the table of tools). The families are
registered by :mod:`blastdoor.analyze.commands.cloud`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from blastdoor.analyze.commands.generic import ordinary_program
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
from blastdoor.analyze.invocation import Analysis, Invocation, effect
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
        yield ordinary_program(inv, f"run {said}", tags=tags)


def analyzer(cli: Cli) -> Callable[[Invocation, Analysis], Iterator[Effect]]:
    def analyze(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
        if cli.nouns and not (
            inv.args and inv.args[0].text.lower() in cli.nouns | {"--help", "help", "--version"}
        ):
            yield ordinary_program(inv)
            return
        parsed = parse(
            inv.args, values=cli.valued, flags=cli.flags, verbs=cli.verbs, depth=cli.depth
        )
        yield from cli_effects(inv, ctx, cli, parsed)

    return analyze
