"""ORM and migration tools: prisma, drizzle-kit, rails/rake, Django's manage.py and django-admin,
alembic, knex, sequelize, typeorm, flyway, liquibase, Laravel's artisan, Elixir's mix ecto,
dbmate, goose, golang-migrate, sqitch, Atlas, sqlx and diesel.

Each tool's tasks are looked up in one table (:mod:`.orm_tasks`). The database is the one the
context names (``--url``, ``DATABASE_URL`` on the line or in the environment);
``RAILS_ENV=production``, ``--env production`` and their kin become ``env=`` hints, and scope is
left to :mod:`blastdoor.scope`.
``npx prisma``, ``python manage.py`` and ``php artisan`` reach these families through the
interpreter and package-runner families, which hand over ``prisma ...``, ``manage.py ...``,
``artisan ...``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from blastdoor.analyze.commands import CommandFamily
from blastdoor.analyze.commands.db_base import database_effect, file_effects, redact, sql_effects
from blastdoor.analyze.commands.generic import ordinary_program
from blastdoor.analyze.commands.orm_tasks import (
    ALIASES,
    RESTORE,
    ROLLBACK,
    ROLLBACK_ALL,
    TASKS,
    Task,
)
from blastdoor.analyze.commands.saas import Cli, analyzer
from blastdoor.analyze.invocation import Analysis, Invocation
from blastdoor.model import Effect, Reversibility, Verb

_GONE, _REV = Reversibility.IRREVERSIBLE, Reversibility.REVERSIBLE

_ENV_VARS = ("RAILS_ENV", "RACK_ENV", "NODE_ENV", "APP_ENV", "MIX_ENV", "DJANGO_SETTINGS_MODULE",
    "FLASK_ENV", "ENVIRONMENT", "STAGE")  # fmt: skip
_ENV_FLAGS = ("--env", "-e", "--environment", "--settings", "--stage", "-x", "--name", "-n",
    "--database", "--connection", "--profile")  # fmt: skip
_URL_FLAGS = ("--url", "-url", "--database-url", "--db-url", "--connection-string", "--dsn",
    "-database")  # fmt: skip
_GOOSE_DRIVERS = frozenset({"postgres", "mysql", "sqlite3", "sqlite", "mssql", "redshift",
    "tidb", "clickhouse", "vertica", "ydb", "turso", "starrocks"})  # fmt: skip
_MONGODB_ATLAS = analyzer(Cli(kind="mongodb-atlas", hints={"projectId": "account"}))
_BYPASS = re.compile(r"^(DISABLE_DATABASE_ENVIRONMENT_CHECK=1|-cleanDisabled=false|--force)$")


def _task(tool: str, words: Sequence[str]) -> tuple[str, Task] | None:
    """The longest table entry whose words all appear, in order of the line, among ``words``."""
    table = TASKS[tool]
    for key in sorted(table, key=lambda k: -len(k.split())):
        parts = key.split()
        if all(part in words for part in parts):
            return key, table[key]
    return None


def _hints(inv: Invocation, ctx: Analysis, words: Sequence[str]) -> tuple[str, set[str]]:
    """The database target and ``env=`` hints from the command line and the context."""
    tags: set[str] = set()
    url = ""
    for i, word in enumerate(words):
        name, eq, value = word.partition("=")
        if not eq and i + 1 < len(words):
            value = words[i + 1]
        if name in _URL_FLAGS:
            url = value
        elif name in _ENV_FLAGS and value:
            key = "database" if name in ("--database", "--connection") else "env"
            tags.add(f"{key}={value}")
        elif eq and name in _ENV_VARS:
            tags.add(f"env={value}")
        if _BYPASS.match(word):
            tags.add("bypasses-checks" if "DISABLE" in word or "clean" in word else "force")
    for key, value in inv.assignments.items():
        if key in _ENV_VARS:
            tags.add(f"env={value}")
        elif key == "DISABLE_DATABASE_ENVIRONMENT_CHECK" and value == "1":
            tags.add("bypasses-checks")
        elif key.endswith(("DATABASE_URL", "DB_URL")) and not url:
            url = value
    url = url or _operand_dsn(words) or ctx.env.get("DATABASE_URL", "")
    url = url or inv.assignments.get("GOOSE_DBSTRING", "") or ctx.env.get("GOOSE_DBSTRING", "")
    return (redact(url) if url else ""), tags


def _operand_dsn(words: Sequence[str]) -> str:
    """A connection string given as an operand: goose's ``DRIVER DSN``, sqitch's ``db:pg://...``."""
    if len(words) > 1 and words[0] in _GOOSE_DRIVERS:
        return words[1]
    return next((w for w in words if re.match(r"db:\w+:", w)), "")


def _orm(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    tool = ALIASES.get(inv.name, inv.name)
    words = [w.text for w in inv.args]
    if tool == "mix" and not any(w.startswith("ecto.") for w in words):
        return
    if not words or set(words) & {"--help", "-h", "help", "--version", "-v", "version"}:
        return
    if tool == "atlas" and words[0] not in ("schema", "migrate"):
        yield from _MONGODB_ATLAS(inv, ctx)  # MongoDB's `atlas clusters delete ...`
        return
    target, tags = _hints(inv, ctx, words)
    special = _special(inv, ctx, tool, words, target)
    if special is not None:
        yield from special
        return
    found = _task(tool, words)
    restore = next((w for w in words if tool == "rails" and w.endswith(":restore")), "")
    if found is None and restore:  # db:restore, gitlab:backup:restore: a backup over live data
        found = (restore, RESTORE)
    if found is None:
        yield ordinary_program(inv, f"run {inv.name} {' '.join(words[:2])}")
        return
    key, (verb, rev, detail) = found
    verb, rev, detail = _refine(tool, key, words, (verb, rev, detail))
    if "--sql" in words or "--dry-run" in words or "--pretend" in words:
        verb, rev, detail = Verb.READ, _REV, "print the SQL a migration would run"
    yield database_effect(
        inv,
        target,
        verb,
        f"{inv.name} {key}: {detail}",
        reversibility=rev,
        tags=tags | {"orm", "migration"},
    )


def _refine(tool: str, key: str, words: Sequence[str], task: Task) -> Task:
    """Arguments that change what a task does (``downgrade base``, ``migrate app zero``)."""
    if tool == "alembic" and key == "downgrade" and "base" in words:
        return ROLLBACK_ALL
    if tool == "manage.py" and key == "migrate":
        operands = [w for w in words if not w.startswith("-") and w != "migrate"]
        if len(operands) >= 2:
            return ROLLBACK_ALL if operands[1] == "zero" else ROLLBACK
    if tool == "rails" and key == "db:rollback" and any(w.startswith("STEP=") for w in words):
        return (Verb.MODIFY, _GONE, "roll several migrations back")
    return task


def _special(
    inv: Invocation, ctx: Analysis, tool: str, words: list[str], target: str
) -> list[Effect] | None:
    """Tasks that carry SQL or code of their own."""
    if tool == "prisma" and words[:2] == ["db", "execute"]:
        if "--file" in words and words.index("--file") + 1 < len(words):
            return file_effects(inv, ctx, words[words.index("--file") + 1], target)
        return [
            database_effect(
                inv,
                target,
                Verb.EXECUTE_UNKNOWN,
                "run SQL given on standard input",
                reversibility=_GONE,
            )
        ]
    if tool == "typeorm" and words[:1] == ["query"] and len(words) > 1:
        return sql_effects(inv, ctx, words[1], target)
    if tool == "manage.py" and words[:1] == ["dbshell"]:
        sql = inv.stdin.text
        return (
            sql_effects(inv, ctx, sql, target)
            if sql
            else [
                database_effect(
                    inv, target, Verb.EXECUTE_UNKNOWN, "open a database shell", reversibility=_GONE
                )
            ]
        )
    if tool == "rails" and words[:1] in (["runner"], ["r"]) and len(words) > 1:
        return [_ruby_code(inv, target, words[1])]
    if tool in ("manage.py", "rails") and words[:1] in (["shell"], ["console"], ["c"]):
        code = (
            words[words.index("-c") + 1]
            if "-c" in words and words.index("-c") + 1 < len(words)
            else ""
        )
        return (
            [_ruby_code(inv, target, code or inv.stdin.text or "")]
            if code or inv.stdin.text
            else []
        )
    return None


_CODE_DELETE = re.compile(
    r"\b(destroy_all|delete_all|truncate|drop_table|\.delete\(\)|\.objects\.all\(\)\.delete|"
    r"DROP\s+TABLE|TRUNCATE|DELETE\s+FROM)\b",
    re.IGNORECASE,
)


def _ruby_code(inv: Invocation, target: str, code: str) -> Effect:
    """Application code run against the database (``rails runner``, ``manage.py shell -c``)."""
    if _CODE_DELETE.search(code):
        return database_effect(
            inv,
            target,
            Verb.DELETE,
            "run application code that deletes records in bulk",
            reversibility=_GONE,
            tags={"orm"},
        )
    return database_effect(
        inv,
        target,
        Verb.EXECUTE_UNKNOWN,
        "run application code against the database",
        reversibility=_GONE,
        tags={"orm"},
    )


FAMILIES = (CommandFamily.of([*TASKS, *ALIASES], _orm),)
