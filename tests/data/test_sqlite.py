"""Row history on SQLite, through the real CLI: attribution, the Replit shape undone row for row
(reals to the last digit, blobs byte for byte), conflicts, sealing, a dropped table rebuilt, and
bad addresses."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from blastdoor.broker.scrub import Scrubber
from blastdoor.data.errors import DataError
from blastdoor.data.selection import Selection
from blastdoor.data.sqlite import undo as lite_undo
from blastdoor.data.sqlite.install import tagged
from blastdoor.data.target import Target
from tests.broker.conftest import cli, entries


@pytest.fixture
def app_db(tmp_path: Path) -> Iterator[Path]:
    """The Replit shape on SQLite: 1,196 companies and 1,206 executives, with reals that need all
    17 digits, blobs, NULLs, and a table without a primary key."""
    path = tmp_path / "app.db"
    with _open(path) as db:
        db.executescript("CREATE TABLE companies (id INTEGER PRIMARY KEY, name TEXT NOT NULL);"
                         "CREATE TABLE executives (id INTEGER PRIMARY KEY, company INT REFERENCES companies(id), "
                         "name TEXT, pay REAL, photo BLOB, note TEXT);"
                         "CREATE TABLE audit (what TEXT, n INT)")  # fmt: skip
        db.executemany("INSERT INTO companies VALUES (?, ?)", [(i, f"company {i}") for i in range(1, 1197)])
        db.executemany("INSERT INTO executives VALUES (?, ?, ?, ?, ?, ?)",
                       [(i, 1 + i % 1196, f"exec {i}", i * 0.1 + 0.2, bytes([i % 256, 0, 255]), None if i % 3 else '{"json": "text"}')
                        for i in range(1, 1207)])  # fmt: skip
        db.executemany("INSERT INTO audit VALUES (?, ?)", [("x", 1), ("x", 1), ("y", 2)])
    yield path


def _open(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA foreign_keys = ON")
    return db


def _run(path: Path, run: str, *statements: str) -> None:
    """Statements in one transaction tagged with ``run``, as a tagged writer makes them."""
    db = _open(path)
    with tagged(db, run_id=run):
        for statement in statements:
            db.execute(statement)
    db.close()


def _plain(path: Path, *statements: str) -> None:
    db = _open(path)
    for statement in statements:
        db.execute(statement)
    db.close()


def _rows(path: Path) -> tuple[list[tuple[Any, ...]], ...]:
    db = _open(path)
    found = tuple(db.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in ("companies", "executives", "audit"))
    db.close()
    return found


def _enable(env: dict[str, str], path: Path) -> str:
    done = cli(env, "data", "enable", "--dsn", f"sqlite:///{path}")
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_enable_tracks_every_table_and_attributes_each_write(env: dict[str, str], app_db: Path) -> None:
    shown = _enable(env, app_db)
    assert "tracking executives (key id; 1206 rows copied as its baseline)" in shown
    assert "tracking audit (key rowid; 3 rows copied" in shown and "cannot refuse a DROP TABLE" in shown
    _run(app_db, "run-agent", "UPDATE executives SET name = 'x' WHERE id = 1")
    _plain(app_db, "DELETE FROM audit WHERE what = 'y'")
    db = _open(app_db)
    assert db.execute("SELECT op, run_id, txid IS NOT NULL FROM _blastdoor_changes ORDER BY id").fetchall() == [
        ("U", "run-agent", 1), ("D", "unknown", 0)]  # fmt: skip
    assert db.execute("SELECT count(*) FROM _blastdoor_context").fetchone() == (0,)  # the tags did not outlive the run
    db.close()
    again = _enable(env, app_db)
    assert "already tracked: audit, companies, executives" in again


def test_the_replit_run_is_undone_row_for_row(env: dict[str, str], isolated_home: Path, app_db: Path) -> None:
    before = _rows(app_db)
    _enable(env, app_db)
    _run(app_db, "run-replit", "DELETE FROM executives", "DELETE FROM companies")
    assert _rows(app_db)[:2] == ([], [])
    shown = cli(env, "data", "history", "--dsn", str(app_db), "--run", "run-replit")
    assert "2402 row changes in 2 tables" in shown.stdout and "companies: deleted 1196" in shown.stdout

    undone = cli(env, "data", "undo", "--dsn", f"sqlite:///{app_db}", "--run", "run-replit")
    assert undone.returncode == 0, undone.stderr
    assert "reverted 2402 changes of run run-replit in 2 tables" in undone.stdout
    assert "companies: 1196 rows put back" in undone.stdout
    assert _rows(app_db) == before  # 17-digit reals, blobs and NULLs exactly as they were
    assert [e["state"] for e in entries(isolated_home) if e["type"] == "data-undo"] == ["started", "done"]
    twice = cli(env, "data", "undo", "--dsn", str(app_db), "--run", "run-replit")
    assert "reverted 0 changes" in twice.stdout and _rows(app_db) == before


def test_updates_key_changes_and_inserts_are_reverted_and_an_undo_can_be_undone(env: dict[str, str], app_db: Path) -> None:
    before = _rows(app_db)
    _enable(env, app_db)
    _run(app_db, "run-a", "UPDATE executives SET pay = pay * 2, photo = NULL WHERE id <= 50",
         "DELETE FROM executives WHERE company = 7", "UPDATE companies SET id = 5000 WHERE id = 7", "INSERT INTO audit VALUES ('z', 3)", "UPDATE audit SET n = 9")  # fmt: skip
    changed = _rows(app_db)
    undone = cli(env, "data", "undo", "--dsn", str(app_db), "--run", "run-a")
    assert undone.returncode == 0, undone.stderr
    assert _rows(app_db) == before
    undo_id = undone.stdout.split(":")[0]
    redone = cli(env, "data", "undo", "--dsn", str(app_db), "--run", undo_id)
    assert redone.returncode == 0, redone.stderr
    assert _rows(app_db) == changed


def test_later_writes_by_others_are_conflicts_refused_skipped_or_overwritten(env: dict[str, str], app_db: Path) -> None:
    _enable(env, app_db)
    _run(app_db, "run-agent", "UPDATE executives SET note = 'fired' WHERE id <= 10")
    _run(app_db, "run-human", "UPDATE executives SET note = 'rehired' WHERE id = 3")
    refused = cli(env, "data", "undo", "--dsn", str(app_db), "--run", "run-agent")
    assert refused.returncode == 1
    assert 'executives {"id": 3}: changed later by run-human' in refused.stderr and "nothing was changed" in refused.stderr
    db = _open(app_db)
    assert db.execute("SELECT count(*) FROM executives WHERE note = 'fired'").fetchone() == (9,)

    skipped = cli(env, "data", "undo", "--dsn", str(app_db), "--run", "run-agent", "--on-conflict", "skip")
    assert skipped.returncode == 0, skipped.stderr and "skipped 1 rows in conflict" in skipped.stdout
    assert db.execute("SELECT note FROM executives WHERE id IN (2, 3) ORDER BY id").fetchall() == [(None,), ("rehired",)]
    db.close()


def test_a_row_changed_while_history_was_off_is_a_conflict(env: dict[str, str], app_db: Path) -> None:
    _enable(env, app_db)
    _run(app_db, "run-agent", "DELETE FROM executives WHERE id = 5")
    _plain(app_db, "DROP TRIGGER _blastdoor_i_executives",
           "INSERT INTO executives (id, name) VALUES (5, 'someone else')")  # fmt: skip
    assert "verification" in cli(env, "data", "undo", "--dsn", str(app_db), "--run", "run-agent").stderr
    assert "triggers were missing or replaced and are back" in _enable(env, app_db)
    refused = cli(env, "data", "undo", "--dsn", str(app_db), "--run", "run-agent")
    assert refused.returncode == 1 and 'executives {"id": 5}: row exists again' in refused.stderr


def test_an_interrupted_undo_changes_nothing(env: dict[str, str], app_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _enable(env, app_db)
    _run(app_db, "run-agent", "DELETE FROM executives", "DELETE FROM companies")
    after = _rows(app_db)
    real = lite_undo._apply
    calls = []

    def stop_halfway(*args: Any, **kwargs: Any) -> Any:
        if calls:
            raise KeyboardInterrupt
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(lite_undo, "_apply", stop_halfway)
    target = Target(f"sqlite:///{app_db}", str(app_db), Scrubber([]))
    with pytest.raises(DataError, match="undo interrupted"):
        lite_undo.undo(target, Selection(run="run-agent"), undo_id="undo-x")
    assert calls and _rows(app_db) == after


def test_seals_catch_edited_history_and_undo_refuses_to_trust_it(env: dict[str, str], app_db: Path) -> None:
    _enable(env, app_db)
    _run(app_db, "run-agent", "DELETE FROM executives WHERE id <= 20")
    sealed = cli(env, "data", "seal", "--dsn", str(app_db))
    assert "sealed 20 history rows" in sealed.stdout
    assert cli(env, "data", "verify", "--dsn", str(app_db)).returncode == 0
    _plain(app_db, "UPDATE _blastdoor_changes SET old_row = replace(old_row, 'exec 4', 'exec 999') WHERE id = 4",
           "DELETE FROM _blastdoor_changes WHERE id = 9", "DROP TRIGGER _blastdoor_u_companies")  # fmt: skip
    failed = cli(env, "data", "verify", "--dsn", str(app_db))
    assert failed.returncode == 1
    assert "history row 4 (seal 4) was altered after sealing" in failed.stderr
    assert "history row 9 (seal 9) was deleted after sealing" in failed.stderr
    assert "companies lost history triggers (_blastdoor_u_companies)" in failed.stderr
    refused = cli(env, "data", "undo", "--dsn", str(app_db), "--run", "run-agent")
    assert refused.returncode == 1 and "fails verification" in refused.stderr


def test_a_dropped_table_is_rebuilt_from_its_history(env: dict[str, str], isolated_home: Path, app_db: Path) -> None:
    _enable(env, app_db)
    _run(app_db, "run-a", "UPDATE executives SET name = 'renamed' WHERE id = 2", "DELETE FROM executives WHERE id = 3")
    kept = _rows(app_db)
    _plain(app_db, "DROP TABLE executives")
    undo = cli(env, "data", "undo", "--dsn", str(app_db), "--run", "run-a")
    assert undo.returncode == 1 and "data restore --table executives" in undo.stderr
    rebuilt = cli(env, "data", "restore", "--dsn", str(app_db), "--table", "executives")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "with the 1205 rows its history last recorded" in rebuilt.stdout
    assert _rows(app_db) == kept
    assert any(e["type"] == "data-restore" and e["rows"] == 1205 for e in entries(isolated_home))
    again = cli(env, "data", "restore", "--dsn", str(app_db), "--table", "executives")
    assert again.returncode == 1 and "executives exists" in again.stderr
    _run(app_db, "run-b", "DELETE FROM executives WHERE id = 4")  # recorded again after the rebuild
    assert "deleted 1" in cli(env, "data", "history", "--dsn", str(app_db), "--run", "run-b").stdout


def test_wide_tables_and_new_columns(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "wide.db"
    columns = [f'"c {n}"' for n in range(150)]
    _plain(path, f"CREATE TABLE wide (id INTEGER PRIMARY KEY, {', '.join(columns)})",
           f"INSERT INTO wide VALUES (1, {', '.join(str(n) for n in range(150))})")  # fmt: skip
    _enable(env, path)
    _plain(path, "ALTER TABLE wide ADD COLUMN extra TEXT", "UPDATE wide SET extra = 'new'")
    assert "its new columns are now recorded too" in _enable(env, path)
    original = _open(path).execute("SELECT * FROM wide").fetchall()
    _run(path, "run-w", "DELETE FROM wide")
    assert cli(env, "data", "undo", "--dsn", str(path), "--run", "run-w").returncode == 0
    assert _open(path).execute("SELECT * FROM wide").fetchall() == original


def test_disable_leaves_nothing_behind(env: dict[str, str], app_db: Path) -> None:
    objects = "SELECT type, name FROM sqlite_master WHERE name <> 'sqlite_sequence' ORDER BY 2"
    before = _open(app_db).execute(objects).fetchall()
    _enable(env, app_db)
    done = cli(env, "data", "disable", "--dsn", str(app_db), "--yes")
    assert done.returncode == 0 and "it tracked audit, companies, executives" in done.stdout
    assert _open(app_db).execute(objects).fetchall() == before
    assert _open(app_db).execute("SELECT count(*) FROM sqlite_sequence").fetchone() == (0,)


@pytest.mark.parametrize(("address", "message"), [
    ("sqlite:///nowhere/app.db", "no SQLite database at {tmp}/nowhere/app.db"),  # relative to the working folder
    ("notes.txt", "neither a PostgreSQL URL nor a SQLite file"),
    ("sqlite:///notes.txt", "notes.txt is not a SQLite database"),
])  # fmt: skip
def test_bad_addresses_get_one_line(env: dict[str, str], tmp_path: Path, address: str, message: str) -> None:
    (tmp_path / "notes.txt").write_text("not a database\n" * 10)
    done = cli(env, "data", "history", "--dsn", address, "--since", "1h", cwd=tmp_path)
    assert done.returncode == 1 and message.format(tmp=tmp_path) in done.stderr and "Traceback" not in done.stderr


def test_unknown_tables_and_unenabled_databases(env: dict[str, str], app_db: Path) -> None:
    missing = cli(env, "data", "enable", "--dsn", str(app_db), "--tables", "nope")
    assert missing.returncode == 1 and "no table 'nope'" in missing.stderr
    off = cli(env, "data", "undo", "--dsn", str(app_db), "--since", "1h")
    assert off.returncode == 1 and "row history is not enabled" in off.stderr
    assert _open(app_db).execute("SELECT count(*) FROM sqlite_master WHERE name LIKE '\\_blastdoor%' ESCAPE '\\'").fetchone() == (0,)


def test_a_trigger_put_back_with_another_body_is_caught(env: dict[str, str], app_db: Path) -> None:
    _enable(env, app_db)
    _plain(app_db, "DROP TRIGGER _blastdoor_d_executives",
           "CREATE TRIGGER _blastdoor_d_executives AFTER DELETE ON executives BEGIN SELECT 1; END")  # fmt: skip
    failed = cli(env, "data", "verify", "--dsn", str(app_db))
    assert failed.returncode == 1 and "executives's history triggers were replaced (_blastdoor_d_executives)" in failed.stderr
    assert "missing or replaced and are back" in _enable(env, app_db)
    assert cli(env, "data", "verify", "--dsn", str(app_db)).returncode == 0


def test_insert_or_replace_is_undone_to_the_row_it_replaced(env: dict[str, str], app_db: Path) -> None:
    before = _rows(app_db)
    _enable(env, app_db)
    _run(app_db, "run-r", "INSERT OR REPLACE INTO companies VALUES (5, 'agent')", "INSERT INTO companies VALUES (9000, 'new')")
    assert cli(env, "data", "undo", "--dsn", str(app_db), "--run", "run-r").returncode == 0
    assert _rows(app_db) == before


def test_nullable_keys_fall_back_to_the_rowid(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "nulls.db"
    _plain(path, "CREATE TABLE n (k TEXT PRIMARY KEY, v TEXT)", "INSERT INTO n VALUES (NULL, 'a'), (NULL, 'b')")
    assert "tracking n (key rowid" in _enable(env, path)
    _run(path, "run-n", "UPDATE n SET v = 'bb' WHERE v = 'b'")
    assert cli(env, "data", "undo", "--dsn", str(path), "--run", "run-n", "--on-conflict", "overwrite").returncode == 0
    assert _open(path).execute("SELECT k, v FROM n ORDER BY rowid").fetchall() == [(None, "a"), (None, "b")]


def test_a_block_that_commits_by_itself_leaves_no_tags_behind(app_db: Path, env: dict[str, str]) -> None:
    _enable(env, app_db)
    db = _open(app_db)
    with pytest.raises(DataError, match="committed its own transaction"), tagged(db, run_id="run-x"):
        db.execute("UPDATE companies SET name = 'x' WHERE id = 1")
        db.execute("COMMIT")
    _plain(app_db, "UPDATE companies SET name = 'y' WHERE id = 2")
    assert db.execute("SELECT run_id FROM _blastdoor_changes ORDER BY id").fetchall() == [("run-x",), ("unknown",)]


def test_restore_gives_new_columns_their_default(env: dict[str, str], app_db: Path) -> None:
    _enable(env, app_db)
    _plain(app_db, "ALTER TABLE companies ADD COLUMN tier INT NOT NULL DEFAULT 7")
    _enable(env, app_db)
    _plain(app_db, "DROP TABLE executives", "DROP TABLE companies")
    assert cli(env, "data", "restore", "--dsn", str(app_db), "--table", "companies").returncode == 0
    assert _open(app_db).execute("SELECT count(*), min(tier), max(tier) FROM companies").fetchone() == (1196, 7, 7)
    refused = cli(env, "data", "enable", "--dsn", str(app_db), "--tables", "_blastdoor_changes")
    assert refused.returncode == 1 and "is row history itself" in refused.stderr


def test_history_made_again_under_a_new_id_is_caught(env: dict[str, str], app_db: Path) -> None:
    _enable(env, app_db)
    _run(app_db, "run-a", "DELETE FROM executives WHERE id <= 3")
    assert cli(env, "data", "seal", "--dsn", str(app_db)).returncode == 0
    _plain(app_db, "DELETE FROM _blastdoor_seals", "DELETE FROM _blastdoor_changes", "UPDATE _blastdoor_meta SET database_id = 'db-0000000000000000'")
    failed = cli(env, "data", "verify", "--dsn", f"sqlite:///{app_db}")
    assert failed.returncode == 1 and "its history was removed and made again" in failed.stderr
