"""Running an allowed SQL text on PostgreSQL, in one transaction, and saying what is known after.

The session carries the run's ids (``SET LOCAL blastdoor.run_id`` and friends, through
``set_config``) so row history triggers (``blastdoor data``) can attribute every change. Results are
printed as tab-separated rows, scrubbed of the profile's secrets.

When the connection drops, what is known depends on when: before ``COMMIT`` was sent, PostgreSQL
rolls the transaction back, so nothing of it stayed; while ``COMMIT`` was under way, the client
cannot know, and the outcome says ``commit-unknown``.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from blastdoor.broker.scrub import Scrubber
from blastdoor.errors import error_line

MAX_ROWS_SHOWN = 10_000
COMMITTED, FAILED, LOST, UNKNOWN = "committed", "error", "connection-lost", "commit-unknown"


@dataclass
class SqlOutcome:
    result: str = ""
    statements: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""
    output_sha256: str = ""

    @property
    def known(self) -> str:
        """What the person and the agent should be told about what stayed in the database."""
        if self.result == COMMITTED:
            return "committed"
        if self.result == UNKNOWN:
            return ("the connection was lost while COMMIT was under way: whether the change stayed is "
                    "unknown; check the database before retrying")  # fmt: skip
        if self.result == LOST:
            return "the connection was lost before COMMIT: PostgreSQL rolled the transaction back, nothing of it stayed"
        return "the transaction was rolled back: nothing of it stayed"


class Printed:
    """What a statement prints for the agent: scrubbed line by line, and digested as shown."""

    def __init__(self, scrubber: Scrubber, out: BinaryIO) -> None:
        self.scrubber, self.out = scrubber, out
        self.digest = hashlib.sha256()

    def line(self, text: str) -> None:
        data = (self.scrubber.text(text) + "\n").encode("utf-8", "replace")
        self.digest.update(data)
        self.out.write(data)

    def sha256(self) -> str:
        return "sha256:" + self.digest.hexdigest()


def run_sql(dsn: str, text: str, *, tags: Mapping[str, str], scrubber: Scrubber, out: BinaryIO,
            guard_key: Callable[[str], str] | None = None) -> SqlOutcome:  # fmt: skip
    import psycopg

    outcome = SqlOutcome()
    printed = Printed(scrubber, out)
    emit = printed.line

    try:
        db = psycopg.connect(dsn, application_name="blastdoor-broker", connect_timeout=10)
    except psycopg.Error as error:
        outcome.result, outcome.error = FAILED, scrubber.text(error_line(error))
        return outcome
    phase = "statement"
    try:
        with db.cursor() as cursor:
            for name, value in tags.items():
                cursor.execute("SELECT set_config(%s, %s, true)", (name, value))
            snapshot = tags.get("blastdoor.snapshot_id", "")
            if snapshot and guard_key is not None:
                _prove_snapshot(cursor, snapshot, guard_key)
            cursor.execute(text)  # no parameters: the text may hold several statements
            while True:
                outcome.statements.append({"status": cursor.statusmessage or "", "rows": cursor.rowcount})
                if cursor.description:
                    _show(cursor, emit)
                else:
                    emit(cursor.statusmessage or "")
                if not cursor.nextset():
                    break
        phase = "commit"
        db.commit()
        outcome.result = COMMITTED
    except psycopg.Error as error:
        outcome.error = scrubber.text(error_line(error))
        if db.broken or db.closed:
            outcome.result = UNKNOWN if phase == "commit" else LOST
        else:
            outcome.result = FAILED
            with contextlib.suppress(psycopg.Error):
                db.rollback()
    finally:
        db.close()
        out.flush()
    outcome.output_sha256 = printed.sha256()
    return outcome


def _prove_snapshot(cursor: Any, snapshot: str, guard_key: Callable[[str], str]) -> None:
    """Show row history's DROP guard (``blastdoor data``) that this transaction's snapshot was
    taken by the broker: a token over the guard key, the transaction id and the snapshot id, which
    an agent holding only the database password cannot compute."""
    cursor.execute("SELECT to_regprocedure('blastdoor_history.database_id()') IS NOT NULL")
    if not cursor.fetchone()[0]:
        return
    cursor.execute("SELECT blastdoor_history.database_id(), pg_current_xact_id()::text")
    database, xid = cursor.fetchone()
    key = guard_key(str(database)) if database else ""
    if key:
        token = hashlib.sha256(f"{key}:{xid}:{snapshot}".encode()).hexdigest()
        cursor.execute("SELECT set_config('blastdoor.snapshot_token', %s, true)", (token,))


def _show(cursor: Any, emit: Any) -> None:
    show_rows([column.name for column in cursor.description], cursor, emit, total=cursor.rowcount)


def show_rows(columns: Sequence[str], rows: Iterable[Sequence[Any]], emit: Any, *, total: int = -1,
              text: Callable[[Any], str] = str) -> None:  # fmt: skip
    """Result rows as every engine's broker prints them: a tab-separated header, at most
    MAX_ROWS_SHOWN rows (NULL for a missing value), then the row count (``total`` when the driver
    knows it, else the rows read)."""
    emit("\t".join(columns))
    shown = 0
    for row in rows:
        if shown == MAX_ROWS_SHOWN:
            emit(f"... more rows not shown (the first {MAX_ROWS_SHOWN} are above)")
            break
        emit("\t".join("NULL" if value is None else text(value) for value in row))
        shown += 1
    count = total if total >= 0 else shown
    emit(f"({count} row{'s' if count != 1 else ''})")
