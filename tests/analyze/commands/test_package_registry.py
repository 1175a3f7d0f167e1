"""Package managers and the registry: publishing holds, changing a published package asks."""

from __future__ import annotations

import pytest

from blastdoor.judge import judge
from blastdoor.model import Action
from blastdoor.policy import load


def decide(command: str) -> str:
    return judge(Action.shell(command), load(), files=lambda _path: None).kind.value


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("npm deprecate left-pad@1.x 'use v2'", "ask"),
        ("pnpm deprecate left-pad 'gone'", "ask"),
        ("npm undeprecate left-pad", "ask"),
        ("npm dist-tag add left-pad@2.0.0 latest", "ask"),
        ("yarn npm tag add left-pad@2.0.0 latest", "ask"),
        ("npm owner add alice left-pad", "ask"),
        ("npm access set status=public left-pad", "ask"),
        ("npm dist-tag ls left-pad", "allow"),
        ("npm owner ls left-pad", "allow"),
        ("yarn npm tag list left-pad", "allow"),
        ("yarn npm info left-pad", "allow"),
        ("yarn npm unpublish left-pad --force", "hold"),
        ("pnpm unpublish left-pad@1.0.0", "hold"),
        ("yarn npm publish", "hold"),
        ("pnpm publish --dry-run", "allow"),
    ],
)
def test_registry_changes(command: str, expected: str) -> None:
    assert decide(command) == expected


def test_unpublish_names_the_package() -> None:
    decision = judge(Action.shell("npm unpublish left-pad@1.0.0"), load(), files=lambda _p: None)
    assert [e.target.name for e in decision.effects] == ["left-pad@1.0.0"]
