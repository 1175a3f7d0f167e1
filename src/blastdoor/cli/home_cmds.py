"""``blastdoor init``, ``freeze`` and ``unfreeze``."""

from __future__ import annotations

import argparse
from typing import Any

from blastdoor.cli.common import settings
from blastdoor.policy import freeze as freezing


def register(commands: Any) -> None:
    init = commands.add_parser(
        "init", help="create Blastdoor's home (database, keys, default policy)"
    )
    init.set_defaults(handler=_init)
    frz = commands.add_parser(
        "freeze", help="deny every write to production until `blastdoor unfreeze`"
    )
    frz.add_argument("--reason", default="", help="why (shown in every denial)")
    frz.set_defaults(handler=_freeze)
    unf = commands.add_parser("unfreeze", help="lift the freeze (asks a person on the terminal)")
    unf.set_defaults(handler=_unfreeze)


def _init(args: argparse.Namespace) -> int:
    from blastdoor.ledger.ledger import Ledger

    resolved = settings(args)
    with Ledger.open(resolved) as ledger:  # creates or migrates the database
        database = ledger.store.url
    print(f"Blastdoor home: {resolved.home}")
    print(f"  policy:   {resolved.policy}")
    print(f"  keys:     {resolved.home / 'keys'}")
    print(f"  ledger:   {database}")
    return 0


def _freeze(args: argparse.Namespace) -> int:
    resolved = settings(args)
    freezing.freeze(resolved.freeze_file, reason=args.reason)
    print("Code freeze in force: writes to production are denied until `blastdoor unfreeze`.")
    return 0


def _unfreeze(args: argparse.Namespace) -> int:
    resolved = settings(args)
    freezing.unfreeze(resolved.freeze_file)
    print("Code freeze lifted.")
    return 0
