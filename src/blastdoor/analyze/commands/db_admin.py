"""Database administration tools: dump and restore (pg_dump, pg_restore, mongorestore,
mysqlimport ...), createdb/dropdb and their user twins, mysqladmin, and pg_ctl."""

from __future__ import annotations

from collections.abc import Iterator

from blastdoor.analyze.commands import CommandFamily
from blastdoor.analyze.commands.db_base import (
    HELP,
    MYSQL_OPTIONAL,
    REFUSES_DASHED,
    Line,
    database_effect,
    parse_line,
    target_of,
)
from blastdoor.analyze.commands.db_sql_clients import MYSQL_VALUES
from blastdoor.analyze.commands.getopt import GETOPT
from blastdoor.analyze.invocation import Analysis, Invocation, effect
from blastdoor.model import Effect, Reversibility, Scope, Target, Verb

_GONE = Reversibility.IRREVERSIBLE

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
    if not line.has(*HELP):
        target = _pg_target(inv, line)
        yield database_effect(inv, target, Verb.READ, f"{inv.name}: export a copy of the database")


# mysqldump's own valued options: mysql's client options less its -e/--execute and -D/--database
# (mysqldump's -e is --extended-insert and -d is --no-data, both flags), with the dump's own.
_MYSQLDUMP_VALUES = ("-h", "--host", "-u", "--user", "-P", "--port", "-S", "--socket",
    "--default-character-set", "--init-command", "--defaults-file", "--defaults-extra-file",
    "--login-path", "--protocol", "--ssl-ca", "--ssl-cert", "--ssl-key", "-r", "--result-file",
    "-w", "--where", "-T", "--tab", "--ignore-table", "--ignore-error", "--compatible",
    "--fields-terminated-by", "--fields-enclosed-by", "--fields-optionally-enclosed-by",
    "--fields-escaped-by", "--lines-terminated-by", "--log-error", "--set-gtid-purged",
    "--max-allowed-packet", "--net-buffer-length")  # fmt: skip


def _mysqldump(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    line = parse_line(inv.args, _MYSQLDUMP_VALUES, GETOPT, optional=MYSQL_OPTIONAL)
    if not line.has(*HELP):
        db = line.operands[0].text if line.operands else ""
        target = target_of(inv, host=line.get("-h", "--host"), db=db, env_keys=("MYSQL_HOST",))
        yield database_effect(inv, target, Verb.READ, f"{inv.name}: export a copy of the database")


# mongodump and mongoexport (go-flags): --archive's value is optional, so only after an `=`
_MONGO_DUMP_VALUES = ("--uri", "--host", "-h", "--port", "--username", "-u", "--password", "-p",
    "--authenticationDatabase", "--authenticationMechanism", "--db", "-d", "--collection", "-c",
    "--query", "-q", "--queryFile", "--out", "-o", "--readPreference", "--excludeCollection",
    "--excludeCollectionsWithPrefix", "--numParallelCollections", "-j", "--fields", "-f",
    "--fieldFile", "--type", "--sort", "--skip", "--limit", "--jsonFormat", "--config",
    "--sslCAFile", "--sslPEMKeyFile", "--sslPEMKeyPassword")  # fmt: skip


def _mongodump(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    line = parse_line(inv.args, _MONGO_DUMP_VALUES, REFUSES_DASHED)
    if not line.has(*HELP):
        # the tools also take the connection string as their operand
        url = line.get("--uri") or next((w.text for w in line.operands if "://" in w.text), "")
        target = target_of(inv, url=url, host=line.get("--host", "-h"), db=line.get("--db", "-d"))
        yield database_effect(inv, target, Verb.READ, f"{inv.name}: export a copy of the database")


def _pg_restore(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    line = parse_line(inv.args, _PG_TOOL_VALUES)
    if line.has(*HELP) or line.has("-l", "--list") or not line.get("-d", "--dbname"):
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
        yield database_effect(
            inv,
            target,
            Verb.DESTROY,
            "drop the database objects in the dump before recreating them "
            "(--clean): their current data is replaced",
            reversibility=_GONE,
            tags={"drop"},
        )
    else:
        yield database_effect(inv, target, Verb.CREATE, "restore objects and rows from a dump")


_MONGO_RESTORE_VALUES = ("--uri", "--host", "-h", "--db", "-d", "--collection", "-c",
    "--nsInclude", "--file", "--mode", "--archive", "--type", "--fields", "-u", "-p")  # fmt: skip


def _mongo_restore(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    line = parse_line(inv.args, _MONGO_RESTORE_VALUES, REFUSES_DASHED)
    if line.has(*HELP):
        return
    target = target_of(
        inv, url=line.get("--uri"), host=line.get("--host", "-h"), db=line.get("--db", "-d")
    )
    if line.has("--drop"):
        yield database_effect(
            inv,
            target,
            Verb.DESTROY,
            f"{inv.name} --drop: drop each collection before loading it",
            reversibility=_GONE,
            tags={"drop"},
        )
    elif line.get("--mode") in ("upsert", "merge", "delete"):
        yield database_effect(
            inv,
            target,
            Verb.MODIFY,
            f"{inv.name}: {line.get('--mode')} documents",
            reversibility=_GONE,
        )
    else:
        yield database_effect(inv, target, Verb.CREATE, f"{inv.name}: load documents")


def _mysqlimport(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    line = parse_line(inv.args, MYSQL_VALUES, optional=MYSQL_OPTIONAL)
    target = target_of(
        inv, host=line.get("-h", "--host"), db=" ".join(w.text for w in line.operands[:1])
    )
    if line.has("-d", "--delete"):
        yield database_effect(
            inv,
            target,
            Verb.DELETE,
            "empty each table before importing (--delete)",
            reversibility=_GONE,
        )
    elif not line.has(*HELP):
        yield database_effect(inv, target, Verb.CREATE, "import rows")


# createdb, dropdb, createuser, dropuser: their own options (createuser's -s/--superuser and
# -S/--no-superuser are flags, unlike pg_restore's -S/--superuser NAME).
_PG_ADMIN_VALUES = ("-h", "--host", "-p", "--port", "-U", "--username", "--maintenance-db", "-D",
    "--tablespace", "-E", "--encoding", "-l", "--locale", "-O", "--owner", "-T", "--template",
    "--strategy", "--lc-collate", "--lc-ctype", "--icu-locale", "--icu-rules", "--locale-provider",
    "-c", "--connection-limit", "-g", "--role", "--member-of", "-a", "--with-admin", "-m",
    "--with-member")  # fmt: skip
# createuser's -D (--no-createdb), -E (--encrypted) and -l (--login) are flags
_CREATEUSER_VALUES = tuple(name for name in _PG_ADMIN_VALUES if name not in ("-D", "-E", "-l"))


def _dropdb(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    line = parse_line(
        inv.args, _CREATEUSER_VALUES if inv.name == "createuser" else _PG_ADMIN_VALUES
    )
    if line.has(*HELP) or not line.operands:
        return
    name = line.operands[0].text
    target = target_of(inv, host=line.get("-h", "--host"), db=name, env_keys=("PGHOST",))
    if inv.name == "dropdb":
        yield database_effect(
            inv,
            target,
            Verb.DESTROY,
            f"drop the database {name} with all its data",
            reversibility=_GONE,
            tags={"drop"},
        )
    elif inv.name == "dropuser":
        yield database_effect(
            inv, target, Verb.DELETE, f"drop the database role {name}", tags={"drop"}
        )
    elif inv.name == "createuser" and line.has("-s", "--superuser", "--createrole", "-r"):
        yield database_effect(
            inv, target, Verb.ESCALATE, f"create the role {name} with superuser-like powers"
        )
    else:
        yield database_effect(inv, target, Verb.CREATE, f"{inv.name} {name}")


_MYSQLADMIN_READS = frozenset({"status", "ping", "processlist", "variables", "version",
    "extended-status", "debug"})  # fmt: skip


def _mysqladmin(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    line = parse_line(inv.args, MYSQL_VALUES, optional=MYSQL_OPTIONAL)
    words = [w.text for w in line.operands]
    host = line.get("-h", "--host")
    for i, command in enumerate(words):
        arg = words[i + 1] if i + 1 < len(words) else ""
        target = target_of(inv, host=host, db=arg if command in ("drop", "create") else "")
        if command == "drop":
            yield database_effect(
                inv,
                target,
                Verb.DESTROY,
                f"drop the database {arg} with all its data",
                reversibility=_GONE,
                tags={"drop"},
            )
        elif command == "create":
            yield database_effect(inv, target, Verb.CREATE, f"create the database {arg}")
        elif command in ("shutdown", "kill", "password", "stop-replica", "stop-slave"):
            yield database_effect(
                inv,
                target,
                Verb.MODIFY,
                f"mysqladmin {command}: stop the server or change it",
                tags={"stops-service"},
            )
        elif command in _MYSQLADMIN_READS:
            yield database_effect(inv, target, Verb.READ, f"mysqladmin {command}")


_PG_CTL_VALUES = ("-D", "--pgdata", "-m", "--mode", "-l", "--log", "-o", "--options", "-t",
    "--timeout")  # fmt: skip (-w, -W and -s are flags)


def _pg_ctl(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    line = parse_line(inv.args, _PG_CTL_VALUES)
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


FAMILIES = (
    CommandFamily.of(["pg_dump", "pg_dumpall", "pg_basebackup"], _pg_dump),
    CommandFamily.of(["mysqldump", "mariadb-dump"], _mysqldump),
    CommandFamily.of(["mongodump", "mongoexport"], _mongodump),
    CommandFamily.of(["pg_restore"], _pg_restore),
    CommandFamily.of(["mongorestore", "mongoimport"], _mongo_restore),
    CommandFamily.of(["mysqlimport", "mariadb-import"], _mysqlimport),
    CommandFamily.of(["dropdb", "createdb", "dropuser", "createuser"], _dropdb),
    CommandFamily.of(["mysqladmin", "mariadb-admin"], _mysqladmin),
    CommandFamily.of(["pg_ctl", "pg_ctlcluster", "pg_dropcluster"], _pg_ctl),
)
