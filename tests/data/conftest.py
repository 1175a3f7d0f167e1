"""Row history fixtures: the broker's (a home, a clean environment, a PostgreSQL database of the
test's own), the Replit tables, and a role that is not a superuser, as an application's would be."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.broker.conftest import env, pg_database, query  # noqa: F401  (fixtures used by the tests here)
from tests.ledger.conftest import PG_BASE


def replit_tables(url: str) -> None:
    """Companies and their executives: 1,196 and 1,206 rows, as in the Replit incident."""
    query(url, "CREATE TABLE companies (id int PRIMARY KEY, name text NOT NULL, founded date);"
               "INSERT INTO companies SELECT g, 'company ' || g, DATE '2000-01-01' + g FROM generate_series(1, 1196) g;"
               "CREATE TABLE executives (id serial PRIMARY KEY, company int REFERENCES companies, name text NOT NULL,"
               " title text, pay numeric(12, 2), tags jsonb);"
               "INSERT INTO executives (company, name, title, pay, tags) SELECT 1 + g % 1196, 'exec ' || g, "
               "'title ' || (g % 7), g * 1000.5, jsonb_build_object('n', g) FROM generate_series(1, 1206) g")  # fmt: skip


def snapshot(url: str) -> tuple[list[tuple[Any, ...]], ...]:
    return (query(url, "SELECT * FROM companies ORDER BY id"), query(url, "SELECT * FROM executives ORDER BY id"))


def with_run(url: str, run: str, sql: str) -> None:
    """Run ``sql`` in one transaction tagged as the broker tags it."""
    query(url, f"BEGIN; SELECT set_config('blastdoor.run_id', '{run}', true); {sql}; COMMIT")


@pytest.fixture
def app_role(pg_database: str) -> Iterator[str]:  # noqa: F811  (the imported fixture)
    """A login role owning nothing special: the application's. Its URL for the test database."""
    name = f"bd_app_{uuid.uuid4().hex[:8]}"
    query(pg_database, f"CREATE ROLE {name} LOGIN; GRANT CREATE, USAGE ON SCHEMA public TO {name}")
    base = pg_database.rsplit("/", 1)[0].replace("postgres:", f"{name}:", 1)
    yield f"{base}/{pg_database.rsplit('/', 1)[1]}"
    import psycopg

    with psycopg.connect(pg_database, autocommit=True) as db:
        db.execute(f"REASSIGN OWNED BY {name} TO postgres; DROP OWNED BY {name}")
    with psycopg.connect(PG_BASE, autocommit=True) as db:
        db.execute(f"DROP ROLE IF EXISTS {name}")
