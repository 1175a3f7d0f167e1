"""SQL clients: psql, mysql/mariadb, sqlite3/duckdb, clickhouse-client and cqlsh. Each finds the
SQL it would run (an option, a file, standard input) and names the database from its connection
options."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from blastdoor.analyze.commands import CommandFamily
from blastdoor.analyze.commands.db_base import (
    HELP,
    Line,
    database_effect,
    file_effects,
    parse_line,
    sql_effects,
    stdin_effects,
    target_of,
)
from blastdoor.analyze.invocation import Analysis, Invocation, effect
from blastdoor.model import Effect, Scope, Target, Verb

_PSQL_VALUES = ("-c", "--command", "-d", "--dbname", "-f", "--file", "-h", "--host", "-p",
    "--port", "-U", "--username", "-v", "--set", "--variable", "-o", "--output", "-L",
    "--log-file", "-P", "--pset", "-F", "--field-separator", "-R", "--record-separator", "-T",
    "--table-attr")  # fmt: skip


def _psql(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    line = parse_line(inv.args, _PSQL_VALUES)
    if line.has(*HELP):
        return
    db = line.get("-d", "--dbname") or (line.operands[0].text if line.operands else "")
    target = target_of(inv, host=line.get("-h", "--host"), db=db, env_keys=("PGHOST", "PGDATABASE"))
    if line.has("-l", "--list"):
        yield database_effect(inv, target, Verb.READ, "list the databases")
        return
    yield from _run_sources(inv, ctx, line, target, sql=("-c", "--command"), files=("-f", "--file"))


def _run_sources(
    inv: Invocation,
    ctx: Analysis,
    line: Line,
    target: str,
    *,
    sql: Sequence[str],
    files: Sequence[str],
    dialect: str = "",
) -> Iterator[Effect]:
    ran = False
    for flag, value in line.options:
        if flag in sql:
            ran = True
            yield from sql_effects(inv, ctx, value, target, dialect=dialect)
        elif flag in files:
            ran = True
            yield from file_effects(inv, ctx, value, target, dialect=dialect)
    if not ran:
        yield from stdin_effects(inv, ctx, target, dialect=dialect)


MYSQL_VALUES = ("-e", "--execute", "-h", "--host", "-D", "--database", "-u", "--user", "-P",
    "--port", "-S", "--socket", "--default-character-set", "--init-command", "--defaults-file",
    "--defaults-extra-file", "--login-path", "--protocol", "--ssl-ca", "--ssl-cert", "--ssl-key",
    "--delimiter")  # fmt: skip


def _mysql(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    line = parse_line(inv.args, MYSQL_VALUES)
    if line.has(*HELP):
        return
    db = line.get("-D", "--database") or (line.operands[0].text if line.operands else "")
    target = target_of(inv, host=line.get("-h", "--host"), db=db, env_keys=("MYSQL_HOST",))
    yield from _run_sources(
        inv, ctx, line, target, sql=("-e", "--execute"), files=(), dialect="mysql"
    )


_SQLITE_VALUES = ("-cmd", "-init", "-separator", "-newline", "-nullvalue", "-mmap", "-vfs",
    "-lookaside", "-pagecache", "-heap", "-maxsize", "-c", "-s", "-f", "--cmd", "--init",
)  # fmt: skip


def _sqlite(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    line = parse_line(inv.args, _SQLITE_VALUES, first_operand_ends=False)
    if line.has("-help", "--help", "-version", "--version"):
        return
    operands = [w.text for w in line.operands]
    target = operands[0] if operands else ""
    statements = [*line.all("-cmd", "--cmd", "-c"), *operands[1:]]
    if line.has("-init", "--init"):
        yield from file_effects(inv, ctx, line.get("-init", "--init"), target, dialect="sqlite")
    if statements:
        for text in statements:
            yield from sql_effects(inv, ctx, text, target, dialect="sqlite")
    elif inv.stdin.known or inv.stdin.source:
        yield from stdin_effects(inv, ctx, target, dialect="sqlite")
    else:
        yield effect(
            inv,
            Verb.EXECUTE,
            Target("database", target or ":memory:"),
            "open an interactive SQLite shell",
            scope=Scope.LOCAL,
        )


_CLICKHOUSE_VALUES = ("-q", "--query", "-h", "--host", "--port", "-u", "--user", "--password",
    "-d", "--database", "--queries-file", "-f", "--format", "--config-file", "-C")  # fmt: skip


def _clickhouse(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    words = list(inv.args)
    if words[:1] and words[0].text in ("client", "local"):  # `clickhouse client ...`
        words = words[1:]
    elif inv.name == "clickhouse" and words[:1] and not words[0].text.startswith("-"):
        return
    line = parse_line(words, _CLICKHOUSE_VALUES)
    if line.has(*HELP):
        return
    target = target_of(inv, host=line.get("-h", "--host"), db=line.get("-d", "--database"))
    yield from _run_sources(
        inv, ctx, line, target, sql=("-q", "--query"), files=("--queries-file",)
    )


_CQL_VALUES = ("-e", "--execute", "-f", "--file", "-k", "--keyspace", "-u", "--username", "-p",
    "--password", "--cqlversion", "--protocol-version", "--connect-timeout", "--request-timeout",
    "--cqlshrc")  # fmt: skip


def _cqlsh(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    line = parse_line(inv.args, _CQL_VALUES)
    if line.has(*HELP):
        return
    host = line.operands[0].text if line.operands else ""
    target = target_of(inv, host=host, db=line.get("-k", "--keyspace"))
    yield from _run_sources(
        inv, ctx, line, target, sql=("-e", "--execute"), files=("-f", "--file"), dialect="cql"
    )


FAMILIES = (
    CommandFamily.of(["psql", "pgcli"], _psql),
    CommandFamily.of(["mysql", "mariadb", "mycli"], _mysql),
    CommandFamily.of(["sqlite3", "sqlite", "duckdb", "litecli"], _sqlite),
    CommandFamily.of(["clickhouse-client", "clickhouse"], _clickhouse),
    CommandFamily.of(["cqlsh"], _cqlsh),
)
