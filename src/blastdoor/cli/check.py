"""``blastdoor check``: judge one command, or a JSONL batch."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from collections.abc import Callable, Iterator
from typing import Any

from blastdoor import batch
from blastdoor.cli.common import EXIT_CODES, policy_for, settings
from blastdoor.errors import InputError
from blastdoor.judge import judge
from blastdoor.model import Action, ActionKind, Context, Decision
from blastdoor.policy.engine import Policy

BATCH_RECORD = 256  # with --batch --record: decisions appended per transaction


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "check",
        help="judge a command: allow, ask, hold or deny",
        description="Judge what COMMAND would do. Exit code: 0 allow, 3 ask, 4 hold, 5 deny, 1 error.",
    )
    parser.add_argument("--json", action="store_true", help="print the decision as JSON")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="K=V",
        help="an environment variable of the context",
    )
    parser.add_argument(
        "--cwd", help="the working directory the command would run in (default: here)"
    )
    parser.add_argument("--policy", help="a policy file to use instead of the user policy")
    parser.add_argument("--kind", default="shell", choices=["shell", "sql", "terraform_plan", "http"],
                        help="what COMMAND is: a shell line, SQL, a Terraform plan (its JSON, or a path to a plan "
                        "JSON or saved plan file), or an HTTP call as JSON")  # fmt: skip
    parser.add_argument("--target", default="", help="for --kind sql: the database DSN or URL; for terraform_plan: the workspace")
    parser.add_argument("--estimate", default="", metavar="URL",
                        help="for --kind sql: a read-only PostgreSQL or MySQL / MariaDB URL of the target, to say how many rows "
                        "each statement would touch (EXPLAIN or a count, rolled back)")  # fmt: skip
    parser.add_argument(
        "--batch",
        metavar="FILE",
        help="read JSONL actions from FILE (- for stdin), one answer per line",
    )
    parser.add_argument(
        "--no-record",
        action="store_true",
        help="do not append the decision to the ledger (dry use)",
    )
    parser.add_argument(
        "--record", action="store_true", help="with --batch: append every decision to the ledger"
    )
    for name, helptext in (
        ("agent", "the agent asking"),
        ("session", "its session id"),
        ("run", "the run id"),
        ("tool-use", "the tool call's id"),
    ):
        parser.add_argument(f"--{name}", default="", help=f"{helptext} (recorded in the ledger)")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the command, after --")
    parser.set_defaults(handler=run)


def _env(pairs: list[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise InputError(
                f"--env {pair!r} is not NAME=VALUE", hint="write it as --env APP_ENV=production"
            )
        env[name] = value
    return env


def _estimates(args: argparse.Namespace, text: str) -> Any:
    """With --estimate URL and --kind sql: effects given the rows they would touch."""
    if not args.estimate:
        return None
    if args.kind != "sql":
        raise InputError("--estimate works with --kind sql", hint="e.g. blastdoor check --kind sql --estimate URL -- 'DELETE ...'")
    from blastdoor.analyze.sql_estimate import annotate
    from blastdoor.broker import engines

    engine = engines.of(args.estimate)  # PostgreSQL and MySQL / MariaDB estimate; others give none
    return lambda effects: annotate(effects, engine.estimate(text) if engine else [])


def run(args: argparse.Namespace) -> int:
    cwd = os.path.abspath(args.cwd) if args.cwd else os.getcwd()
    policy = policy_for(args, cwd=cwd)
    if args.batch:
        return _batch(args.batch, policy, record=args.record and not args.no_record, args=args)
    words = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not words:
        raise InputError(
            "no command given", hint="write it after --, e.g. blastdoor check -- rm -rf build"
        )
    text = words[0] if len(words) == 1 else shlex.join(words)  # several words: an argv
    context = Context.create(env=_env(args.env), cwd=cwd, target=args.target, agent=args.agent,
                             session_id=args.session, run_id=args.run, tool_use_id=args.tool_use)  # fmt: skip
    action = Action(kind=ActionKind(args.kind), input=text, context=context)
    decision = judge(action, policy, credentials=settings(args).credentials, enrich=_estimates(args, text))
    if not args.no_record:
        decision = _state_check(args)(decision)
        _record(args, [(action, decision)], policy)
    print(
        json.dumps(decision.to_json(), indent=2, ensure_ascii=False)
        if args.json
        else render(decision)
    )
    return EXIT_CODES[decision.kind] if decision.enforced else 0


def _state_check(args: argparse.Namespace) -> Callable[[Decision], Decision]:
    """A recorded check sees, and remembers, Terraform state serials as the hook does."""
    from blastdoor.state_marks import check

    resolved = settings(args)

    def history() -> Iterator[bytes]:
        from blastdoor.ledger.ledger import Ledger

        with Ledger.open(resolved) as ledger:
            yield from (row.body for row in ledger.store.scan())

    return lambda decision: check(decision, resolved.home, history)


def _record(
    args: argparse.Namespace, decided: list[tuple[Action, Decision]], policy: Policy
) -> None:
    """Append the decisions to the ledger; a decision that cannot be recorded is not given out."""
    from blastdoor.ledger.ledger import Ledger
    from blastdoor.ledger.record import decision_payload

    payloads = [
        decision_payload(a, d, policy_digest=policy.digest, source="check") for a, d in decided
    ]
    with Ledger.open(settings(args)) as ledger:
        ledger.record_many(payloads)
        for problem in ledger.witness_problems:
            print(f"blastdoor: warning: {problem}", file=sys.stderr)


def _batch(source: str, policy: Policy, *, record: bool, args: argparse.Namespace) -> int:
    if source == "-":
        stream = sys.stdin.buffer
    else:
        try:
            stream = open(source, "rb")  # noqa: SIM115 - closed below
        except OSError as error:
            raise InputError(
                f"cannot read {source}: {error.strerror}", hint="check the path"
            ) from None
    decided: list[tuple[Action, Decision]] = []
    pending: list[str] = []

    def flush() -> None:  # record first: an answer is given out only once its decision is on disk
        if decided:
            _record(args, decided, policy)
            decided.clear()
        sys.stdout.write("".join(pending))
        pending.clear()

    try:
        lines = (raw.rstrip(b"\r\n") for raw in stream)
        for line in batch.run(
            lines,
            policy,
            credentials=settings(args).credentials,
            after=_state_check(args) if record else None,
            on_decision=(lambda a, d: decided.append((a, d))) if record else None,
        ):
            pending.append(line + "\n")
            if len(pending) >= BATCH_RECORD:
                flush()
        flush()
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    return 0


def render(decision: Decision) -> str:
    lines = [
        f"{decision.kind.value.upper()}"
        + ("" if decision.enforced else " (observe mode: not enforced)")
    ]
    lines += [f"  why: {reason}" for reason in decision.reasons]
    if decision.rule_ids:
        lines.append(f"  rules: {', '.join(decision.rule_ids)}")
    for found in decision.effects:
        scope = f"{found.scope.value}" + (f" ({'; '.join(found.signals)})" if found.signals else "")
        lines.append(
            f"  - {found.verb.value} {found.target} [{scope}, {found.reversibility.value}]: {found.detail}"
        )
    return "\n".join(lines)
