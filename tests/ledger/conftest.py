"""Ledger test fixtures: every store test runs against SQLite and against PostgreSQL.

PostgreSQL is the server at 127.0.0.1:5432 (user postgres, database test); each test gets its own
schema, dropped afterwards. Without a server the PostgreSQL half skips with a message, except in CI
(``CI=true``), where it fails.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from blastdoor.config import Settings
from blastdoor.home import ensure_home
from blastdoor.ledger.ledger import Ledger

PG_BASE = os.environ.get("BLASTDOOR_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def _pg_available() -> str:
    try:
        import psycopg

        with psycopg.connect(PG_BASE, connect_timeout=3):
            return ""
    except Exception as error:  # any failure means "no server here"
        return str(error).splitlines()[0] if str(error) else type(error).__name__


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.db'}"
        return
    problem = _pg_available()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at {PG_BASE} is required in CI: {problem}")
        pytest.skip(
            f"no PostgreSQL at {PG_BASE} ({problem}); start one or set BLASTDOOR_TEST_PG to run these"
        )
    schema = f"bd_test_{uuid.uuid4().hex[:12]}"
    yield f"{PG_BASE}?schema={schema}"
    import psycopg

    with psycopg.connect(PG_BASE, autocommit=True) as db:
        db.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture
def settings_for(isolated_home: Path) -> Callable[..., Settings]:
    def make(url: str, **overrides: Any) -> Settings:
        base = Settings.resolve(
            env={"BLASTDOOR_HOME": str(isolated_home), "BLASTDOOR_DATABASE_URL": url}
        )
        settings = Settings(**{**base.__dict__, **overrides})
        ensure_home(settings)
        return settings

    return make


@pytest.fixture
def ledger(database_url: str, settings_for: Callable[..., Settings]) -> Iterator[Ledger]:
    with Ledger.open(settings_for(database_url)) as opened:
        yield opened


class Raw:
    """Direct SQL on a ledger database, the way an attacker with file access would edit it."""

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite:///"):
            self._sqlite: sqlite3.Connection | None = sqlite3.connect(
                url.removeprefix("sqlite:///"), isolation_level=None
            )
            self._pg: Any = None
        else:
            import psycopg

            from blastdoor.ledger.postgres_store import split_url

            conninfo, schema = split_url(url)
            self._sqlite = None
            self._pg = psycopg.connect(conninfo, autocommit=True)
            self._pg.execute(f"SET search_path TO {schema}")

    def run(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        if self._sqlite is not None:
            return self._sqlite.execute(sql, params).fetchall()
        cursor = self._pg.execute(sql.replace("?", "%s"), params)
        return cursor.fetchall() if cursor.description else []

    def close(self) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
        else:
            self._pg.close()


@pytest.fixture
def raw(database_url: str) -> Iterator[Callable[[], Raw]]:
    opened: list[Raw] = []

    def make() -> Raw:
        opened.append(Raw(database_url))
        return opened[-1]

    yield make
    for connection in opened:
        connection.close()


def run_processes(target: Callable[..., None], arguments: list[tuple[Any, ...]]) -> None:
    """Run ``target`` once per argument tuple, each in a process of its own, all at once; every
    one must exit cleanly within two minutes."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=target, args=args) for args in arguments]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
