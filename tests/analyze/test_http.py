"""HTTP requests: DELETE and destructive GraphQL mutations delete, GET reads."""

from __future__ import annotations

import json

import pytest

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


@pytest.mark.parametrize(("method", "url", "verb", "target"), [
    ("DELETE", "https://api.machines.dev/v1/apps/shop-production/volumes/vol_123", "destroy", "fly-volume:vol_123"),
    ("DELETE", "https://api.heroku.com/apps/shop/addons/postgresql-curved-123", "destroy", "heroku-addon:postgresql-curved-123"),
    ("DELETE", "https://api.github.com/repos/acme/shop", "destroy", "github-repo:acme/shop"),
    ("DELETE", "https://api.github.com/repos/acme/shop/git/refs/heads/feature-x", "delete", "github-ref:heads/feature-x"),
    ("DELETE", "https://api.cloudflare.com/client/v4/zones/023e105f/dns_records/372e6795", "delete", "cloudflare-dns-record:372e6795"),
    ("DELETE", "https://api.cloudflare.com/client/v4/zones/023e105f", "destroy", "cloudflare-zone:023e105f"),
    ("DELETE", "https://console.neon.tech/api/v2/projects/young-sun-123/branches/br-main", "destroy", "neon-branch:br-main"),
    ("DELETE", "https://api.render.com/v1/postgres/dpg-123", "destroy", "render-postgres:dpg-123"),
    ("DELETE", "https://api.vercel.com/v13/deployments/dpl_89", "delete", "vercel-deployment:dpl_89"),
    ("DELETE", "https://api.netlify.com/api/v1/sites/site-1", "delete", "netlify-site:site-1"),
    ("PATCH", "https://api.vercel.com/v9/projects/shop-prod", "modify", "vercel-project:shop-prod"),
    ("DELETE", "https://abcdefghijklmnopqrst.supabase.co/rest/v1/executives", "delete", "supabase-table:executives"),
])  # fmt: skip
def test_platform_apis_name_the_resource_and_whether_it_holds_data(method: str, url: str, verb: str, target: str) -> None:
    (found,) = analyze_request(method, url, {}, '{"name": "x"}' if method == "PATCH" else None)
    assert found.verb.value == verb and str(found.target) == target


def test_platform_calls_carry_scope_and_graphql_mutations_their_kind() -> None:
    assert decide("curl -X DELETE https://api.machines.dev/v1/apps/shop-production/volumes/vol_1").kind.value == "hold"
    rows = analyze_request("DELETE", "https://abcdefghijklmnopqrstu.supabase.co/rest/v1/executives?id=eq.3")
    everything = analyze_request("DELETE", "https://abcdefghijklmnopqrst.supabase.co/rest/v1/executives")
    assert "filtered" in analyze_request("DELETE", "https://abcdefghijklmnopqrst.supabase.co/rest/v1/executives?id=eq.3")[0].tags
    assert "no-where" in everything[0].tags and rows[0].target.kind == "http-resource"  # 21 characters: not a project host
    body = json.dumps({"query": 'mutation { volumeDelete(volumeId: "v") }'})
    (volume,) = analyze_request("POST", "https://backboard.railway.app/graphql/v2", {}, body)
    assert volume.verb.value == "destroy" and volume.target.kind == "railway-volume"
    domain = json.dumps({"query": 'mutation { customDomainDelete(id: "d") }'})
    (removed,) = analyze_request("POST", "https://backboard.railway.app/graphql/v2", {}, domain)
    assert removed.verb.value == "delete" and removed.target.kind == "railway-custom-domain"


def test_known_platforms_keep_the_generic_checks() -> None:
    (destroy,) = analyze_request("POST", "https://api.fly.io/v1/apps/a/machines/m1/destroy", {}, "{}")
    assert destroy.verb.value == "delete" and str(destroy.target) == "fly-machine:m1"
    body = json.dumps({"query": "mutation { variableDelete(id: 1) deleteProject(id: 2) }"})
    mixed = analyze_request("POST", "https://backboard.railway.app/graphql/v2", {}, body)
    assert {str(e.target.kind) for e in mixed} == {"railway-variable", "http-resource"}
    (listed,) = analyze_request("DELETE", "https://abcdefghijklmnopqrst.supabase.co/rest/v1/users?select=id")
    assert "no-where" in listed.tags
    (nested,) = decide_http("[" * 50_000)
    assert nested == "execute-unknown"


def decide_http(text: str) -> list[str]:
    from blastdoor.judge import judge
    from blastdoor.model import Action, ActionKind
    from blastdoor.policy import load

    return [e.verb.value for e in judge(Action(kind=ActionKind.HTTP, input=text), load()).effects]
