"""A user's own table of command → expected decision (``blastdoor policy test FILE``).

The file is TOML::

    [[case]]
    command = "terraform destroy -auto-approve"
    expect = "hold"
    env = { TF_WORKSPACE = "prod" }   # optional
    cwd = "/srv/app"                    # optional
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from blastdoor.errors import ConfigError
from blastdoor.judge import judge
from blastdoor.model import Action, Decision, DecisionKind
from blastdoor.policy.engine import Policy


@dataclass(frozen=True)
class Case:
    command: str
    expect: str
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None


def load_cases(path: Path) -> list[Case]:
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"{path} does not exist", hint="give the path of a TOML file of [[case]] tables"
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path} is not valid TOML: {error}") from None
    cases = []
    choices = {kind.value for kind in DecisionKind}
    for number, table in enumerate(data.get("case", []), start=1):
        command, expect = table.get("command"), table.get("expect")
        if not isinstance(command, str) or expect not in choices:
            raise ConfigError(
                f'{path}: case {number} needs command = "..." and expect = one of {sorted(choices)}'
            )
        env = table.get("env", {})
        if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
            raise ConfigError(f"{path}: case {number}: env must map names to strings")
        cases.append(Case(command=command, expect=expect, env=env, cwd=table.get("cwd")))
    if not cases:
        raise ConfigError(
            f"{path} has no [[case]] tables", hint='add [[case]] command = "..." expect = "deny"'
        )
    return cases


def run_cases(cases: list[Case], policy: Policy) -> list[tuple[Case, Decision]]:
    return [
        (case, judge(Action.shell(case.command, env=case.env, cwd=case.cwd), policy))
        for case in cases
    ]
