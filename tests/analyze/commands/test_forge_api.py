"""``gh api`` and ``glab api`` are read one way: -X/--method, else POST when fields or --input."""

from __future__ import annotations

import pytest

from blastdoor.analyze.commands.forge_api import read_call
from blastdoor.analyze.invocation import Word
from tests.conftest import decide


@pytest.mark.parametrize(
    ("args", "method"),
    [
        ("repos/o/r", "GET"),
        ("-X DELETE repos/o/r", "DELETE"),
        ("-XDELETE repos/o/r", "DELETE"),
        ("-X=delete repos/o/r", "DELETE"),
        ("--method=PATCH repos/o/r", "PATCH"),
        ("repos/o/r/hooks -f name=web", "POST"),
        ("repos/o/r/hooks --raw-field name=web", "POST"),
        ("repos/o/r/hooks -F active=true", "POST"),
        ("repos/o/r/hooks --input hook.json", "POST"),
        ("-X GET search/issues -f q=bug", "GET"),  # an explicit method wins over the fields
        ("--paginate -i repos/o/r/issues", "GET"),
        ("-iX DELETE repos/o/r", "DELETE"),  # pflag bundles letters: -i -X DELETE
        ("-iXDELETE repos/o/r", "DELETE"),
    ],
)
def test_the_method_is_read_as_gh_and_glab_document_it(args: str, method: str) -> None:
    call = read_call([Word(w) for w in args.split()])
    assert call.method == method
    assert call.endpoint.startswith(("repos/", "search/"))


def test_a_graphql_body_is_its_query_field() -> None:
    words = ["graphql", "-F", "id=5", "-f", "query=mutation { deleteRepository }"]
    assert read_call([Word(w) for w in words]).body == "mutation { deleteRepository }"


@pytest.mark.parametrize("tool", ["gh", "glab"])
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("-XDELETE {repo}", "hold"),
        ("--method DELETE {repo}", "hold"),
        ("{repo}/hooks --input hook.json", "ask"),
        ("{repo}/hooks --raw-field url=https://example.com/hook", "ask"),
        ("--paginate {repo}/issues", "allow"),
    ],
)
def test_gh_and_glab_decide_alike(tool: str, args: str, expected: str) -> None:
    repo = "repos/acme/site" if tool == "gh" else "projects/123"
    assert decide(f"{tool} api {args.format(repo=repo)}").kind.value == expected
