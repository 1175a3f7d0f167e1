"""The shared vocabulary of cloud, infrastructure and SaaS command lines: subcommand verbs, options
and scope hints.

Most such CLIs read ``TOOL NOUN... VERB [OPERANDS] [--options]`` (``ldcli flags delete my-flag``,
``gcloud compute instances delete vm``, ``aws ec2 terminate-instances``). :func:`parse` splits a
command line that way, :func:`verb_of` says what a subcommand word does (``delete``/``purge``/
``terminate`` delete, ``create``/``update``/``deploy`` change, ``list``/``get``/``describe`` read),
and :func:`hint_tags` turns ``--profile prod`` or ``--namespace prod`` into the ``key=value`` tags
that :mod:`blastdoor.scope` resolves. This module registers no program itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from blastdoor.analyze.commands.getopt import Syntax, split_options
from blastdoor.analyze.invocation import Analysis, Invocation, Word

PFLAG = Syntax(dash_values=True, short_equals=True, numbers=True)
"""Go's pflag and flag packages (kubectl, docker, terraform, most cloud and SaaS CLIs), and the
other parsers that read ``-name=value`` and take a valued option's next word whatever it is.
pflag and argparse bundle single letters, but words are read whole here: one table serves CLIs
whose options are single-dash long names (Go's flag package: terraform's ``-auto-approve``) and
lists few of each CLI's letters (kubectl's ``-f`` is ``--filename`` to apply, ``--follow`` to
logs), so a bundle read by letters would give a value to a letter that has none."""
ARGPARSE = Syntax(dash_values=False, short_equals=True, numbers=True)
"""Python's argparse (aws, gcloud, az): a valued option refuses a next word that looks like an
option."""


def words(text: str) -> frozenset[str]:
    """A word list written as text (the tables below are long)."""
    return frozenset(text.split())


DELETE_WORDS = words(
    """
    delete del destroy remove rm rb rmi purge drop terminate wipe prune forget reset erase
    clean cleanup clear deregister unregister uninstall undeploy unpublish revoke truncate
    flush expunge deletefile dedupe compact kill unset rmdir obliterate nuke teardown
    decommission
    """
)
MODIFY_WORDS = words(
    """
    create new add mb mk mkdir make update set put patch edit modify change apply deploy
    publish push upload import activate deactivate enable disable archive unarchive restore
    rollback roll rotate attach detach associate disassociate tag untag label replace rename
    start stop restart reboot scale resize pause resume suspend cancel promote register install
    upgrade downgrade lock unlock trigger send pub write grant allow authorize invite assign
    unassign link unlink recreate rebuild redeploy release merge close reopen approve reject
    retry rerun invoke execute exec run build submit transfer swap failover reload renew revert
    undo migrate provision increase decrease break abort enqueue requeue acknowledge ack
    resolve snooze silence mute unmute copy cp move mv sync mirror rsync pin unpin sign encrypt
    invalidate expire evict drain cordon taint
    """
)
READ_WORDS = words(
    """
    list ls lsd lsl lsf get show describe status info view cat head stat version help whoami
    search browse query find diff check validate lint inspect logs log tail watch history
    health ping explain lookup exists du size hash print top stats snapshots wait verify doctor
    diagnostic diagnose listen sub subscribe bench tree test estimate preview simulate scan
    select filter receive poll count read access reveal download export dump fetch display
    audit report plan events usage metrics trace debug open dashboard docs completion env
    current summary render template convert format fmt evaluate eval serve ncdu md5sum sha1sum
    cluster_status list_queues
    """
)
# Words that are nouns as often as verbs: they decide only when nothing stronger follows.
WEAK_WORDS = words(
    """
    version config configs logs log tail key keys info status env local server snapshot backup
    run test history events metrics template debug dev label tag build release
    """
)
# Verbs whose change cannot simply be undone (a rotated key, a synced mirror).
IRREVERSIBLE_WORDS = words(
    """
    rotate roll sync mirror rsync failover break revoke expire evict swap move mv migrate
    """
)
_MODIFIERS = words(
    """
    batch bulk force mass async multi permanently hard soft
    """
)
SECRET_NOUNS = words(
    """
    secret secrets password passwords credential credentials keys access-key access-keys token
    tokens item document secret-value private-key connection-string connection-strings
    """
)
SECRET_READS = words(
    """
    get read access reveal show download export cat value print
    """
)
# Words that only act on this machine (log in, set up local config, mount, unpack a backup here).
LOCAL_WORDS = words(
    """
    login logout init setup configure mount unmount extract clone completion dev serve server
    local auth use switch
    """
)
# Words that make a backup copy: adding a copy never loses data.
BACKUP_WORDS = frozenset({"backup", "snapshot", "snapshots-create"})
BOOL_OPTIONS = words(
    """
    --force --yes --all --recursive --json --quiet --verbose --debug --help --version --dry-run
    --dryrun --insecure --archive --reveal --wait --watch --follow --prune --purge --remove
    --interactive --tty --rm --detach --privileged --auto-approve --no-wait --confirm
    --non-interactive --all-namespaces --cascade --wide --raw --plain --pretty --silent --list
    --describe --alter --add --create --execute --reset-offsets --if-exists
    --skip-final-snapshot --no-verify --overwrite --local --global --enable --disable
    --permanent --hard --soft --keep-data --no-prompt --async --with-decryption --skip-preview
    --refresh --no-refresh --remove-orphans --volumes --yes-i-really-mean-it --human-readable
    --summarize --long
    """
)
# The verbs that end a gcloud/az command (``az lock list``: ``lock`` is a group, ``list`` the verb).
LEAF_WORDS = words(
    """
    list ls show describe get delete create update set add remove rm start stop restart reboot
    enable disable deploy undeploy purge wait exists download upload invoke access cp mv rsync
    cat import export resize scale attach detach rollback restore cancel submit promote reset
    clear unset print login logout install uninstall upgrade untag destroy terminate deregister
    register apply patch replace rename move copy sync activate deactivate suspend resume pause
    build run search query check validate version help tail logs ssh scp connect generate
    regenerate rotate revoke grant assign archive drop truncate flush kill abort merge approve
    reject renew swap failover browse url
    """
)
HELP_WORDS = frozenset({"--help", "-h", "help", "-help", "--usage"})
DRY_RUN = words(
    """
    --dry-run --dryrun --dry-run=client --dry-run=server --dry-run=true --what-if --plan
    --preview --check --noop --simulate
    """
)

# Options that name where a command lands, and the scope hint key each becomes.
# fmt: off
HINT_OPTIONS: Mapping[str, str] = {
    "profile": "profile", "context": "context", "kube-context": "context",
    "kubecontext": "context", "namespace": "namespace", "project": "project",
    "project-id": "project", "resource-group": "project", "env": "env", "environment": "env",
    "stage": "env", "workspace": "workspace", "account": "account", "account-id": "account",
    "account-name": "account", "subscription": "account", "org": "account",
    "organization": "account", "stack": "stack", "app": "app", "application": "app",
    "site": "site", "service": "service", "service-name": "service", "cluster": "context",
    "cluster-name": "context", "host": "host", "server": "host", "url": "url", "endpoint": "url",
    "endpoint-url": "url", "bootstrap-server": "host", "addr": "host", "address": "host",
    "database": "database", "db": "database", "branch": "branch", "region": "region",
    "zone": "region", "location": "region", "space": "env", "team": "account",
    "tenant": "account", "vhost": "host",
}
# fmt: on
# Environment variables set on the command line that name where it lands.
# fmt: off
HINT_VARIABLES: Mapping[str, str] = {
    "AWS_PROFILE": "profile", "AWS_DEFAULT_PROFILE": "profile", "TF_WORKSPACE": "workspace",
    "KUBE_CONTEXT": "context", "KUBECONFIG": "context", "DOCKER_HOST": "host",
    "DOCKER_CONTEXT": "context", "CLOUDSDK_CORE_PROJECT": "project",
    "GOOGLE_CLOUD_PROJECT": "project", "AZURE_SUBSCRIPTION_ID": "account",
    "PULUMI_STACK": "stack", "VAULT_ADDR": "host", "VAULT_NAMESPACE": "namespace", "ENV": "env",
    "ENVIRONMENT": "env", "APP_ENV": "env", "STAGE": "env", "DEPLOY_ENV": "env",
    "AWS_REGION": "region", "DOPPLER_CONFIG": "env", "HELM_NAMESPACE": "namespace",
    "NAMESPACE": "namespace",
}
# fmt: on
_NAME_SUFFIXES = (
    "name",
    "id",
    "identifier",
    "arn",
    "url",
    "key",
    "email",
    "bucket",
    "names",
    "ids",
    "arns",
)
_SPLIT = re.compile(r"[-_:]")


def verb_word(word: str) -> str:
    """The verb a subcommand word starts with (``batch-delete-image`` → ``delete``), or ''."""
    lowered = word.lower()
    if lowered in DELETE_WORDS or lowered in MODIFY_WORDS or lowered in READ_WORDS:
        return lowered
    tokens = [token for token in _SPLIT.split(lowered) if token]
    if len(tokens) < 2:
        return ""
    while len(tokens) > 1 and tokens[0] in _MODIFIERS:
        tokens.pop(0)
    return tokens[0] if tokens[0] in DELETE_WORDS | MODIFY_WORDS | READ_WORDS else ""


def kind_of(word: str) -> str:
    """``delete``, ``modify``, ``read``, ``local``, ``backup`` or '' for a subcommand word."""
    lowered = word.lower()
    if lowered in LOCAL_WORDS:
        return "local"
    if lowered in BACKUP_WORDS:
        return "backup"
    verb = verb_word(word)
    if not verb:
        return ""
    if verb in DELETE_WORDS:
        return "delete"
    if verb in MODIFY_WORDS:
        return "modify"
    return "read"


@dataclass(frozen=True)
class Parsed:
    """A command line split into nouns, the verb, operands and options."""

    nouns: tuple[str, ...] = ()
    verb: str = ""  # the subcommand word as written ("delete-db-instance"); '' when none
    kind: str = ""  # "delete" | "modify" | "read" | ''
    operands: tuple[Word, ...] = ()
    options: Mapping[str, str] = field(default_factory=dict)  # "--name" -> value ('' for a flag)
    positionals: tuple[Word, ...] = ()

    def has(self, *names: str) -> bool:
        return any(name in self.options for name in names)

    def value(self, *names: str) -> str:
        for name in names:
            if self.options.get(name):
                return self.options[name]
        return ""

    @property
    def help(self) -> bool:
        return bool(HELP_WORDS & set(self.options)) or any(
            w in HELP_WORDS for w in (*self.nouns, self.verb)
        )

    @property
    def dry_run(self) -> bool:
        return any(
            o in DRY_RUN or (o == "--dry-run" and v not in ("none", "false"))
            for o, v in self.options.items()
        )


def parse(
    args: Sequence[Word],
    *,
    values: Iterable[str] = (),
    flags: Iterable[str] = (),
    verbs: Mapping[str, str] | None = None,
    depth: int = 4,
    last: bool = False,
    syntax: Syntax = PFLAG,
) -> Parsed:
    """Split ``args`` into nouns, verb and operands.

    ``values`` are options known to take a separate value, ``flags`` options known not to; other
    long options take the next word as their value unless it starts with ``-`` or is a verb.
    ``syntax`` is how the CLI's parser reads the rest (Go's pflag unless the family says otherwise).
    ``verbs`` maps extra subcommand words of one CLI to a kind. The first strong verb among the
    first ``depth`` positionals wins; weak ones (``version``, ``config``) only when none follows.
    With ``last``, the last verb among the leading command words wins (gcloud and az put the verb
    after the groups: ``az lock list``).
    """
    never = BOOL_OPTIONS | frozenset(flags)
    extra = verbs or {}

    def guess(words: Sequence[Word], i: int) -> bool:
        return words[i].text not in never and _takes_next(words, i, extra)

    found, positionals = split_options(args, frozenset(values) - never, syntax, guess=guess)
    options = {option.name: option.text for option in found}
    if last:
        return _split_last(positionals, options, extra, depth)
    return _split(positionals, options, extra, depth)


def _split_last(
    positionals: list[Word], options: dict[str, str], extra: Mapping[str, str], depth: int
) -> Parsed:
    found: tuple[int, str, bool] | None = None
    for index, word in enumerate(positionals[:depth]):
        lowered = word.text.lower()
        kind = extra[lowered] if lowered in extra else kind_of(word.text)
        if not kind:
            if found is not None and not _command_word(lowered):
                break  # an operand: the command words have ended
            continue
        leaf = lowered in extra or (verb_word(lowered) or lowered) in LEAF_WORDS
        # The first word may be a group that is also a verb (``gcloud run services delete``):
        # a later leaf verb takes its place.
        if found is None or (leaf and (not found[2] or found[0] == 0)):
            found = (index, kind, leaf)
    if found is None:
        return _split(positionals, options, extra, depth)
    return _parsed(positionals, options, found[0], found[1])


def _command_word(text: str) -> bool:
    return text.replace("-", "").isalpha() and text.islower()


def _takes_next(words: Sequence[Word], i: int, extra: Mapping[str, str]) -> bool:
    if i + 1 >= len(words):
        return False
    following = words[i + 1].text
    return not following.startswith("-") and not (following.lower() in extra or kind_of(following))


def _split(
    positionals: list[Word], options: dict[str, str], extra: Mapping[str, str], depth: int
) -> Parsed:
    weak: int | None = None
    for index, word in enumerate(positionals[:depth]):
        lowered = word.text.lower()
        kind = extra[lowered] if lowered in extra else kind_of(word.text)
        if not kind:
            continue
        if lowered in WEAK_WORDS and lowered not in extra:
            weak = index if weak is None else weak
            continue
        return _parsed(positionals, options, index, kind)
    if weak is not None:
        kind = kind_of(positionals[weak].text)
        return _parsed(positionals, options, weak, kind)
    return Parsed(
        nouns=tuple(w.text for w in positionals[:depth]),
        options=options,
        positionals=tuple(positionals),
        operands=tuple(positionals[depth:]),
    )


def _parsed(positionals: list[Word], options: dict[str, str], index: int, kind: str) -> Parsed:
    return Parsed(
        nouns=tuple(w.text for w in positionals[:index]),
        verb=positionals[index].text,
        kind=kind,
        operands=tuple(positionals[index + 1 :]),
        options=options,
        positionals=tuple(positionals),
    )


def target_name(parsed: Parsed, *, prefer: Sequence[str] = ()) -> str:
    """What the command acts on: the first operand or a named option (``--name``, ``--*-id``)."""
    for name in prefer:
        if parsed.options.get(name):
            return _named(parsed.options[name])
    if parsed.operands:
        return _named(" ".join(w.text for w in parsed.operands[:3]))
    for name, value in parsed.options.items():
        bare = name.lstrip("-")
        if (
            value
            and (bare in ("n", "name", "id") or bare.endswith(_NAME_SUFFIXES))
            and bare not in HINT_OPTIONS
        ):
            return _named(value)
    return ""


def _named(text: str) -> str:
    """A target name fit for scope resolution: a person's e-mail address names its domain, not an
    environment (``dev@example.com`` is not a development system)."""
    if "@" in text and "://" not in text and " " not in text:
        return text.rsplit("@", 1)[1]
    return text


def hint_tags(
    inv: Invocation,
    ctx: Analysis,
    parsed: Parsed | None = None,
    *,
    extra: Mapping[str, str] | None = None,
) -> set[str]:
    """``key=value`` scope hints from options and from variables set on the command line."""
    tags: set[str] = set()
    table = {**HINT_OPTIONS, **(extra or {})}
    if parsed is not None:
        for name, value in parsed.options.items():
            key = table.get(name.lstrip("-"))
            if key and value:
                tags.add(f"{key}={value}")
    for variable, value in inv.assignments.items():
        key = HINT_VARIABLES.get(variable)
        if key and value:
            tags.add(f"{key}={value}")
    return tags


# Path tags that describe this machine's filesystem; inside a pod or container they mean nothing.
_HOST_PATH_TAGS = frozenset(
    {
        "root-path",
        "system-path",
        "home-path",
        "outside-workspace",
        "workspace-path",
        "workspace-root",
    }
)


def elsewhere(tags: frozenset[str]) -> frozenset[str]:
    """``tags`` of an effect that runs in a pod or container, without this machine's path tags."""
    return tags - _HOST_PATH_TAGS


def secret_read(nouns: Sequence[str], verb: str) -> bool:
    """Whether ``NOUNS VERB`` prints secret values (``secrets get``, ``get-secret-value``)."""
    lowered = [n.lower() for n in nouns]
    if verb.lower().startswith(("get-secret", "get-password", "reveal", "access-secret")):
        return True
    return (
        bool(SECRET_NOUNS & set(lowered))
        and verb_word(verb) in SECRET_READS
        and verb_word(verb) != ""
    )


def phrase(kind: str) -> str:
    """The plain-words consequence of a kind of verb, for effect details."""
    return {
        "delete": "it deletes remote resources and cannot be undone",
        "modify": "it changes a remote system",
        "read": "it only reads",
    }.get(kind, "")


def join_path(directory: str, name: str) -> str:
    """``name`` in ``directory`` (a ``-C``/``-chdir`` folder; "" or "." for here); absolute names stay."""
    if name.startswith("/") or not directory or directory == ".":
        return name
    return f"{directory.rstrip('/')}/{name}"
