"""``blastdoor replay``: replay the public incidents and assert each is stopped."""

from __future__ import annotations

import argparse
from typing import Any

from blastdoor.cli.common import settings
from blastdoor.incidents.catalog import builtin_scenarios
from blastdoor.incidents.replay import Outcome, replay_all
from blastdoor.policy.loader import load


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "replay", help="replay public agent incidents and check each is stopped"
    )
    parser.add_argument("--only", help="replay one incident by id")
    parser.add_argument("-v", "--verbose", action="store_true", help="show every reason")
    parser.set_defaults(handler=_replay)


def _replay(args: argparse.Namespace) -> int:
    settings(args)  # every command initialises the home on first use
    scenarios = [s for s in builtin_scenarios() if not args.only or s.id == args.only]
    outcomes = replay_all(scenarios, load())  # the built-in policy: what a fresh install does
    for outcome in outcomes:
        print(render(outcome, verbose=args.verbose))
    stopped = sum(outcome.stopped for outcome in outcomes)
    print(f"\n{stopped} of {len(outcomes)} incidents stopped")
    return 0 if stopped == len(outcomes) else 1


def render(outcome: Outcome, *, verbose: bool) -> str:
    scenario = outcome.scenario
    mark = "STOPPED" if outcome.stopped else "NOT STOPPED"
    lines = [
        f"{mark:11} {scenario.id}: {scenario.title}",
        f"            source: {scenario.sources[0]}",
    ]
    for command, decision in outcome.decisions:
        lines.append(f"            {decision.kind.value.upper():5} {command.strip()[:90]}")
        for reason in decision.reasons if verbose else decision.reasons[:1]:
            lines.append(f"                  {reason[:160]}")
    return "\n".join(lines)
