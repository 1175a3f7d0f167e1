"""``blastdoor exec|sql --profile NAME``: an agent's way to act with a credential it never holds.

Exit codes: the program's own when it ran; 4 held (the message names the approval request), 5
denied, 130 interrupted (Ctrl-C: the program is stopped and the call recorded as interrupted), 1
error. What the agent reads is written for it, like a hook's answer.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from blastdoor.cli.common import EXIT_CODES, is_text, settings
from blastdoor.errors import InputError

MAX_SQL_CHARS = 2_000_000


def register(commands: Any) -> None:
    run = commands.add_parser("exec", help="run one command with a stored credential, judged and recorded",
                              description="Judge COMMAND as if run with profile NAME's credential; when it "
                              "is allowed (or approved), run it with the secrets in its environment only, "
                              "scrubbing them from its output.")  # fmt: skip
    _common(run)
    # Set by the hardened daemon only: the agent's folder, and the runners' sockets (os.pathsep
    # between them), one of which starts the program under a user of its own (hardened/runner.py).
    run.add_argument("--cwd", default="", help=argparse.SUPPRESS)
    run.add_argument("--runner", default="", help=argparse.SUPPRESS)
    run.add_argument("command", nargs=argparse.REMAINDER, help="the program and its arguments, after --")
    run.set_defaults(handler=_exec)

    sql = commands.add_parser("sql", help="run SQL with a stored PostgreSQL, MySQL / MariaDB or SQLite credential, judged, saved first, recorded",
                              description="Judge SQL as run with profile NAME's credential; when it is allowed "
                              "(or approved), save what it destroys (blastdoor restore puts it back), then run it "
                              "in one transaction.")  # fmt: skip
    _common(sql)
    sql.add_argument("statement", nargs=argparse.REMAINDER, help="the SQL text, after -- (one argument; - reads it from standard input)")
    sql.set_defaults(handler=_sql)

    restore = commands.add_parser("restore", help="put back what a snapshot saved before a statement ran")
    restore.add_argument("snapshot", help="the snapshot id (s-...) the broker named")
    restore.add_argument("--force", action="store_true",
                         help="restore although the statement never reported back (after checking that it ran)")
    restore.set_defaults(handler=_restore)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", required=True, help="the stored profile whose credential to use")
    for name, helptext in (("agent", "the agent asking"), ("session", "its session id"),
                           ("run", "the run id (default $BLASTDOOR_RUN_ID or a new one)"),
                           ("tool-use", "the tool call's id")):  # fmt: skip
        parser.add_argument(f"--{name}", default="", help=f"{helptext} (recorded in the ledger)")
    # The hardened daemon names its caller's uid (from the socket) here; an agent's user never reaches
    # this code in hardened mode (its CLI asks the daemon), and in single-user mode the ledger is only
    # as trustworthy as that user (docs/threat-model.md).
    parser.add_argument("--uid", type=int, default=None, help=argparse.SUPPRESS)


def _caller(args: argparse.Namespace) -> Any:
    from blastdoor.broker.calls import Caller

    return Caller(agent=args.agent, session=args.session, run=args.run, tool_use=args.tool_use, uid=args.uid)


def _relayed_caller(args: argparse.Namespace) -> dict[str, str]:
    """The caller's fields as the hardened daemon takes them (its run: --run, else $BLASTDOOR_RUN_ID)."""
    return {"agent": args.agent, "session": args.session, "run": args.run or os.environ.get("BLASTDOOR_RUN_ID", ""),
            "tool_use": args.tool_use}  # fmt: skip


def _exec(args: argparse.Namespace) -> int:
    from blastdoor.broker.calls import Broker
    from blastdoor.broker.interrupts import EXIT_INTERRUPTED, Relay, caught
    from blastdoor.hardened.client import relayed

    argv = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not argv or not argv[0]:
        raise InputError("no command given", hint="write it after --, e.g. blastdoor exec --profile prod-db -- psql -c 'select 1'")
    if (code := relayed("exec", profile=args.profile, argv=argv, cwd=os.getcwd(), **_relayed_caller(args))) is not None:
        return code
    with caught(Relay()) as interrupts, Broker(settings(args)) as broker:  # Ctrl-C: the program is stopped, and recorded
        profile = broker.profile(args.profile)
        result = broker.exec(profile, argv, caller=_caller(args), cwd=args.cwd or os.getcwd(), stdout=sys.stdout.buffer,
                             stderr=sys.stderr.buffer, runner=args.runner, interrupts=interrupts)  # fmt: skip
        # said while a Ctrl-C is still only noted: one that comes after the block cannot cut it short
        if result.outcome is None:
            return _stopped(result.judged)
        if result.outcome.interrupted:
            name, code = os.path.basename(argv[0])[:100], result.outcome.exit_code
            what = f"{name} was stopped (exit {code})" if result.outcome.started else f"{name} did not start"
            print(f"blastdoor: interrupted; {what} and the ledger records the call as interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        return result.outcome.exit_code


def _sql(args: argparse.Namespace) -> int:
    from blastdoor.broker.calls import Broker

    words = args.statement[1:] if args.statement[:1] == ["--"] else args.statement
    text = sys.stdin.read(MAX_SQL_CHARS + 1) if words == ["-"] else " ".join(words).strip()
    if not text:
        raise InputError("no SQL given", hint="write it after --, e.g. blastdoor sql --profile prod-db -- 'select 1'")
    if len(text) > MAX_SQL_CHARS or "\0" in text or not is_text(text):
        raise InputError("the SQL text is too long or binary", hint=f"give at most {MAX_SQL_CHARS} characters of text")
    from blastdoor.hardened.client import relayed

    if (code := relayed("sql", profile=args.profile, sql=text, **_relayed_caller(args))) is not None:
        return code  # hardened mode: the daemon holds the credential
    with Broker(settings(args)) as broker:
        profile = broker.profile(args.profile)
        result = broker.sql(profile, text, caller=_caller(args), cwd=os.getcwd(), out=sys.stdout.buffer)
    if result.outcome is None:
        return _stopped(result.judged)
    outcome = result.outcome
    saved = f" Snapshot {result.snapshot} holds what it destroyed; a person can run blastdoor restore {result.snapshot}." if result.snapshot else ""
    if outcome.result == "committed":
        if saved:
            print(f"blastdoor:{saved}", file=sys.stderr)
        return 0
    undone = outcome.result not in ("commit-unknown", "partly-committed")  # else some of it may have stayed
    kept = f" Snapshot {result.snapshot} is kept; nothing needs restoring." if result.snapshot and undone else saved
    print(f"blastdoor: the SQL failed ({outcome.error}); {outcome.known}.{kept}", file=sys.stderr)
    return 1


def _restore(args: argparse.Namespace) -> int:
    from blastdoor.broker.calls import Broker
    from blastdoor.hardened.client import relayed

    if (code := relayed("restore", snapshot=args.snapshot, force=args.force)) is not None:
        return code

    with Broker(settings(args)) as broker:
        broker.restore(args.snapshot, force=args.force, shown=lambda line: print(line, flush=True))
    return 0


def _stopped(judged: Any) -> int:
    from blastdoor.integrations.service import verdict_of

    verdict = verdict_of(judged.decision, request=judged.request)
    print(verdict.message, file=sys.stderr)
    return EXIT_CODES[judged.decision.kind]
