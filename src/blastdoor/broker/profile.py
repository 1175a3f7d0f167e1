"""A credential profile: the secrets, where they reach, and what they are for.

``allow`` lists the actions the credential exists for, each ``VERB`` or ``VERB:TARGET-KIND``
(``read``, ``modify:database``, ``delete:dns-record``, ``*``); a target kind may be a glob. An effect
on anything but local files must match one of them, or the call is out of purpose: denied even with
an approval (PocketOS: a token made for custom domains deleted a volume).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from blastdoor.broker.engines import MYSQL, POSTGRESQL, SQLITE, engine_name
from blastdoor.broker.errors import BrokerError
from blastdoor.broker.scrub import Scrubber
from blastdoor.credentials import allow_problem, permitted
from blastdoor.model import Effect, Scope

NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
MIN_PASSWORD = 4  # shorter passwords would be "removed" from ordinary words
_LIBPQ = {"host": "PGHOST", "port": "PGPORT", "user": "PGUSER", "password": "PGPASSWORD",
          "dbname": "PGDATABASE", "sslmode": "PGSSLMODE"}  # fmt: skip
PROVEN = frozenset({POSTGRESQL, MYSQL})  # the engines whose backups backup verify proves


@dataclass(frozen=True, kw_only=True)
class Profile:
    name: str
    scope: Scope
    purpose: str
    allow: tuple[str, ...] = ("read",)
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)
    created: str = ""
    by: str = ""
    dumps: str = ""  # where this database's backups are: a dump file or folder, s3://BUCKET/PREFIX, rds:INSTANCE
    backup_proofs: tuple[str, ...] = ()  # the profiles whose verified backups stand behind this one
    aws_role: str = ""  # a role ARN: each call gets its own short-lived credentials for it (broker/aws_sts.py)
    aws_minutes: int = 15  # how long those credentials live

    def public(self) -> dict[str, Any]:
        """Everything about the profile except the secret values (the sealed file's clear part)."""
        return {"name": self.name, "scope": self.scope.value, "purpose": self.purpose,
                "allow": list(self.allow), "variables": sorted(self.secrets),
                "created": self.created, "by": self.by, **self.options()}  # fmt: skip

    def options(self) -> dict[str, Any]:
        """The optional settings this profile has (left out of its clear part when unset)."""
        values = {"dumps": self.dumps, "backup_proofs": list(self.backup_proofs), "aws_role": self.aws_role,
                  "aws_minutes": self.aws_minutes if self.aws_role else 0}  # fmt: skip
        return {key: value for key, value in values.items() if value}

    @classmethod
    def from_public(cls, clear: Mapping[str, Any], secrets: Mapping[str, str]) -> Profile:
        """The profile whose clear part is ``clear`` and whose unsealed values are ``secrets``."""
        return cls(name=str(clear["name"]), scope=Scope(clear["scope"]), purpose=str(clear["purpose"]),
                   allow=tuple(clear["allow"]), secrets=dict(secrets),
                   created=str(clear.get("created", "")), by=str(clear.get("by", "")),
                   dumps=str(clear.get("dumps", "")), backup_proofs=tuple(clear.get("backup_proofs", ())),
                   aws_role=str(clear.get("aws_role", "")), aws_minutes=int(clear.get("aws_minutes") or 15))  # fmt: skip

    def backup_sources(self) -> list[str]:
        """The profiles whose verified backups a destructive action with this one needs: those it
        names, else itself when it holds a PostgreSQL or MySQL URL (whose backups ``backup verify``
        proves), else none."""
        if self.backup_proofs:
            return list(self.backup_proofs)
        return [self.name] if any(engine_name(value) in PROVEN for value in self.secrets.values()) else []

    def permits(self, found: Effect) -> bool:
        """Whether ``found`` is among the actions this credential exists for."""
        return permitted(self.allow, found)

    def dsn(self) -> str:
        """The database this profile reaches (:func:`database_variable`)."""
        if variable := database_variable(self.secrets):
            return self.secrets[variable]
        raise BrokerError(f"profile {self.name} holds no database URL",
                          hint="add one with: blastdoor profile add NAME --secret DATABASE_URL ... --replace")  # fmt: skip

    def environment(self) -> dict[str, str]:
        """What a brokered program gets: the profile's variables and, for a PostgreSQL URL, the
        libpq variables it spells out (PGHOST, PGUSER, PGPASSWORD ...) so ``psql -c`` and ``pg_dump``
        reach the database with no argument naming it."""
        spelled = {_LIBPQ[key]: value for key, value in self._postgres().items() if key in _LIBPQ}
        return spelled | dict(self.secrets)

    def secret_values(self) -> list[tuple[str, str]]:
        """(variable, value) pairs to keep out of output and records, with the password inside
        each URL-shaped value as a secret of its own."""
        pairs = [(name, value) for name, value in self.secrets.items() if value]
        return pairs + [(name, password) for name, value in pairs for password in url_passwords(value)]

    @cached_property
    def scrubber(self) -> Scrubber:
        """Removes this profile's secrets from text (for records and messages)."""
        return Scrubber(self.secret_values())

    def _postgres(self) -> dict[str, str]:
        """The connection parameters of the profile's PostgreSQL URL ({} when it has none)."""
        url = next((v for v in self.secrets.values() if engine_name(v) == POSTGRESQL), "")
        return _conninfo(url) if url else {}

    @property
    def label(self) -> str:
        return f"profile:{self.name}"


def url_passwords(value: str) -> list[str]:
    """The passwords inside a URL-shaped value (userinfo, percent-decoded, and libpq's
    ``?password=`` for PostgreSQL URLs), each a secret of its own."""
    passwords = []
    if engine_name(value) == POSTGRESQL:
        params = _conninfo(value)
        passwords += [params.get("password", ""), params.get("sslpassword", "")]
    if "://" in value:
        with contextlib.suppress(ValueError):
            raw = urlsplit(value).password or ""
            passwords += [raw, unquote(raw)]
    return [p for p in dict.fromkeys(passwords) if len(p) >= MIN_PASSWORD]


def database_variable(secrets: Mapping[str, str]) -> str:
    """The variable holding the database a profile reaches (``blastdoor sql``, ``restore``, ``data``):
    DATABASE_URL, else the first (by name) that is a database URL of an engine the broker has
    (broker/engines/); '' when none is."""
    return next((name for name in ("DATABASE_URL", *sorted(secrets)) if engine_name(secrets.get(name, ""))), "")


def absolute_sqlite(values: Mapping[str, str], *, base: Callable[[], Path]) -> tuple[dict[str, str], list[str]]:
    """``values`` as stored, and a line for each one changed or worth a word. Only the database URL
    (:func:`database_variable`) is read: when it is a SQLite URL with a relative path, the path is
    made absolute against the folder ``base`` gives (a broker has no working folder to read it
    against later); when it is one Blastdoor cannot read (options, a host), it is stored as given,
    for programs run with ``blastdoor exec``, and said so: ``blastdoor sql`` refuses it. Other
    values are stored as given."""
    from blastdoor.broker.sqlite_sql import absolute_url, url_problem

    stored = dict(values)
    variable = database_variable(values)
    value = values.get(variable, "")
    if engine_name(value) != SQLITE:
        return stored, []
    if problem := url_problem(value):
        return stored, [f"{variable}: {problem}, so blastdoor sql and blastdoor data will refuse it; it is stored as given "
                        "for programs run with blastdoor exec"]  # fmt: skip
    stored[variable], resolved = absolute_url(value, base=base)
    if resolved is None:
        return stored, []
    return stored, [f"{variable}: the relative SQLite path in {value} is stored as the absolute {resolved} ({stored[variable]})"]


def _conninfo(url: str) -> dict[str, str]:
    """libpq's own reading of ``url`` ({} when it cannot read it)."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        return {key: str(value) for key, value in conninfo_to_dict(url).items() if value is not None}
    except Exception:
        return {}


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise BrokerError(f"profile name {name[:80]!r} is not a plain lower-case name",
                          hint="use letters, digits, '.', '_' and '-', e.g. prod-db")  # fmt: skip
    return name


def check_allow(patterns: list[str]) -> tuple[str, ...]:
    for pattern in patterns:
        problem = allow_problem(pattern)
        if problem:
            raise BrokerError(f"--allow {pattern[:80]!r}: {problem}", hint="e.g. --allow read --allow modify:database")
    return tuple(dict.fromkeys(patterns)) or ("read",)


def check_variable(name: str) -> str:
    if not VARIABLE.match(name):
        raise BrokerError(f"--secret {name[:80]!r} is not an environment variable name",
                          hint="e.g. --secret DATABASE_URL")  # fmt: skip
    return name
