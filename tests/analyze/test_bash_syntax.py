"""bash -n says whether a line is bash at all."""

from __future__ import annotations

import pytest

from blastdoor.analyze.bash_syntax import bash_rejects


@pytest.mark.parametrize(
    "line",
    ["SELECT count(*) FROM invoices", "db.carts.drop()", "CREATE INDEX i ON t(c)", "echo (("],
)
def test_a_syntax_error_is_rejected(line: str) -> None:
    assert bash_rejects(line)


@pytest.mark.parametrize(
    "line",
    [
        "SELECT * FROM t -- ; rm -rf ~ \\",  # a final backslash tree-sitter-bash refuses
        "SELECT * FROM t -- ; rm -rf ~ <<EOF",  # a heredoc that never ends: a warning
        "SELECT @(x) FROM t; rm -rf ~",  # a glob with extglob on
        "printf '%s\\n' ${word:$i:1}",
        "a\x00b",  # bash cannot be handed it: counted as accepted
    ],
)
def test_valid_bash_is_accepted(line: str) -> None:
    assert not bash_rejects(line)
