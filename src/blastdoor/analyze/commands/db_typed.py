"""Database statements typed as shell commands: ``DROP TABLE users;``, ``DELETE FROM orders``,
``TRUNCATE TABLE t``, ``FLUSHALL``, ``db.sessions.drop()``.

No program answers to ``DROP`` or ``FLUSHALL``, and ``db.x.drop()`` is not even bash, so the shell
itself would only print "command not found" or a syntax error. But an agent that sends a database
statement to a shell has confused its tools, and its next step is sending the same text to the
database. So the text is judged as what it would do there, against a database Blastdoor cannot
name (scope unknown), when that is the kind of step that cannot be taken back: wiping or dropping
data (DELETE or UPDATE of every row, DROP, TRUNCATE, DROP COLUMN, FLUSHALL) or granting
server-wide powers. A targeted change (a filtered DELETE or UPDATE, CREATE, INSERT, ADD COLUMN,
REVOKE) and a read are left to be judged when they reach a database client, where the target is
known; typed at the shell they run nothing.

A line is database text only in the shape the language requires (``DELETE FROM t``, ``UPDATE t
SET``, ``DROP <kind> <name>``, ``SELECT ... FROM``, ``WITH x AS (`` ...); a read is recognised only
where bash itself rejects the line (``SELECT count(*) FROM t``, asked through ``bash_syntax``), as
a word followed by ``(`` is no command, and PostgreSQL's parser then says whether the statement
hides a write. ``truncate`` is SQL only without options (coreutils refuses to run without ``-s``
or ``-r``, see ``filesystem``) and only as ``truncate table t`` or in capitals (``TRUNCATE t``): a
lower-case ``truncate app.log`` is a file command missing its size.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

from blastdoor.analyze.bash_syntax import bash_rejects
from blastdoor.analyze.commands import CommandFamily
from blastdoor.analyze.commands.db_stores import mongo_effects, redis_command
from blastdoor.analyze.commands.generic import ordinary_program
from blastdoor.analyze.invocation import Analysis, Invocation, Word
from blastdoor.analyze.sql import analyze_sql
from blastdoor.model import Effect, Reversibility, Verb

SQL_SHAPE = re.compile(
    r"""(?ix)^\s*(
        delete\s+(\w+\s+)?from\s+\S
      | drop\s+[a-z]+\s+\S
      | update\s+\S+\s+set\s
      | alter\s+[a-z]+\s+\S
      | (grant|revoke)\s+\S.*\s(to|from)\s+\S
      | insert\s+(ignore\s+)?into\s+\S
      | create\s+(or\s+replace\s+)?[a-z]+\s+\S
      | truncate\s+table\s+[\w`"\[\].]+
      | (?-i:TRUNCATE)\s+[\w`"\[\].]+
      | select\s+\S.*\sfrom\s+\S
      | with\s+(recursive\s+)?\w+\s+as\s*\(
    )""",
)  # lower-case `truncate app.log` is coreutils missing its -s: a file, not a table
SQL_KEYWORDS = ("delete", "drop", "update", "alter", "grant", "revoke", "insert", "create")
_REDIS_SHAPE = re.compile(r"(?i)^\s*(flushall|flushdb)(\s+(a?sync))?\s*;?\s*$")
_MONGO_SHAPE = re.compile(r"^\s*db(\.[\w$-]+)*\.\w+\s*\(.*\)\s*;?\s*$")
# A comment (SQL's, MySQL's) or a second statement: what the shell would make of the rest.
_HIDES_COMMANDS = re.compile(r"--|/\*|#|;\s*\S")
_REASON = (
    "(database text typed at the shell: the shell runs nothing, but this is what the agent "
    "would send next, to a database Blastdoor cannot name)"
)


def worth_stopping(found: Effect) -> bool:
    """Whether typed database text would, sent on, wipe or drop data or grant server-wide powers."""
    if found.verb is Verb.ESCALATE:
        return True
    if "filtered" in found.tags:
        return False
    return found.verb in (Verb.DELETE, Verb.DESTROY) or (
        found.verb is Verb.MODIFY and found.reversibility is Reversibility.IRREVERSIBLE
    )


def database_text(inv: Invocation, text: str) -> list[Effect] | None:
    """Everything the database text ``text`` would do in a database, or None when it is not
    database text."""
    line = text.strip()
    if SQL_SHAPE.match(line):
        return analyze_sql(line, evidence=inv.evidence)
    if _REDIS_SHAPE.match(line):
        return [redis_command(inv, "", line.rstrip("; ").split())]
    if _MONGO_SHAPE.match(line):
        return mongo_effects(inv, "", line)
    return None


def typed_effects(inv: Invocation, text: str) -> list[Effect] | None:
    """What the database text ``text`` typed as ``inv`` would do when sent on, or None when it is
    not database text. Only the steps :func:`worth_stopping` names are kept."""
    found = database_text(inv, text)
    return None if found is None else _kept(found)


def _kept(found: list[Effect]) -> list[Effect]:
    """The steps :func:`worth_stopping` names, each saying it was typed at the shell."""
    return [
        replace(e, detail=f"{e.detail} {_REASON}", tags=e.tags | {"typed-at-shell"})
        for e in found
        if worth_stopping(e)
    ]


def typed_line(script: str, *, bash_error: bool, via: tuple[str, ...] = ()) -> list[Effect] | None:
    """Effects of a one-line script that is database text bash cannot run (``CREATE INDEX i ON
    t(c)``, ``db.users.drop()``), or None when it is something else.

    ``bash_error`` says tree-sitter-bash failed on the line even after ``bash_repair``; a mongo
    shell call (``db.x.f(...)``) is tried even without it, as tree-sitter-bash may read one without
    an error. Either way the line is database text only when bash itself rejects it, so that none
    of it runs, and when it has no comment or second statement: ``SELECT * FROM t -- ; rm -rf ~``
    hides from the database what bash would run, and a shell set up differently (``extglob``) may
    accept what this bash refused."""
    line = script.strip()
    if "\n" in line or not (bash_error or _MONGO_SHAPE.match(line)):
        return None
    if _HIDES_COMMANDS.search(line):
        return None
    first = script.split(None, 1)[0] if script.split() else ""
    inv = Invocation(words=(Word(first),), text=script.strip(), via=via)
    whole = database_text(inv, script)
    if whole is None or any(e.verb is Verb.EXECUTE_UNKNOWN for e in whole):
        return None  # part of it is not database text: the parse error stands
    if not bash_rejects(line):
        return None  # bash would run it (asked last: it starts a process)
    return _kept(whole) or [_nothing(inv)]


def typed_command(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    """``DROP TABLE t``, ``FLUSHALL``: database text in place of a program name."""
    found = typed_effects(inv, inv.text) if "/" not in inv.words[0].text else None
    if found is None:
        yield ordinary_program(inv)
    else:
        yield from found or [_nothing(inv)]


def _nothing(inv: Invocation) -> Effect:
    """Database text that, sent on, would only read or make a targeted change: nothing runs."""
    return ordinary_program(
        inv,
        "run nothing: database text typed at the shell, which rejects it; what it would do in a "
        "database is judged when it reaches a client",
    )


FAMILIES = (CommandFamily.of([*SQL_KEYWORDS, "flushall", "flushdb"], typed_command),)
