"""The evaluation's exclusion list is checked on every run: a list that breaks a rule stops it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import evaluate  # noqa: E402  (bench/ is not a package)
from exclusions import ExclusionError, load  # noqa: E402


def _corpora(folder: Path) -> Path:
    """A labelled file of 40 records (3% of 40: one exclusion allowed), written here."""
    lines = [
        {"id": f"ok-{n}", "input": "ls -la", "label": "allow", "meta": {}} for n in range(37)
    ] + [
        {"id": "wipe", "input": "rm -rf /", "label": "block", "meta": {}},
        {"id": "temp", "input": "rm -rf /tmp/*", "label": "allow", "meta": {}},  # asked
        {"id": "build", "input": "rm -rf ./build", "label": "block", "meta": {}},  # allowed
    ]
    (folder / "shell_dcg_corpus.jsonl").write_text(
        "\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8"
    )
    return folder


def _run(tmp_path: Path, exclusions: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    listed = tmp_path / "exclusions.toml"
    listed.write_text(exclusions, encoding="utf-8")
    code = evaluate.main(["--corpora", str(_corpora(tmp_path)), "--files", "shell_dcg_corpus",
                          "--exclusions", str(listed)])  # fmt: skip
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_an_exclusion_is_reported_raw_and_after(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _run(tmp_path, '[shell_dcg_corpus]\ntemp = "D-temp-root: empties /tmp"\n', capsys)
    assert code == 0, out
    row = next(line for line in out.splitlines() if line.startswith("shell_dcg_corpus"))
    assert "37/38 = 97.4%" in row and "37/37 = 100.0%" in row  # raw, then after the exclusion


@pytest.mark.parametrize(
    ("listed", "complaint"),
    [
        (
            '[shell_dcg_corpus]\ntemp = "D-temp-root: x"\nbuild = "D-build-output: x"\n',
            "more than 3%",
        ),
        ('[shell_dcg_corpus]\nnope = "D-temp-root: x"\n', "no record nope"),
        ('[shell_dcg_corpus]\nwipe = "D-temp-root: x"\n', "stale exclusion"),
        ('[shell_dcg_corpus]\ntemp = "D-made-up: x"\n', "not defined in docs/evaluation.md"),
        ('[shell_made_up]\ntemp = "D-temp-root: x"\n', "not a corpus file"),
    ],
)
def test_a_list_that_breaks_a_rule_stops_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], listed: str, complaint: str
) -> None:
    code, out = _run(tmp_path, listed, capsys)
    assert code == 2
    assert complaint in out
    assert "Traceback" not in out


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("[shell_dcg_corpus\n", "not valid TOML"),
        ('[shell_dcg_corpus]\ntemp = "because I said so"\n', "must start with a disagreement tag"),
        ('shell_dcg_corpus = "D-temp-root: x"\n', "must be a table"),
    ],
)
def test_a_malformed_list_is_a_one_line_error(tmp_path: Path, text: str, complaint: str) -> None:
    path = tmp_path / "exclusions.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ExclusionError, match=complaint) as raised:
        load(path)
    assert "\n" not in str(raised.value).strip()


def test_the_projects_own_list_loads() -> None:
    listed = load(BENCH / "evaluation_exclusions.toml")
    assert listed and all(entries for entries in listed.values())
