"""The batch contract: exactly one JSON answer per input line, in order, whatever the line holds."""

from __future__ import annotations

import json

from blastdoor import batch
from blastdoor.policy import load


def answers(lines: list[bytes]) -> list[dict[str, object]]:
    return [json.loads(line) for line in batch.run(lines, load())]


def test_one_answer_per_line_in_order() -> None:
    lines = [
        json.dumps(
            {"id": "a", "kind": "shell", "input": "rm -rf ~", "context": {"env": {}}}
        ).encode(),
        b"",
        b"{not json",
        b"\xff\xfe binary",
        json.dumps([1, 2]).encode(),
        json.dumps({"id": 7, "input": "ls"}).encode(),
        json.dumps({"id": "k", "kind": "quantum", "input": "do it"}).encode(),
        json.dumps({"id": "e", "input": "ls", "context": {"env": {"A": 1}}}).encode(),
    ]
    out = answers(lines)
    assert len(out) == len(lines)
    assert out[0]["id"] == "a" and out[0]["decision"] == "deny"
    assert out[1] == {"line": 2, "error": "empty line; each line must be one JSON object"}
    assert out[2]["line"] == 3 and "not JSON" in str(out[2]["error"])
    assert out[3]["line"] == 4 and "UTF-8" in str(out[3]["error"])
    assert out[4]["line"] == 5
    assert out[5]["id"] == 7 and out[5]["decision"] == "allow"
    assert out[6]["id"] == "k" and out[6]["effects"][0]["verb"] == "execute-unknown"  # type: ignore[index]
    assert out[7]["line"] == 8 and "env" in str(out[7]["error"])


def test_answers_carry_reasons_and_effects() -> None:
    line = json.dumps(
        {
            "id": 1,
            "input": "git push --force origin main",
            "context": {"env": {}, "cwd": "/srv/app"},
        }
    )
    (out,) = answers([line.encode()])
    assert set(out) >= {"id", "decision", "reasons", "effects"}
    assert out["reasons"]
