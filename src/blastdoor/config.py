"""Settings, each declared once with its default, help and ``BLASTDOOR_*`` environment twin.

Precedence: defaults < ``HOME/config.toml`` < environment < command-line flags, resolved once in
:func:`Settings.resolve`. Settings that would weaken a check have no environment twin (DESIGN.md,
threat model): an agent that can set its own environment must not be able to switch off a witness.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from blastdoor.errors import ConfigError


@dataclass(frozen=True)
class Setting:
    name: str
    env: str  # "" when the setting deliberately has no environment twin
    file_key: str  # "" when the setting is not read from config.toml
    help: str


SETTINGS = (
    Setting(
        "home",
        "BLASTDOOR_HOME",
        "",
        "Blastdoor's home folder: database, keys, policy (default ~/.blastdoor)",
    ),
    Setting("policy", "BLASTDOOR_POLICY", "", "the user policy file (default HOME/policy.toml)"),
    Setting(
        "database_url",
        "BLASTDOOR_DATABASE_URL",
        "database_url",
        "the ledger database (default SQLite in HOME)",
    ),
    Setting(
        "checkpoint_every",
        "BLASTDOOR_CHECKPOINT_EVERY",
        "ledger.checkpoint_every",
        "sign a ledger checkpoint every N entries (default 100)",
    ),  # fmt: skip
    Setting(
        "witnesses",
        "",
        "ledger.witnesses",
        "folders or http(s) URLs that keep a copy of every checkpoint (config.toml only)",
    ),  # fmt: skip
)

CONFIG_NAME = "config.toml"


@dataclass(frozen=True, kw_only=True)
class Settings:
    home: Path
    policy: Path
    database_url: str
    checkpoint_every: int = 100
    witnesses: tuple[str, ...] = ()

    @classmethod
    def resolve(
        cls,
        *,
        env: Mapping[str, str] | None = None,
        home: str | None = None,
        policy: str | None = None,
    ) -> Settings:
        environ = os.environ if env is None else env
        home_path = Path(
            home or environ.get("BLASTDOOR_HOME") or Path.home() / ".blastdoor"
        ).expanduser()
        policy_path = Path(
            policy or environ.get("BLASTDOOR_POLICY") or home_path / "policy.toml"
        ).expanduser()
        file = _read_file(home_path / CONFIG_NAME)
        ledger = file.get("ledger", {})
        database = (
            environ.get("BLASTDOOR_DATABASE_URL")
            or str(file.get("database_url") or "")
            or f"sqlite:///{home_path / 'blastdoor.db'}"
        )
        every = environ.get("BLASTDOOR_CHECKPOINT_EVERY") or ledger.get("checkpoint_every", 100)
        return cls(
            home=home_path,
            policy=policy_path,
            database_url=database,
            checkpoint_every=_positive(every, "checkpoint_every"),
            witnesses=_strings(ledger.get("witnesses", []), "ledger.witnesses"),
        )

    @property
    def mcp_pins(self) -> Path:
        return self.home / "mcp"

    @property
    def freeze_file(self) -> Path:
        return self.home / "freeze.json"

    @property
    def keys(self) -> Path:
        return self.home / "keys"


def _read_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read {path}: {error}", hint="fix or remove the file") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(
            f"{path} is not valid TOML: {error}", hint="fix the file or remove it"
        ) from None
    ledger = data.get("ledger", {})
    if not isinstance(ledger, dict):
        raise ConfigError(
            f"{path}: [ledger] must be a table", hint="write it as a [ledger] section"
        )
    unknown = (set(data) - {"database_url", "ledger"}) | (
        set(ledger) - {"checkpoint_every", "witnesses"}
    )
    if unknown:
        raise ConfigError(f"{path} has unknown settings {sorted(unknown)}",
                          hint="allowed: database_url, [ledger] checkpoint_every and witnesses")  # fmt: skip
    return data


def _positive(value: object, name: str) -> int:
    try:
        number = int(str(value))
    except ValueError:
        number = 0
    if number < 1:
        raise ConfigError(
            f"{name} = {value!r} is not a positive whole number", hint=f"set {name} to e.g. 100"
        )
    return number


def _strings(value: object, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise ConfigError(
            f"{name} must be a list of folder paths or URLs", hint=f'e.g. {name} = ["/mnt/witness"]'
        )
    return tuple(value)
