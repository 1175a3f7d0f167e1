"""Database clients and server tools: psql, mysql/mariadb, sqlite3, duckdb, clickhouse-client,
cqlsh, mongosh/mongo, redis-cli, the dump/restore tools, dropdb/createdb, mysqladmin and pg_ctl.

The SQL a client would run is found where the client takes it (``-c``/``-e``/``--query``,
``-f FILE``, a positional statement for sqlite3, standard input from a heredoc, a pipe or
``< file.sql``) and
judged by :func:`blastdoor.analyze.sql.analyze_sql`. The target database is named from the
connection options or URL, with any password removed; its scope is left to :mod:`blastdoor.scope`.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from blastdoor.analyze.commands import CommandFamily
from blastdoor.analyze.invocation import Analysis, Invocation, Word, effect
from blastdoor.analyze.sql import analyze_sql
from blastdoor.model import Effect, Reversibility, Scope, Target, Verb

_GONE = Reversibility.IRREVERSIBLE
_HELP = frozenset({"--help", "-?", "--version", "-V", "--usage"})
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


def parse_line(
    args: Sequence[Word], values: Iterable[str], *, first_operand_ends: bool = False
) -> Line:
    """Split ``args``: ``--opt=v``, ``--opt v`` and ``-Xv`` for options in ``values``; operands
    in order."""
    takes = frozenset(values)
    line = Line()
    words = list(args)
    i = 0
    while i < len(words):
        text = words[i].text
        if text == "--" or (first_operand_ends and line.operands):
            line.operands.extend(words[i + (text == "--") :])
            break
        if text.startswith("--") and "=" in text:
            flag, _, value = text.partition("=")
            line.options.append((flag, value))
        elif text in takes and i + 1 < len(words):
            line.options.append((text, words[i + 1].text))
            i += 1
        elif text[:2] in takes and len(text) > 2 and not text.startswith("--"):
            line.options.append((text[:2], text[2:]))
        elif text.startswith("-") and len(text) > 1:
            line.options.append((text, ""))
        else:
            line.operands.append(words[i])
        i += 1
    return line


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
    return analyze_sql(_include(ctx, sql), target=target, dialect=dialect, evidence=inv.evidence)


def _include(ctx: Analysis, sql: str) -> str:
    """Inline the files named by psql ``\\i``, sqlite ``.read`` and mysql ``source`` when here."""

    def inline(match: re.Match[str]) -> str:
        text = ctx.read_file(match.group(2).strip("'\""))
        return text if text is not None else match.group(0)

    return re.sub(r"(?im)^\s*(\\ir?|\\include|\.read|source)\s+(\S+)\s*;?\s*$", inline, sql)


def _database(
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


database_effect = _database


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
            _database(
                inv,
                target,
                Verb.EXECUTE_UNKNOWN,
                f"run SQL read from {source}",
                reversibility=_GONE,
            )
        ]
    return [
        _database(
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
            _database(
                inv,
                target,
                Verb.EXECUTE_UNKNOWN,
                f"run the SQL file {path}, which is not in the working directory",
                reversibility=_GONE,
                tags={"missing-file"},
            )
        ]
    return sql_effects(inv, ctx, text, target, dialect=dialect)


# -- SQL clients -------------------------------------------------------------------------------
_PSQL_VALUES = ("-c", "--command", "-d", "--dbname", "-f", "--file", "-h", "--host", "-p",
    "--port", "-U", "--username", "-v", "--set", "--variable", "-o", "--output", "-L",
    "--log-file", "-P", "--pset", "-F", "--field-separator", "-R", "--record-separator", "-T",
    "--table-attr")  # fmt: skip


def _psql(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    line = parse_line(inv.args, _PSQL_VALUES)
    if line.has(*_HELP):
        return
    db = line.get("-d", "--dbname") or (line.operands[0].text if line.operands else "")
    target = target_of(inv, host=line.get("-h", "--host"), db=db, env_keys=("PGHOST", "PGDATABASE"))
    if line.has("-l", "--list"):
        yield _database(inv, target, Verb.READ, "list the databases")
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


_MYSQL_VALUES = ("-e", "--execute", "-h", "--host", "-D", "--database", "-u", "--user", "-P",
    "--port", "-S", "--socket", "--default-character-set", "--init-command", "--defaults-file",
    "--defaults-extra-file", "--login-path", "--protocol", "--ssl-ca", "--ssl-cert", "--ssl-key",
    "--delimiter")  # fmt: skip


def _mysql(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    line = parse_line(inv.args, _MYSQL_VALUES)
    if line.has(*_HELP):
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
    if line.has(*_HELP):
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
    if line.has(*_HELP):
        return
    host = line.operands[0].text if line.operands else ""
    target = target_of(inv, host=host, db=line.get("-k", "--keyspace"))
    yield from _run_sources(
        inv, ctx, line, target, sql=("-e", "--execute"), files=("-f", "--file"), dialect="cql"
    )


# -- dump, restore, create and drop --------------------------------------------------------------
_PG_TOOL_VALUES = ("-d", "--dbname", "-h", "--host", "-p", "--port", "-U", "--username", "-f",
    "--file", "-F", "--format", "-j", "--jobs", "-n", "--schema", "-t", "--table", "-T", "-N",
    "-L", "--use-list", "-S", "--superuser", "--role", "-Z", "--compress", "-E", "--encoding",
    "--owner", "--locale", "--maintenance-db", "--template", "-D", "--tablespace")  # fmt: skip


def _pg_target(inv: Invocation, line: Line, *, positional_db: bool = True) -> str:
    db = line.get("-d", "--dbname") or (
        line.operands[0].text if positional_db and line.operands else ""
    )
    return target_of(inv, host=line.get("-h", "--host"), db=db, env_keys=("PGHOST", "PGDATABASE"))


def _pg_dump(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    line = parse_line(inv.args, _PG_TOOL_VALUES)
    if not line.has(*_HELP):
        target = (
            _pg_target(inv, line)
            if inv.name.startswith("pg_")
            else target_of(
                inv, host=line.get("-h", "--host"), db=" ".join(w.text for w in line.operands[:1])
            )
        )
        yield _database(inv, target, Verb.READ, f"{inv.name}: export a copy of the database")


def _pg_restore(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    line = parse_line(inv.args, _PG_TOOL_VALUES)
    if line.has(*_HELP) or line.has("-l", "--list") or not line.get("-d", "--dbname"):
        yield effect(
            inv,
            Verb.READ,
            Target("path", " ".join(w.text for w in line.operands)),
            "print the contents of a dump",
            scope=Scope.LOCAL,
        )
        return
    target = _pg_target(inv, line, positional_db=False)
    if line.has("-c", "--clean"):
        yield _database(
            inv,
            target,
            Verb.DESTROY,
            "drop the database objects in the dump before recreating them "
            "(--clean): their current data is replaced",
            reversibility=_GONE,
            tags={"drop"},
        )
    else:
        yield _database(inv, target, Verb.CREATE, "restore objects and rows from a dump")


def _mongo_restore(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    line = parse_line(
        inv.args,
        (
            "--uri",
            "--host",
            "-h",
            "--db",
            "-d",
            "--collection",
            "-c",
            "--nsInclude",
            "--file",
            "--mode",
            "--archive",
            "--type",
            "--fields",
            "-u",
            "-p",
        ),
    )
    if line.has(*_HELP):
        return
    target = target_of(
        inv, url=line.get("--uri"), host=line.get("--host", "-h"), db=line.get("--db", "-d")
    )
    if line.has("--drop"):
        yield _database(
            inv,
            target,
            Verb.DESTROY,
            f"{inv.name} --drop: drop each collection before loading it",
            reversibility=_GONE,
            tags={"drop"},
        )
    elif line.get("--mode") in ("upsert", "merge", "delete"):
        yield _database(
            inv,
            target,
            Verb.MODIFY,
            f"{inv.name}: {line.get('--mode')} documents",
            reversibility=_GONE,
        )
    else:
        yield _database(inv, target, Verb.CREATE, f"{inv.name}: load documents")


def _mysqlimport(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    line = parse_line(inv.args, _MYSQL_VALUES)
    target = target_of(
        inv, host=line.get("-h", "--host"), db=" ".join(w.text for w in line.operands[:1])
    )
    if line.has("-d", "--delete"):
        yield _database(
            inv,
            target,
            Verb.DELETE,
            "empty each table before importing (--delete)",
            reversibility=_GONE,
        )
    elif not line.has(*_HELP):
        yield _database(inv, target, Verb.CREATE, "import rows")


def _dropdb(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    line = parse_line(inv.args, _PG_TOOL_VALUES)
    if line.has(*_HELP) or not line.operands:
        return
    name = line.operands[0].text
    target = target_of(inv, host=line.get("-h", "--host"), db=name, env_keys=("PGHOST",))
    if inv.name == "dropdb":
        yield _database(
            inv,
            target,
            Verb.DESTROY,
            f"drop the database {name} with all its data",
            reversibility=_GONE,
            tags={"drop"},
        )
    elif inv.name == "dropuser":
        yield _database(inv, target, Verb.DELETE, f"drop the database role {name}", tags={"drop"})
    elif inv.name == "createuser" and line.has("-s", "--superuser", "--createrole", "-r"):
        yield _database(
            inv, target, Verb.ESCALATE, f"create the role {name} with superuser-like powers"
        )
    else:
        yield _database(inv, target, Verb.CREATE, f"{inv.name} {name}")


_MYSQLADMIN_READS = frozenset({"status", "ping", "processlist", "variables", "version",
    "extended-status", "debug"})  # fmt: skip


def _mysqladmin(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    line = parse_line(inv.args, _MYSQL_VALUES)
    words = [w.text for w in line.operands]
    host = line.get("-h", "--host")
    for i, command in enumerate(words):
        arg = words[i + 1] if i + 1 < len(words) else ""
        target = target_of(inv, host=host, db=arg if command in ("drop", "create") else "")
        if command == "drop":
            yield _database(
                inv,
                target,
                Verb.DESTROY,
                f"drop the database {arg} with all its data",
                reversibility=_GONE,
                tags={"drop"},
            )
        elif command == "create":
            yield _database(inv, target, Verb.CREATE, f"create the database {arg}")
        elif command in ("shutdown", "kill", "password", "stop-replica", "stop-slave"):
            yield _database(
                inv,
                target,
                Verb.MODIFY,
                f"mysqladmin {command}: stop the server or change it",
                tags={"stops-service"},
            )
        elif command in _MYSQLADMIN_READS:
            yield _database(inv, target, Verb.READ, f"mysqladmin {command}")


def _pg_ctl(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    line = parse_line(
        inv.args,
        (
            "-D",
            "--pgdata",
            "-m",
            "--mode",
            "-l",
            "--log",
            "-o",
            "--options",
            "-t",
            "--timeout",
            "-w",
            "-s",
        ),
    )
    words = [w.text for w in line.operands]
    data = line.get("-D", "--pgdata") or (
        words[1] if inv.name == "pg_ctlcluster" and len(words) > 1 else ""
    )
    command = words[-1] if inv.name == "pg_ctlcluster" and words else (words[0] if words else "")
    target = Target("database-server", data or "postgres")
    if inv.name == "pg_dropcluster":
        yield effect(
            inv,
            Verb.DESTROY,
            target,
            "delete a PostgreSQL cluster and its data directory",
            reversibility=_GONE,
            tags={"drop"},
        )
    elif command in ("stop", "restart", "kill"):
        yield effect(
            inv,
            Verb.MODIFY,
            target,
            f"{command} the PostgreSQL server; its clients lose their connections",
            tags={"stops-service"},
        )
    elif command == "promote":
        yield effect(
            inv, Verb.MODIFY, target, "promote a standby server to primary", reversibility=_GONE
        )
    elif command in ("init", "initdb"):
        yield effect(
            inv, Verb.CREATE, target, "create a new PostgreSQL data directory", scope=Scope.LOCAL
        )
    elif command:
        yield effect(inv, Verb.EXECUTE, target, f"pg_ctl {command}", scope=Scope.LOCAL)


# -- document and key-value stores -----------------------------------------------------------------
_MONGO_WRITES: tuple[tuple[re.Pattern[str], Verb, str, Reversibility, str], ...] = (
    (re.compile(r"\.dropDatabase\s*\("), Verb.DESTROY, "drop the whole database", _GONE, "drop"),
    (
        re.compile(r"\.drop\s*\(|\.dropCollection\s*\("),
        Verb.DESTROY,
        "drop a collection and its documents",
        _GONE,
        "drop",
    ),
    (
        re.compile(r"\.(deleteMany|remove)\s*\(\s*(\{\s*\})?\s*\)"),
        Verb.DELETE,
        "delete every document of a collection (empty filter)",
        _GONE,
        "no-where",
    ),
    (
        re.compile(r"\.(updateMany|update)\s*\(\s*\{\s*\}"),
        Verb.MODIFY,
        "update every document of a collection",
        _GONE,
        "no-where",
    ),
    (
        re.compile(r"\.(deleteOne|deleteMany|remove|findOneAndDelete|findAndModify)\s*\("),
        Verb.DELETE,
        "delete matching documents",
        Reversibility.RECOVERABLE_WITH_BACKUP,
        "filtered",
    ),
    (
        re.compile(
            r"\.(dropUser|dropAllUsers|dropRole|dropAllRoles|dropIndex|dropIndexes|dropSearchIndex)\s*\("
        ),
        Verb.DELETE,
        "drop users, roles or indexes",
        Reversibility.RECOVERABLE_WITH_BACKUP,
        "drop",
    ),
    (
        re.compile(
            r"(grantRolesToUser|createUser)\s*\([^)]*\b(root|__system|userAdminAnyDatabase|dbOwner)"
        ),
        Verb.ESCALATE,
        "give a user administrator roles",
        Reversibility.REVERSIBLE,
        "permissions",
    ),
    (
        re.compile(r"shutdownServer\s*\(|shutdown\s*:\s*1"),
        Verb.MODIFY,
        "shut the server down",
        Reversibility.REVERSIBLE,
        "stops-service",
    ),
    (
        re.compile(
            r"\.(update\w*|replace\w*|insert\w*|save|bulkWrite|rename\w*|createCollection|createIndex\w*|"
            r"findOneAndUpdate|findOneAndReplace)\s*\(|\$out\b|\$merge\b"
        ),
        Verb.MODIFY,
        "write documents",
        Reversibility.REVERSIBLE,
        "write",
    ),
)


def mongo_effects(inv: Invocation, target: str, script: str) -> list[Effect]:
    """What mongo shell JavaScript does: one effect per kind of write it contains, else a read."""
    found: list[Effect] = []
    for pattern, verb, detail, rev, tag in _MONGO_WRITES:
        if pattern.search(script) and (tag != "filtered" or not any(tag in e.tags for e in found)):
            found.append(_database(inv, target, verb, detail, reversibility=rev, tags={tag}))
            script = pattern.sub("", script)
    return found or [_database(inv, target, Verb.READ, "run read-only mongo shell code")]


def _mongo(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    line = parse_line(
        inv.args,
        (
            "--eval",
            "--file",
            "-f",
            "--host",
            "--port",
            "-u",
            "--username",
            "-p",
            "--password",
            "--authenticationDatabase",
            "--tlsCAFile",
            "--apiVersion",
        ),
    )
    if line.has(*_HELP):
        return
    uri = next((w.text for w in line.operands if not w.text.endswith(".js")), "")
    target = target_of(
        inv,
        url=uri if "://" in uri else "",
        host=line.get("--host"),
        db="" if "://" in uri else uri,
    )
    scripts = [
        *line.all("--eval"),
        *(
            t
            for p in [
                *line.all("--file", "-f"),
                *(w.text for w in line.operands if w.text.endswith(".js")),
            ]
            for t in [ctx.read_file(p)]
            if t
        ),
    ]
    if scripts:
        for script in scripts:
            yield from mongo_effects(inv, target, script)
    elif inv.stdin.text is not None:
        yield from mongo_effects(inv, target, inv.stdin.text)
    else:
        yield from stdin_effects(inv, ctx, target)


_REDIS_DESTROY = frozenset({"FLUSHALL", "FLUSHDB", "SCRIPT FLUSH", "FUNCTION FLUSH",
    "CLUSTER RESET", "REPLICAOF", "SLAVEOF", "FUNCTION RESTORE", "DEBUG"})  # fmt: skip
_REDIS_DELETE = frozenset({"DEL", "UNLINK", "HDEL", "SREM", "ZREM", "LREM", "LPOP", "RPOP",
    "SPOP", "ZPOPMIN", "ZPOPMAX", "LTRIM", "XDEL", "XTRIM", "GETDEL", "ZREMRANGEBYSCORE",
    "ZREMRANGEBYRANK", "ZREMRANGEBYLEX", "EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT",
    "ACL DELUSER", "FUNCTION DELETE", "MIGRATE", "XGROUP DESTROY", "MOVE"})  # fmt: skip
_REDIS_SERVER = frozenset({"SHUTDOWN", "CONFIG SET", "CONFIG REWRITE", "CONFIG RESETSTAT",
    "CLIENT KILL", "ACL SETUSER", "MODULE LOAD", "CLUSTER FAILOVER", "CLUSTER FORGET", "SWAPDB",
})  # fmt: skip
_REDIS_READS = frozenset({"GET", "MGET", "KEYS", "SCAN", "HGET", "HMGET", "HGETALL", "HKEYS",
    "HVALS", "HLEN", "HEXISTS", "HSCAN", "HSTRLEN", "LRANGE", "LLEN", "LINDEX", "LPOS",
    "SMEMBERS", "SCARD", "SISMEMBER", "SMISMEMBER", "SSCAN", "SRANDMEMBER", "SINTER", "SUNION",
    "SDIFF", "ZRANGE", "ZREVRANGE", "ZRANGEBYSCORE", "ZCARD", "ZSCORE", "ZRANK", "ZREVRANK",
    "ZSCAN", "ZCOUNT", "TTL", "PTTL", "TYPE", "EXISTS", "STRLEN", "GETRANGE", "BITCOUNT",
    "PFCOUNT", "INFO", "PING", "ECHO", "DBSIZE", "MONITOR", "TIME", "LASTSAVE", "XRANGE",
    "XREVRANGE", "XREAD", "XLEN", "XINFO", "RANDOMKEY", "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE",
    "COMMAND", "ROLE", "AUTH", "SELECT", "HELLO", "DUMP", "OBJECT", "MEMORY", "LATENCY",
    "SLOWLOG", "CLIENT", "CONFIG", "CLUSTER", "ACL", "GEOPOS", "GEODIST", "GEOSEARCH", "GEOHASH",
    "BGSAVE", "SAVE", "WAIT", "QUIT", "READONLY", "UNWATCH", "WATCH", "MULTI", "EXEC", "DISCARD",
})  # fmt: skip


def redis_command(inv: Invocation, target: str, words: Sequence[str]) -> Effect:
    """The effect of one Redis command (``FLUSHALL``, ``DEL key``, ``GET key`` ...)."""
    head = words[0].upper() if words else ""
    pair = " ".join(words[:2]).upper()
    said = " ".join(words[:3])
    if head in ("REPLICAOF", "SLAVEOF") and pair.endswith(" NO"):
        return _database(
            inv, target, Verb.MODIFY, "stop replicating and become a primary", tags={"redis"}
        )
    if pair in _REDIS_DESTROY or head in _REDIS_DESTROY:
        return _database(
            inv,
            target,
            Verb.DESTROY,
            f"{said}: erase the Redis data set",
            reversibility=_GONE,
            tags={"redis", "flush"},
        )
    if pair in _REDIS_DELETE or head in _REDIS_DELETE:
        return _database(
            inv,
            target,
            Verb.DELETE,
            f"{said}: delete keys or values",
            reversibility=_GONE,
            tags={"redis"},
        )
    if pair in _REDIS_SERVER or head in _REDIS_SERVER:
        return _database(
            inv,
            target,
            Verb.MODIFY,
            f"{said}: change or stop the Redis server",
            reversibility=_GONE,
            tags={"redis", "server-config"},
        )
    if head in ("EVAL", "EVALSHA", "FCALL", "EVAL_RO") and len(words) > 1:
        inner = re.findall(r"redis\.p?call\(\s*['\"](\w+)", words[1])
        worst = [redis_command(inv, target, [name]) for name in inner]
        return max(
            worst,
            key=lambda e: _RANK[e.verb],
            default=_database(
                inv,
                target,
                Verb.EXECUTE_UNKNOWN,
                "run a Redis script",
                reversibility=_GONE,
                tags={"redis"},
            ),
        )
    if head in _REDIS_READS:
        return _database(inv, target, Verb.READ, f"{said}: read from Redis", tags={"redis"})
    return _database(inv, target, Verb.MODIFY, f"{said}: write to Redis", tags={"redis"})


_RANK = {verb: i for i, verb in enumerate(Verb)}
_REDIS_VALUES = ("-h", "-p", "-a", "-n", "-u", "-s", "--user", "--pass", "-r", "-i", "-d", "-D",
    "--pattern", "--count", "--rdb", "--functions-rdb", "--pipe-timeout", "--intrinsic-latency",
    "--cacert", "--cacertdir", "--cert", "--key", "--sni", "--tls-ciphers", "--quoted-pattern",
    "--memkeys-samples", "-t", "--eval")  # fmt: skip


def _redis(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    line = parse_line(inv.args, _REDIS_VALUES)
    if line.has(*_HELP):
        return
    host = line.get("-h") or ("socket " + line.get("-s") if line.get("-s") else "")
    target = target_of(
        inv, url=line.get("-u"), host=host, db=line.get("-n"), env_keys=("REDIS_URL",)
    )
    words = [w.text for w in line.operands]
    if line.get("--eval"):
        script = ctx.read_file(line.get("--eval")) or ""
        yield redis_command(inv, target, ["EVAL", script] if script else ["EVAL"])
    elif line.has("--cluster"):
        call = words[2:] if words[:1] == ["call"] else []
        yield (
            redis_command(inv, target, call)
            if call
            else _database(
                inv,
                target,
                Verb.MODIFY,
                f"redis-cli --cluster {' '.join(words[:1])}",
                tags={"redis"},
            )
        )
    elif words:
        yield redis_command(inv, target, words)
    elif line.has(
        "--scan",
        "--bigkeys",
        "--memkeys",
        "--hotkeys",
        "--stat",
        "--latency",
        "--latency-history",
        "--rdb",
        "--functions-rdb",
        "--replica",
    ):
        yield _database(inv, target, Verb.READ, "inspect the Redis keyspace", tags={"redis"})
    elif inv.stdin.text is not None:
        for raw in inv.stdin.text.splitlines()[:50]:
            try:
                parts = shlex.split(raw)
            except ValueError:
                parts = raw.split()
            if parts:
                yield redis_command(inv, target, parts)
    else:
        yield from stdin_effects(inv, ctx, target)


FAMILIES = (
    CommandFamily.of(["psql", "pgcli"], _psql),
    CommandFamily.of(["mysql", "mariadb", "mycli"], _mysql),
    CommandFamily.of(["sqlite3", "sqlite", "duckdb", "litecli"], _sqlite),
    CommandFamily.of(["clickhouse-client", "clickhouse"], _clickhouse),
    CommandFamily.of(["cqlsh"], _cqlsh),
    CommandFamily.of(["mongosh", "mongo"], _mongo),
    CommandFamily.of(["redis-cli", "valkey-cli", "keydb-cli"], _redis),
    CommandFamily.of(
        [
            "pg_dump",
            "pg_dumpall",
            "mysqldump",
            "mariadb-dump",
            "mongodump",
            "mongoexport",
            "pg_basebackup",
        ],
        _pg_dump,
    ),
    CommandFamily.of(["pg_restore"], _pg_restore),
    CommandFamily.of(["mongorestore", "mongoimport"], _mongo_restore),
    CommandFamily.of(["mysqlimport", "mariadb-import"], _mysqlimport),
    CommandFamily.of(["dropdb", "createdb", "dropuser", "createuser"], _dropdb),
    CommandFamily.of(["mysqladmin", "mariadb-admin"], _mysqladmin),
    CommandFamily.of(["pg_ctl", "pg_ctlcluster", "pg_dropcluster"], _pg_ctl),
)
