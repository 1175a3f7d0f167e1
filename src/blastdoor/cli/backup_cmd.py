"""``blastdoor backup verify --profile NAME``: prove a database's newest dump (PostgreSQL, MySQL /
MariaDB) restores and holds its rows."""

from __future__ import annotations

import argparse
from typing import Any

from blastdoor.cli.common import settings
from blastdoor.errors import InputError


def register(commands: Any) -> None:
    backup = commands.add_parser("backup", help="prove a backup is real before production state moves")
    actions = backup.add_subparsers(dest="backup_action", metavar="ACTION", required=True)
    verify = actions.add_parser("verify", help="restore the newest dump into a scratch database and count its rows",
                                description="Restore the newest pg_dump or mysqldump of profile NAME's database (from a folder "
                                "or a versioned S3 bucket) into a throwaway database, count every table's rows against the "
                                "database, check the dump's age, and record the proof in the ledger; for rds:INSTANCE, "
                                "check that a fresh snapshot outlives the instance. Exit 0 when the backup is verified, "
                                "1 when not.")  # fmt: skip
    verify.add_argument("--profile", required=True, help="the database profile whose backup to prove")
    verify.add_argument("--dump", default="", metavar="PATH",
                        help="a dump file, dump folder, folder of dumps, s3://BUCKET/PREFIX or rds:INSTANCE "
                        "(default: the profile's --dumps)")  # fmt: skip
    verify.add_argument("--aws-profile", default="", metavar="NAME",
                        help="the profile whose AWS credentials read S3 or RDS (default: --profile itself)")  # fmt: skip
    verify.add_argument("--scratch-profile", default="", metavar="NAME",
                        help="a profile on the server to restore into (default: the database's own server)")  # fmt: skip
    verify.add_argument("--tolerance", type=float, default=0.1,
                        help="how many fewer rows (a fraction of the database's) a table of the backup may hold (default 0.1)")  # fmt: skip
    verify.set_defaults(handler=_verify)


def _verify(args: argparse.Namespace) -> int:
    from blastdoor.broker.calls import Broker

    if not 0 <= args.tolerance < 1:
        raise InputError(f"--tolerance {args.tolerance} is not a fraction from 0 up to 1", hint="e.g. --tolerance 0.05")
    import os

    from blastdoor.broker.backup_sources import kind
    from blastdoor.hardened.client import relayed

    local = args.dump and kind(args.dump) == "file"
    if (code := relayed("backup-verify", profile=args.profile, dump=os.path.abspath(args.dump) if local else args.dump,
                        scratch_profile=args.scratch_profile, tolerance=str(args.tolerance),
                        aws_profile=args.aws_profile)) is not None:  # hardened mode: the daemon holds the credentials  # fmt: skip
        return code
    with Broker(settings(args)) as broker:
        profile = broker.profile(args.profile)
        scratch = broker.profile(args.scratch_profile) if args.scratch_profile else None
        aws = broker.profile(args.aws_profile) if args.aws_profile else None
        proof, seq = broker.verify_backup(profile, dump=args.dump, scratch=scratch, tolerance=args.tolerance, aws=aws)
    dump = proof.dump
    if dump.sha256:
        print(f"dump      {dump.source or dump.path} ({dump.format}, {dump.bytes:,} bytes, {dump.sha256[:19]}…)")
    else:
        print(f"snapshot  {dump.source}")
    print(f"made      {dump.created:%Y-%m-%d %H:%M:%S} UTC ({dump.created_from}), {proof.age_hours:.1f} hours ago")
    for key, value in proof.facts.items():
        if key not in ("source", "aws") and value not in ("", None):
            print(f"  {key.replace('_', ' '):22} {value}")
    for table, (rows, kept) in proof.counts.items():
        print(f"  {table:40} database {rows:>12,}  backup {'missing' if kept is None else format(kept, ','):>12}")
    for table in proof.extra:
        print(f"  {table:40} only in the backup")
    if proof.verified:
        done = f"{len(proof.counts)} tables restored and counted" if proof.counts else "a snapshot that outlives the instance"
        print(f"verified: {done} (ledger entry {seq})")
        return 0
    print(f"NOT verified (ledger entry {seq}):")
    for problem in proof.problems:
        print(f"  - {problem}")
    return 1
