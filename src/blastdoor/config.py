"""Settings, each declared once with its default, help and ``BLASTDOOR_*`` environment twin.

Precedence: defaults < environment < command-line flags, resolved once in :func:`Settings.resolve`.
Settings that would weaken a check have no environment twin (DESIGN.md, threat model).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Setting:
    name: str
    env: str
    help: str


SETTINGS = (
    Setting("home", "BLASTDOOR_HOME", "Blastdoor's home folder: database, keys, policy (default ~/.blastdoor)"),
    Setting("policy", "BLASTDOOR_POLICY", "the user policy file (default HOME/policy.toml)"),
    Setting("database_url", "BLASTDOOR_DATABASE_URL", "the ledger database (default SQLite in HOME)"),
)


@dataclass(frozen=True, kw_only=True)
class Settings:
    home: Path
    policy: Path
    database_url: str

    @classmethod
    def resolve(
        cls,
        *,
        env: Mapping[str, str] | None = None,
        home: str | None = None,
        policy: str | None = None,
    ) -> Settings:
        environ = os.environ if env is None else env
        home_path = Path(home or environ.get("BLASTDOOR_HOME") or Path.home() / ".blastdoor").expanduser()
        policy_path = Path(policy or environ.get("BLASTDOOR_POLICY") or home_path / "policy.toml").expanduser()
        database = environ.get("BLASTDOOR_DATABASE_URL") or f"sqlite:///{home_path / 'blastdoor.db'}"
        return cls(home=home_path, policy=policy_path, database_url=database)

    @property
    def freeze_file(self) -> Path:
        return self.home / "freeze.json"
