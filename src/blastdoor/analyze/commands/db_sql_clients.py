"""SQL clients: each a :class:`SqlClient` row (psql, mysql/mariadb, clickhouse-client, cqlsh,
sqlcmd, cockroach sql, snowsql, usql, trino, beeline ...), and sqlite3/duckdb, whose operands are
the database file and SQL. Each finds the SQL it would run (an option, a file, standard input) and
names the database from its connection options."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from blastdoor.analyze.commands import CommandFamily
from blastdoor.analyze.commands.db_base import (
    BOOST,
    HELP,
    MYSQL_OPTIONAL,
    SQLITE,
    WHOLE_WORDS,
    Line,
    database_effect,
    file_effects,
    parse_line,
    sql_effects,
    stdin_effects,
    target_of,
)
from blastdoor.analyze.commands.getopt import GETOPT, Syntax
from blastdoor.analyze.invocation import Analysis, Family, Invocation, effect
from blastdoor.model import Effect, Reversibility, Scope, Target, Verb


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


_SQLITE_VALUES = ("-cmd", "-init", "-separator", "-newline", "-nullvalue", "-mmap", "-vfs",
    "-lookaside", "-pagecache", "-heap", "-maxsize", "-c", "-s", "-f", "--cmd", "--init",
)  # fmt: skip


def _sqlite(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    line = parse_line(inv.args, _SQLITE_VALUES, SQLITE)
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


@dataclass(frozen=True)
class SqlClient:
    """Where one SQL client takes its SQL and its connection: option names, in its own syntax."""

    sql: tuple[str, ...]  # options whose value is SQL text
    files: tuple[str, ...] = ()  # options whose value names a SQL file
    host: tuple[str, ...] = ()
    db: tuple[str, ...] = ()
    url: tuple[str, ...] = ()
    values: tuple[str, ...] = ()  # other options that take a value
    dialect: str = ""
    subcommands: tuple[str, ...] = ()  # `cockroach sql ...`: only these subcommands are the client
    bare: bool = False  # with subcommands: a line that starts with an option is the client too
    operand: str = ""  # what the first operand names: "url" (usql), "db" (psql) or "host" (cqlsh)
    env_keys: tuple[str, ...] = ()  # environment variables that name the host or database
    lists: tuple[str, ...] = ()  # flags that only list the databases (psql -l)
    file_lists: bool = True  # a file option's value may be a comma-separated list (sqlcmd -i a,b)
    syntax: Syntax = WHOLE_WORDS  # how its option parser reads a line (db_base names them)
    optional: tuple[str, ...] = ()  # short options whose value can only be attached (mysql -pX)
    not_sql: tuple[str, ...] = ()  # flags that make the text something else (mysqlsh --js)


# Rows whose parser bundles single letters say so (psql: getopt_long, pgcli: click, mysql:
# my_getopt, cqlsh: optparse, cockroach: pflag, clickhouse: boost); the other rows' single-letter
# tables are not complete enough to read a bundle, and their words are read whole.
_PSQL = SqlClient(sql=("-c", "--command"), files=("-f", "--file"), host=("-h", "--host"),
    db=("-d", "--dbname"), values=("-p", "--port", "-U", "--username", "-v", "--set",
    "--variable", "-o", "--output", "-L", "--log-file", "-P", "--pset", "-F", "--field-separator",
    "-R", "--record-separator", "-T", "--table-attr"), operand="db",
    env_keys=("PGHOST", "PGDATABASE"), lists=("-l", "--list"), file_lists=False,
    syntax=GETOPT)  # fmt: skip
_MYSQL = SqlClient(sql=("-e", "--execute"), host=("-h", "--host"), db=("-D", "--database"),
    values=MYSQL_VALUES, dialect="mysql", operand="db", env_keys=("MYSQL_HOST",), syntax=GETOPT,
    optional=MYSQL_OPTIONAL)  # fmt: skip
_CLICKHOUSE_CLIENT = SqlClient(sql=("-q", "--query"), files=("--queries-file",),
    host=("-h", "--host"), db=("-d", "--database"), values=("--port", "-u", "--user", "--password",
    "-f", "--format", "--config-file", "-C"), file_lists=False, syntax=BOOST)  # fmt: skip
# `clickhouse client ...`, `clickhouse local ...`, or `clickhouse --query ...`
_CLICKHOUSE = replace(_CLICKHOUSE_CLIENT, subcommands=("client", "local"), bare=True)
_CQLSH = SqlClient(sql=("-e", "--execute"), files=("-f", "--file"), db=("-k", "--keyspace"),
    values=("-u", "--username", "-p", "--password", "--cqlversion", "--protocol-version",
    "--connect-timeout", "--request-timeout", "--cqlshrc"), dialect="cql", operand="host",
    file_lists=False, syntax=GETOPT)  # fmt: skip


CLIENTS: dict[str, SqlClient] = {
    "psql": _PSQL,
    "pgcli": _PSQL,
    "mysql": _MYSQL,
    "mariadb": _MYSQL,
    "mycli": _MYSQL,
    "clickhouse-client": _CLICKHOUSE_CLIENT,
    "clickhouse": _CLICKHOUSE,
    "cqlsh": _CQLSH,
    "sqlcmd": SqlClient(sql=("-Q", "-q"), files=("-i",), host=("-S",), db=("-d",),
        values=("-U", "-P", "-o", "-v", "-t", "-l", "-s", "-w", "-h", "-a", "-f", "-H", "-c", "-y",
                "-Y", "-z", "-Z"), dialect="tsql"),  # -A -e -L -W -X flags; -k -r take an attached digit
    "cockroach": SqlClient(sql=("-e", "--execute"), files=("-f", "--file"), host=("--host",),
        db=("-d", "--database"), url=("--url",), values=("-u", "--user", "--certs-dir",
        "--format", "--set"), subcommands=("sql",), syntax=GETOPT),  # cobra/pflag
    "snowsql": SqlClient(sql=("-q", "--query"), files=("-f", "--filename"),
        host=("-a", "--accountname"), db=("-d", "--dbname"), values=("-u", "--username", "-s",
        "--schemaname", "-w", "--warehouse", "-r", "--rolename", "-c", "--connection", "-o",
        "--option", "-D", "--variable", "--config"), dialect="snowflake"),
    "usql": SqlClient(sql=("-c", "--command"), files=("-f", "--file"), values=("-o", "--out",
        "-v", "--set", "-P", "--pset", "-F", "-R"), operand="url"),
    "mysqlsh": SqlClient(sql=("-e", "--execute"), files=("-f", "--file"), host=("-h", "--host"),
        db=("-D", "--schema", "--database"), url=("--uri",), values=("-u", "--user", "-P",
        "--port", "-S", "--socket"), dialect="mysql", not_sql=("--js", "--py", "--javascript",
        "--python")),
    "trino": SqlClient(sql=("--execute",), files=("-f", "--file"), host=("--server",),
        db=("--catalog",), values=("--schema", "--user", "--output-format", "--session",
        "--source"), dialect="trino"),  # --password is a flag (prompt)
    "presto": SqlClient(sql=("--execute",), files=("-f", "--file"), host=("--server",),
        db=("--catalog",), values=("--schema", "--user", "--output-format", "--session",
        "--source"), dialect="presto"),
    "beeline": SqlClient(sql=("-e",), files=("-f", "-i"), url=("-u",), values=("-n", "-p",
        "-d", "--hivevar", "--hiveconf", "--outputformat"), dialect="hive"),
    "hive": SqlClient(sql=("-e",), files=("-f", "-i"), db=("--database",), values=("--hivevar",
        "--hiveconf", "-d", "--define"), dialect="hive"),
    "spark-sql": SqlClient(sql=("-e",), files=("-f", "-i"), db=("--database",), values=(
        "--master", "--conf", "--hiveconf", "--hivevar", "-d", "--define", "--name", "--jars",
        "--packages"), dialect="spark"),
    "impala-shell": SqlClient(sql=("-q", "--query"), files=("-f", "--query_file"),
        host=("-i", "--impalad"), db=("-d", "--database"), values=("-u", "--user", "-o",
        "--output_file", "--var"), dialect="hive"),
}  # fmt: skip


def client_family(spec: SqlClient) -> Family:
    """The analyzer of a client described by ``spec``."""

    def analyze(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
        words = list(inv.args)
        if spec.subcommands:
            first = words[0].text if words else ""
            if first in spec.subcommands:
                words = words[1:]
            elif not spec.bare or (first and not first.startswith("-")):
                return  # another subcommand (`cockroach start`, `clickhouse server`)
        takes = (*spec.sql, *spec.files, *spec.host, *spec.db, *spec.url, *spec.values)
        line = parse_line(words, takes, spec.syntax, optional=spec.optional)
        if line.has(*HELP):
            return
        target = _target(inv, spec, line)
        if line.has(*spec.lists):
            yield database_effect(inv, target, Verb.READ, "list the databases")
            return
        if spec.not_sql and line.has(*spec.not_sql) and line.has(*spec.sql, *spec.files):
            yield database_effect(inv, target, Verb.EXECUTE_UNKNOWN,
                                  f"run {inv.name} script code against the database",
                                  reversibility=Reversibility.IRREVERSIBLE)  # fmt: skip
            return
        operand = line.operands[0].text if spec.operand == "url" and line.operands else ""
        dialect = _url_dialect(operand) if spec.operand == "url" else spec.dialect
        if spec.file_lists:
            line = Line(
                options=[(flag, one) for flag, value in line.options
                         for one in (value.split(",") if flag in spec.files else [value])],
                operands=line.operands,
            )  # fmt: skip
        yield from _run_sources(
            inv, ctx, line, target, sql=spec.sql, files=spec.files, dialect=dialect
        )

    return analyze


def _target(inv: Invocation, spec: SqlClient, line: Line) -> str:
    """The database the line connects to, from its options, first operand and environment."""
    named = {spec.operand: line.operands[0].text} if spec.operand and line.operands else {}
    return target_of(
        inv,
        url=line.get(*spec.url) or named.get("url", ""),
        host=line.get(*spec.host) or named.get("host", ""),
        db=line.get(*spec.db) or named.get("db", ""),
        env_keys=spec.env_keys,
    )


def _url_dialect(url: str) -> str:
    scheme = url.partition(":")[0].lower()
    if scheme in ("my", "mysql", "mariadb", "maria", "tidb"):
        return "mysql"
    if scheme in ("sq", "sqlite", "sqlite3", "file"):
        return "sqlite"
    if scheme in ("ms", "mssql", "sqlserver"):
        return "tsql"
    return ""


FAMILIES = (
    CommandFamily.of(["sqlite3", "sqlite", "duckdb", "litecli"], _sqlite),
    *(CommandFamily.of([name], client_family(spec)) for name, spec in CLIENTS.items()),
)
