"""Running an allowed SQL text on MySQL or MariaDB, and saying exactly what is known after.

The text is cut into statements where the analysis cut it (``split_statements``, reading it as
MySQL's lexer does: ``#`` comments and backslash escapes included, ``/*! ... */`` comments opened)
and each piece, as judged, is sent on its own: without ``CLIENT_MULTI_STATEMENTS`` the server runs at most one statement per query, so
nothing runs that was not judged as a statement. A session whose ``sql_mode`` reads the text
otherwise (``ANSI_QUOTES``, ``NO_BACKSLASH_ESCAPES``) and would cut it elsewhere runs none of it.
The session carries the run's ids as user variables (``@blastdoor_run_id``, ``@blastdoor_session_id``,
``@blastdoor_request``, ``@blastdoor_entry``, ``@blastdoor_snapshot_id``) for triggers to read.

Unlike PostgreSQL, MySQL commits on its own: DDL (``DROP``, ``TRUNCATE``, ``ALTER``, ``CREATE`` ...)
commits what ran before it and then itself, even when it then fails. So "one transaction" holds only
between two such statements, and what is known after a failure is worked out per statement: after
each one the server says whether a transaction is still open (``SERVER_STATUS_IN_TRANS``); when none
is, what ran until then has stayed. After an error, a ``DO 0`` asks that again (an error packet
carries no status). A lost connection rolls back the open transaction, except that a statement that
commits on its own may or may not have done so: that is ``commit-unknown``, as is a connection lost
during ``COMMIT``. Changes to tables of non-transactional engines (MyISAM, Aria) stay regardless.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from blastdoor.broker.errors import BrokerError
from blastdoor.broker.mysql_connect import describe, server
from blastdoor.broker.scrub import Scrubber
from blastdoor.broker.sql_run import (
    COMMITTED,
    FAILED,
    LOST,
    UNKNOWN,
    Printed,
    SqlOutcome,
    show_rows,
)

PARTIAL = "partly-committed"
# Statements that run inside the open transaction; any other may commit on its own (DDL, LOCK,
# GRANT, CALL, SET autocommit ...), so a lost connection during one leaves its outcome unknown.
_IN_TRANSACTION = frozenset({"SELECT", "SHOW", "DESCRIBE", "DESC", "EXPLAIN", "DO", "VALUES", "TABLE", "HELP",
                             "WITH", "INSERT", "UPDATE", "DELETE", "REPLACE", "LOAD", "HANDLER"})  # fmt: skip
_READS = frozenset({"SELECT", "SHOW", "DESCRIBE", "DESC", "EXPLAIN", "DO", "VALUES", "TABLE", "HELP"})
_COUNTED = frozenset({"INSERT", "UPDATE", "DELETE", "REPLACE", "LOAD"})
_OBJECTS = frozenset({"TABLE", "TABLES", "DATABASE", "SCHEMA", "VIEW", "INDEX", "USER", "PROCEDURE", "FUNCTION",
                      "TRIGGER", "EVENT", "TEMPORARY", "SEQUENCE", "ROLE"})  # fmt: skip
COMMENTS = r"(?:\s+|--[^\n]*|#[^\n]*|/\*.*?\*/)*"  # what may come before a statement's first word
_LEADING = re.compile(r"\A" + COMMENTS, re.DOTALL)
TAGS = ("run_id", "session_id", "request", "entry", "snapshot_id")


@dataclass
class MysqlOutcome(SqlOutcome):
    stayed: list[int] = field(default_factory=list)  # statements (1-based) that changed data and stayed
    unsure: list[int] = field(default_factory=list)  # statements whose outcome the client cannot know
    failed_at: int = 0  # the statement that failed or was running when the connection went (0: COMMIT)
    lost: bool = False  # the connection went
    words: list[list[str]] = field(default_factory=list, repr=False)  # each statement's leading words

    @property
    def known(self) -> str:
        if self.result == COMMITTED:
            return "committed"
        kept = (f"{_numbered(self.stayed)} had already committed (MySQL commits DDL such as DROP or TRUNCATE, "
                "and what ran before it, at once) and stayed; ") if self.stayed else ""  # fmt: skip
        if self.result == UNKNOWN:
            during = (f"during statement {self.failed_at}, which MySQL commits on its own" if self.failed_at
                      else "while COMMIT was under way")  # fmt: skip
            return (f"{kept}the connection was lost {during}: whether {_numbered(self.unsure)} stayed is unknown; "
                    "check the database before retrying")  # fmt: skip
        if self.lost:
            return (f"{kept}the connection was lost before COMMIT, so MySQL rolled back the rest" if kept else
                    "the connection was lost before COMMIT: MySQL rolled the transaction back, nothing of it stayed")  # fmt: skip
        return f"{kept}the rest was rolled back" if kept else "the transaction was rolled back: nothing of it stayed"

    def changes(self, numbers: list[int]) -> list[int]:
        """Of the statements ``numbers``, those that may have changed something (not reads)."""
        return [n for n in numbers if self.words[n - 1][:1] != [] and self.words[n - 1][0] not in _READS]


def run_mysql(dsn: str, text: str, *, tags: Mapping[str, str], scrubber: Scrubber, out: BinaryIO) -> MysqlOutcome:
    """Run ``text``'s statements, one query each, committing at the end (see the module's words)."""
    import pymysql
    from pymysql.constants import SERVER_STATUS

    from blastdoor.analyze.sql import client_commands

    outcome = MysqlOutcome()
    printed = Printed(scrubber, out)
    if client_commands(text):
        outcome.result, outcome.error = FAILED, ("the text holds client commands (DELIMITER, \\g, \\ or . lines), "
                                                 "which a server would read as SQL; send plain statements")  # fmt: skip
        return outcome
    try:
        db = server(dsn).connect(program="blastdoor-broker")
    except BrokerError as error:
        outcome.result, outcome.error = FAILED, scrubber.text(error.message)
        return outcome
    pending: list[int] = []  # statements run since a transaction last closed
    running = 0
    try:
        with db.cursor() as cursor:
            pieces = served_pieces(cursor, text)
            if not pieces:
                outcome.result, outcome.error = FAILED, ("the server's sql_mode (ANSI_QUOTES or NO_BACKSLASH_ESCAPES) cuts "
                                                         "this text into statements where the judgement did not; nothing ran")  # fmt: skip
                return outcome
            cursor.execute("SET " + ", ".join(f"@blastdoor_{name} = %s" for name in TAGS),
                           [tags.get(f"blastdoor.{name}", "") for name in TAGS])  # fmt: skip
            for number, piece in enumerate(pieces, 1):
                running, words = number, leading_words(piece)
                outcome.words.append(words)
                cursor.execute(piece)  # no parameters, so no %-formatting of the text
                _report(cursor, words, outcome, printed.line)
                pending.append(number)
                if not db.server_status & SERVER_STATUS.SERVER_STATUS_IN_TRANS:
                    undone = words[:1] == ["ROLLBACK"] and words[1:2] != ["TO"]
                    outcome.stayed += [] if undone else outcome.changes(pending)
                    pending = []
            running = 0
            db.commit()
        outcome.stayed += outcome.changes(pending)
        outcome.result = COMMITTED
    except pymysql.Error as error:
        outcome.error = scrubber.text(describe(error))
        _settle(outcome, db, pending, running)
    finally:
        with contextlib.suppress(Exception):
            db.close()
        out.flush()
    outcome.output_sha256 = printed.sha256()
    return outcome


def served_pieces(cursor: Any, text: str) -> list[str]:
    """``text``'s statements as judged, when this session (its ``@@SESSION.sql_mode``, read on
    ``cursor``) cuts the text the same way; [] when it would not (:func:`as_served`)."""
    cursor.execute("SELECT @@SESSION.sql_mode")
    return as_served(text, str(cursor.fetchone()[0] or ""))


def as_served(text: str, sql_mode: str) -> list[str]:
    """``text``'s statements as they were judged (cut as MySQL reads text by default), or [] when a
    session in ``sql_mode`` would cut it elsewhere (``ANSI_QUOTES``, ``NO_BACKSLASH_ESCAPES``)."""
    from blastdoor.analyze.sql import split_statements

    judged = split_statements(text, mysql=True)
    return judged if split_statements(text, mysql=True, sql_mode=sql_mode) == judged else []


def _settle(outcome: MysqlOutcome, db: Any, pending: list[int], running: int) -> None:
    """After an error at statement ``running`` (0: at COMMIT): what stayed, what did not, what is unknown."""
    import pymysql
    from pymysql.constants import SERVER_STATUS

    outcome.failed_at = running
    words = outcome.words[running - 1] if running else []
    commits_alone = running == 0 or not words or words[0] not in _IN_TRANSACTION
    try:
        with db.cursor() as cursor:
            cursor.execute("DO 0")  # its OK packet says whether a transaction is still open
        open_transaction = bool(db.server_status & SERVER_STATUS.SERVER_STATUS_IN_TRANS)
    except pymysql.Error:
        outcome.lost = True
        unsure = [*outcome.changes(pending), *([running] if running else [])] if commits_alone else []
        if unsure:
            outcome.result, outcome.unsure = UNKNOWN, unsure
        else:
            outcome.result = PARTIAL if outcome.stayed else LOST
        return
    if running and not open_transaction and commits_alone:
        outcome.stayed += outcome.changes(pending)  # the failing statement committed what ran before it
    with contextlib.suppress(pymysql.Error):
        db.rollback()
    outcome.result = PARTIAL if outcome.stayed else FAILED


def _report(cursor: Any, words: list[str], outcome: MysqlOutcome, emit: Any) -> None:
    status = " ".join(words[:2]) if words[1:2] and words[1] in _OBJECTS else (words[0] if words else "")
    if words[:1] and words[0] in _COUNTED:
        status = f"{words[0]} {max(cursor.rowcount, 0)}"
    outcome.statements.append({"status": status, "rows": cursor.rowcount})
    if not cursor.description:
        emit(status)
        return
    show_rows([str(column[0]) for column in cursor.description], cursor, emit, total=cursor.rowcount, text=_text)


def leading_words(piece: str) -> list[str]:
    """The first two words of a statement, upper-cased, after any leading comments."""
    start = _LEADING.match(piece)
    rest = piece[start.end() if start else 0:][:200]
    return [word.upper() for word in re.findall(r"[A-Za-z_]+", rest)[:2]]


def _text(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", "replace")
    return str(value)


def _numbered(numbers: list[int]) -> str:
    if not numbers:
        return "nothing"
    return ("statement " if len(numbers) == 1 else "statements ") + ", ".join(str(n) for n in numbers)
