"""ORM and migration tools: prisma, drizzle-kit, rails/rake, Django's manage.py and django-admin,
alembic, knex, sequelize, typeorm, flyway, liquibase, Laravel's artisan and Elixir's mix ecto.

Each tool's tasks are looked up in one table: resetting, dropping, wiping or rolling a database all
the way back destroys it; rolling back one step or pushing a schema that loses data changes it
irreversibly; migrating forward changes it; status and listing read. The database is the one the
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
from blastdoor.analyze.commands.databases import database_effect, file_effects, redact, sql_effects
from blastdoor.analyze.invocation import Analysis, Invocation, effect
from blastdoor.model import Effect, Reversibility, Scope, Target, Verb

_GONE, _BACKUP, _REV = (
    Reversibility.IRREVERSIBLE,
    Reversibility.RECOVERABLE_WITH_BACKUP,
    Reversibility.REVERSIBLE,
)
Task = tuple[Verb, Reversibility, str]
_DESTROY: Task = (Verb.DESTROY, _GONE, "drop or wipe the whole database")
_WIPE: Task = (Verb.DELETE, _GONE, "delete every row of every table")
_ROLLBACK: Task = (
    Verb.MODIFY,
    _GONE,
    "roll migrations back (down migrations drop tables and columns)",
)
_ROLLBACK_ALL: Task = (
    Verb.DESTROY,
    _GONE,
    "roll every migration back, dropping the tables they created",
)
_MIGRATE: Task = (Verb.MODIFY, _REV, "apply schema migrations")
_LOSSY: Task = (Verb.MODIFY, _GONE, "change the schema even where that loses data")
_SEED: Task = (Verb.CREATE, _REV, "load seed data")
_CREATE: Task = (Verb.CREATE, _REV, "create the database")
_READ: Task = (Verb.READ, _REV, "show migration status or schema")
_RESTORE: Task = (Verb.DESTROY, _GONE, "replace the current data with a backup's")

TASKS: dict[str, dict[str, Task]] = {
    "prisma": {
        "migrate reset": _DESTROY,
        "db push --force-reset": _DESTROY,
        "db push --accept-data-loss": _LOSSY,
        "db push": _MIGRATE,
        "migrate deploy": _MIGRATE,
        "migrate dev": _MIGRATE,
        "db seed": _SEED,
        "migrate status": _READ,
        "migrate diff": _READ,
        "db pull": _READ,
        "migrate resolve": _MIGRATE,
    },
    "drizzle-kit": {"push --force": _LOSSY, "push": _MIGRATE, "migrate": _MIGRATE, "check": _READ},
    "rails": {
        "db:drop": _DESTROY,
        "db:drop:all": _DESTROY,
        "db:reset": _DESTROY,
        "db:schema:load": _DESTROY,
        "db:structure:load": _DESTROY,
        "db:migrate:reset": _DESTROY,
        "db:purge": _DESTROY,
        "db:purge:all": _DESTROY,
        "db:truncate_all": _WIPE,
        "db:test:purge": _DESTROY,
        "db:rollback": _ROLLBACK,
        "db:migrate:down": _ROLLBACK,
        "db:migrate:redo": _ROLLBACK,
        "db:migrate": _MIGRATE,
        "db:migrate:up": _MIGRATE,
        "db:prepare": _MIGRATE,
        "db:setup": _CREATE,
        "db:create": _CREATE,
        "db:seed": _SEED,
        "db:seed:replant": _WIPE,
        "db:version": _READ,
        "db:migrate:status": _READ,
        "db:schema:dump": _READ,
    },
    "manage.py": {
        "flush": _WIPE,
        "reset_db": _DESTROY,
        "dbrestore": _RESTORE,
        "migrate": _MIGRATE,
        "loaddata": (Verb.MODIFY, _BACKUP, "load fixtures, overwriting rows with the same keys"),
        "sqlflush": _READ,
        "dumpdata": _READ,
        "showmigrations": _READ,
        "sqlmigrate": _READ,
        "inspectdb": _READ,
        "createcachetable": _CREATE,
        "createsuperuser": (Verb.CREATE, _REV, "create an administrator account"),
    },
    "alembic": {
        "downgrade": _ROLLBACK,
        "upgrade": _MIGRATE,
        "stamp": _MIGRATE,
        "current": _READ,
        "history": _READ,
        "heads": _READ,
        "show": _READ,
        "check": _READ,
        "branches": _READ,
    },
    "knex": {
        "migrate:rollback --all": _ROLLBACK_ALL,
        "migrate:rollback": _ROLLBACK,
        "migrate:down": _ROLLBACK,
        "migrate:latest": _MIGRATE,
        "migrate:up": _MIGRATE,
        "seed:run": _SEED,
        "migrate:status": _READ,
        "migrate:list": _READ,
        "migrate:currentVersion": _READ,
    },
    "sequelize": {
        "db:drop": _DESTROY,
        "db:migrate:undo:all": _ROLLBACK_ALL,
        "db:migrate:undo": _ROLLBACK,
        "db:seed:undo:all": _WIPE,
        "db:seed:undo": (Verb.DELETE, _GONE, "undo seeds, deleting rows"),
        "db:migrate": _MIGRATE,
        "db:create": _CREATE,
        "db:seed:all": _SEED,
        "db:seed": _SEED,
        "db:migrate:status": _READ,
    },
    "typeorm": {
        "schema:drop": _DESTROY,
        "schema:sync": _LOSSY,
        "migration:revert": _ROLLBACK,
        "migration:run": _MIGRATE,
        "schema:log": _READ,
        "migration:show": _READ,
    },
    "flyway": {
        "clean": _DESTROY,
        "undo": _ROLLBACK,
        "migrate": _MIGRATE,
        "repair": _MIGRATE,
        "baseline": _MIGRATE,
        "info": _READ,
        "validate": _READ,
    },
    "liquibase": {
        "drop-all": _DESTROY,
        "dropall": _DESTROY,
        "rollback": _ROLLBACK,
        "rollback-count": _ROLLBACK,
        "rollbackcount": _ROLLBACK,
        "rollback-to-date": _ROLLBACK,
        "rollbacktodate": _ROLLBACK,
        "update": _MIGRATE,
        "update-count": _MIGRATE,
        "status": _READ,
        "history": _READ,
        "diff": _READ,
        "validate": _READ,
        "update-sql": _READ,
        "rollback-sql": _READ,
    },
    "artisan": {
        "migrate:fresh": _DESTROY,
        "migrate:reset": _ROLLBACK_ALL,
        "migrate:refresh": _ROLLBACK_ALL,
        "db:wipe": _DESTROY,
        "migrate:rollback": _ROLLBACK,
        "migrate": _MIGRATE,
        "db:seed": _SEED,
        "migrate:status": _READ,
        "db:show": _READ,
        "db:table": _READ,
        "schema:dump": _READ,
    },
    "mix": {
        "ecto.drop": _DESTROY,
        "ecto.reset": _DESTROY,
        "ecto.rollback": _ROLLBACK,
        "ecto.migrate": _MIGRATE,
        "ecto.create": _CREATE,
        "ecto.setup": _CREATE,
        "ecto.migrations": _READ,
        "ecto.load": _DESTROY,
    },
}
_ALIASES = {
    "rake": "rails",
    "gitlab-rails": "rails",
    "gitlab-rake": "rails",
    "django-admin": "manage.py",
    "django-admin.py": "manage.py",
    "sequelize-cli": "sequelize",
    "typeorm-ts-node-commonjs": "typeorm",
    "typeorm-ts-node-esm": "typeorm",
    "drizzle": "drizzle-kit",
}
_ENV_VARS = ("RAILS_ENV", "RACK_ENV", "NODE_ENV", "APP_ENV", "MIX_ENV", "DJANGO_SETTINGS_MODULE",
    "FLASK_ENV", "ENVIRONMENT", "STAGE")  # fmt: skip
_ENV_FLAGS = ("--env", "-e", "--environment", "--settings", "--stage", "-x", "--name", "-n",
    "--database", "--connection", "--profile")  # fmt: skip
_URL_FLAGS = ("--url", "-url", "--database-url", "--db-url", "--connection-string", "--dsn")
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
    url = url or ctx.env.get("DATABASE_URL", "")
    return (redact(url) if url else ""), tags


def _orm(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    tool = _ALIASES.get(inv.name, inv.name)
    words = [w.text for w in inv.args]
    if tool == "mix" and not any(w.startswith("ecto.") for w in words):
        return
    if not words or set(words) & {"--help", "-h", "help", "--version", "-v", "version"}:
        return
    target, tags = _hints(inv, ctx, words)
    special = _special(inv, ctx, tool, words, target)
    if special is not None:
        yield from special
        return
    found = _task(tool, words)
    restore = next((w for w in words if tool == "rails" and w.endswith(":restore")), "")
    if found is None and restore:  # db:restore, gitlab:backup:restore: a backup over live data
        found = (restore, _RESTORE)
    if found is None:
        yield effect(
            inv,
            Verb.EXECUTE,
            Target("program", inv.name),
            f"run {inv.name} {' '.join(words[:2])}",
            scope=Scope.LOCAL,
        )
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
        return _ROLLBACK_ALL
    if tool == "manage.py" and key == "migrate":
        operands = [w for w in words if not w.startswith("-") and w != "migrate"]
        if len(operands) >= 2:
            return _ROLLBACK_ALL if operands[1] == "zero" else _ROLLBACK
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


FAMILIES = (CommandFamily.of([*TASKS, *_ALIASES], _orm),)
