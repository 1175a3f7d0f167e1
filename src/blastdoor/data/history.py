"""``data history``: what a selection changed, per table, with a few sample rows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from blastdoor.data import pg_sql
from blastdoor.data.install import require
from blastdoor.data.selection import Selection
from blastdoor.data.target import Target

SAMPLES = 3
OPS = {"I": "inserted", "U": "updated", "D": "deleted", "T": "truncated"}


@dataclass
class TableChanges:
    table: str
    counts: dict[str, int] = field(default_factory=dict)  # inserted/updated/deleted/truncated -> rows
    runs: list[str] = field(default_factory=list)
    first: str = ""
    last: str = ""
    samples: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class History:
    selection: Selection
    tables: list[TableChanges]

    @property
    def total(self) -> int:
        return sum(sum(t.counts.values()) for t in self.tables)


def tally(groups: Iterable[Sequence[Any]]) -> dict[str, TableChanges]:
    """Per table: the counts, runs and time span of ``(table, op, count, runs, first, last)`` groups."""
    tables: dict[str, TableChanges] = {}
    for name, op, count, runs, first, last in groups:
        entry = tables.setdefault(name, TableChanges(name, first=first, last=last))
        entry.counts[OPS.get(op, op)] = count
        entry.runs = sorted(set(entry.runs) | set(runs))
        entry.first, entry.last = min(entry.first, first), max(entry.last, last)
    return tables


def sample(change: int, op: str, txid: int | None, run: str, before: Any, after: Any) -> dict[str, Any]:
    return {"change": change, "op": OPS.get(op, op), "txid": txid, "run": run, "before": before, "after": after}


def history(target: Target, selection: Selection) -> History:
    where, params = selection.where("c")
    with target.transaction("read history", hint="reading history needs the role that enabled it, or a superuser") as db, \
            db.cursor() as cursor:  # fmt: skip
        require(cursor, target)
        cursor.execute(f"SELECT c.table_schema || '.' || c.table_name, c.op, count(*), "
                       f"array_agg(DISTINCT c.run_id), min(c.at)::text, max(c.at)::text "
                       f"FROM {pg_sql.SCHEMA}.changes c WHERE {where} GROUP BY 1, 2 ORDER BY 1, 2", params)  # fmt: skip
        tables = tally(cursor.fetchall())
        for name, entry in tables.items():
            cursor.execute(f"SELECT c.id, c.op, c.txid, c.run_id, c.old_row, c.new_row FROM {pg_sql.SCHEMA}.changes c "
                           f"WHERE {where} AND c.table_schema || '.' || c.table_name = %s ORDER BY c.id LIMIT %s",
                           [*params, name, SAMPLES])  # fmt: skip
            entry.samples = [sample(*found) for found in cursor.fetchall()]
    return History(selection, list(tables.values()))
