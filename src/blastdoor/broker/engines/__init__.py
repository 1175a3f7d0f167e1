"""The database engines ``blastdoor sql``, ``restore`` and ``backup verify`` work with: one protocol,
one module per engine, chosen once from the URL's scheme.

==============  ==========================================  ======================================
engine          URL                                         module
==============  ==========================================  ======================================
``postgresql``  ``postgresql://`` ``postgres://``           :mod:`.postgresql`
``mysql``       ``mysql://`` ``mariadb://``                 :mod:`.mysql` (MySQL and MariaDB)
``sqlite``      ``sqlite:///relative`` ``sqlite:////abs``   :mod:`.sqlite`
==============  ==========================================  ======================================

An engine is bound to one database (``of(url)``) and does, for that database, each step of a
brokered call (broker/calls.py)::

    plan(text) ─► to_save(plan, effects) ─► identity() ─► take(...) ─► run(text)      blastdoor sql
    identity() ─► check(manifest) ─► restore(manifest)                                blastdoor restore
    read_dump(path) ─► verify_backup(dump)                              blastdoor backup verify

Its ``name`` is the SQL dialect the analysis reads the text as, and the ``kind`` a snapshot
manifest records. The PostgreSQL and MySQL engines also run their command-line programs with the
password kept out of argv (their ``tool``, broker/client_tools.py), and share :class:`ServerEngine`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol, Self

from blastdoor.broker.errors import BrokerError

if TYPE_CHECKING:
    from blastdoor.analyze.sql_estimate import RowEstimate
    from blastdoor.broker.backup_verify import Proof
    from blastdoor.broker.dumps import Dump
    from blastdoor.broker.scrub import Scrubber
    from blastdoor.broker.snapshot import Snapshots
    from blastdoor.broker.snapshot_plan import Part, Plan
    from blastdoor.broker.sql_run import SqlOutcome
    from blastdoor.model import Effect

POSTGRESQL, MYSQL, SQLITE = "postgresql", "mysql", "sqlite"
SCHEMES: Mapping[str, tuple[str, ...]] = {POSTGRESQL: ("postgresql://", "postgres://"), MYSQL: ("mysql://", "mariadb://"),
                                          SQLITE: ("sqlite:",)}  # fmt: skip


class Engine(Protocol):
    """One database, as the broker works with it."""

    name: str  # postgresql | mysql | sqlite

    def plan(self, text: str) -> Plan:
        """What the text destroys that can be saved first, and why what cannot be saved cannot
        (its problems: the broker refuses to run such a text past development)."""
        ...

    def to_save(self, planned: Plan, effects: Sequence[Effect]) -> tuple[Part, ...]:
        """The parts to save before the text runs, now that it is judged (``effects``)."""
        ...

    def estimate(self, text: str) -> list[RowEstimate]:
        """How many rows each destructive statement would touch, asked without running it ([]
        when unknown)."""
        ...

    def run(self, text: str, *, tags: Mapping[str, str], scrubber: Scrubber, out: BinaryIO,
            guard_key: Callable[[str], str]) -> SqlOutcome:  # fmt: skip
        """Run the text, print its rows to ``out`` scrubbed, and say what is known to have stayed."""
        ...

    def identity(self) -> dict[str, str]:
        """What tells this database apart from every other (a SQLite file's resolved path; a
        server's own id and the database's name): recorded with a snapshot, and compared before
        the snapshot is put back, so it goes back only where it was taken."""
        ...

    def take(self, snapshots: Snapshots, manifest: dict[str, Any], parts: tuple[Part, ...]) -> None:
        """Save every part, listing each in ``manifest["parts"]`` (written as it goes); raises
        before the statement runs when something cannot be saved."""
        ...

    def check(self, snapshots: Snapshots, manifest: Mapping[str, Any]) -> None:
        """Raise, having changed nothing, unless every saved part is there as it was saved (its
        digest recorded when it was taken)."""
        ...

    def restore(self, snapshots: Snapshots, manifest: Mapping[str, Any]) -> Iterator[str]:
        """Put every part back, newest first (once :meth:`check` passed), with a line for each part
        as soon as it is back: when one fails, the lines before say what was put back."""
        ...

    def read_dump(self, path: Path) -> Dump:
        """What backup file ``path`` is, when it was made and its digest (raises when it is none)."""
        ...

    def verify_backup(self, dump: Dump, *, scratch: Engine | None, tolerance: float, max_age_hours: int,
                      clean: Callable[[str], str]) -> Proof:  # fmt: skip
        """Restore ``dump`` into a throwaway database (on ``scratch``'s server, default this one),
        count its rows against this database, and drop it."""
        ...


class ServerEngine:
    """What the engines of database servers (PostgreSQL, MySQL) share: their plan names every part
    to save, and a backup is restored on a server of their own kind (``title`` names it)."""

    name = ""
    title = ""

    def to_save(self, planned: Plan, effects: Sequence[Effect]) -> tuple[Part, ...]:
        return planned.parts

    def scratch_of(self, scratch: Engine | None) -> Self | None:
        """``scratch`` (the engine of ``--scratch-profile``), refused unless it is of this kind."""
        if scratch is None or isinstance(scratch, type(self)):
            return scratch
        raise BrokerError(f"the scratch profile is a {scratch.name} database, not a {self.title} one",
                          hint=f"name a profile on a {self.title} server with --scratch-profile")  # fmt: skip


def engine_name(url: str) -> str:
    """The engine a database URL is for ('' for none of them)."""
    lowered = url[:16].lower()
    return next((name for name, prefixes in SCHEMES.items() if lowered.startswith(prefixes)), "")


def of(url: str) -> Engine | None:
    """The engine bound to the database ``url`` names (None when no engine reads that scheme). Each
    engine's module is imported only when a URL asks for it, and exposes ``engine(url)``."""
    name = engine_name(url)
    if not name:
        return None
    module = importlib.import_module(f"{__name__}.{name}")
    found: Engine = module.engine(url)
    return found
