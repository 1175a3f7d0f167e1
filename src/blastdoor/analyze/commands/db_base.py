"""What every database family shares: option splitting, naming the database a client connects
to (with any password removed), and turning SQL text, files and standard input into effects.

The SQL a client would run is found where the client takes it (``-c``/``-e``/``--query``,
``-f FILE``, standard input from a heredoc, a pipe or ``< file.sql``) and judged by
:func:`blastdoor.analyze.sql.analyze_sql`. Its scope is left to :mod:`blastdoor.scope`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from blastdoor.analyze.commands.getopt import GETOPT, Syntax, split_options
from blastdoor.analyze.invocation import Analysis, Invocation, Word, effect
from blastdoor.analyze.sql import analyze_sql
from blastdoor.model import Effect, Reversibility, Scope, Target, Verb

_GONE = Reversibility.IRREVERSIBLE
HELP = frozenset({"--help", "-?", "--version", "-V", "--usage"})
URL_KEYS = ("DATABASE_URL", "POSTGRES_URL", "MYSQL_URL", "MONGODB_URI", "MONGO_URL", "REDIS_URL")


@dataclass
class Line:
    """A command line split into options (with their values) and operands."""

    options: list[tuple[str, str]] = field(default_factory=list)
    operands: list[Word] = field(default_factory=list)

    def has(self, *names: str) -> bool:
        return any(flag in names for flag, _ in self.options)

    def get(self, *names: str) -> str:
        return next((value for flag, value in reversed(self.options) if flag in names), "")

    def all(self, *names: str) -> list[str]:
        return [value for flag, value in self.options if flag in names]


# How each client's option parser reads a line (see getopt.Syntax; GETOPT is the default).
# getopt_long (psql and the PostgreSQL tools), MySQL's my_getopt, optparse (cqlsh) and click
# (pgcli, mycli) bundle single letters (``psql -Atc SQL``, ``mysql -uroot -Nse SQL``) and give a
# valued option the next word whatever it is: ``psql -h -c 'DROP ...'`` connects to a host named
# ``-c``. The clients below read otherwise.
BOOST = Syntax(dash_values=False, attached=True, bundles=True)
"""boost's program_options in its default style (clickhouse-client: ``-nq SQL``): letters bundle,
and a valued option refuses a next word that is one of its options."""
REFUSES_DASHED = Syntax(dash_values=False, attached=True)
"""Whole words, a valued option refusing an option-like next word: the old mongo shell (boost
with bundling turned off), mongosh (yargs) and go-flags (mongorestore, mongoimport), whose
single-letter tables are not complete enough here to read bundles."""
WHOLE_WORDS = Syntax(dash_values=True, attached=True)
"""Each option word read whole, a two-letter valued option possibly carrying its value
(``-Sserver``): the clients whose parser or single-letter table is not checked here."""
SQLITE = Syntax(dash_values=True)
"""sqlite3 and duckdb: single-dash long options (``-cmd``, ``-bail``, ``-csv``), never bundled and
never with an attached value, so ``-csv`` is not ``-c sv``."""
REDIS_CLI = Syntax(dash_values=True, ordered=True)
"""redis-cli compares whole words (``-n 0``; ``-n0`` is an error) and takes the first operand as
the command: the words after it are the command's, whatever they look like."""
MYSQL_OPTIONAL = ("-p",)
"""my_getopt's options whose value is optional, so only attached: ``-pSECRET``, while ``-p db``
prompts for the password and connects to ``db``."""


def parse_line(
    args: Sequence[Word],
    values: Iterable[str],
    syntax: Syntax = GETOPT,
    *,
    optional: Iterable[str] = (),
) -> Line:
    """Split ``args`` (options in ``values`` take a value, those in ``optional`` an attached one)
    as a client whose parser reads like ``syntax`` would: getopt_long's reading unless the family
    says otherwise."""
    options, operands = split_options(args, frozenset(values), syntax, optional=frozenset(optional))
    return Line([(option.name, option.text) for option in options], operands)


def redact(dsn: str) -> str:
    """``dsn`` without its password (``postgres://u:secret@h/db`` → ``postgres://u@h/db``)."""
    if "://" not in dsn:
        return re.sub(r"(?i)\b(password|pwd)=\S+", r"\1=***", dsn)
    try:
        parts = urlsplit(dsn)
    except ValueError:
        return re.sub(r"//[^@/]*@", "//", dsn)
    if "@" not in parts.netloc:
        return dsn
    user, _, host = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=f"{user.split(':', 1)[0]}@{host}", query=""))


def conninfo(text: str) -> tuple[str, str]:
    """Host and database from a libpq ``key=value`` string."""
    pairs: dict[str, str] = dict(re.findall(r"(\w+)\s*=\s*'?([^'\s]*)'?", text))
    return pairs.get("host", pairs.get("hostaddr", "")), pairs.get("dbname", "")


def target_of(
    inv: Invocation, *, url: str = "", host: str = "", db: str = "", env_keys: Sequence[str] = ()
) -> str:
    """A name for the database a command connects to (a redacted URL, ``host/db``, or ``""``)."""
    if not url and "=" in db and "://" not in db:
        host, db = conninfo(db) if not host else (host, conninfo(db)[1])
    url = url or (db if "://" in db else "")
    for key in (*env_keys, *URL_KEYS):
        url = url or inv.assignments.get(key, "")
    if url:
        return redact(url)
    host = host or next(
        (inv.assignments[k] for k in env_keys if k.endswith("HOST") and k in inv.assignments), ""
    )
    return "/".join(part for part in (host, db) if part)


def sql_effects(
    inv: Invocation, ctx: Analysis, sql: str, target: str, *, dialect: str = ""
) -> list[Effect]:
    text, shell = _shell_escapes(inv, ctx, _include(ctx, sql), dialect)
    found = analyze_sql(text, target=target, dialect=dialect, evidence=inv.evidence)
    return shell + (found if text.strip() or not shell else [])


# `\! cmd` (psql, mysql), `.shell cmd` / `.system cmd` (sqlite), `system cmd` (mysql): the client
# runs cmd in a shell on this machine.
_ESCAPE = re.compile(r"(?im)^[ \t]*(\\!|\.shell|\.system|system)[ \t]+(\S.*?)[ \t]*;?[ \t]*$")


def _shell_escapes(
    inv: Invocation, ctx: Analysis, sql: str, dialect: str
) -> tuple[str, list[Effect]]:
    """``sql`` without its shell-escape lines, and the effects of the commands they run."""
    effects: list[Effect] = []

    def run(match: re.Match[str]) -> str:
        if match.group(1).lower() == "system" and dialect != "mysql":
            return match.group(0)  # only the mysql client reads a bare `system`
        effects.extend(ctx.run_script(inv, match.group(2), via=f"{inv.name} {match.group(1)}"))
        return ""

    return _ESCAPE.sub(run, sql), effects


def _include(ctx: Analysis, sql: str) -> str:
    """Inline the files named by psql ``\\i``, sqlite ``.read`` and mysql ``source`` when here."""

    def inline(match: re.Match[str]) -> str:
        text = ctx.read_file(match.group(2).strip("'\""))
        return text if text is not None else match.group(0)

    return re.sub(r"(?im)^\s*(\\ir?|\\include|\.read|source)\s+(\S+)\s*;?\s*$", inline, sql)


def database_effect(
    inv: Invocation,
    target: str,
    verb: Verb,
    detail: str,
    *,
    reversibility: Reversibility = Reversibility.REVERSIBLE,
    tags: Iterable[str] = (),
    scope: Scope = Scope.UNKNOWN,
) -> Effect:
    """An effect on the database ``target`` (left unnamed when the command does not say)."""
    hints = {f"database={target}"} if target else set()
    return effect(
        inv,
        verb,
        Target("database", target or "database"),
        detail,
        scope=scope,
        reversibility=reversibility,
        tags=set(tags) | hints,
    )


def stdin_effects(
    inv: Invocation, ctx: Analysis, target: str, *, dialect: str = ""
) -> list[Effect]:
    """What a client does with the SQL on its standard input."""
    if inv.stdin.text is not None:
        return sql_effects(inv, ctx, inv.stdin.text, target, dialect=dialect)
    source = inv.stdin.source
    if source.startswith("file "):
        return file_effects(inv, ctx, source[5:], target, dialect=dialect)
    if source:
        return [
            database_effect(
                inv,
                target,
                Verb.EXECUTE_UNKNOWN,
                f"run SQL read from {source}",
                reversibility=_GONE,
            )
        ]
    return [
        database_effect(
            inv,
            target,
            Verb.EXECUTE,
            f"open an interactive {inv.name} session",
            scope=Scope.UNKNOWN,
        )
    ]


def file_effects(
    inv: Invocation, ctx: Analysis, path: str, target: str, *, dialect: str = ""
) -> list[Effect]:
    if path == "-":
        return stdin_effects(inv, ctx, target, dialect=dialect)
    text = ctx.read_file(path)
    if text is None:
        return [
            database_effect(
                inv,
                target,
                Verb.EXECUTE_UNKNOWN,
                f"run the SQL file {path}, which is not in the working directory",
                reversibility=_GONE,
                tags={"missing-file"},
            )
        ]
    return sql_effects(inv, ctx, text, target, dialect=dialect)
