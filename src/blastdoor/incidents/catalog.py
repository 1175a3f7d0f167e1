"""Scenario files: one TOML file per public incident, with its sourced facts and the agent's actions.

Keys: ``id``, ``title``, ``facts``, ``sources``, ``confidence``, ``expected`` (``stop`` = anything but
allow, or one exact decision), ``freeze`` (a Blastdoor freeze is in force), ``[files]`` (the working
directory's files, by relative path), ``[env]``, and ``[[action]]`` tables with a ``command``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any

from blastdoor.errors import ConfigError

STOP = "stop"


@dataclass(frozen=True, kw_only=True)
class Scenario:
    id: str
    title: str
    facts: str
    sources: tuple[str, ...]
    confidence: str
    expected: str
    freeze: bool
    files: tuple[tuple[str, str], ...]
    env: tuple[tuple[str, str], ...]
    commands: tuple[str, ...]

    @classmethod
    def from_toml(cls, text: str, *, source: str) -> Scenario:
        try:
            data: dict[str, Any] = tomllib.loads(text)
            return cls(
                id=data["id"],
                title=data["title"],
                facts=data["facts"],
                sources=tuple(data["sources"]),
                confidence=data.get("confidence", ""),
                expected=data.get("expected", STOP),
                freeze=bool(data.get("freeze", False)),
                files=tuple(sorted(data.get("files", {}).items())),
                env=tuple(sorted(data.get("env", {}).items())),
                commands=tuple(action["command"] for action in data["action"]),
            )
        except (tomllib.TOMLDecodeError, KeyError, TypeError) as error:
            raise ConfigError(f"scenario {source} is malformed: {error}") from None


def builtin_scenarios() -> list[Scenario]:
    folder = resources.files("blastdoor.incidents").joinpath("scenarios")
    found = [
        Scenario.from_toml(entry.read_text("utf-8"), source=entry.name)
        for entry in folder.iterdir()
        if entry.name.endswith(".toml")
    ]
    return sorted(found, key=lambda scenario: scenario.id)
