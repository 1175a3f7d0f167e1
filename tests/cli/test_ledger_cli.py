"""``blastdoor check`` records; ``blastdoor ledger ...`` reads, verifies and proves (through ``main``)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from blastdoor.cli.main import main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _db(home: Path) -> Path:
    return home / "blastdoor.db"


def test_check_records_and_show_filters(
    isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(capsys, "check", "--session", "s-1", "--", "rm -rf /")[0] == 5
    assert _run(capsys, "check", "--session", "s-2", "--", "git status")[0] == 0
    assert _run(capsys, "check", "--no-record", "--", "ls")[0] == 0
    code, out, _ = _run(capsys, "ledger", "show")
    assert code == 0
    assert "rm -rf /" in out and "git status" in out and " ls" not in out
    code, out, _ = _run(capsys, "ledger", "show", "--decision", "deny")
    assert "rm -rf /" in out and "git status" not in out
    code, out, _ = _run(capsys, "ledger", "show", "--session", "s-2")
    assert "git status" in out and "rm -rf" not in out


def test_export_jsonl_and_verify(
    isolated_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "acme" / "infra").mkdir(parents=True)
    _run(
        capsys,
        "check",
        "--cwd",
        str(tmp_path / "acme" / "infra"),
        "--",
        "terraform destroy -auto-approve",
    )
    code, out, _ = _run(capsys, "ledger", "export", "--format", "jsonl")
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and records[-1]["entry"]["decision"]["decision"] in ("hold", "deny")
    code, out, _ = _run(capsys, "ledger", "verify")
    assert code == 0 and out.splitlines()[-1].startswith("OK: 2 entries")


def test_tampering_fails_verify_and_is_left_out_of_show(
    isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for command in ("rm -rf /", "git status", "ls"):
        _run(capsys, "check", "--", command)
    with sqlite3.connect(_db(isolated_home)) as db:
        db.execute(
            "UPDATE ledger_entries SET body = replace(body, 'rm -rf /', 'echo ok') WHERE seq = 2"
        )
    code, out, _ = _run(capsys, "ledger", "verify")
    assert code == 6 and "first bad entry: 2" in out
    code, out, err = _run(capsys, "ledger", "show")
    assert code == 6 and "echo ok" not in out and "git status" in out
    assert "1 entries failed verification" in err


def test_prove_and_check_proof_offline(
    isolated_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for command in ("rm -rf /", "git status", "ls", "make build"):
        _run(capsys, "check", "--", command)
    code, out, _ = _run(capsys, "ledger", "prove", "3")
    assert code == 0
    proof = tmp_path / "proof.json"
    proof.write_text(out)
    key = str(isolated_home / "keys" / "install.ed25519.pub")
    code, out, _ = _run(capsys, "ledger", "check-proof", str(proof), "--key", key)
    assert code == 0 and out.startswith("OK: entry 3 is in the ledger")
    document = json.loads(proof.read_text())
    document["body"] = document["body"].replace("git status", "git push --force")
    proof.write_text(json.dumps(document))
    code, _, err = _run(capsys, "ledger", "check-proof", str(proof), "--key", key)
    assert code == 1 and err.count("\n") == 1


def test_consistency_between_checkpoints(
    isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _run(capsys, "check", "--", "ls")
    _run(capsys, "ledger", "checkpoint")
    _run(capsys, "check", "--", "pwd")
    _run(capsys, "ledger", "checkpoint")
    code, out, _ = _run(capsys, "ledger", "consistency", "1", "2")
    assert code == 0 and json.loads(out)["format"] == "blastdoor-consistency-proof/v1"


def test_a_corrupt_database_is_a_one_line_error_and_is_not_rewritten(
    isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    garbage = b"this is not a database" * 100
    _db(isolated_home).write_bytes(garbage)
    code, _, err = _run(capsys, "check", "--", "ls")
    assert code == 1 and err.count("\n") == 1 and "cannot be read" in err and "Traceback" not in err
    assert _db(isolated_home).read_bytes() == garbage


def test_an_unsupported_url_is_a_one_line_error(
    isolated_home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BLASTDOOR_DATABASE_URL", "mysql://root@localhost/x")
    code, _, err = _run(capsys, "ledger", "verify")
    assert code == 1 and "unsupported ledger database URL" in err and err.count("\n") == 1


def test_a_wrong_postgres_password_is_a_one_line_error(
    isolated_home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BLASTDOOR_DATABASE_URL", "postgresql://nobody:wrong@127.0.0.1:1/none")
    code, _, err = _run(capsys, "check", "--", "ls")
    assert code == 1 and "cannot connect to the ledger database" in err and "wrong" not in err
    assert err.count("\n") == 1


def test_a_missing_private_key_is_reported_not_replaced(
    isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _run(capsys, "check", "--", "ls")
    (isolated_home / "keys" / "install.ed25519").unlink()
    code, _, err = _run(capsys, "ledger", "checkpoint")
    assert code == 1 and "missing" in err and err.count("\n") == 1
    assert not (isolated_home / "keys" / "install.ed25519").exists()


def test_batch_records_only_when_asked(
    isolated_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    actions = tmp_path / "actions.jsonl"
    actions.write_text(
        '{"id": 1, "kind": "shell", "input": "rm -rf /"}\n{"id": 2, "kind": "shell", "input": "ls"}\n'
    )
    _run(capsys, "check", "--batch", str(actions))
    _run(capsys, "check", "--batch", str(actions), "--record")
    code, out, _ = _run(capsys, "ledger", "tail", "-n", "50", "--once")
    assert (
        code == 0 and len(out.splitlines()) == 3
    )  # the first entry names the key, then the two recorded
