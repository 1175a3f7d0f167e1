"""Databases: the families of every database client and tool, gathered from their modules.

- :mod:`.db_base`: option splitting, naming the target database, SQL from options, files, stdin.
- :mod:`.db_sql_clients`: psql, mysql/mariadb, sqlite3/duckdb, clickhouse-client, cqlsh.
- :mod:`.db_admin`: dump/restore/import tools, createdb/dropdb, mysqladmin, pg_ctl.
- :mod:`.db_stores`: mongosh/mongo and redis-cli.
- :mod:`.db_typed`: database statements typed as shell commands (``DROP TABLE t``, ``FLUSHALL``).

The names other modules import from here are re-exported.
"""

from __future__ import annotations

from blastdoor.analyze.commands import db_admin, db_sql_clients, db_stores, db_typed
from blastdoor.analyze.commands.db_base import (
    URL_KEYS,
    Line,
    conninfo,
    database_effect,
    file_effects,
    parse_line,
    redact,
    sql_effects,
    stdin_effects,
    target_of,
)
from blastdoor.analyze.commands.db_stores import mongo_effects, redis_command

__all__ = [
    "FAMILIES",
    "URL_KEYS",
    "Line",
    "conninfo",
    "database_effect",
    "file_effects",
    "mongo_effects",
    "parse_line",
    "redact",
    "redis_command",
    "sql_effects",
    "stdin_effects",
    "target_of",
]

FAMILIES = (
    *db_sql_clients.FAMILIES,
    *db_admin.FAMILIES,
    *db_stores.FAMILIES,
    *db_typed.FAMILIES,
)
