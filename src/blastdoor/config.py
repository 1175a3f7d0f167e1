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

from blastdoor.credentials import Credential, from_config
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
    Setting("approvals_required", "", "approvals.required",
            "how many different approvers must sign a held action (default 1; config.toml only)"),
    Setting("approvers", "", "approvals.approvers",
            "the approvers whose grants count (default: every enrolled one; config.toml only)"),
    Setting("request_ttl_hours", "", "approvals.request_ttl_hours",
            "how long an approval request waits for a decision (default 24)"),
    Setting("grant_ttl_minutes", "", "approvals.grant_ttl_minutes",
            "how long a signed grant stays usable (default 15)"),
    Setting("webhook", "", "approvals.webhook", "a URL told of every new approval request"),
    Setting("webhook_format", "", "approvals.webhook_format",
            '"json" (default) or "slack" (a Slack-compatible incoming-webhook payload)'),
    Setting("require_backup", "", "safeguards.require_backup",
            'what a brokered production action needs a fresh verified backup for: "stateful" (default: '
            'destroying databases, volumes, buckets ... in a Terraform plan, an API call or Kubernetes), "destroy" '
            '(also any destroy, DROP TABLE included), "delete" (also deletes), or "off" (config.toml only)'),
    Setting("backup_max_age_hours", "", "safeguards.backup_max_age_hours",
            "how old a verified backup may be and still count (default 24; config.toml only)"),
    Setting("credentials", "", "credentials",
            "[credentials.NAME] tables: the credentials an agent may find and what each is for (config.toml only)"),
)  # fmt: skip

CONFIG_NAME = "config.toml"


@dataclass(frozen=True, kw_only=True)
class Settings:
    home: Path
    policy: Path
    database_url: str
    checkpoint_every: int = 100
    witnesses: tuple[str, ...] = ()
    approvals_required: int = 1
    approvers: tuple[str, ...] = ()
    request_ttl_hours: int = 24
    grant_ttl_minutes: int = 15
    webhook: str = ""
    webhook_format: str = "json"
    require_backup: str = "stateful"
    backup_max_age_hours: int = 24
    credentials: tuple[Credential, ...] = ()

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
        approvals = file.get("approvals", {})
        safeguards = file.get("safeguards", {})
        return cls(
            home=home_path,
            policy=policy_path,
            database_url=database,
            checkpoint_every=_positive(every, "checkpoint_every"),
            witnesses=_strings(ledger.get("witnesses", []), "ledger.witnesses"),
            approvals_required=_positive(approvals.get("required", 1), "approvals.required"),
            approvers=_strings(approvals.get("approvers", []), "approvals.approvers", example="alice"),
            request_ttl_hours=_positive(approvals.get("request_ttl_hours", 24), "approvals.request_ttl_hours"),
            grant_ttl_minutes=_positive(approvals.get("grant_ttl_minutes", 15), "approvals.grant_ttl_minutes"),
            webhook=_webhook(approvals.get("webhook", "")),
            webhook_format=_choice(approvals.get("webhook_format", "json"), ("json", "slack"), "approvals.webhook_format"),
            require_backup=_choice(safeguards.get("require_backup", "stateful"), ("stateful", "destroy", "delete", "off"),
                                   "safeguards.require_backup"),
            backup_max_age_hours=_positive(safeguards.get("backup_max_age_hours", 24), "safeguards.backup_max_age_hours"),
            credentials=from_config(file.get("credentials", {})),
        )  # fmt: skip

    @property
    def approver_keys(self) -> Path:
        """The approvers' public keys (their private keys stay with them)."""
        return self.home / "approvers"

    @property
    def mcp_pins(self) -> Path:
        return self.home / "mcp"

    @property
    def profiles(self) -> Path:
        """The broker's credential profiles, sealed with :attr:`broker_key`."""
        return self.home / "profiles"

    @property
    def broker_key(self) -> Path:
        return self.home / "keys" / "broker.key"

    @property
    def snapshots(self) -> Path:
        """What the broker saved before a destructive statement (table dumps and manifests)."""
        return self.home / "snapshots"

    @property
    def backup_proofs(self) -> Path:
        """Which ledger entry holds each profile's newest verified backup (a cache of the ledger)."""
        return self.home / "backup-proofs.json"

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
    keys = [setting.file_key for setting in SETTINGS if setting.file_key]
    sections: dict[str, set[str]] = {}
    for key in keys:
        if "." in key:
            section, _, name = key.partition(".")
            sections.setdefault(section, set()).add(name)
    unknown = set(data) - {key for key in keys if "." not in key} - set(sections)
    if not isinstance(data.get("credentials", {}), dict):
        raise ConfigError(f"{path}: [credentials] must hold [credentials.NAME] tables",
                          hint='e.g. [credentials.railway-domains] env = ["RAILWAY_TOKEN"]')  # fmt: skip
    for name, allowed in sections.items():
        section = data.get(name, {})
        if not isinstance(section, dict):
            raise ConfigError(
                f"{path}: [{name}] must be a table", hint=f"write it as a [{name}] section"
            )
        unknown |= {f"{name}.{key}" for key in set(section) - allowed}
    if unknown:
        listed = ", ".join(f"[{n}] {' '.join(sorted(a))}" for n, a in sections.items())
        raise ConfigError(f"{path} has unknown settings {sorted(unknown)}",
                          hint=f"allowed: database_url, {listed}, [credentials.NAME]")  # fmt: skip
    return data


def _positive(value: object, name: str) -> int:
    try:
        number = int(str(value))
    except ValueError:
        number = 0
    if number < 1:
        raise ConfigError(
            f"{name} = {value!r} is not a positive whole number",
            hint=f"set {name} to a whole number of 1 or more",
        )
    return number


def _webhook(value: object) -> str:
    text = str(value or "")
    if text and not text.startswith(("https://", "http://")):
        raise ConfigError(f"approvals.webhook = {text[:100]!r} is not an http(s) URL",
                          hint='e.g. webhook = "https://hooks.slack.com/services/..."')  # fmt: skip
    return text


def _choice(value: object, allowed: tuple[str, ...], name: str) -> str:
    if value not in allowed:
        raise ConfigError(f"{name} = {value!r} is not one of {', '.join(allowed)}",
                          hint=f'e.g. {name} = "{allowed[0]}"')  # fmt: skip
    return str(value)


def _strings(value: object, name: str, *, example: str = "/mnt/witness") -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise ConfigError(
            f"{name} must be a list of non-empty strings", hint=f'e.g. {name} = ["{example}"]'
        )
    return tuple(value)
