"""Plain SQL dumps given to ``backup verify``: psql would run a backslash command wherever it stands
outside quotes, comments and COPY data, so every hostile placement below is first shown to run
under a plain ``psql -f`` and then shown refused by Blastdoor, with nothing run; real pg_dump
output with awkward data still verifies."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.broker.conftest import add_profile, cli, query
from tests.broker.test_backups import dump, orders, scratch_databases

pytestmark = pytest.mark.skipif(shutil.which("pg_dump") is None and os.environ.get("CI") != "true",
                                reason="needs the PostgreSQL client tools (pg_dump, pg_restore, psql)")  # fmt: skip

# Each is put into a real dump after its first SET; {marker} is a file the command would create.
HOSTILE = {
    "shell mid-line": "SELECT 1 \\! touch {marker}",
    "shell after a statement": "SELECT 1; \\! touch {marker}",
    "output file after a string": "SELECT 'it''s' \\o {marker}",
    "copy to a program": "SELECT 1 \\copy (SELECT 1) to program 'touch {marker}'",
    "include after a dollar quote": "SELECT $q$ \\! not this $q$ \\i {script}",
    "set after a comment": "SELECT /* \\! not this /* nested */ */ 1 \\set ON_ERROR_STOP 0\n\\! touch {marker}",
    "after a carriage return ending a comment": "SELECT 1 -- a comment\r\\! touch {marker}",
    "after an E string": "SELECT E'\\\\' \\! touch {marker}",
    "standard_conforming_strings off": "SET standard_conforming_strings = off;\nSELECT 'x\\' , ' \\! touch {marker}",
    "an E string continued after a carriage return": "SELECT E'a'\r'\\' , ' \\! touch {marker}",
    "in COPY rows psql does not read as rows": "COPY (;\n\\! touch {marker}\n\\.\n);",
    "after a COPY on its line": "CREATE TEMP TABLE x (a int); COPY x FROM stdin; SELECT 1 \\! touch {marker}\n1\n\\.",
}


def hostile_dump(url: str, folder: Path, line: str) -> tuple[Path, Path]:
    """A real dump of ``url`` with ``line`` put in and pg_dump's own ``\\restrict`` lines taken out (an
    older pg_dump's, or a hostile one's); the dump and the marker it would create."""
    marker, script = folder / "marker", folder / "script.sql"
    script.write_text(f"\\! touch {marker}\n")
    path = dump(url, folder / "hostile.sql")
    text = path.read_bytes().replace(b"SET statement_timeout = 0;\n", b"SET statement_timeout = 0;\n" +
                                     line.format(marker=marker, script=script).encode() + b"\n", 1)  # fmt: skip
    path.write_bytes(re.sub(rb"(?m)^\\(un)?restrict .*\n", b"", text))
    return path, marker


def plain_psql(url: str, path: Path) -> None:
    """``psql -f`` as a restore without Blastdoor would run it, into a database of its own."""
    query(url, "DROP DATABASE IF EXISTS bd_plain_psql")
    query(url, "CREATE DATABASE bd_plain_psql")
    try:
        subprocess.run(["psql", "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1", f"--file={path}",
                        "--dbname=host=127.0.0.1 user=postgres dbname=bd_plain_psql"], capture_output=True, timeout=60)  # fmt: skip
    finally:
        query(url, "DROP DATABASE bd_plain_psql WITH (FORCE)")


@pytest.mark.parametrize("line", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_backslash_command_anywhere_psql_reads_one_is_refused(env: dict[str, str], isolated_home: Path, tmp_path: Path,
                                                                pg_database: str, line: str) -> None:  # fmt: skip
    orders(pg_database)
    path, marker = hostile_dump(pg_database, tmp_path, line)
    plain_psql(pg_database, path)
    assert marker.exists(), "the hostile line did not run under plain psql: the case proves nothing"
    marker.unlink()
    add_profile(
        env, "prod-db", scope="production", allow=["read"], values={"DATABASE_URL": pg_database}
    )
    done = cli(env, "backup", "verify", "--profile", "prod-db", "--dump", str(path))
    assert done.returncode == 1 and "which a restore must not run" in done.stderr, (
        done.stdout + done.stderr
    )
    assert len(done.stderr.strip().splitlines()) <= 2 and "Traceback" not in done.stderr
    assert not marker.exists() and scratch_databases() == []


TRICKY = r"""
CREATE TABLE t1 (id int, body text, "we""ird\col" text);
INSERT INTO t1 VALUES (1, 'back\slash', 'x'), (2, E'esc \\ and \' quote', 'y'), (3, '\.', 'z'),
  (4, E'\\.\n\\! not run', 'q'), (5, 'it''s', $$dollar \! $$), (6, E'line\r\\.\r\n\\.', '-- /*');
CREATE FUNCTION f1(a int) RETURNS text LANGUAGE plpgsql AS $body$ BEGIN RETURN 'x\y' || $x$ \! $x$; /* \o */ END $body$;
CREATE FUNCTION f2(a int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT a + 1; SELECT CASE WHEN a > 0 THEN a END; END;
CREATE TABLE t2 (code text CHECK (code ~ '^\d+$'), v text DEFAULT E'\\n\\');
COMMENT ON TABLE t1 IS 'has a \ backslash /* not a comment -- nor this';
CREATE VIEW v1 AS SELECT body FROM t1 WHERE body ~ '\\' /* nested /* comment \! */ still */;
INSERT INTO t2 VALUES ('123', E'\\.'), ('45', 'C:\path\to\');
"""


@pytest.mark.parametrize("fmt", [(), ("--inserts",)], ids=["copy", "inserts"])
def test_pg_dump_output_with_backslashes_and_quotes_in_it_verifies(env: dict[str, str], isolated_home: Path, tmp_path: Path,
                                                                   pg_database: str, fmt: tuple[str, ...]) -> None:  # fmt: skip
    query(pg_database, TRICKY)
    path = dump(pg_database, tmp_path / "tricky.sql", *fmt)
    text = path.read_text()
    assert "\\restrict " in text and ("$_$" in text and "BEGIN ATOMIC" in text)
    add_profile(
        env, "prod-db", scope="production", allow=["read"], values={"DATABASE_URL": pg_database}
    )
    done = cli(env, "backup", "verify", "--profile", "prod-db", "--dump", str(path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "public.t1" in done.stdout and "public.t2" in done.stdout and scratch_databases() == []


def test_psql_itself_refuses_a_backslash_command_the_reader_let_through(tmp_path: Path, pg_database: str,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """The second wall: psql runs restricted with a key the dump cannot know, so even a command the
    reader were fooled into passing (here: a reader made to pass everything) is not run."""
    from blastdoor.broker import dumps, pg_backup, psql_script
    from blastdoor.broker.engines.postgresql import PostgreSQL

    orders(pg_database)
    path, marker = hostile_dump(pg_database, tmp_path, "SELECT 1 \\! touch {marker}")
    monkeypatch.setattr(
        psql_script, "lines", lambda handle, name: ((piece, True) for piece in handle)
    )
    query(pg_database, "CREATE DATABASE bd_restricted")
    try:
        said = pg_backup._restore(
            dumps.read(path), PostgreSQL("postgresql://postgres@127.0.0.1:5432/bd_restricted")
        )
    finally:
        query(pg_database, "DROP DATABASE bd_restricted WITH (FORCE)")
    assert "backslash commands are restricted" in said and not marker.exists()
