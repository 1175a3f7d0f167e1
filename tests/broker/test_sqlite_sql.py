"""``blastdoor sql`` on a SQLite profile: judged like PostgreSQL's, the whole file saved before a
destructive statement on production, and put back by ``blastdoor restore``."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from blastdoor.broker.profile import Profile
from blastdoor.broker.vault import Vault
from blastdoor.config import Settings
from blastdoor.model import Scope
from tests.broker.conftest import add_profile, cli, entries, snapshot_of
from tests.broker.test_sql import ALLOW_DESTROY, approve


def _database(path: Path) -> str:
    with sqlite3.connect(path) as db:
        db.executescript("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);"
                         "INSERT INTO users (name) VALUES ('ada'), ('grace'), ('linus');")  # fmt: skip
    db.close()
    return f"sqlite:///{path}"


def _names(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        found = [row[0] for row in db.execute("SELECT name FROM users ORDER BY id")]
    db.close()
    return found


def test_reads_print_rows_and_several_statements_run_in_one_transaction(env: dict[str, str], tmp_path: Path) -> None:
    url = _database(tmp_path / "app.db")
    add_profile(env, "dev-lite", scope="development", allow=["*"], values={"DATABASE_URL": url})
    done = cli(env, "sql", "--profile", "dev-lite", "--", "SELECT name FROM users WHERE id < 3 ORDER BY id; SELECT ';' AS semi")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["name", "ada", "grace", "(2 rows)", "semi", ";", "(1 row)"]
    # a failing statement rolls back the ones before it
    failed = cli(env, "sql", "--profile", "dev-lite", "--", "UPDATE users SET name = 'x' WHERE id = 1; SELECT * FROM nowhere")
    assert failed.returncode == 1 and "no such table: nowhere" in failed.stderr and "rolled back" in failed.stderr
    assert _names(tmp_path / "app.db") == ["ada", "grace", "linus"]


def test_a_destructive_statement_on_production_is_held_saved_and_restorable(
    env: dict[str, str], isolated_home: Path, tmp_path: Path
) -> None:
    path = tmp_path / "prod.db"
    add_profile(env, "prod-lite", scope="production", allow=["*"], values={"DATABASE_URL": _database(path)})
    held = cli(env, "sql", "--profile", "prod-lite", "--", "DELETE FROM users")
    assert held.returncode == 4, held.stdout + held.stderr
    assert _names(path) == ["ada", "grace", "linus"]
    approve(isolated_home, env, held.stderr)
    done = cli(env, "sql", "--profile", "prod-lite", "--", "DELETE FROM users")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["DELETE 3"] and _names(path) == []
    snapshot = snapshot_of(done.stderr)
    restored = cli(env, "restore", snapshot)
    assert restored.returncode == 0, restored.stderr
    assert f"{path}: put back as it was before the statement" in restored.stdout
    assert _names(path) == ["ada", "grace", "linus"]
    kinds = [e["type"] for e in entries(isolated_home) if e["type"] in ("snapshot", "broker-sql", "restore")]
    assert kinds == ["snapshot", "broker-sql", "restore"]


def test_the_scheme_is_read_alike_everywhere_whatever_its_case(env: dict[str, str], isolated_home: Path, tmp_path: Path) -> None:
    url = _database(tmp_path / "app.db").replace("sqlite:", "SQLite:", 1)
    add_profile(env, "dev-lite", scope="development", allow=["*"], values={"DATABASE_URL": url})
    done = cli(env, "sql", "--profile", "dev-lite", "--", "SELECT count(*) AS n FROM users")
    assert done.returncode == 0 and done.stdout.splitlines()[:2] == ["n", "3"], done.stderr
    history = cli(env, "data", "enable", "--profile", "dev-lite")
    assert history.returncode == 0, history.stderr
    # a profile's other values: the first database URL counts, whatever case its scheme is written in
    add_profile(env, "dev-lite", scope="development", allow=["*"], values={"APP_DB": url, "OTHER": "x"}, extra=("--replace",))
    assert cli(env, "sql", "--profile", "dev-lite", "--", "SELECT 1").returncode == 0


def test_a_missing_database_file_is_one_line_and_never_created(env: dict[str, str], tmp_path: Path) -> None:
    add_profile(env, "gone", scope="development", allow=["*"], values={"DATABASE_URL": f"sqlite:///{tmp_path}/none.db"})  # four slashes
    done = cli(env, "sql", "--profile", "gone", "--", "SELECT 1")
    assert done.returncode == 1 and "does not exist" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "none.db").exists()


def test_a_saved_copy_that_changed_is_not_restored(env: dict[str, str], isolated_home: Path, tmp_path: Path) -> None:
    path = tmp_path / "prod.db"
    (isolated_home / "policy.toml").write_text(ALLOW_DESTROY)
    add_profile(env, "prod-lite", scope="production", allow=["*"], values={"DATABASE_URL": _database(path)})
    done = cli(env, "sql", "--profile", "prod-lite", "--", "DELETE FROM users WHERE id > 1")
    assert done.returncode == 0, done.stderr
    snapshot = snapshot_of(done.stderr)
    copy = isolated_home / "snapshots" / f"{snapshot}.sqlite3"
    with sqlite3.connect(copy) as db:
        db.execute("UPDATE users SET name = 'forged' WHERE id = 2")
    db.close()
    refused = cli(env, "restore", snapshot)
    assert refused.returncode == 1 and "changed since it was saved" in refused.stderr and "nothing was restored" in refused.stderr
    assert _names(path) == ["ada"]
    copy.unlink()
    gone = cli(env, "restore", snapshot)
    assert gone.returncode == 1 and "is gone" in gone.stderr and _names(path) == ["ada"]


def test_a_snapshot_goes_back_only_into_the_file_it_was_taken_from(env: dict[str, str], isolated_home: Path,
                                                                    tmp_path: Path) -> None:  # fmt: skip
    import json

    (isolated_home / "policy.toml").write_text(ALLOW_DESTROY)
    first, second = tmp_path / "a.db", tmp_path / "b.db"
    add_profile(env, "prod-lite", scope="production", allow=["*"], values={"DATABASE_URL": _database(first)})
    _database(second)
    done = cli(env, "sql", "--profile", "prod-lite", "--", "DELETE FROM users WHERE id > 1")
    assert done.returncode == 0, done.stderr
    snapshot = snapshot_of(done.stderr)
    with sqlite3.connect(second) as db:
        db.execute("UPDATE users SET name = 'bea' WHERE id = 1")
    db.close()
    # the profile stored again, now reaching b.db: a.db's copy must not replace it
    add_profile(env, "prod-lite", scope="production", allow=["*"], values={"DATABASE_URL": f"sqlite:///{second}"},
                extra=("--replace",))  # fmt: skip
    refused = cli(env, "restore", snapshot)
    assert refused.returncode == 1 and f"was taken in file {first}, and profile prod-lite now reaches file {second}" in refused.stderr, refused.stderr
    assert _names(second) == ["bea", "grace", "linus"] and _names(first) == ["ada"]
    # a snapshot from before snapshots recorded their database is refused, with the way to do it by hand
    manifest_path = isolated_home / "snapshots" / f"{snapshot}.json"
    manifest = json.loads(manifest_path.read_text())
    manifest_path.write_text(json.dumps({k: v for k, v in manifest.items() if k != "identity"}))
    add_profile(env, "prod-lite", scope="production", allow=["*"], values={"DATABASE_URL": f"sqlite:///{first}"},
                extra=("--replace",))  # fmt: skip
    old = cli(env, "restore", snapshot)
    assert old.returncode == 1 and "does not say which database it was taken in" in old.stderr, old.stderr
    assert f"listed in {manifest_path}" in old.stderr and _names(first) == ["ada"]
    # another path to the same file is the same database
    manifest_path.write_text(json.dumps(manifest))
    (tmp_path / "link").symlink_to(tmp_path)
    add_profile(env, "prod-lite", scope="production", allow=["*"], values={"DATABASE_URL": f"sqlite:///{tmp_path}/link/a.db"},
                extra=("--replace",))  # fmt: skip
    restored = cli(env, "restore", snapshot)
    assert restored.returncode == 0 and _names(first) == ["ada", "grace", "linus"], restored.stderr
    assert [e["result"] for e in entries(isolated_home) if e["type"] == "restore"] == ["refused", "refused", "done"]


def test_a_relative_path_is_stored_absolute_when_the_profile_is_added(env: dict[str, str], isolated_home: Path,
                                                                      tmp_path: Path) -> None:  # fmt: skip
    (tmp_path / "app").mkdir()
    _database(tmp_path / "app" / "data.db")
    added = cli(env, "profile", "add", "dev-lite", "--scope", "development", "--purpose", "tests", "--allow", "*",
                "--secret", "DATABASE_URL", stdin="sqlite:///app/data.db\n", cwd=tmp_path)  # fmt: skip
    assert added.returncode == 0, added.stderr
    absolute = tmp_path / "app" / "data.db"
    assert f"DATABASE_URL: the relative SQLite path in sqlite:///app/data.db is stored as the absolute {absolute}" in added.stdout
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = cli(env, "sql", "--profile", "dev-lite", "--", "SELECT count(*) AS n FROM users", cwd=elsewhere)
    assert done.returncode == 0 and done.stdout.splitlines()[1] == "3", done.stderr
    assert Vault.of(Settings.resolve(home=str(isolated_home))).get("dev-lite").dsn() == f"sqlite:///{absolute}"


@pytest.mark.parametrize("url, said", [
    ("sqlite://db.internal/app.db", "names the host 'db.internal'"),
    ("sqlite:///app.db?mode=ro", "has options"),
    ("sqlite:///", "names no file"),
])  # fmt: skip
def test_a_sqlite_database_url_that_cannot_be_read_is_stored_as_given_and_refused_by_sql(
    env: dict[str, str], isolated_home: Path, url: str, said: str
) -> None:
    added = cli(env, "profile", "add", "odd", "--scope", "development", "--purpose", "tests", "--allow", "*",
                "--secret", "DATABASE_URL", stdin=url + "\n")  # fmt: skip
    assert added.returncode == 0 and said in added.stdout and "stored as given" in added.stdout, added.stdout + added.stderr
    assert Vault.of(Settings.resolve(home=str(isolated_home))).get("odd").dsn() == url
    done = cli(env, "sql", "--profile", "odd", "--", "SELECT 1")
    assert done.returncode == 1 and said in done.stderr, done.stderr


def test_only_the_database_url_is_read_as_one(env: dict[str, str], isolated_home: Path, tmp_path: Path) -> None:
    # a program's own SQLite setting beside the database URL is the program's business: stored as given
    url = _database(tmp_path / "app.db")
    values = {"DATABASE_URL": url, "CACHE_URL": "sqlite:///cache.db?check_same_thread=false", "JOBS_URL": "sqlite:///jobs.db"}
    add_profile(env, "dev-lite", scope="development", allow=["*"], values=values)
    stored = Vault.of(Settings.resolve(home=str(isolated_home))).get("dev-lite")
    assert dict(stored.secrets) == values
    same = 'test "$CACHE_URL" = "sqlite:///cache.db?check_same_thread=false" && test "$JOBS_URL" = sqlite:///jobs.db'
    assert cli(env, "exec", "--profile", "dev-lite", "--", "sh", "-c", same).returncode == 0


def test_a_stored_relative_path_is_refused_not_guessed(env: dict[str, str], isolated_home: Path, tmp_path: Path) -> None:
    # a profile stored before relative paths were made absolute: sqlite:///srv/app.db once meant /srv/app.db here
    stored = Profile(name="old-lite", scope=Scope.DEVELOPMENT, purpose="tests", allow=("*",),
                     secrets={"DATABASE_URL": "sqlite:///srv/app.db"})  # fmt: skip
    Vault.of(Settings.resolve(home=str(isolated_home))).add(stored)
    done = cli(env, "sql", "--profile", "old-lite", "--", "SELECT 1", cwd=tmp_path)
    assert done.returncode == 1 and "names the relative path srv/app.db" in done.stderr, done.stderr
    assert "sqlite:////srv/app.db if /srv/app.db is meant" in done.stderr
