"""``blastdoor backup verify`` on MySQL / MariaDB: a real mariadb-dump restored into a scratch
database on the server, as a user allowed into that database only, and counted against the source;
what is proven, what is refused, what is recorded, and what a hostile dump cannot reach."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from blastdoor.broker.mysql_connect import server
from tests.broker.conftest import (
    MYSQL_BASE,
    SECRET,
    add_profile,
    cli,
    entries,
    ledger_bytes,
    limited_python,
    mysql_query,
    sparse_file,
)
from tests.broker.test_mysql_sql import replit_tables

pytestmark = pytest.mark.skipif(not (shutil.which("mariadb-dump") or shutil.which("mysqldump")) and os.environ.get("CI") != "true",
                                reason="needs the MariaDB or MySQL client programs")  # fmt: skip


def dump(url: str, path: Path, *options: str) -> Path:
    """A dump of ``url``'s database made as a backup job would make it (the password in the
    environment, not in argv)."""
    target = server(url)
    program = shutil.which("mariadb-dump") or shutil.which("mysqldump")
    assert program
    with path.open("wb") as out:
        subprocess.run([program, "--protocol=tcp", f"--host={target.host}", f"--port={target.port}", f"--user={target.user}",
                        "--single-transaction", *options, target.database], stdout=out, check=True,
                       env={**os.environ, "MYSQL_PWD": target.password})  # fmt: skip
    return path


def scratch_left() -> list[tuple[object, ...]]:
    return (mysql_query(MYSQL_BASE, "SHOW DATABASES LIKE 'blastdoor\\_verify\\_%'")
            + mysql_query(MYSQL_BASE, "SELECT User FROM mysql.user WHERE User LIKE 'blastdoor\\_verify\\_%'"))  # fmt: skip


@pytest.fixture
def scratch(env: dict[str, str]) -> str:
    """A profile on the same server whose user may create databases and users (the source's may not)."""
    add_profile(env, "my-admin", scope="production", allow=["read"], values={"DATABASE_URL": MYSQL_BASE.rsplit("/", 1)[0] + "/"})
    return "my-admin"


def test_a_restorable_dump_is_proven_and_recorded(env: dict[str, str], isolated_home: Path, tmp_path: Path,
                                                  mysql_database: str, scratch: str) -> None:  # fmt: skip
    replit_tables(mysql_database)
    # a view and a trigger: their DEFINER is the dumping user, which the restoring user may not name
    mysql_query(mysql_database, "CREATE VIEW senior AS SELECT id, name FROM executives WHERE title = 'title 0'")
    mysql_query(mysql_database, "CREATE TRIGGER stamp BEFORE INSERT ON `company list` FOR EACH ROW SET NEW.`the name` = UPPER(NEW.`the name`)")
    folder = tmp_path / "dumps"
    folder.mkdir()
    dump(mysql_database, folder / "old.sql")
    mysql_query(mysql_database, "DELETE FROM executives WHERE id > 1100")  # deleted since the dump: the backup keeps them
    time.sleep(0.05)
    dump(mysql_database, folder / "new.sql")
    mysql_query(mysql_database, "DELETE FROM executives WHERE id > 1000")
    add_profile(env, "prod-my", scope="production", allow=["read"], values={"DATABASE_URL": mysql_database},
                extra=("--dumps", str(folder)))  # fmt: skip
    done = cli(env, "backup", "verify", "--profile", "prod-my", "--scratch-profile", scratch)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "new.sql (mysqldump" in done.stdout and "(file time)" in done.stdout and "verified: 2 tables" in done.stdout
    proof = [e for e in entries(isolated_home) if e["type"] == "backup-proof"][-1]
    assert proof["result"] == "verified" and proof["profile"] == "prod-my"
    assert proof["rows"] == {"company list": {"database": 1196, "backup": 1196}, "executives": {"database": 1000, "backup": 1100}}
    assert proof["dump"]["sha256"].startswith("sha256:")
    assert scratch_left() == []
    assert SECRET not in ledger_bytes(isolated_home).decode("latin-1") + done.stdout + done.stderr
    # the proof now stands behind the profile's destructive production actions
    assert (isolated_home / "backup-proofs.json").exists()


def test_a_dump_of_routines_made_under_another_character_set_is_verified(env: dict[str, str], isolated_home: Path,
                                                                          tmp_path: Path, mysql_database: str,
                                                                          scratch: str) -> None:  # fmt: skip
    replit_tables(mysql_database)
    name = server(mysql_database).database
    for statement in (f"ALTER DATABASE `{name}` CHARACTER SET latin1", "CREATE PROCEDURE p() SELECT 1",
                      f"ALTER DATABASE `{name}` CHARACTER SET utf8mb4"):  # fmt: skip
        mysql_query(mysql_database, statement)
    path = dump(mysql_database, tmp_path / "routines.sql", "--routines")
    assert f"ALTER DATABASE `{name}` CHARACTER SET latin1".encode() in path.read_bytes()  # mysqldump's own lines
    add_profile(env, "prod-my", scope="production", allow=["read"], values={"DATABASE_URL": mysql_database})
    done = cli(env, "backup", "verify", "--profile", "prod-my", "--dump", str(path), "--scratch-profile", scratch)
    assert done.returncode == 0 and "verified: 2 tables" in done.stdout, done.stdout + done.stderr
    assert mysql_query(MYSQL_BASE, f"SELECT DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '{name}'") == [
        ("utf8mb4",)]  # the source database was not touched  # fmt: skip
    assert scratch_left() == []
    # an ALTER DATABASE of another kind still names a database of its own: refused
    text = path.read_bytes()
    path.write_bytes(text.replace(b"-- Dumping routines", f"ALTER DATABASE `{name}` READ ONLY = 1;\n-- Dumping routines".encode()))
    refused = cli(env, "backup", "verify", "--profile", "prod-my", "--dump", str(path), "--scratch-profile", scratch)
    assert refused.returncode == 1 and "names a database of its own" in refused.stderr, refused.stderr


def test_a_backup_missing_rows_tables_or_its_end_is_not_verified(env: dict[str, str], isolated_home: Path, tmp_path: Path,
                                                                 mysql_database: str, scratch: str) -> None:  # fmt: skip
    replit_tables(mysql_database)
    path = dump(mysql_database, tmp_path / "backup.sql")
    mysql_query(mysql_database, "INSERT INTO executives (name) SELECT name FROM executives")
    mysql_query(mysql_database, "CREATE TABLE customers (id int)")
    add_profile(env, "prod-my", scope="production", allow=["read"], values={"DATABASE_URL": mysql_database})
    done = cli(env, "backup", "verify", "--profile", "prod-my", "--dump", str(path), "--scratch-profile", scratch)
    assert done.returncode == 1 and "NOT verified" in done.stdout, done.stdout + done.stderr
    assert "executives: the backup holds 1,206 rows, the database 2,412" in done.stdout
    assert "customers is not in the backup" in done.stdout
    assert not (isolated_home / "backup-proofs.json").exists()
    # cut short: the last lines never came
    text = path.read_bytes()
    (tmp_path / "cut.sql").write_bytes(text[: text.index(b"-- Dump completed")])
    stamp = time.time() - 30 * 3600
    os.utime(tmp_path / "cut.sql", (stamp, stamp))
    cut = cli(env, "backup", "verify", "--profile", "prod-my", "--dump", str(tmp_path / "cut.sql"), "--scratch-profile", scratch)
    assert cut.returncode == 1 and "the dump did not finish" in cut.stdout and "30.0 hours old, more than 24" in cut.stdout
    assert scratch_left() == []


def test_a_hostile_dump_reaches_nothing_but_its_scratch_database(env: dict[str, str], isolated_home: Path, tmp_path: Path,
                                                                  mysql_database: str, scratch: str) -> None:  # fmt: skip
    replit_tables(mysql_database)
    name = server(mysql_database).database
    marker = tmp_path / "marker"
    hostile = dump(mysql_database, tmp_path / "hostile.sql")
    text = hostile.read_bytes()  # blobs: not text
    cut = text.index(b"-- Table structure")
    add_profile(env, "prod-my", scope="production", allow=["read"], values={"DATABASE_URL": mysql_database})
    for inserted, said in (
        (f"system touch {marker}\n", "You have an error in your SQL syntax"),  # the client's own commands are off:
        (f"\\! touch {marker}\n", "Unknown command '\\!'"),  # sent to the server, or refused
        (f"/*!40000 USE `{name}` */;\nDROP TABLE executives;\n", "Access denied for user 'blastdoor_verify_"),  # hidden from a line scan
    ):  # fmt: skip
        hostile.write_bytes(text[:cut] + inserted.encode() + text[cut:])
        done = cli(env, "backup", "verify", "--profile", "prod-my", "--dump", str(hostile), "--scratch-profile", scratch)
        assert done.returncode == 1 and "the restore reported errors" in done.stdout and said in done.stdout, done.stdout + done.stderr
        assert not marker.exists()
        assert mysql_query(mysql_database, "SELECT count(*) FROM executives") == [(1206,)]
        assert scratch_left() == []
    # a dump made with --databases says which database it restores into: refused before anything runs
    whole = dump(mysql_database, tmp_path / "whole.sql", "--databases")
    refused = cli(env, "backup", "verify", "--profile", "prod-my", "--dump", str(whole), "--scratch-profile", scratch)
    assert refused.returncode == 1 and "names a database of its own" in refused.stderr and "Traceback" not in refused.stderr
    assert scratch_left() == []


@pytest.mark.parametrize("content", [b"", b"\x00\x01binary" * 50, b"just some text\n", b"-- PostgreSQL database dump\n"])
def test_what_is_not_a_mysql_dump_gets_one_line(env: dict[str, str], isolated_home: Path, tmp_path: Path,
                                                mysql_database: str, content: bytes) -> None:  # fmt: skip
    add_profile(env, "prod-my", scope="production", allow=["read"], values={"DATABASE_URL": mysql_database})
    (tmp_path / "x.sql").write_bytes(content)
    done = cli(env, "backup", "verify", "--profile", "prod-my", "--dump", str(tmp_path / "x.sql"))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith("blastdoor:"), done.stderr
    failed = [e for e in entries(isolated_home) if e["type"] == "backup-proof"]
    assert failed and failed[-1]["result"] == "error"


def test_without_rights_to_make_a_scratch_database_the_error_says_what_to_do(env: dict[str, str], isolated_home: Path,
                                                                            tmp_path: Path, mysql_database: str) -> None:  # fmt: skip
    replit_tables(mysql_database)
    path = dump(mysql_database, tmp_path / "backup.sql")
    add_profile(env, "prod-my", scope="production", allow=["read"], values={"DATABASE_URL": mysql_database})
    done = cli(env, "backup", "verify", "--profile", "prod-my", "--dump", str(path))
    assert done.returncode == 1 and "cannot create a scratch database and its user: (1044)" in done.stderr, done.stderr
    assert "--scratch-profile NAME" in done.stderr and SECRET not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert scratch_left() == []


def test_a_dump_without_newlines_is_not_read_whole(tmp_path: Path) -> None:
    path = sparse_file(tmp_path / "one-line.sql", b"-- MariaDB dump 10.19\n-- Host: x\nINSERT INTO t VALUES ('", 512 << 20)
    read = ("import sys; from pathlib import Path; from blastdoor.broker.mysql_backup import _check, _fed\n"
            "print(_check(Path(sys.argv[1])))\n"
            "with _fed(Path(sys.argv[1])) as stdin:\n"
            "    print(sum(len(block) for block in iter(lambda: stdin.read(1 << 20), b'')))\n")  # fmt: skip
    done = limited_python(read, str(path))  # 256 MiB of address space for a 512 MiB line
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["the dump did not finish: it does not end with the '-- Dump completed' line", str(512 << 20)]


def test_a_gzipped_dump_is_read_as_it_streams(env: dict[str, str], isolated_home: Path, tmp_path: Path,
                                              mysql_database: str, scratch: str) -> None:  # fmt: skip
    """``mysqldump | gzip`` as backup jobs store it: verified through gzip; its checks read the
    unpacked text (a USE line is found inside), and a cut file is one line."""
    import gzip

    replit_tables(mysql_database)
    plain = dump(mysql_database, tmp_path / "shop.sql")
    packed = tmp_path / "shop.sql.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    add_profile(env, "prod-my", scope="production", allow=["read"], values={"DATABASE_URL": mysql_database})
    done = cli(env, "backup", "verify", "--profile", "prod-my", "--scratch-profile", scratch, "--dump", str(packed))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "verified: 2 tables" in done.stdout
    hostile = tmp_path / "hostile.sql.gz"
    hostile.write_bytes(gzip.compress(plain.read_bytes().replace(b"\nDROP TABLE IF EXISTS", b"\nUSE mysql;\nDROP TABLE IF EXISTS", 1)))
    refused = cli(env, "backup", "verify", "--profile", "prod-my", "--scratch-profile", scratch, "--dump", str(hostile))
    assert refused.returncode == 1 and "names a database of its own" in refused.stderr, refused.stderr
    cut = tmp_path / "cut.sql.gz"
    cut.write_bytes(packed.read_bytes()[: packed.stat().st_size // 2])
    broken = cli(env, "backup", "verify", "--profile", "prod-my", "--scratch-profile", scratch, "--dump", str(cut))
    assert broken.returncode == 1 and len(broken.stderr.strip().splitlines()) == 1, broken.stderr
    assert "cannot read" in broken.stderr and "that the file is whole" in broken.stderr
    assert "Traceback" not in broken.stderr and scratch_left() == []
