"""Infrastructure as code: terraform, tofu (OpenTofu), terragrunt, pulumi, cdk, cdktf, sam and
serverless.

``destroy`` (and ``apply -destroy``, ``pulumi destroy``, ``sls remove``) destroys everything a
configuration manages. ``apply``/``up``/``deploy`` without a saved plan changes real infrastructure
with content nobody reviewed, so it is an irreversible change; applying a saved plan file is a
reversible one (someone saw the plan). State surgery (``state rm``, ``force-unlock``, ``workspace
delete``) is irreversible. ``plan``, ``show``, ``validate``, ``output``, ``state list`` only read.
Where it lands comes from ``-chdir``, ``TF_WORKSPACE``, ``-var-file=prod.tfvars``, ``--stack``
and ``--stage``, given to :mod:`blastdoor.scope` as ``workspace=``/``env=``/``stack=`` hints.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from blastdoor.analyze import terraform_state
from blastdoor.analyze.commands import CommandFamily
from blastdoor.analyze.commands.remote import resource_families
from blastdoor.analyze.commands.verbs import hint_tags, join_path, parse, words
from blastdoor.analyze.invocation import Analysis, Invocation, Word, effect
from blastdoor.analyze.paths import UNKNOWN_DIR, WORKSPACE_PLACEHOLDER
from blastdoor.model import Effect, Reversibility, Scope, Target, Verb
from blastdoor.scope import FOLDER

_TF_READS = words(
    """
    plan show output validate fmt version providers graph console get test metadata modules
    help -help --help -version --version render-json output-module-groups graph-dependencies
    hclfmt validate-inputs info terragrunt-info find list dag hcl
    """
)
_TF_LOCAL = words(
    """
    init login logout -install-autocomplete -uninstall-autocomplete scaffold catalog
    """
)
_TF_VALUES = words(
    """
    var var-file target replace out state state-out backup lock-timeout parallelism chdir
    generate-config-out config provider
    """
)
_ENV_VARS = ("env", "environment", "stage", "workspace", "tier")


def _terraform(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    words = list(inv.args)
    chdir = ""
    while words and words[0].text.startswith("-chdir="):
        chdir = words.pop(0).text.split("=", 1)[1]
    extra: set[str] = set()
    workspace = inv.assignments.get("TF_WORKSPACE") or ctx.env.get("TF_WORKSPACE") or ""
    if words and words[0].text in ("run-all", "run") and inv.name == "terragrunt":
        words.pop(0)
        extra.add("run-all")
        while words and words[0].text.startswith("-"):
            extra.add("run-all") if words.pop(0).text in ("--all", "-all") else None
    if not words:
        yield effect(
            inv,
            Verb.READ,
            Target("terraform", chdir or "."),
            f"{inv.name} only shows help",
            tags=_tf_hints(inv, ctx, chdir, [], workspace),
        )
        return
    command, rest = words[0].text, words[1:]
    texts = [w.text for w in rest]
    operands = [texts[i] for i in tf_operands(texts)]
    tags = _tf_hints(inv, ctx, chdir, rest, workspace) | extra | _state_marks(ctx, chdir, command, rest, operands, workspace)
    yield from _tf_command(inv, command, rest, operands, Target("terraform", chdir or _here(ctx) or "."), tags)


def tf_operands(words: Sequence[str]) -> list[int]:
    """Positions of the words after a Terraform command that are neither flags nor a flag's value."""
    return [i for i, word in enumerate(words)
            if not word.startswith("-") and not (i and words[i - 1].lstrip("-") in _TF_VALUES)]  # fmt: skip


_STATE_WRITERS = frozenset({"apply", "destroy", "import", "refresh", "taint", "untaint"})
_STATE_SUBCOMMAND_WRITERS = frozenset({"push", "rm", "mv", "replace-provider"})  # not list, show, pull


def _state_marks(ctx: Analysis, chdir: str, command: str, rest: Sequence[Word], operands: Sequence[str],
                 workspace: str) -> set[str]:  # fmt: skip
    """The lineage and serial of the local state a state-writing command would write over (and of
    the file ``state push`` would upload), as tags the ledger keeps and a regression check reads."""
    if command not in _STATE_WRITERS and not (command == "state" and operands[:1] and operands[0] in _STATE_SUBCOMMAND_WRITERS):
        return set()
    path = _flag_value(rest, "state")
    if not path:
        workspace = workspace or (ctx.read_file(join_path(chdir, ".terraform/environment")) or "").strip()
        path = f"terraform.tfstate.d/{workspace}/terraform.tfstate" if workspace and workspace != "default" else "terraform.tfstate"
    found = set()
    if (local := terraform_state.mark(ctx.read_head(join_path(chdir, path), terraform_state.HEAD))) is not None:
        found.add(local.tag())
    pushing = command == "state" and operands[:1] == ["push"] and len(operands) > 1
    if pushing and (pushed := terraform_state.mark(ctx.read_head(join_path(chdir, operands[1]), terraform_state.HEAD))) is not None:
        found.add(pushed.tag(terraform_state.PUSH_TAG))
    return found


def _flags(rest: Sequence[Word]) -> Iterator[tuple[str, str]]:
    """(name, value) of each flag: ``-NAME=V``, ``--NAME=V`` or ``-NAME V`` (Terraform takes all three)."""
    for i, word in enumerate(rest):
        if word.text.startswith("-"):
            name, equals, value = word.text.lstrip("-").partition("=")
            yield name, value if equals else (rest[i + 1].text if i + 1 < len(rest) else "")


def _flag_value(rest: Sequence[Word], name: str) -> str:
    return next((value for flag, value in _flags(rest) if flag == name), "")


def _here(ctx: Analysis) -> str:
    """The last two parts of the folder terraform runs in: where the shell has moved to (``cd``)
    or the working directory; empty when that is not known."""
    where = ctx.here or ctx.cwd or ""
    if where == UNKNOWN_DIR:
        return ""
    parts = [p for p in where.split("/") if p and "/" + p != WORKSPACE_PLACEHOLDER]
    return "/".join(parts[-2:])


def _tf_hints(inv: Invocation, ctx: Analysis, chdir: str, rest: Sequence[Word], workspace: str) -> set[str]:
    tags = hint_tags(inv, ctx) | {"terraform"}
    if folder := chdir or _here(ctx):
        tags.add(f"{FOLDER}={folder}")
    if workspace:
        tags.add(f"workspace={workspace}")
    for text, value in _flags(rest):
        if text.startswith("var-file"):
            tags.add(f"env={value}")
        elif text.startswith("var") and "=" in value:
            key, _, setting = value.partition("=")
            if key.lower() in _ENV_VARS:
                tags.add(f"env={setting}")
        elif text.startswith("backend-config") and "=" in value:
            tags.add(f"env={value}")
    return tags


def _tf_command(
    inv: Invocation, command: str, rest: Sequence[Word], operands: Sequence[str], target: Target, tags: set[str]
) -> Iterator[Effect]:
    flags = {w.text.lstrip("-").split("=", 1)[0] for w in rest if w.text.startswith("-")}
    if "auto-approve" in flags:
        tags = tags | {"auto-approve"}
    if "target" in flags:
        tags = tags | {"targeted"}
    if command in _TF_READS or command in _TF_LOCAL or flags & {"help", "h"}:
        local = command in _TF_LOCAL
        yield effect(
            inv,
            Verb.EXECUTE if local else Verb.READ,
            target,
            f"{inv.name} {command} only reads or plans",
            scope=Scope.LOCAL if local else Scope.UNKNOWN,
            tags=tags,
        )
    elif command == "destroy" or (command == "apply" and "destroy" in flags):
        yield effect(
            inv,
            Verb.DESTROY,
            target,
            f"{inv.name} {command}: destroy the infrastructure this configuration manages",
            reversibility=Reversibility.IRREVERSIBLE,
            tags=tags,
        )
    elif command == "apply":
        saved = bool(operands)
        detail = (
            f"apply the saved plan {operands[0]} to real infrastructure"
            if saved
            else "apply unreviewed changes to real infrastructure (may replace or delete resources)"
        )
        reversible = saved or "refresh-only" in flags
        yield effect(
            inv,
            Verb.MODIFY,
            target,
            detail,
            reversibility=Reversibility.REVERSIBLE if reversible else Reversibility.IRREVERSIBLE,
            tags=tags
            | ({"saved-plan"} if saved else set())
            | ({"replace"} if "replace" in flags else set()),
        )
    elif command in ("state", "workspace", "env"):
        yield from _tf_state(inv, command, operands, flags, target, tags)
    elif command == "force-unlock":
        yield effect(
            inv,
            Verb.MODIFY,
            target,
            "break the state lock; a run still in progress could corrupt the state",
            reversibility=Reversibility.IRREVERSIBLE,
            tags=tags | {"state"},
        )
    elif command in ("import", "taint", "untaint", "refresh"):
        yield effect(
            inv,
            Verb.MODIFY,
            target,
            f"{inv.name} {command} changes the state ({' '.join(operands)})",
            tags=tags | {"state"},
        )
    else:
        yield effect(
            inv,
            Verb.EXECUTE_UNKNOWN,
            target,
            f"{inv.name} {command} is not a command Blastdoor knows",
            reversibility=Reversibility.IRREVERSIBLE,
            tags=tags,
        )


def _tf_state(
    inv: Invocation,
    command: str,
    operands: Sequence[str],
    flags: set[str],
    target: Target,
    tags: set[str],
) -> Iterator[Effect]:
    sub = operands[0] if operands else ""
    args = " ".join(operands[1:])
    if command == "state" and (sub in ("list", "show", "pull", "") or "dry-run" in flags):
        yield effect(inv, Verb.READ, target, f"{inv.name} state {sub} only reads", tags=tags)
    elif command == "state":
        yield effect(
            inv,
            Verb.MODIFY,
            target,
            f"{inv.name} state {sub} {args}: edits the state by hand",
            reversibility=Reversibility.IRREVERSIBLE,
            tags=tags | {"state"},
        )
    elif sub == "delete":
        name = args or "(unnamed)"
        yield effect(
            inv,
            Verb.DELETE,
            Target("terraform-workspace", name),
            f"delete the workspace {name} and its state",
            reversibility=Reversibility.IRREVERSIBLE,
            tags=tags | {"state", f"workspace={name}"},
        )
    else:
        yield effect(
            inv,
            Verb.EXECUTE,
            target,
            f"{inv.name} workspace {sub} {args}".strip(),
            scope=Scope.LOCAL,
            tags=tags,
        )


# For each tool: the commands that destroy, those that deploy, and those that only read or set up.
_DEPLOY: dict[str, tuple[frozenset[str], frozenset[str], frozenset[str]]] = {
    "pulumi": (
        words("destroy"),
        words("up update watch"),
        words("""preview stack config whoami version about logs new login logout plugin schema
                 convert org policy env help install gen-completion console ai"""),
    ),
    "cdk": (
        words("destroy"),
        words("deploy bootstrap watch import rollback migrate gc refactor"),
        words("""synth synthesize diff ls list doctor docs init context acknowledge notices
                 metadata version help drift"""),
    ),
    "cdktf": (
        words("destroy"),
        words("deploy apply watch"),
        words("synth diff plan list init get convert provider login debug help output"),
    ),
    "sam": (
        words("delete"),
        words("deploy sync publish"),
        words("build validate local logs list init package pipeline traces remote docs help"),
    ),
    "serverless": (
        words("remove"),
        words("deploy rollback invoke"),
        words("""info logs print package plugin login logout create install help metrics offline
                 config dev"""),
    ),
}
_DEPLOY["sls"] = _DEPLOY["serverless"]


def _deploy_tool(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    destroys, deploys, reads = _DEPLOY[inv.name]
    parsed = parse(
        inv.args,
        values={
            "-s",
            "--stack",
            "--stage",
            "-r",
            "--region",
            "--profile",
            "-c",
            "--context",
            "--app",
            "-a",
            "--config",
            "--cwd",
            "-C",
            "--stack-name",
            "-f",
            "--function",
        },
        depth=2,
    )
    tags = hint_tags(
        inv,
        ctx,
        parsed,
        extra={
            "s": "stack" if inv.name == "pulumi" else "env",
            "stack-name": "stack",
            "stage": "env",
            "c": "context",
            "stack": "stack",
        },
    ) | {inv.name}
    words = [w.text for w in parsed.positionals]
    command = words[0] if words else ""
    sub = words[1] if len(words) > 1 else ""
    stacks = (
        " ".join(words[1:]) or parsed.value("-s", "--stack", "--stack-name", "--stage") or inv.name
    )
    target = Target(f"{inv.name}-stack", stacks)
    auto = parsed.has(
        "--yes",
        "-y",
        "--force",
        "-f",
        "--require-approval",
        "--no-confirm-changeset",
        "--skip-preview",
    )
    tags |= {"auto-approve"} if auto else set()
    if inv.name == "pulumi" and command == "stack" and sub in ("rm", "remove"):
        yield effect(
            inv,
            Verb.DELETE,
            Target("pulumi-stack", " ".join(words[2:]) or stacks),
            "delete the stack and its state history",
            reversibility=Reversibility.IRREVERSIBLE,
            tags=tags,
        )
    elif (
        parsed.help
        or not command
        or command in reads
        or parsed.dry_run
        or (command == "state" and sub != "delete")
        or parsed.has("--preview-only")
    ):
        yield effect(
            inv,
            Verb.READ,
            target,
            f"{inv.name} {command} only reads, previews or sets up",
            tags=tags,
        )
    elif command in destroys:
        yield effect(
            inv,
            Verb.DESTROY,
            target,
            f"{inv.name} {command}: destroy every resource of {stacks}",
            reversibility=Reversibility.IRREVERSIBLE,
            tags=tags,
        )
    elif command in deploys or command == "state":
        yield effect(
            inv,
            Verb.MODIFY,
            target,
            f"{inv.name} {command}: change real infrastructure ({stacks}) without a reviewed plan",
            reversibility=Reversibility.IRREVERSIBLE,
            tags=tags,
        )
    else:
        yield effect(inv, Verb.MODIFY, target, f"{inv.name} {command} {sub}".strip(), tags=tags)


FAMILIES = resource_families(
    CommandFamily.of(["terraform", "tofu", "terragrunt", "terraform.exe", "opentofu"], _terraform),
    CommandFamily.of(["pulumi", "cdk", "cdktf", "sam", "serverless", "sls"], _deploy_tool),
)
