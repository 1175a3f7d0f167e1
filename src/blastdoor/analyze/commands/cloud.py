"""Cloud provider CLIs: aws, gcloud, az and gsutil, plus the SaaS/storage CLIs of
:mod:`blastdoor.analyze.commands.saas_tools` and Jenkins' client (:mod:`blastdoor.analyze.commands.jenkins`).

AWS operations are verb-noun (``delete-db-instance``): ``describe-``/``list-``/``get-`` read,
``delete-``/``terminate-``/``remove-``/``deregister-``/``purge-`` delete, anything else changes the
account. gcloud and az put the verb last among their command words (``gcloud compute instances
delete``). Secrets read out (``get-secret-value``, ``secrets versions access``, ``keys list``) are
credential use; granting roles or policies is escalation. ``--profile``, ``--project``,
``--subscription`` and friends become scope hints; the target's environment is left to
:mod:`blastdoor.scope`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from blastdoor.analyze.commands import CommandFamily
from blastdoor.analyze.commands.jenkins import FAMILIES as JENKINS_FAMILIES
from blastdoor.analyze.commands.remote import resource_families
from blastdoor.analyze.commands.saas import Cli, cli_effects
from blastdoor.analyze.commands.saas_tools import FAMILIES as SAAS_FAMILIES
from blastdoor.analyze.commands.saas_transfer import transfer
from blastdoor.analyze.commands.verbs import (
    ARGPARSE,
    Parsed,
    hint_tags,
    parse,
    target_name,
    words,
)
from blastdoor.analyze.invocation import Analysis, Invocation, effect
from blastdoor.model import Effect, Reversibility, Scope, Target, Verb

_AWS_VALUES = words(
    """
    --profile --region --output --query --endpoint-url --color --ca-bundle --cli-read-timeout
    --cli-connect-timeout --cli-binary-format
    """
)
_AWS_READ = re.compile(
    r"^(describe|list|get|head|lookup|search|scan|query|select|test|validate|estimate|preview|simulate|check|"
    r"verify|batch-get|detect|poll|receive|wait|filter|view|help|admin-get|admin-list|download-db-log)(-|$)"
)
_AWS_DELETE = re.compile(
    r"^(admin-|batch-)?(delete|terminate|remove|deregister|purge|revoke|unsubscribe|disassociate|detach|release|"
    r"cancel|disable|stop|reset|schedule-key-deletion|empty)(-|$)"
)
_AWS_DELETE_STRICT = re.compile(
    r"^(admin-|batch-)?(delete|terminate|remove|deregister|purge|schedule-key-deletion)(-|$)"
)
_AWS_LASTING = re.compile(r"^(revoke|unsubscribe|release|reset|empty)(-|$)")
_AWS_SECRET = re.compile(
    r"^(get-secret-value|batch-get-secret-value|decrypt|generate-data-key|get-login-password|"
    r"get-authorization-token|generate-db-auth-token|get-token|get-session-token|get-federation-token|"
    r"assume-role.*|create-access-key|create-login-profile|get-credentials-for-identity|get-role-credentials|"
    r"get-password-data|export-certificate|get-cluster-credentials.*|presign)$"
)
_AWS_ESCALATE = re.compile(
    r"^(attach-(user|role|group)-policy|put-(user|role|group)-policy|add-user-to-group|update-assume-role-policy|"
    r"create-policy-version|set-default-policy-version|add-role-to-instance-profile)$"
)
_AWS_SHARE = re.compile(
    r"^(put-bucket-policy|put-bucket-acl|put-object-acl|add-permission|create-grant|"
    r"put-resource-policy|modify-image-attribute|modify-snapshot-attribute)$"
)
_AWS_LOCAL = frozenset({"configure", "history", "sso", "cli", "login", "logout"})
_AWS_LOCAL_OPS = frozenset(
    {"update-kubeconfig", "login", "start-session", "wizard", "tail", "start-live-tail"}
)


_AWS_SECRET_SETTING = re.compile(r"(secret|session_token|security_token|access_key|password)", re.I)


def _aws_configure_secret(operation: str, rest: list[str]) -> bool:
    """``aws configure get aws_secret_access_key`` and ``aws configure export-credentials``."""
    if operation == "export-credentials":
        return True
    return operation == "get" and any(_AWS_SECRET_SETTING.search(word) for word in rest)


def _aws(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    parsed = parse(inv.args, values=_AWS_VALUES, depth=0, syntax=ARGPARSE)
    words = [w.text for w in parsed.positionals]
    tags = hint_tags(inv, ctx, parsed) | {"aws"}
    if (
        len(words) < 2
        or parsed.help
        or "help" in words
        or parsed.has("--dry-run", "--dryrun", "--generate-cli-skeleton")
    ):
        yield effect(
            inv,
            Verb.READ,
            Target("aws", " ".join(words[:2])),
            "only shows help or a dry run",
            tags=tags,
        )
        return
    service, operation = words[0], words[1].lower()
    if service == "configure" and _aws_configure_secret(operation, words[2:]):
        yield effect(
            inv,
            Verb.CREDENTIAL_USE,
            Target("aws", f"configure {operation}"),
            f"aws configure {operation} prints the stored access keys or session token",
            scope=Scope.LOCAL,
            tags=tags | {"secret"},
        )
        return
    if service in _AWS_LOCAL or operation in _AWS_LOCAL_OPS:
        yield effect(
            inv,
            Verb.EXECUTE,
            Target("aws", f"{service} {operation}"),
            f"aws {service} {operation} sets up this machine or opens a session",
            scope=Scope.LOCAL,
            tags=tags,
        )
        return
    if service == "s3":
        yield from _aws_s3(inv, ctx, parsed, operation, tags)
        return
    rest = Parsed(options={k: v for k, v in parsed.options.items() if not v.startswith("file://")})
    name = target_name(rest) or " ".join(w.text for w in parsed.positionals[2:]) or service
    target = Target(f"aws-{service}", name)
    said = f"aws {service} {operation} {name}".strip()
    if _AWS_SECRET.match(operation) or (
        service == "ssm"
        and operation.startswith("get-parameter")
        and parsed.has("--with-decryption")
    ):
        yield effect(
            inv,
            Verb.CREDENTIAL_USE,
            target,
            f"{said} hands out secret values or credentials",
            tags=tags | {"secret"},
        )
    elif _AWS_SHARE.match(operation):
        yield effect(
            inv,
            Verb.MODIFY,
            target,
            f"{said} changes who may access {name}",
            reversibility=Reversibility.IRREVERSIBLE,
            tags=tags | {"permissions"},
        )
    elif _AWS_ESCALATE.match(operation):
        yield effect(inv, Verb.ESCALATE, target, f"{said} grants permissions", tags=tags | {"iam"})
    elif _AWS_READ.match(operation):
        yield effect(inv, Verb.READ, target, f"{said} only reads", tags=tags)
    elif _AWS_DELETE.match(operation) or "DELETE" in parsed.value("--change-batch"):
        extra = {"no-final-snapshot"} if parsed.has("--skip-final-snapshot") else set()
        strict = _AWS_DELETE_STRICT.match(operation) or "DELETE" in parsed.value("--change-batch")
        lasting = strict or _AWS_LASTING.match(operation)
        yield effect(
            inv,
            Verb.DELETE if strict else Verb.MODIFY,
            target,
            f"{said}: removes, stops or detaches {name} in AWS"
            + ("; this cannot be undone" if lasting else ""),
            reversibility=Reversibility.IRREVERSIBLE if lasting else Reversibility.REVERSIBLE,
            tags=tags | extra,
        )
    else:
        yield effect(inv, Verb.MODIFY, target, f"{said} changes the AWS account", tags=tags)


def _aws_s3(
    inv: Invocation, ctx: Analysis, parsed: Parsed, operation: str, tags: set[str]
) -> Iterator[Effect]:
    operands = parsed.positionals[2:]
    name = operands[0].text if operands else "s3"
    target = Target("aws-s3", name)
    if operation in ("rm", "rb"):
        recursive = parsed.has("--recursive") or (operation == "rb" and parsed.has("--force"))
        what = "the bucket" if operation == "rb" else "the objects at"
        yield effect(
            inv,
            Verb.DELETE,
            target,
            f"delete {what} {name}" + (" and everything in it" if recursive else ""),
            reversibility=Reversibility.IRREVERSIBLE,
            tags=tags | ({"recursive"} if recursive else set()),
        )
    elif operation in ("cp", "mv", "sync") and len(operands) >= 2:
        yield from transfer(
            inv,
            ctx,
            operands[0],
            operands[-1],
            kind="aws-s3",
            moves=operation == "mv",
            deletes=operation == "sync" and parsed.has("--delete"),
        )
    elif operation == "presign":
        yield effect(
            inv,
            Verb.CREDENTIAL_USE,
            target,
            f"make a URL that lets anyone holding it read {name}",
            tags=tags | {"secret"},
        )
    elif operation in ("ls",):
        yield effect(inv, Verb.READ, target, f"list {name}", tags=tags)
    else:
        yield effect(inv, Verb.MODIFY, target, f"aws s3 {operation} {name} changes S3", tags=tags)


_GCLOUD = Cli(
    kind="gcp",
    verbs={
        "undeploy": "delete",
        "ssh": "local",
        "scp": "local",
        "get-credentials": "local",
        "access": "read",
        "print-access-token": "read",
        "print-identity-token": "read",
        "get-iam-policy": "read",
        "add-iam-policy-binding": "escalate",
        "set-iam-policy": "escalate",
        "auth": "",
        "config": "",
    },
    values=frozenset(
        {
            "--project",
            "--zone",
            "--region",
            "--format",
            "--account",
            "--configuration",
            "--location",
        }
    ),
    hints={"configuration": "env"},
    depth=6,
)
_AZ = Cli(
    kind="azure",
    verbs={
        "show-connection-string": "read",
        "create-for-rbac": "escalate",
        "download": "read",
        "download-batch": "read",
        "account": "",
        "exists": "read",
        "url": "read",
        "untag": "modify",
        "purge": "delete",
        "login": "local",
    },
    values=frozenset(
        {
            "-n",
            "-g",
            "-c",
            "-s",
            "-d",
            "-f",
            "-l",
            "-o",
            "--query",
            "--subscription",
            "--name",
            "--resource-group",
        }
    ),
    hints={"g": "project", "subscription": "account"},
    depth=6,
)
_SECRET_COMMANDS = re.compile(
    r"(^|\s)(keys list|print-access-token|print-identity-token|show-connection-string|"
    r"credential list|list-keys|secret show|secret download|get-key-string)(\s|$)"
)
# gcloud's ``keys list`` (service-account, KMS, API keys) lists key ids and dates, never key material.
_LISTS_KEY_IDS = re.compile(r"(^|\s)keys list(\s|$)")


def _prints_secrets(label: str, line: str) -> bool:
    return bool(_SECRET_COMMANDS.search(line)) and not (
        label == "gcloud" and _LISTS_KEY_IDS.search(line)
    )


def _verb_cli(cli: Cli, label: str) -> Callable[[Invocation, Analysis], Iterator[Effect]]:
    def analyze(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
        parsed = parse(
            inv.args,
            values=cli.valued,
            flags=cli.flags,
            verbs=cli.verbs,
            depth=cli.depth,
            last=True,
            syntax=ARGPARSE,  # gcloud and az read their options with argparse
        )
        line = " ".join([*parsed.nouns, parsed.verb])
        local = parsed.nouns[:1] and parsed.nouns[0] in _LOCAL_GROUPS
        if (local or (parsed.verb in _LOCAL_GROUPS and not parsed.nouns)) and not _prints_secrets(
            label, line
        ):
            yield effect(
                inv,
                Verb.EXECUTE,
                Target(cli.kind, line),
                f"{label} {line} sets up this machine",
                scope=Scope.LOCAL,
                tags={cli.kind},
            )
            return
        tags = hint_tags(inv, ctx, parsed, extra=cli.hints) | {cli.kind}
        name = target_name(parsed) or line
        if parsed.kind == "escalate" or _is_role_grant(parsed):
            yield effect(
                inv,
                Verb.ESCALATE,
                Target(cli.kind, name),
                f"{label} {line}: grants roles or permissions",
                tags=tags | {"iam"},
            )
        elif _prints_secrets(label, line) and not parsed.help:
            yield effect(
                inv,
                Verb.CREDENTIAL_USE,
                Target(cli.kind, name),
                f"{label} {line} prints keys or tokens",
                tags=tags | {"secret"},
            )
        elif (
            parsed.verb.lower() in ("cp", "mv", "rsync")
            and len(parsed.operands) >= 2
            and "storage" in parsed.nouns
        ):
            yield from transfer(
                inv,
                ctx,
                parsed.operands[0],
                parsed.operands[-1],
                kind=f"{cli.kind}-storage",
                moves=parsed.verb == "mv",
                deletes=parsed.has("--delete-unmatched-destination-objects"),
            )
        else:
            yield from cli_effects(inv, ctx, cli, parsed)

    return analyze


_LOCAL_GROUPS = words(
    """
    config components init topic info cheat-sheet survey feedback bicep upgrade extension
    version interactive find login logout account cloud-shell self-test configure auth
    """
)


def _is_role_grant(parsed: Parsed) -> bool:
    nouns = [n.lower() for n in parsed.nouns]
    return parsed.verb.lower() == "create" and ("assignment" in nouns or "role-assignment" in nouns)


def _gsutil(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    parsed = parse(inv.args, values={"-o", "-h", "-u", "-p"}, depth=1)
    words = parsed.positionals
    tags = hint_tags(inv, ctx, parsed) | {"gcs"}
    if not words:
        yield effect(
            inv, Verb.READ, Target("gcs", ""), "gsutil with no command only shows help", tags=tags
        )
        return
    command, operands = words[0].text.lower(), words[1:]
    name = operands[0].text if operands else ""
    if command in ("rm", "rb"):
        recursive = bool({"-r", "-R", "-a", "-f"} & set(parsed.options)) or command == "rb"
        yield effect(
            inv,
            Verb.DELETE,
            Target("gcs", name),
            f"delete {name}" + (" and everything under it" if recursive else ""),
            reversibility=Reversibility.IRREVERSIBLE,
            tags=tags | ({"recursive"} if recursive else set()),
        )
    elif command in ("cp", "mv", "rsync") and len(operands) >= 2:
        yield from transfer(
            inv,
            ctx,
            operands[0],
            operands[-1],
            kind="gcs",
            moves=command == "mv",
            deletes=command == "rsync" and "-d" in parsed.options,
        )
    elif command in (
        "ls",
        "cat",
        "stat",
        "du",
        "hash",
        "version",
        "help",
        "ver",
        "signurl",
        "config",
    ):
        yield effect(
            inv, Verb.READ, Target("gcs", name), f"gsutil {command} {name} only reads", tags=tags
        )
    elif command in ("iam", "acl", "defacl") and operands and operands[0].text in ("ch", "set"):
        yield effect(
            inv,
            Verb.MODIFY,
            Target("gcs", operands[-1].text),
            f"change who may access {operands[-1].text}",
            reversibility=Reversibility.IRREVERSIBLE,
            tags=tags | {"permissions"},
        )
    else:
        yield effect(
            inv,
            Verb.MODIFY,
            Target("gcs", name),
            f"gsutil {command} {name} changes Cloud Storage",
            tags=tags,
        )


FAMILIES = resource_families(
    CommandFamily.of(["aws", "aws2"], _aws),
    CommandFamily.of(["gcloud"], _verb_cli(_GCLOUD, "gcloud")),
    CommandFamily.of(["az"], _verb_cli(_AZ, "az")),
    CommandFamily.of(["gsutil"], _gsutil),
    *SAAS_FAMILIES,
    *JENKINS_FAMILIES,
)
