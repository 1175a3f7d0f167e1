"""``blastdoor policy show`` and ``blastdoor policy test FILE``."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from blastdoor.cli.common import policy_for, settings
from blastdoor.policy.loader import builtin_text, find_repo_policy
from blastdoor.policy.tests import load_cases, run_cases


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "policy", help="show the policy in force, or test it against your own table"
    )
    sub = parser.add_subparsers(dest="policy_command", metavar="ACTION")
    show = sub.add_parser("show", help="print every layer of the policy in force")
    show.add_argument("--policy", help="a policy file to use instead of the user policy")
    show.set_defaults(handler=_show)
    test = sub.add_parser("test", help="check a table of command → expected decision")
    test.add_argument("file", help="a TOML file of [[case]] command = ..., expect = ...")
    test.add_argument("--policy", help="a policy file to use instead of the user policy")
    test.set_defaults(handler=_test)


def _show(args: argparse.Namespace) -> int:
    resolved = settings(args)
    policy = policy_for(args, cwd=os.getcwd())
    print(
        f"# mode: {policy.mode}{'   FROZEN: writes to production are denied' if policy.frozen else ''}"
    )
    print(f"# digest: {policy.digest}")
    print("# layers, strongest last: " + " < ".join(policy.sources))
    user = Path(args.policy) if args.policy else resolved.policy
    if user.exists():
        print(f"\n# ===== user policy: {user} (tried first) =====\n{user.read_text('utf-8')}")
    repo = find_repo_policy(os.getcwd())
    if repo is not None:
        print(
            f"\n# ===== repository policy: {repo} (can only tighten) =====\n{repo.read_text('utf-8')}"
        )
    print(f"\n# ===== built-in policy =====\n{builtin_text()}")
    return 0


def _test(args: argparse.Namespace) -> int:
    policy = policy_for(args, cwd=os.getcwd())
    results = run_cases(load_cases(Path(args.file)), policy)
    failed = 0
    for case, decision in results:
        ok = decision.kind.value == case.expect
        failed += not ok
        mark = "ok  " if ok else "FAIL"
        print(f"{mark} {case.expect:5} got {decision.kind.value:5} {case.command}")
        if not ok:
            for reason in decision.reasons:
                print(f"       {reason}")
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0
