"""Profiles as a person stores them: sealed at rest, never shown, unusable once edited."""

from __future__ import annotations

import json
from pathlib import Path

from tests.broker.conftest import (
    SECRET,
    add_profile,
    cli,
    cli_in_a_deleted_folder,
    entries,
    ledger_bytes,
)

URL = f"postgresql://app:{SECRET}@prod-db.internal:5432/app"


def test_a_stored_profile_never_shows_its_secret(env: dict[str, str], isolated_home: Path) -> None:
    add_profile(env, "prod-db", scope="production", allow=["read", "modify:database"], values={"DATABASE_URL": URL})
    listed, shown = cli(env, "profile", "list"), cli(env, "profile", "show", "prod-db")
    assert "prod-db  production  allows read, modify:database" in listed.stdout
    assert "variables DATABASE_URL" in shown.stdout
    assert SECRET not in ledger_bytes(isolated_home).decode("latin-1")  # files, database, keys: nowhere in clear
    added = [e for e in entries(isolated_home) if e["type"] == "profile-added"]
    assert added and added[0]["allow"] == ["read", "modify:database"] and added[0]["variables"] == ["DATABASE_URL"]


def test_widening_a_profile_by_editing_its_file_makes_it_unusable(env: dict[str, str], isolated_home: Path) -> None:
    add_profile(env, "prod-db", scope="production", allow=["read"], values={"DATABASE_URL": URL})
    path = isolated_home / "profiles" / "prod-db.json"
    document = json.loads(path.read_text())
    document["profile"]["allow"] = ["*"]
    path.write_text(json.dumps(document))
    done = cli(env, "exec", "--profile", "prod-db", "--", "true")
    assert done.returncode == 1
    assert "profile prod-db was changed after it was stored" in done.stderr and "Traceback" not in done.stderr
    assert "UNUSABLE" in cli(env, "profile", "list").stdout


def test_bad_input_stores_nothing(env: dict[str, str], isolated_home: Path) -> None:
    cases = [
        (["profile", "add", "Bad Name", "--scope", "production", "--purpose", "x", "--secret", "A"], "x\n", "not a plain lower-case name"),
        (["profile", "add", "p", "--scope", "production", "--purpose", "x", "--secret", "A"], "", "no value for A"),
        (["profile", "add", "p", "--scope", "production", "--purpose", "x", "--secret", "A", "--allow", "obliterate"], "x\n", "is not a verb"),
        (["profile", "add", "p", "--scope", "production", "--purpose", "x", "--secret", "1A"], "x\n", "not an environment variable name"),
        (["profile", "add", "p", "--scope", "production", "--purpose", "x", "--secret", "A"], "a" * 70000 + "\n", "not a credential"),
        (["profile", "add", "p", "--scope", "production", "--purpose", "x", "--secret", "A", "--values-json"], "{not json", "not a JSON object"),
    ]  # fmt: skip
    for args, stdin, message in cases:
        done = cli(env, *args, stdin=stdin)
        assert done.returncode == 1 and message in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not list(isolated_home.glob("profiles/*"))
    assert "no profile named nothing" in cli(env, "exec", "--profile", "nothing", "--", "true").stderr


def test_a_second_add_needs_replace(env: dict[str, str]) -> None:
    add_profile(env, "p", scope="staging", allow=["read"], values={"A": "first-value"})
    again = cli(env, "profile", "add", "p", "--scope", "staging", "--purpose", "x", "--secret", "A", stdin="v2\n")
    assert again.returncode == 1 and "--replace" in again.stderr
    assert cli(env, "profile", "remove", "p").returncode == 0
    assert "no profiles yet" in cli(env, "profile", "list").stdout


def test_an_agent_cannot_store_or_restore(env: dict[str, str]) -> None:
    for command in ("blastdoor profile add x --scope production --purpose y --secret A", "blastdoor restore s-0123456789ab"):
        done = cli(env, "check", "--no-record", "--", command)
        assert done.returncode == 5 and "guard.self-protection" in done.stdout
    assert cli(env, "check", "--no-record", "--", "blastdoor profile list").returncode == 0


def test_a_deleted_working_folder_matters_only_to_a_relative_sqlite_path(env: dict[str, str], isolated_home: Path,
                                                                         tmp_path: Path) -> None:  # fmt: skip
    add = ("profile", "add", "p", "--scope", "development", "--purpose", "x", "--secret", "DATABASE_URL", "--replace")
    stored = cli_in_a_deleted_folder(env, tmp_path / "gone", *add, stdin=URL + "\n")
    assert stored.returncode == 0 and "stored profile p" in stored.stdout, stored.stderr
    absolute = cli_in_a_deleted_folder(env, tmp_path / "gone", *add, stdin="sqlite:////srv/app.db\n")
    assert absolute.returncode == 0, absolute.stderr
    relative = cli_in_a_deleted_folder(env, tmp_path / "gone", *add, stdin="sqlite:///app.db\n")
    assert relative.returncode == 1 and "the working folder it is relative to cannot be read" in relative.stderr
    assert len(relative.stderr.strip().splitlines()) == 1, relative.stderr
