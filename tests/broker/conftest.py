"""Broker fixtures: a home, a clean environment, profiles added the way a person adds them, and a
PostgreSQL database of the test's own on the server at 127.0.0.1:5432 (skipped without a server,
except in CI)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from blastdoor.config import Settings
from blastdoor.errors import first_line
from blastdoor.ledger.ledger import Ledger
from tests.ledger.conftest import PG_BASE, _pg_available

SECRET = "Sup3r-S3cret-Pw-4711"


@pytest.fixture
def env(tmp_path: Path, isolated_home: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items()
             if k not in ("CLAUDECODE", "GEMINI_CLI", "BLASTDOOR_RUN_ID", "DATABASE_URL")}  # fmt: skip
    return clean | {"BLASTDOOR_HOME": str(isolated_home), "BLASTDOOR_APPROVER_KEYS": str(tmp_path / "keys"),
                    "BLASTDOOR_DAEMON": "0"}  # fmt: skip


def cli(env: dict[str, str], *args: str, stdin: str = "", cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "blastdoor", *args], input=stdin, capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=120, check=False)  # fmt: skip


def cli_in_a_deleted_folder(env: dict[str, str], folder: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """``cli`` run from ``folder``, deleted once the process is in it (a terminal left in a removed folder)."""
    folder.mkdir()
    script = 'cd "$1" && rmdir "$1" && shift && exec "$@"'
    paths = [os.path.abspath(path) for path in env.get("PYTHONPATH", "").split(os.pathsep) if path]  # read from nowhere else
    return subprocess.run(["sh", "-c", script, "sh", str(folder), sys.executable, "-m", "blastdoor", *args], input=stdin,
                          capture_output=True, text=True, env=env | {"PYTHONPATH": os.pathsep.join(paths)}, timeout=120,
                          check=False)  # fmt: skip


def limited_python(code: str, *args: str, megabytes: int = 256) -> subprocess.CompletedProcess[str]:
    """``code`` run by a Python whose address space is capped at ``megabytes`` (RLIMIT_AS): what
    reads a file whole fails there with MemoryError."""
    import resource

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (megabytes << 20, megabytes << 20))

    paths = [os.path.abspath(path) for path in os.environ.get("PYTHONPATH", "").split(os.pathsep) if path]
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300, check=False,
                          preexec_fn=cap, env=os.environ | {"PYTHONPATH": os.pathsep.join(paths)})  # fmt: skip


def sparse_file(path: Path, head: bytes, size: int) -> Path:
    """``head``, then NUL bytes up to ``size`` with no newline among them (sparse: no disk used)."""
    with path.open("wb") as handle:
        handle.write(head)
        handle.truncate(size)
    return path


def add_profile(env: dict[str, str], name: str, *, scope: str, allow: list[str], values: dict[str, str],
                purpose: str = "tests", extra: tuple[str, ...] = ()) -> None:  # fmt: skip
    args = ["profile", "add", name, "--scope", scope, "--purpose", purpose, *extra]
    for pattern in allow:
        args += ["--allow", pattern]
    for variable in values:
        args += ["--secret", variable]
    done = cli(env, *args, stdin="".join(v + "\n" for v in values.values()))
    assert done.returncode == 0, done.stderr


def entries(home: Path) -> list[dict[str, Any]]:
    with Ledger.open(Settings.resolve(home=str(home))) as ledger:
        return [json.loads(row.body) for row in ledger.store.scan()]


def snapshot_of(output: str) -> str:
    """The id of the snapshot ``blastdoor sql`` says it took (asserted to be said)."""
    found = re.search(r"Snapshot (s-[0-9a-f]{12})", output)
    assert found, output
    return found.group(1)


def crash_after_snapshot(env: dict[str, str], home: Path, *, patch: str, profile: str, statement: str) -> dict[str, Any]:
    """Run ``blastdoor sql`` in a process that dies (exit 137) where ``patch`` (MODULE.FUNCTION, the
    engine's runner) would run ``statement``, after its snapshot was taken. The one snapshot entry,
    checked to be recorded as taken for a statement that never reported back."""
    module, _, function = patch.rpartition(".")
    crash = (f"import os, sys, {module} as patched\n"
             f"patched.{function} = lambda *a, **k: os._exit(137)\n"
             "from blastdoor.cli.main import main\n"
             f"sys.exit(main(['sql', '--profile', {profile!r}, '--', {statement!r}]))\n")  # fmt: skip
    died = subprocess.run([sys.executable, "-c", crash], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert died.returncode == 137, died.stderr
    saved = [e for e in entries(home) if e["type"] == "snapshot"]
    assert len(saved) == 1 and saved[0]["state"] == "taken", saved
    assert "a broker-sql entry follows" in saved[0]["note"]
    assert not [e for e in entries(home) if e["type"] == "broker-sql"]  # no outcome: it never ran
    refused = cli(env, "restore", saved[0]["snapshot"])
    assert refused.returncode == 1 and "--force" in refused.stderr  # it never reported back: a person checks first
    return saved[0]


def ledger_bytes(home: Path) -> bytes:
    return b"".join(path.read_bytes() for path in home.rglob("*") if path.is_file())


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh database; its URL (with a password the trust-auth server ignores, to prove it never leaks)."""
    problem = _pg_available()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at {PG_BASE} is required in CI: {problem}")
        pytest.skip(f"no PostgreSQL at {PG_BASE} ({problem}); start one or set BLASTDOOR_TEST_PG to run these")
    import psycopg

    name = f"bd_broker_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_BASE, autocommit=True) as db:
        db.execute(f"CREATE DATABASE {name}")
    base = psycopg.conninfo.conninfo_to_dict(PG_BASE)
    yield f"postgresql://{base.get('user', 'postgres')}:{SECRET}@{base.get('host', '127.0.0.1')}:{base.get('port', 5432)}/{name}"
    with psycopg.connect(PG_BASE, autocommit=True) as db:
        db.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def query(url: str, sql: str) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as db:
        cursor = db.execute(sql)
        return cursor.fetchall() if cursor.description else []


MYSQL_BASE = os.environ.get("BLASTDOOR_TEST_MYSQL", "mysql://root@127.0.0.1:3306/test")


def _mysql_available() -> str:
    try:
        from blastdoor.broker.mysql_connect import server

        server(MYSQL_BASE).connect(program="blastdoor-tests").close()
        return ""
    except Exception as error:  # any failure means "no server here"
        return first_line(str(getattr(error, "message", error)), default=type(error).__name__)


@pytest.fixture
def mysql_database(isolated_home: Path) -> Iterator[str]:
    """A fresh MySQL / MariaDB database and a user of its own whose password is SECRET (the server
    checks it, so a leak would be a working password); its URL. Snapshot copies the test made in
    ``blastdoor_snapshots`` go with it."""
    problem = _mysql_available()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"MySQL / MariaDB at {MYSQL_BASE} is required in CI: {problem}")
        pytest.skip(f"no MySQL / MariaDB at {MYSQL_BASE} ({problem}); start one (Debian: mariadb-server) or set "
                    "BLASTDOOR_TEST_MYSQL=mysql://USER:PASSWORD@HOST:PORT/DB, a user that may create databases and users")  # fmt: skip
    from blastdoor.broker.mysql_connect import server

    base = server(MYSQL_BASE)
    name = f"bd_broker_{uuid.uuid4().hex[:10]}"
    mysql_admin(f"CREATE DATABASE `{name}`", f"CREATE USER '{name}'@'%' IDENTIFIED BY '{SECRET}'",
                f"GRANT ALL ON `{name}`.* TO '{name}'@'%'", f"GRANT ALL ON `blastdoor_snapshots`.* TO '{name}'@'%'")  # fmt: skip
    yield f"mysql://{name}:{SECRET}@{base.host}:{base.port}/{name}"
    copies = [f"DROP TABLE IF EXISTS `blastdoor_snapshots`.`{row[0]}`" for row in mysql_query(
        MYSQL_BASE, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'blastdoor_snapshots'")
        if any(str(row[0]).startswith(path.stem.replace("-", "_") + "_") for path in (isolated_home / "snapshots").glob("s-*.json"))]  # fmt: skip
    mysql_admin(*copies, f"DROP DATABASE IF EXISTS `{name}`", f"DROP USER IF EXISTS '{name}'@'%'")


def mysql_admin(*statements: str) -> None:
    for statement in statements:
        mysql_query(MYSQL_BASE, statement)


def mysql_query(url: str, sql: str) -> list[tuple[Any, ...]]:
    """One statement's rows, run with autocommit."""
    from blastdoor.broker.mysql_connect import server

    db = server(url).connect(program="blastdoor-tests")
    try:
        db.autocommit(True)
        with db.cursor() as cursor:
            cursor.execute(sql)
            return list(cursor.fetchall()) if cursor.description else []
    finally:
        db.close()


from tests.broker.aws_server import aws  # noqa: E402, F401  (the moto server fixture)
