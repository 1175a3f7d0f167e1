"""Which database a ``data`` command works on: ``--dsn URL`` or a broker profile's URL.

PostgreSQL is addressed as ``postgresql://...``; SQLite as ``sqlite:///relative/path`` or
``sqlite:////absolute/path`` (as SQLAlchemy writes them; the broker reads them the same way:
broker/sqlite_sql.py), or as the path of an existing SQLite file. A relative path given with
``--dsn`` is relative to the working folder; a profile's is stored absolute.

A profile's password never reaches the screen: every message is scrubbed with the profile's
scrubber (a bare ``--dsn`` has its password masked the same way). The guard key, which lets the
broker prove to the database that it saved a table before dropping it, is kept in Blastdoor's home
under the database's id (``HOME/data/ID.key``), readable by Blastdoor's user only.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from blastdoor.broker.engines import POSTGRESQL, SQLITE, engine_name
from blastdoor.broker.scrub import Scrubber
from blastdoor.config import Settings
from blastdoor.data.errors import DataError
from blastdoor.errors import error_line

SQLITE_HEADER = b"SQLite format 3\x00"
_ID = re.compile(r"^db-[0-9a-f]{16}$")


@dataclass(frozen=True)
class Target:
    dsn: str
    label: str  # what the ledger and messages call it: profile:NAME or the URL without its password
    scrubber: Scrubber
    base: Callable[[], Path] | None = None  # gives the folder a relative SQLite path is relative to (None: it may not be relative)

    @property
    def engine(self) -> str:
        return SQLITE if self.sqlite_path is not None else POSTGRESQL

    @cached_property
    def sqlite_path(self) -> Path | None:
        """The file a SQLite address names (None for any other address); a bare path's header is
        read once per target."""
        if engine_name(self.dsn) == SQLITE:
            from blastdoor.broker.sqlite_sql import database_path

            return database_path(self.dsn, base=self.base)
        if "://" in self.dsn:
            return None
        path = Path(self.dsn)
        try:
            with path.open("rb") as handle:
                return path if handle.read(16) == SQLITE_HEADER else None
        except OSError:
            return None

    def connect(self, *, autocommit: bool = False) -> Any:
        import psycopg

        if engine_name(self.dsn) != POSTGRESQL:
            raise DataError(f"{self.label} is neither a PostgreSQL URL nor a SQLite file",
                            hint="give --dsn postgresql://USER@HOST/DB, --dsn sqlite:///PATH, or a profile holding one")  # fmt: skip
        try:
            return psycopg.connect(self.dsn, autocommit=autocommit, connect_timeout=10,
                                   application_name="blastdoor-data")  # fmt: skip
        except psycopg.Error as error:
            raise DataError(f"cannot connect to {self.label}: {self.clean(error)}",
                            hint="check the URL, and that the server is running") from None  # fmt: skip

    @contextlib.contextmanager
    def transaction(self, doing: str, *, hint: str) -> Iterator[Any]:
        """A connection whose work is committed at the end of the block, or rolled back, with a
        database error turned into one line ("could not DOING on TARGET: ...")."""
        import psycopg

        db = self.connect()
        try:
            yield db
            db.commit()
        except psycopg.Error as error:
            rollback_quietly(db)
            raise DataError(f"could not {doing} on {self.label}: {self.clean(error)}", hint=hint) from None
        finally:
            db.close()

    def clean(self, error: BaseException) -> str:
        return self.scrubber.text(error_line(error))


def rollback_quietly(db: Any) -> None:
    """Roll back what can be; a connection already lost has nothing left to roll back."""
    import psycopg

    with contextlib.suppress(psycopg.Error):
        db.rollback()


def resolve(settings: Settings, *, dsn: str = "", profile: str = "") -> Target:
    if bool(dsn) == bool(profile):
        raise DataError("give exactly one of --dsn URL and --profile NAME",
                        hint="e.g. blastdoor data enable --dsn postgresql://postgres@127.0.0.1/app")  # fmt: skip
    if profile:
        from blastdoor.broker.vault import Vault

        stored = Vault.of(settings).get(profile)
        return Target(stored.dsn(), stored.label, stored.scrubber)
    secrets = _passwords(dsn)
    scrubber = Scrubber(secrets)
    from blastdoor.broker.sqlite_sql import working_folder

    return Target(dsn, scrubber.text(dsn), scrubber, base=working_folder)


def _passwords(dsn: str) -> list[tuple[str, str]]:
    from blastdoor.broker.profile import url_passwords

    return [("password", value) for value in url_passwords(dsn)]


def key_path(settings: Settings, database_id: str) -> Path:
    if not _ID.match(database_id):
        raise DataError(f"the database names an unexpected history id {database_id[:40]!r}",
                        hint="its blastdoor_history schema was not made by blastdoor data enable")  # fmt: skip
    return settings.home / "data" / f"{database_id}.key"


def save_key(settings: Settings, database_id: str, key: str) -> None:
    from blastdoor.files import write_atomic

    path = key_path(settings, database_id)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_atomic(path, key + "\n", mode=0o600, sync=True)


def load_key(settings: Settings, database_id: str) -> str:
    """The guard key for ``database_id`` ("" when this home has none: the broker then proves nothing)."""
    try:
        return key_path(settings, database_id).read_text().strip()
    except (DataError, OSError):
        return ""
