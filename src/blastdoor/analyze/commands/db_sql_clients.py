"""SQL clients: psql, mysql/mariadb, sqlite3/duckdb, clickhouse-client and cqlsh, and the clients
described by a :class:`SqlClient` row (sqlcmd, cockroach sql, snowsql, usql, trino, beeline ...).
Each finds the SQL it would run (an option, a file, standard input) and names the database from
its connection options."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from blastdoor.analyze.commands import CommandFamily
from blastdoor.analyze.commands.db_base import (
    HELP,
    REFUSES_DASHED,
    Line,
    database_effect,
    file_effects,
    parse_line,
    sql_effects,
    stdin_effects,
    target_of,
)
from blastdoor.analyze.invocation import Analysis, Family, Invocation, effect
from blastdoor.model import Effect, Reversibility, Scope, Target, Verb

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
    line = parse_line(inv.args, _SQLITE_VALUES)
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
    line = parse_line(words, _CLICKHOUSE_VALUES, REFUSES_DASHED)
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


@dataclass(frozen=True)
class SqlClient:
    """Where one SQL client takes its SQL and its connection: option names, in its own syntax."""

    sql: tuple[str, ...]  # options whose value is SQL text
    files: tuple[str, ...] = ()  # options whose value names SQL files (comma-separated allowed)
    host: tuple[str, ...] = ()
    db: tuple[str, ...] = ()
    url: tuple[str, ...] = ()
    values: tuple[str, ...] = ()  # other options that take a value
    dialect: str = ""
    subcommand: str = ""  # `cockroach sql ...`: only this subcommand is a SQL client
    url_operand: bool = False  # usql: the first operand is the connection URL
    not_sql: tuple[str, ...] = ()  # flags that make the text something else (mysqlsh --js)


CLIENTS: dict[str, SqlClient] = {
    "sqlcmd": SqlClient(sql=("-Q", "-q"), files=("-i",), host=("-S",), db=("-d",),
        values=("-U", "-P", "-o", "-v", "-t", "-l", "-s", "-w", "-h", "-a", "-f", "-H", "-c", "-y",
                "-Y", "-z", "-Z"), dialect="tsql"),  # -A -e -L -W -X flags; -k -r take an attached digit
    "cockroach": SqlClient(sql=("-e", "--execute"), files=("-f", "--file"), host=("--host",),
        db=("-d", "--database"), url=("--url",), values=("-u", "--user", "--certs-dir",
        "--format", "--set"), subcommand="sql"),
    "snowsql": SqlClient(sql=("-q", "--query"), files=("-f", "--filename"),
        host=("-a", "--accountname"), db=("-d", "--dbname"), values=("-u", "--username", "-s",
        "--schemaname", "-w", "--warehouse", "-r", "--rolename", "-c", "--connection", "-o",
        "--option", "-D", "--variable", "--config"), dialect="snowflake"),
    "usql": SqlClient(sql=("-c", "--command"), files=("-f", "--file"), values=("-o", "--out",
        "-v", "--set", "-P", "--pset", "-F", "-R"), url_operand=True),
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
        if spec.subcommand:
            if not words or words[0].text != spec.subcommand:
                return
            words = words[1:]
        takes = (*spec.sql, *spec.files, *spec.host, *spec.db, *spec.url, *spec.values)
        line = parse_line(words, takes)
        if line.has(*HELP):
            return
        operand = line.operands[0].text if spec.url_operand and line.operands else ""
        target = target_of(inv, url=line.get(*spec.url) or operand, host=line.get(*spec.host),
                           db=line.get(*spec.db))  # fmt: skip
        if spec.not_sql and line.has(*spec.not_sql) and line.has(*spec.sql, *spec.files):
            yield database_effect(inv, target, Verb.EXECUTE_UNKNOWN,
                                  f"run {inv.name} script code against the database",
                                  reversibility=Reversibility.IRREVERSIBLE)  # fmt: skip
            return
        dialect = _url_dialect(operand) if spec.url_operand else spec.dialect
        split = Line(
            options=[(flag, one) for flag, value in line.options
                     for one in (value.split(",") if flag in spec.files else [value])],
            operands=line.operands,
        )  # fmt: skip
        yield from _run_sources(
            inv, ctx, split, target, sql=spec.sql, files=spec.files, dialect=dialect
        )

    return analyze


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
    CommandFamily.of(["psql", "pgcli"], _psql),
    CommandFamily.of(["mysql", "mariadb", "mycli"], _mysql),
    CommandFamily.of(["sqlite3", "sqlite", "duckdb", "litecli"], _sqlite),
    CommandFamily.of(["clickhouse-client", "clickhouse"], _clickhouse),
    CommandFamily.of(["cqlsh"], _cqlsh),
    *(CommandFamily.of([name], client_family(spec)) for name, spec in CLIENTS.items()),
)
