"""The one reading of ``--run R | --since T | --txid X``: which history rows a command is about.

``--since`` takes an ISO 8601 time (``2026-11-22T10:00``, UTC unless it says otherwise) or an age
(``90s``, ``30m``, ``2h``, ``1d``).

A run or a transaction is undone once: changes an earlier undo reverted are not selected again.
A time span selects every change since, earlier undos and what they reverted included: per row,
the oldest of them holds the row as it was at that time, which is what ``--since`` puts back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from blastdoor.data import pg_sql
from blastdoor.data.errors import DataError
from blastdoor.ledger.query import since_moment


@dataclass(frozen=True)
class Selection:
    run: str = ""
    since: datetime | None = None
    txid: int | None = None

    @classmethod
    def parse(cls, *, run: str = "", since: str = "", txid: str = "") -> Selection:
        given = [name for name, value in (("--run", run), ("--since", since), ("--txid", txid)) if value]
        if len(given) != 1:
            raise DataError("say which changes: exactly one of --run RUN_ID, --since TIME, --txid XID",
                            hint="the run id is in the ledger (blastdoor ledger show) and in blastdoor data history --since 1h")  # fmt: skip
        if txid:
            if not txid.isdigit() or len(txid) > 19:
                raise DataError(f"--txid wants a transaction id (digits), not {txid[:40]!r}", hint="see blastdoor data history")
            return cls(txid=int(txid))
        if since:
            return cls(since=since_moment(since))
        if len(run) > 200 or not run.isprintable():
            raise DataError("--run is not a run id", hint="copy it from blastdoor ledger show")
        return cls(run=run)

    def where(self, alias: str = "c", *, sqlite: bool = False) -> tuple[str, list[object]]:
        """SQL selecting these changes of the history table (as ``alias``), and its parameters:
        for PostgreSQL's ``blastdoor_history.changes``, or SQLite's ``_blastdoor_changes``."""
        undone, mark = ("_blastdoor_undone", "?") if sqlite else (f"{pg_sql.SCHEMA}.undone", "%s")
        fresh = f"NOT EXISTS (SELECT 1 FROM {undone} u WHERE u.change_id = {alias}.id)"
        if self.txid is not None:
            return f"{alias}.txid = {mark} AND {fresh}", [self.txid]
        if self.since is not None:  # SQLite keeps times as UTC text, to the millisecond
            moment = self.since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] if sqlite else self.since
            return f"{alias}.at >= {mark}", [moment]
        return f"{alias}.run_id = {mark} AND {fresh}", [self.run]

    def describe(self) -> str:
        if self.txid is not None:
            return f"transaction {self.txid}"
        if self.since is not None:
            return f"changes since {self.since.isoformat(timespec='seconds')}"
        return f"run {self.run}"

    def record(self) -> dict[str, object]:
        if self.txid is not None:
            return {"txid": self.txid}
        if self.since is not None:
            return {"since": self.since.isoformat()}
        return {"run": self.run}
