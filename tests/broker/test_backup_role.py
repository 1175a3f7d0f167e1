"""``backup verify`` on PostgreSQL restores as a role made for the one restore, allowed into the
scratch database only. Each hostile dump below is first shown to do its harm when restored as the
profile's role (here a superuser, as many profiles are), then shown harmless under Blastdoor."""

from __future__ import annotations

import io
import os
import secrets
import shutil
from pathlib import Path

import pytest

from tests.broker.conftest import add_profile, cli, entries, query
from tests.broker.test_backups import dump, orders, scratch_databases
from tests.broker.test_plain_dumps import hostile_dump, plain_psql
from tests.ledger.conftest import PG_BASE

pytestmark = pytest.mark.skipif(shutil.which("pg_dump") is None and os.environ.get("CI") != "true",
                                reason="needs the PostgreSQL client tools (pg_dump, pg_restore, psql)")  # fmt: skip


def scratch_roles() -> list[tuple[str]]:
    return [tuple(row) for row in query(PG_BASE, "SELECT rolname FROM pg_roles WHERE rolname LIKE 'blastdoor_verify_%'")]


def _verify(env: dict[str, str], url: str, path: Path) -> tuple[int, str]:
    add_profile(env, "prod-db", scope="production", allow=["read"], values={"DATABASE_URL": url})
    done = cli(env, "backup", "verify", "--profile", "prod-db", "--dump", str(path))
    return done.returncode, done.stdout + done.stderr


def test_a_dump_running_a_program_on_the_server_runs_nothing(env: dict[str, str], isolated_home: Path,
                                                             tmp_path: Path, pg_database: str) -> None:  # fmt: skip
    """COPY ... TO PROGRAM is SQL, not a psql command: psql's restricted mode lets it through, and a
    superuser's restore runs it on the database server."""
    orders(pg_database)
    marker = Path(f"/tmp/bd-role-marker-{secrets.token_hex(6)}")  # where the server's user may write
    try:
        path, _ = hostile_dump(pg_database, tmp_path, f"COPY (SELECT 1) TO PROGRAM 'touch {marker}';")
        plain_psql(pg_database, path)
        assert marker.exists(), "the hostile dump did not run its program under a plain restore"
        marker.unlink()
        code, said = _verify(env, pg_database, path)
        assert code == 1 and "NOT verified" in said and "pg_execute_server_program" in said, said
        assert not marker.exists()
        assert [e for e in entries(isolated_home) if e["type"] == "backup-proof"][-1]["result"] == "failed"
    finally:
        marker.unlink(missing_ok=True)
    assert scratch_databases() == [] and scratch_roles() == []


def test_a_dump_dropping_another_database_drops_nothing(env: dict[str, str], isolated_home: Path, tmp_path: Path,
                                                        pg_database: str) -> None:  # fmt: skip
    orders(pg_database)
    victim = f"bd_victim_{secrets.token_hex(4)}"
    query(PG_BASE, f"CREATE DATABASE {victim}")
    try:
        path, _ = hostile_dump(pg_database, tmp_path, f"DROP DATABASE {victim};")
        code, said = _verify(env, pg_database, path)
        assert code == 1 and "must be owner of database" in said, said
        assert query(PG_BASE, f"SELECT 1 FROM pg_database WHERE datname = '{victim}'") == [(1,)]
    finally:
        query(PG_BASE, f"DROP DATABASE IF EXISTS {victim} WITH (FORCE)")
    assert scratch_databases() == [] and scratch_roles() == []


def test_an_archive_reading_server_files_as_it_is_restored_is_not_verified(env: dict[str, str], isolated_home: Path,
                                                                           tmp_path: Path, pg_database: str) -> None:  # fmt: skip
    """A custom-format archive's SQL runs as the role too: a materialized view filled at restore
    time from a file of the server's needs a superuser, so the restore fails and says why."""
    orders(pg_database)
    query(pg_database, "CREATE MATERIALIZED VIEW host AS SELECT pg_read_file('PG_VERSION') AS version")
    path = dump(pg_database, tmp_path / "reads.dump", "--format=custom")
    code, said = _verify(env, pg_database, path)
    assert code == 1 and "permission denied for function pg_read_file" in said, said
    assert scratch_databases() == [] and scratch_roles() == []


def test_ownership_and_privileges_in_a_plain_dump_are_left_to_the_restoring_role(env: dict[str, str], isolated_home: Path,
                                                                                 tmp_path: Path, pg_database: str) -> None:  # fmt: skip
    """pg_dump writes who owns each object and who may use it; the restoring role could set
    neither, so those lines are left out, as pg_restore --no-owner --no-privileges leaves them."""
    orders(pg_database)
    owner, reader = f"bd_owner_{secrets.token_hex(4)}", f"bd_reader_{secrets.token_hex(4)}"
    query(pg_database, f"CREATE ROLE {owner}; CREATE ROLE {reader}; ALTER TABLE orders OWNER TO {owner};"
                       f"GRANT SELECT ON orders TO {reader}; ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO {reader}")  # fmt: skip
    try:
        path = dump(pg_database, tmp_path / "owned.sql")
        text = path.read_text()
        assert f"OWNER TO {owner};" in text and f"GRANT SELECT ON TABLE public.orders TO {reader};" in text
        assert "ALTER DEFAULT PRIVILEGES" in text
        code, said = _verify(env, pg_database, path)
        assert code == 0, said
    finally:
        query(pg_database, f"DROP OWNED BY {owner}, {reader}; DROP ROLE {owner}; DROP ROLE {reader}")
    assert scratch_databases() == [] and scratch_roles() == []


@pytest.mark.parametrize(("text", "kept"), [
    ("ALTER TABLE public.orders OWNER TO postgres;\n", False),
    ('ALTER FUNCTION public.f(integer, text) OWNER TO "Some One";\n', False),
    ("GRANT SELECT ON TABLE public.orders TO reader;\n", False),
    ("REVOKE ALL ON SCHEMA public FROM PUBLIC;\n", False),
    ("GRANT SELECT ON TABLE public.orders TO reader; DROP TABLE public.orders;\n", True),
    ("ALTER TABLE public.orders ALTER COLUMN note SET DEFAULT 'OWNER TO x';\n", True),
    ("CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $$\nGRANT SELECT ON t TO r;\n$$;\n", True),
], ids=["owner", "quoted-owner", "grant", "revoke", "two-statements", "in-a-string", "in-a-body"])  # fmt: skip
def test_only_whole_ownership_statements_are_left_out(text: str, kept: bool) -> None:
    from blastdoor.broker import psql_script

    pieces = list(psql_script.lines(io.BytesIO(text.encode()), "x.sql"))
    assert all(keep for _, keep in pieces) is kept, pieces
