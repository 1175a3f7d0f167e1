"""HTTP requests: DELETE and destructive GraphQL mutations delete, GET reads."""

from __future__ import annotations

import json

from blastdoor.analyze.http import analyze_request, graphql_fields, resource_name
from blastdoor.model import Reversibility, Verb
from tests.conftest import decide


def test_methods() -> None:
    assert analyze_request("GET", "https://api.example.org/v1/items")[0].verb is Verb.READ
    deleted = analyze_request("DELETE", "https://api.example.org/v1/items/7")[0]
    assert deleted.verb is Verb.DELETE and deleted.reversibility is Reversibility.IRREVERSIBLE
    assert "host=api.example.org" in deleted.tags
    assert analyze_request("PATCH", "https://api.example.org/v1/items/7")[0].verb is Verb.MODIFY


def test_graphql_mutation_names() -> None:
    body = json.dumps(
        {"query": "mutation Wipe($id: String!) { gone: volumeDelete(volumeId: $id) }"}
    )
    assert graphql_fields(body) == ("mutation", ["volumeDelete"])
    found = analyze_request("POST", "https://backboard.example.app/graphql/v2", None, body)[0]
    assert found.verb is Verb.DELETE and "destructive-mutation" in found.tags
    harmless = json.dumps({"query": 'mutation { projectUpdate(id: 1, name: "x") { id } }'})
    assert (
        analyze_request("POST", "https://x.example/graphql", None, harmless)[0].verb is Verb.MODIFY
    )
    query = json.dumps({"query": "{ me { projects { name } } }"})
    assert analyze_request("POST", "https://x.example/graphql", None, query)[0].verb is Verb.READ


def test_path_words_do_not_name_the_environment() -> None:
    url = "https://api.mail.example/v3/bounces/user@test.com"
    assert resource_name(url) == url
    assert resource_name("https://db.staging.example/v1/x?y=1") == "https://db.staging.example/v1/x"
    decision = decide(f"curl -X DELETE {url}")
    assert decision.kind.value == "hold"  # the host names no environment: unknown, not "test"
    assert all(e.scope.value == "unknown" for e in decision.effects)
