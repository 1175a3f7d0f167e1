"""Valid bash that tree-sitter-bash rejects is rewritten into an equivalent it parses."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from blastdoor.analyze.bash_repair import repaired
from blastdoor.analyze.bash_tree import parse
from blastdoor.model import Verb
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
