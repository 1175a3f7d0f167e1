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
    daemon.add_argument("action", choices=["run", "stop", "status", "runner"])
    daemon.add_argument(
        "--idle", type=float, default=900.0, help="run: seconds without a call before it exits"
    )
    daemon.add_argument(
        "--system",
        default="",
        metavar="SOCKET",
        help="run: hardened mode's daemon, as the blastdoor user, serving every user on SOCKET; "
        "runner: the runner beside that daemon, as the runner user",
    )
    daemon.add_argument("--for-user", default="", metavar="NAME",
                        help="runner: the daemon's user, the only one it serves")  # fmt: skip
    daemon.add_argument("--index", type=int, default=0, metavar="N",
                        help="runner: which runner of the pool this is (its socket's folder)")  # fmt: skip
    # set by install --system only: the descriptor of the socket it bound (systemd passes LISTEN_FDS)
    daemon.add_argument("--listen-fd", type=int, default=None, help=argparse.SUPPRESS)
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

    if args.action == "runner":
        return _runner(args)
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


def _runner(args: argparse.Namespace) -> int:
    """Hardened mode's runner (hardened/runner.py); it has no home of its own."""
    import pwd

    from blastdoor.errors import HomeError
    from blastdoor.hardened import runner

    if not args.system or not args.for_user:
        raise HomeError(
            "the runner needs --system SOCKET and --for-user NAME",
            hint="blastdoor install --system starts it",
        )
    try:
        served = pwd.getpwnam(args.for_user).pw_uid
    except KeyError:
        raise HomeError(f"no user {args.for_user[:64]!r}", hint="name the daemon's user") from None
    if os.geteuid() in (0, served):
        raise HomeError("the runner runs as a user of its own, neither root nor the daemon's",
                        hint="run it as the runner user (blastdoor install --system does)")  # fmt: skip
    runner.serve(runner.given_socket(args.listen_fd), peer_uid=served)
    return 0
