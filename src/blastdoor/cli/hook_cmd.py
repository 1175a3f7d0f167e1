"""``blastdoor hook AGENT`` (one call, in process) and ``blastdoor daemon run|stop|status``."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from blastdoor.cli.common import settings
from blastdoor.integrations.agents import AGENTS


def register(commands: Any) -> None:
    hook = commands.add_parser(
        "hook",
        help="answer one agent hook call: the agent's JSON on stdin, its answer on stdout",
        description="What installed hooks run when the daemon is down; useful to try a payload by hand.",
    )
    hook.add_argument("agent", choices=AGENTS)
    hook.set_defaults(handler=_hook)
    daemon = commands.add_parser(
        "daemon", help="the resident hook daemon (started by the hook on first use)"
    )
    daemon.add_argument("action", choices=["run", "stop", "status"])
    daemon.add_argument(
        "--idle", type=float, default=900.0, help="run: seconds without a call before it exits"
    )
    daemon.add_argument("--system", default="", metavar="SOCKET",
                        help="run: hardened mode's daemon, as the blastdoor user, serving every user on SOCKET")  # fmt: skip
    daemon.set_defaults(handler=_daemon)


def _hook(args: argparse.Namespace) -> int:
    from blastdoor.integrations.hook_client import MAX_INPUT_BYTES
    from blastdoor.integrations.service import Runtime, handle

    raw = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
    runtime = Runtime(settings(args))
    try:
        reply = handle(args.agent, raw, env=dict(os.environ), cwd=os.getcwd(), runtime=runtime)
    finally:
        runtime.close()
    sys.stdout.write(reply.stdout)
    sys.stderr.write(reply.stderr)
    return reply.exit_code


def _daemon(args: argparse.Namespace) -> int:
    from blastdoor.integrations import daemon

    resolved = settings(args)
    if args.action == "run" and args.system:
        from pathlib import Path

        from blastdoor.errors import HomeError

        if os.geteuid() == 0:
            raise HomeError("the hardened daemon does not run as root", hint="run it as the blastdoor user (blastdoor install --system does)")
        if not daemon.serve(resolved, shared=Path(args.system)):
            print(f"blastdoor: a daemon already serves {resolved.home}", file=sys.stderr)
        return 0
    if args.action == "run":
        if not daemon.serve(resolved, idle=args.idle):
            print(f"blastdoor: a daemon already serves {resolved.home}", file=sys.stderr)
        return 0
    if args.action == "stop":
        pid = daemon.stop(resolved)
        print(f"stopped the daemon (pid {pid})" if pid else "no daemon was running")
        return 0
    pid = daemon.running_pid(resolved)
    print(
        f"running (pid {pid}), socket {resolved.home / 'run' / 'hook.sock'}"
        if pid
        else "not running"
    )
    return 0
