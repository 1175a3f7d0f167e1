"""``blastdoor profile add|list|show|remove``: a person storing the credentials the broker holds."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from blastdoor.cli.common import is_text, settings
from blastdoor.ledger.entry import person_entry

MAX_SECRET_BYTES = 64 * 1024


def register(commands: Any) -> None:
    profile = commands.add_parser("profile", help="credentials the broker holds for agents (a person's job)")
    actions = profile.add_subparsers(dest="profile_action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="store a credential, sealed, with its scope and purpose",
                             description="Store secrets for the broker. Values are read from the terminal, "
                             "one line each from standard input, or with --from-env from this shell's "
                             "environment; never from a flag.")  # fmt: skip
    add.add_argument("name", help="the profile's name, e.g. prod-db")
    add.add_argument("--scope", required=True, choices=["production", "staging", "development"],
                     help="where the credential reaches")  # fmt: skip
    add.add_argument("--purpose", required=True, help="what the credential exists for, in words")
    add.add_argument("--allow", action="append", default=[], metavar="VERB[:KIND]",
                     help="an action it exists for: read, modify:database, delete:dns-record, * (repeatable; default read)")  # fmt: skip
    add.add_argument("--secret", action="append", required=True, metavar="VARIABLE",
                     help="an environment variable the program gets, e.g. DATABASE_URL (repeatable)")  # fmt: skip
    add.add_argument("--dumps", default="", metavar="PATH",
                     help="where this database's pg_dump backups are written: a file or a folder (for backup verify)")
    add.add_argument("--backup-proof", action="append", default=[], metavar="PROFILE",
                     help="a database profile whose verified backup must stand behind this credential's destructive "
                     "production actions (repeatable; default this profile when it holds a database URL)")  # fmt: skip
    add.add_argument("--aws-role", default="", metavar="ARN",
                     help="an IAM role each call assumes with its own short-lived keys (SourceIdentity = the run id); "
                     "the stored AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY only assume it")  # fmt: skip
    add.add_argument("--aws-minutes", type=int, default=15, metavar="N",
                     help="how long each call's AWS keys live (15 to 720 minutes; default 15)")
    add.add_argument("--from-env", action="store_true", help="take each value from this shell's environment")
    # the hardened daemon hands on the values a person typed as one JSON object on standard input
    add.add_argument("--values-json", action="store_true", help=argparse.SUPPRESS)
    add.add_argument("--replace", action="store_true", help="replace a profile of the same name")
    add.set_defaults(handler=_add)
    listed = actions.add_parser("list", help="the stored profiles (never their values)")
    listed.add_argument("--json", action="store_true")
    listed.set_defaults(handler=_list)
    show = actions.add_parser("show", help="one profile's scope, purpose and variable names")
    show.add_argument("name")
    show.set_defaults(handler=_show)
    remove = actions.add_parser("remove", help="delete a stored profile")
    remove.add_argument("name")
    remove.set_defaults(handler=_remove)


def _vault(args: argparse.Namespace) -> Any:
    from blastdoor.broker.vault import Vault

    resolved = settings(args)
    return Vault.of(resolved)


def _add(args: argparse.Namespace) -> int:
    from blastdoor.broker.profile import (
        Profile,
        absolute_sqlite,
        check_allow,
        check_name,
        check_variable,
    )
    from blastdoor.broker.sqlite_sql import working_folder
    from blastdoor.hardened.client import relayed
    from blastdoor.ledger.entry import now
    from blastdoor.ledger.ledger import Ledger
    from blastdoor.model import Scope

    name = check_name(args.name)
    variables = [check_variable(variable) for variable in dict.fromkeys(args.secret)]
    allow = check_allow(args.allow)
    proofs = tuple(check_name(other) for other in dict.fromkeys(args.backup_proof))
    dumps = _dumps(args.dumps)
    role = _role(args.aws_role, variables, args.aws_minutes)
    values, notes = absolute_sqlite(_values(variables, from_env=args.from_env, from_json=args.values_json), base=working_folder)
    for note in notes:
        print(note)
    code = relayed("profile-add", name=name, scope=args.scope, purpose=args.purpose, allow=list(allow),
                    secret=variables, backup_proof=list(proofs), dumps=dumps, aws_role=role,
                    aws_minutes=str(args.aws_minutes) if role else "", replace=args.replace, values=values)  # fmt: skip
    if code is not None:  # hardened mode: the values went to the daemon, sealed there
        return code
    profile = Profile(name=name, scope=Scope(args.scope), purpose=" ".join(args.purpose.split())[:500],
                      allow=allow, secrets=values, created=now(), by=os.environ.get("USER", ""),
                      dumps=dumps, backup_proofs=proofs, aws_role=role, aws_minutes=args.aws_minutes)  # fmt: skip
    _vault(args).add(profile, replace=args.replace)
    with Ledger.open(settings(args)) as ledger:
        clear = profile.public()
        ledger.record(person_entry("profile-added", **{("profile" if k == "name" else k): v for k, v in clear.items()
                                                       if k not in ("created", "by")}))
    print(f"stored profile {name} ({args.scope}; allows {', '.join(allow)}; variables {', '.join(variables)})")
    return 0


def _dumps(where: str) -> str:
    """Where the backups are, as stored: a local path made absolute, or an s3:// or rds: source."""
    from blastdoor.broker.errors import BrokerError

    if not where or where.startswith(("s3://", "rds:")):
        if where in ("s3://", "rds:") or where.startswith("s3:///"):
            raise BrokerError(f"--dumps {where!r} names no bucket or instance", hint="e.g. s3://backups/prod/ or rds:prod-db")
        return where
    return os.path.abspath(os.path.expanduser(where))


def _role(arn: str, variables: list[str], minutes: int) -> str:
    from blastdoor.broker import aws_sts
    from blastdoor.broker.errors import BrokerError

    if not arn:
        return ""
    aws_sts.check_keys(variables)
    if not aws_sts.MIN_MINUTES <= minutes <= aws_sts.MAX_MINUTES:
        raise BrokerError(f"--aws-minutes {minutes} is out of range",
                          hint=f"give {aws_sts.MIN_MINUTES} to {aws_sts.MAX_MINUTES}; AWS refuses shorter role sessions")  # fmt: skip
    return aws_sts.check_role(arn)


def _values(variables: list[str], *, from_env: bool, from_json: bool = False) -> dict[str, str]:
    from blastdoor.broker.errors import BrokerError

    values: dict[str, str] = {}
    try:
        given = json.loads(sys.stdin.buffer.read(len(variables) * 2 * MAX_SECRET_BYTES + 2)) if from_json else {}
    except ValueError:
        raise BrokerError("--values-json: standard input is not a JSON object of names to values",
                          hint='send {"NAME": "value", ...}') from None  # fmt: skip
    for variable in variables:
        if from_json:
            value = str(given.get(variable, "")) if isinstance(given, dict) else ""
        elif from_env:
            value = os.environ.get(variable, "")
        elif sys.stdin.isatty():
            import getpass

            value = getpass.getpass(f"value of {variable}: ")
        else:
            value = sys.stdin.buffer.readline(MAX_SECRET_BYTES + 1).decode("utf-8", "replace").rstrip("\r\n")
        if not value:
            where = "in this shell's environment" if from_env else "on standard input (one line per --secret)"
            raise BrokerError(f"no value for {variable} {where}", hint="nothing was stored; give every value")
        if len(value.encode("utf-8", "surrogateescape")) > MAX_SECRET_BYTES or "\0" in value or not is_text(value):
            raise BrokerError(f"the value of {variable} is not a credential (too long or binary)",
                              hint=f"give at most {MAX_SECRET_BYTES} bytes of text; nothing was stored")  # fmt: skip
        values[variable] = value
    return values


def _list(args: argparse.Namespace) -> int:
    from blastdoor.hardened.client import relayed

    if (code := relayed("profile-list", json=args.json)) is not None:
        return code
    vault = _vault(args)
    names = vault.names()
    for name in names:
        try:
            clear = vault.get(name).public()
        except Exception as error:  # one broken profile must not hide the others
            clear = {"name": name, "problem": getattr(error, "message", str(error))}
        if args.json:
            print(json.dumps(clear))
        elif "problem" in clear:
            print(f"{name}  UNUSABLE  {clear['problem']}")
        else:
            print(f"{name}  {clear['scope']}  allows {', '.join(clear['allow'])}  — {clear['purpose']}")
    if not names and not args.json:
        print("no profiles yet (a person adds one with blastdoor profile add)")
    return 0


def _show(args: argparse.Namespace) -> int:
    from blastdoor.hardened.client import relayed

    if (code := relayed("profile-show", name=args.name)) is not None:
        return code
    clear = _vault(args).get(args.name).public()
    for key, value in clear.items():
        print(f"{key:9} {', '.join(value) if isinstance(value, list) else value}")
    return 0


def _remove(args: argparse.Namespace) -> int:
    from blastdoor.hardened.client import relayed
    from blastdoor.ledger.ledger import Ledger

    if (code := relayed("profile-remove", name=args.name)) is not None:
        return code
    _vault(args).remove(args.name)
    with Ledger.open(settings(args)) as ledger:
        ledger.record(person_entry("profile-removed", profile=args.name))
    print(f"removed profile {args.name}")
    return 0
