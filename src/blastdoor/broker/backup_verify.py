"""Proving a backup is real: its dump restored into a throwaway database, and its rows counted
table by table against the database it was taken from.

A backup nobody has restored is a hope (PocketOS's backups went with the volume they lived on;
Replit's agent claimed a rollback was impossible). The proof says: the dump restores without
errors, every table of the database is in it, no table holds far fewer rows than the database does
now (``tolerance``, 10% by default: rows written since the dump are expected), and it is younger
than ``max_age_hours``. More rows in the backup than in the database is not a fault (rows deleted
since, which is what a backup is for); it is reported.

Each engine restores and counts in its own way (broker/pg_backup.py, broker/mysql_backup.py) and
hands the counts to :func:`compared`, which is the one place the rules above are written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from blastdoor.broker.dumps import Dump

MAX_TABLES_RECORDED = 2_000
RESTORE_SECONDS = 24 * 3600  # how long a dump may take to restore


@dataclass(frozen=True)
class Proof:
    dump: Dump
    checked: datetime
    max_age_hours: int
    tolerance: float
    counts: dict[str, tuple[int, int | None]]  # table -> (rows in the database, rows in the backup or None)
    extra: tuple[str, ...] = ()  # tables only the backup has
    problems: tuple[str, ...] = field(default=())
    facts: dict[str, Any] = field(default_factory=dict)  # where the backup lives and what protects it

    @property
    def verified(self) -> bool:
        return not self.problems

    @property
    def age_hours(self) -> float:
        return (self.checked - self.dump.created).total_seconds() / 3600

    def fields(self) -> dict[str, Any]:
        """The ledger entry's fields (without who and which profile)."""
        shown = dict(list(self.counts.items())[:MAX_TABLES_RECORDED])
        return {"result": "verified" if self.verified else "failed", "dump": self.dump.describe(),
                "age_hours": round(self.age_hours, 2), "max_age_hours": self.max_age_hours,
                "tolerance": self.tolerance, "tables": len(self.counts),
                "rows": {name: {"database": source, "backup": backup} for name, (source, backup) in shown.items()},
                "only_in_backup": list(self.extra[:MAX_TABLES_RECORDED]), "problems": list(self.problems[:200]),
                **({"location": self.facts} if self.facts else {})}  # fmt: skip


def compared(dump: Dump, *, checked: datetime, source: Mapping[str, int], backup: Mapping[str, int], restore_error: str,
             tolerance: float, max_age_hours: int, clean: Callable[[str], str] = str) -> Proof:  # fmt: skip
    """The proof for ``dump``, restored (``restore_error`` is the first error the restore reported,
    '' for none) and counted (``backup``), against the database's counts (``source``) taken at
    ``checked``. ``clean`` removes secrets from any text kept."""
    problems = []
    if restore_error:
        problems.append(f"the restore reported errors: {clean(restore_error)}")
    if not source:
        problems.append("the database has no tables to compare the backup with")
    for table, rows in source.items():
        kept = backup.get(table)
        if kept is None:
            problems.append(f"{table} is not in the backup")
        elif kept < rows * (1 - tolerance):
            problems.append(f"{table}: the backup holds {kept:,} rows, the database {rows:,}")
    if old := too_old("the dump", dump.created, now=checked, max_age_hours=max_age_hours):
        problems.append(old)
    return Proof(dump=dump, checked=checked, max_age_hours=max_age_hours, tolerance=tolerance,
                 counts={table: (rows, backup.get(table)) for table, rows in source.items()},
                 extra=tuple(sorted(set(backup) - set(source))), problems=tuple(problems))  # fmt: skip


def too_old(what: str, made: datetime, *, now: datetime, max_age_hours: int) -> str:
    """The problem with a backup ``what`` made at ``made`` that is older than ``max_age_hours`` at
    ``now`` ('' when it is young enough): the one age rule of dumps, snapshots and recorded proofs."""
    hours = (now - made).total_seconds() / 3600
    return f"{what} is {hours:.1f} hours old, more than {max_age_hours}" if hours > max_age_hours else ""
