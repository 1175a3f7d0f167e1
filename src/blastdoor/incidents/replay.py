"""Replay: run each incident's actions through the judge and check Blastdoor stops them.

Each scenario gets a fresh temporary working directory holding its files, the built-in policy (with
a freeze when the scenario has one), and its environment. An incident counts as stopped when every
one of its actions is decided as expected (``stop``: anything but allow).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from blastdoor.incidents.catalog import STOP, Scenario
from blastdoor.judge import judge
from blastdoor.model import Action, Decision, DecisionKind
from blastdoor.policy.engine import Policy


@dataclass(frozen=True)
class Outcome:
    scenario: Scenario
    decisions: tuple[tuple[str, Decision], ...]

    @property
    def stopped(self) -> bool:
        return all(_meets(self.scenario.expected, decision) for _, decision in self.decisions)


def _meets(expected: str, decision: Decision) -> bool:
    if expected == STOP:
        return decision.kind is not DecisionKind.ALLOW
    return decision.kind.value == expected


def replay(scenario: Scenario, policy: Policy) -> Outcome:
    frozen = Policy(**{**policy.__dict__, "frozen": policy.frozen or scenario.freeze})
    with tempfile.TemporaryDirectory(prefix=f"blastdoor-{scenario.id}-") as folder:
        workspace = Path(folder)
        for relative, content in scenario.files:
            path = workspace / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
        decisions = tuple(
            (command, judge(Action.shell(command, cwd=folder, env=dict(scenario.env)), frozen))
            for command in scenario.commands
        )
    return Outcome(scenario=scenario, decisions=decisions)


def replay_all(scenarios: Iterable[Scenario], policy: Policy) -> list[Outcome]:
    return [replay(scenario, policy) for scenario in scenarios]
