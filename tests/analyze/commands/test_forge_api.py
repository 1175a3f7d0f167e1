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


@pytest.mark.parametrize(
    ("command", "url"),
    [
        ("gh api repos/o/r", "https://api.github.com/repos/o/r"),
        ("gh api --hostname ghe.example.com repos/o/r", "https://ghe.example.com/api/v3/repos/o/r"),
        # a GitHub Enterprise server's GraphQL endpoint is /api/graphql, not under /api/v3/
        (
            "gh api --hostname ghe.example.com graphql -f query=x",
            "https://ghe.example.com/api/graphql",
        ),
        ("glab api projects/42", "https://gitlab.com/api/v4/projects/42"),
        ("glab api /projects/42", "https://gitlab.com/api/v4/projects/42"),
        (
            "glab api --hostname gl.example.com projects/42",
            "https://gl.example.com/api/v4/projects/42",
        ),
        ("glab api graphql -f query=x", "https://gitlab.com/api/graphql"),
        ("glab api https://gl.example.com/api/v4/users", "https://gl.example.com/api/v4/users"),
    ],
)
def test_gh_and_glab_requests_go_to_their_forge(command: str, url: str) -> None:
    [found] = decide(command).effects
    assert url in found.detail or found.target.name == url


def test_a_glab_graphql_mutation_is_judged_by_its_field() -> None:
    mutation = 'query=mutation { projectDelete(input: {fullPath: "acme/site"}) { errors } }'
    found = decide(f"glab api graphql -f '{mutation}'")
    assert found.kind.value == "hold"
    assert [e.verb.value for e in found.effects] == ["delete"]
