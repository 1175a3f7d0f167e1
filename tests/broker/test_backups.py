"""``blastdoor backup verify``: a real pg_dump restored into a scratch database on the server at
127.0.0.1:5432 and counted against the source; what is proven, what is refused, what is recorded."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.broker.conftest import (
    SECRET,
    add_profile,
    cli,
    entries,
    ledger_bytes,
    limited_python,
    query,
    sparse_file,
)
from tests.ledger.conftest import PG_BASE

pytestmark = pytest.mark.skipif(shutil.which("pg_dump") is None and os.environ.get("CI") != "true",
                                reason="needs the PostgreSQL client tools (pg_dump, pg_restore, psql)")  # fmt: skip


def orders(url: str) -> None:
    query(url, "CREATE TABLE orders (id int PRIMARY KEY, total numeric); CREATE SCHEMA billing;"
               "CREATE TABLE billing.invoices (id int, note text);"
               "INSERT INTO orders SELECT g, g * 1.5 FROM generate_series(1, 1200) g;"
               "INSERT INTO billing.invoices SELECT g, 'n' FROM generate_series(1, 40) g")  # fmt: skip


def dump(url: str, path: Path, *fmt: str) -> Path:
    """pg_dump of ``url`` (the password goes by environment, as a backup job would pass it)."""
    import psycopg

    params = psycopg.conninfo.conninfo_to_dict(url)
    password = str(params.pop("password", ""))
    conninfo = psycopg.conninfo.make_conninfo(**{k: str(v) for k, v in params.items()})
    subprocess.run(["pg_dump", *fmt, f"--file={path}", f"--dbname={conninfo}"], check=True,
                   env={**os.environ, "PGPASSWORD": password})  # fmt: skip
    return path


def scratch_databases() -> list[tuple[str]]:
    return [tuple(row) for row in query(PG_BASE, "SELECT datname FROM pg_database WHERE datname LIKE 'blastdoor_verify_%'")]


def test_a_restorable_dump_is_proven_and_recorded(env: dict[str, str], isolated_home: Path, tmp_path: Path,
                                                  pg_database: str) -> None:  # fmt: skip
    orders(pg_database)
    folder = tmp_path / "dumps"
    folder.mkdir()
    dump(pg_database, folder / "old.dump", "--format=custom")
    query(pg_database, "DELETE FROM orders WHERE id > 1000")  # deleted since the dump: the backup is what keeps them
    time.sleep(0.05)
    dump(pg_database, folder / "new.dump", "--format=custom")
    query(pg_database, "DELETE FROM orders WHERE id > 900")
    add_profile(env, "prod-db", scope="production", allow=["read"], values={"DATABASE_URL": pg_database},
                extra=("--dumps", str(folder)))  # fmt: skip
    done = cli(env, "backup", "verify", "--profile", "prod-db")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "new.dump (custom" in done.stdout and "(archive)" in done.stdout
    assert "public.orders" in done.stdout and "billing.invoices" in done.stdout
    proof = [e for e in entries(isolated_home) if e["type"] == "backup-proof"][-1]
    assert proof["result"] == "verified" and proof["profile"] == "prod-db"
    assert proof["rows"]["public.orders"] == {"database": 900, "backup": 1000}
    assert proof["rows"]["billing.invoices"] == {"database": 40, "backup": 40}
    assert proof["dump"]["sha256"].startswith("sha256:") and proof["dump"]["created_from"] == "archive"
    assert scratch_databases() == []
    assert SECRET not in ledger_bytes(isolated_home).decode("latin-1") + done.stdout + done.stderr


def test_a_backup_missing_rows_or_tables_is_not_verified(env: dict[str, str], isolated_home: Path, tmp_path: Path,
                                                         pg_database: str) -> None:  # fmt: skip
    orders(pg_database)
    path = dump(pg_database, tmp_path / "backup.sql")  # plain SQL
    query(pg_database, "INSERT INTO orders SELECT g, 0 FROM generate_series(1201, 5000) g; CREATE TABLE customers (id int)")
    add_profile(env, "prod-db", scope="production", allow=["read"], values={"DATABASE_URL": pg_database})
    done = cli(env, "backup", "verify", "--profile", "prod-db", "--dump", str(path))
    assert done.returncode == 1, done.stderr
    assert "(plain" in done.stdout and "(file time)" in done.stdout and "NOT verified" in done.stdout
    assert "public.orders: the backup holds 1,200 rows, the database 5,000" in done.stdout
    assert "public.customers is not in the backup" in done.stdout
    proof = [e for e in entries(isolated_home) if e["type"] == "backup-proof"][-1]
    assert proof["result"] == "failed" and len(proof["problems"]) == 2
    assert not (isolated_home / "backup-proofs.json").exists()  # only verified proofs count
    assert scratch_databases() == []


def test_an_old_or_broken_dump_is_not_verified(env: dict[str, str], isolated_home: Path, tmp_path: Path,
                                               pg_database: str) -> None:  # fmt: skip
    orders(pg_database)
    plain = dump(pg_database, tmp_path / "old.sql")
    stamp = time.time() - 30 * 3600
    os.utime(plain, (stamp, stamp))
    add_profile(env, "prod-db", scope="production", allow=["read"], values={"DATABASE_URL": pg_database})
    old = cli(env, "backup", "verify", "--profile", "prod-db", "--dump", str(plain))
    assert old.returncode == 1 and "the dump is 30.0 hours old, more than 24" in old.stdout
    whole = dump(pg_database, tmp_path / "whole.dump", "--format=custom").read_bytes()
    (tmp_path / "cut.dump").write_bytes(whole[: len(whole) // 2])
    cut = cli(env, "backup", "verify", "--profile", "prod-db", "--dump", str(tmp_path / "cut.dump"))
    assert cut.returncode == 1 and "the restore reported errors" in cut.stdout
    assert scratch_databases() == []


@pytest.mark.parametrize("content", [b"", b"\x00\x01binary" * 50, b"just some text\n", b"PGDMP\x01\x02 not really"])
def test_what_is_not_a_dump_gets_one_line(env: dict[str, str], isolated_home: Path, tmp_path: Path,
                                          pg_database: str, content: bytes) -> None:  # fmt: skip
    add_profile(env, "prod-db", scope="production", allow=["read"], values={"DATABASE_URL": pg_database})
    (tmp_path / "x.dump").write_bytes(content)
    done = cli(env, "backup", "verify", "--profile", "prod-db", "--dump", str(tmp_path / "x.dump"))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith("blastdoor:")
    failed = [e for e in entries(isolated_home) if e["type"] == "backup-proof"]
    assert failed and failed[-1]["result"] == "error"
    assert scratch_databases() == []


@pytest.mark.parametrize("line", ["\\! touch {marker}", "\\connect postgres", "\\o {marker}", "\\copy orders to '{marker}'"])
def test_a_plain_dump_that_would_run_psql_commands_is_refused(env: dict[str, str], isolated_home: Path, tmp_path: Path,
                                                              pg_database: str, line: str) -> None:  # fmt: skip
    orders(pg_database)
    path = dump(pg_database, tmp_path / "hostile.sql")
    marker = tmp_path / "marker"
    text = path.read_text().replace("SET statement_timeout = 0;", "SET statement_timeout = 0;\n" + line.format(marker=marker), 1)
    path.write_text(text)
    add_profile(env, "prod-db", scope="production", allow=["read"], values={"DATABASE_URL": pg_database})
    done = cli(env, "backup", "verify", "--profile", "prod-db", "--dump", str(path))
    assert done.returncode == 1 and "which a restore must not run" in done.stderr
    assert not marker.exists() and scratch_databases() == []


def test_copy_data_that_starts_with_a_backslash_is_data(env: dict[str, str], isolated_home: Path, tmp_path: Path,
                                                        pg_database: str) -> None:  # fmt: skip
    query(pg_database, "CREATE TABLE notes (body text); INSERT INTO notes VALUES (E'\\\\! not a command'), (NULL)")
    path = dump(pg_database, tmp_path / "notes.sql")
    assert "\\\\! not a command" in path.read_text()
    add_profile(env, "prod-db", scope="production", allow=["read"], values={"DATABASE_URL": pg_database})
    done = cli(env, "backup", "verify", "--profile", "prod-db", "--dump", str(path))
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_profile_without_dumps_is_told_where_to_say_so(env: dict[str, str], isolated_home: Path, pg_database: str) -> None:
    add_profile(env, "prod-db", scope="production", allow=["read"], values={"DATABASE_URL": pg_database})
    done = cli(env, "backup", "verify", "--profile", "prod-db")
    assert done.returncode == 1 and "--dumps WHERE" in done.stderr and "s3://BUCKET/PREFIX" in done.stderr
    missing = cli(env, "backup", "verify", "--profile", "prod-db", "--dump", "/nonexistent/dumps")
    assert missing.returncode == 1 and "does not exist" in missing.stderr


def test_database_errors_during_a_check_are_one_line_with_what_to_do(env: dict[str, str], isolated_home: Path,
                                                                     tmp_path: Path, pg_database: str) -> None:  # fmt: skip
    import re
    import uuid

    orders(pg_database)
    path = dump(pg_database, tmp_path / "orders.dump", "--format=custom")
    role = f"bd_reader_{uuid.uuid4().hex[:8]}"  # may log in, may not read orders nor create databases
    query(pg_database, f"CREATE ROLE {role} LOGIN")
    try:
        limited = re.sub(r"//[^:@/]+", f"//{role}", pg_database, count=1)
        add_profile(env, "prod-db", scope="production", allow=["read"], values={"DATABASE_URL": pg_database})
        add_profile(env, "limited", scope="production", allow=["read"], values={"DATABASE_URL": limited})
        add_profile(env, "gone", scope="production", allow=["read"], values={"DATABASE_URL": re.sub(r":\d+/", ":1/", pg_database)})
        add_profile(env, "shop-my", scope="production", allow=["read"], values={"DATABASE_URL": "mysql://shop@db.internal/shop"})
        for profile, scratch, said, hint in (
            ("gone", [], "cannot connect to the database: ", "check that the server is up"),
            ("limited", [], "cannot count the rows: permission denied", "the profile needs to read every table"),
            ("prod-db", ["--scratch-profile", "limited"], "cannot create a scratch database and its role: permission denied",
             "--scratch-profile NAME"),
            ("prod-db", ["--scratch-profile", "shop-my"], "the scratch profile is a mysql database, not a PostgreSQL one",
             "name a profile on a PostgreSQL server with --scratch-profile"),
        ):  # fmt: skip
            done = cli(env, "backup", "verify", "--profile", profile, "--dump", str(path), *scratch)
            assert done.returncode == 1 and said in done.stderr and hint in done.stderr, done.stderr
            assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
            assert SECRET not in done.stdout + done.stderr
        assert scratch_databases() == []
    finally:
        query(pg_database, f"DROP OWNED BY {role}; DROP ROLE {role}")


def test_a_plain_dump_without_newlines_is_not_read_whole(tmp_path: Path) -> None:
    path = sparse_file(tmp_path / "one-line.sql", b"--\n-- PostgreSQL database dump\n--\nSELECT '", 512 << 20)
    done = limited_python("import sys; from pathlib import Path; from blastdoor.broker.dumps import check_plain\n"
                          "from blastdoor.broker.errors import BrokerError\n"
                          "try:\n    check_plain(Path(sys.argv[1]))\nexcept BrokerError as error:\n    print(error)", str(path))  # fmt: skip
    assert done.returncode == 0 and "line 4 is longer than 4 MiB outside COPY data" in done.stdout, done.stderr


def test_a_gzipped_plain_dump_verifies_and_a_cut_one_is_one_line(env: dict[str, str], isolated_home: Path,
                                                                  tmp_path: Path, pg_database: str) -> None:  # fmt: skip
    """``pg_dump | gzip``: read (and checked) through gzip as it streams to psql."""
    import gzip

    orders(pg_database)
    plain = dump(pg_database, tmp_path / "orders.sql")
    packed = tmp_path / "orders.sql.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    add_profile(env, "prod-db", scope="production", allow=["read"], values={"DATABASE_URL": pg_database})
    done = cli(env, "backup", "verify", "--profile", "prod-db", "--dump", str(packed))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "orders.sql.gz (plain" in done.stdout and "public.orders" in done.stdout
    cut = tmp_path / "cut.sql.gz"
    cut.write_bytes(packed.read_bytes()[: packed.stat().st_size // 2])
    broken = cli(env, "backup", "verify", "--profile", "prod-db", "--dump", str(cut))
    assert broken.returncode == 1 and len(broken.stderr.strip().splitlines()) == 1, broken.stderr
    assert "cannot read" in broken.stderr and "Traceback" not in broken.stderr
    custom = tmp_path / "orders.dump.gz"
    custom.write_bytes(gzip.compress(dump(pg_database, tmp_path / "orders.dump", "--format=custom").read_bytes()))
    archive = cli(env, "backup", "verify", "--profile", "prod-db", "--dump", str(custom))
    assert archive.returncode == 1 and "is a gzipped archive" in archive.stderr, archive.stderr
    assert scratch_databases() == []
