"""``blastdoor``: the command line. Thin: parse options, call one library function, render.

Exit codes (docs/cli.md): 0 allow (or observe mode), 3 ask, 4 hold, 5 deny, 1 error, 2 usage,
130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from blastdoor import __version__
from blastdoor.broker.interrupts import EXIT_INTERRUPTED
from blastdoor.errors import BlastdoorError

EXIT_ERROR = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    from blastdoor.cli import (
        approvals_cmd,
        backup_cmd,
        broker_cmd,
        check,
        data_cmd,
        home_cmds,
        hook_cmd,
        install_cmd,
        ledger_cmd,
        mcp_cmd,
        policy_cmd,
        profile_cmd,
        replay_cmd,
        witness_cmd,
    )

    parser = argparse.ArgumentParser(
        prog="blastdoor",
        description="The production boundary for AI coding agents.",
    )
    parser.add_argument("--version", action="version", version=f"blastdoor {__version__}")
    parser.add_argument(
        "--home", help="Blastdoor's home folder (default $BLASTDOOR_HOME or ~/.blastdoor)"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (check, policy_cmd, home_cmds, ledger_cmd, hook_cmd, install_cmd, mcp_cmd,
                   approvals_cmd, profile_cmd, broker_cmd, backup_cmd, data_cmd, replay_cmd, witness_cmd):  # fmt: skip
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # argparse's own usage errors and --help
        return int(stop.code or 0) if isinstance(stop.code, int) else EXIT_USAGE
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.handler(args))
    except BlastdoorError as error:
        print(f"blastdoor: {error.diagnostics()}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("blastdoor: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def entry() -> None:
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away (| head): stop quietly, as other tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = EXIT_ERROR
    sys.exit(code)
