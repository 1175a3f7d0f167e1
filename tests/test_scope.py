"""Scope resolution: a target's own name, the host it lands on, then the context."""

from __future__ import annotations

import pytest

from blastdoor.model import Effect, Scope, Target, Verb
from blastdoor.scope import ScopeConfig, resolve
from tests.conftest import decide


def scoped(
    target: Target, *tags: str, env: dict[str, str] | None = None, config: ScopeConfig | None = None
) -> Scope:
    found = Effect(verb=Verb.DELETE, target=target, detail="x", evidence="x", tags=frozenset(tags))
    return resolve(found, env=env or {}, config=config or ScopeConfig()).scope


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://api.example.com/prod/users", Scope.UNKNOWN),
        ("https://api.dev.example.com/v1/prod", Scope.DEVELOPMENT),
        ("https://api.prod.example.com/v1/dev-report", Scope.PRODUCTION),
        ("http://localhost:8080/production/reset", Scope.DEVELOPMENT),
        (
            "postgres://db.internal/app_prod",
            Scope.PRODUCTION,
        ),  # a database URL's path is the database
    ],
)
def test_a_web_url_is_scoped_by_its_host_only(url: str, expected: Scope) -> None:
    assert scoped(Target("http-resource", url), f"host={url.split('/')[2]}") is expected


def test_a_configured_pattern_still_sees_the_whole_url() -> None:
    config = ScopeConfig(names={Scope.STAGING: ("https://api.example.com/stage/*",)})
    assert (
        scoped(Target("http-resource", "https://api.example.com/stage/x"), config=config)
        is Scope.STAGING
    )


def test_an_effect_on_an_ssh_host_takes_the_host_scope() -> None:
    on_host = ("on-host", "via-ssh", "remote", "host=prod-db-1")
    assert scoped(Target("path", "/srv/dev-data"), *on_host) is Scope.PRODUCTION
    assert (
        scoped(Target("path", "/srv/prod-data"), "on-host", "via-ssh", "host=build-7")
        is Scope.UNKNOWN
    )


def test_localhost_seen_from_an_ssh_host_is_that_host() -> None:
    tags = ("via-ssh", "remote", "host=prod-db-1", "host=localhost")
    assert scoped(Target("database", "localhost"), *tags) is Scope.PRODUCTION


def test_this_machines_environment_does_not_scope_a_remote_host() -> None:
    tags = ("on-host", "via-ssh", "host=box-7")
    assert (
        scoped(Target("path", "/srv/app"), *tags, env={"APP_ENV": "development"}) is Scope.UNKNOWN
    )


@pytest.mark.parametrize(
    ("command", "expected", "scope"),
    [
        ("ssh prod-db-1 'rm -rf /var/lib/postgresql'", "deny", "production"),
        ("ssh deploy@prod-db-1 'rm -rf data'", "hold", "production"),
        ("ssh prod-api git reset --hard", "hold", "production"),
        ("ssh dev-box 'rm -rf data'", "allow", "development"),
        ("ssh prod-db-1 'psql -c \"drop table users\"'", "hold", "production"),
        ("ssh prod-db-1 'systemctl stop api'", "hold", "production"),
    ],
)
def test_ssh_effects_take_the_host_scope(command: str, expected: str, scope: str) -> None:
    decision = decide(command)
    assert decision.kind.value == expected
    assert {e.scope.value for e in decision.effects if e.verb is not Verb.EXECUTE} == {scope}


def test_the_workspace_allowances_do_not_apply_on_another_host() -> None:
    # Temporary folders and build output are the local column of the table; on a host of unknown
    # environment the table holds, as for any deletion there.
    assert decide("rm -rf /tmp/data").kind.value == "allow"
    assert decide("ssh user@host 'rm -rf /tmp/data'").kind.value == "hold"
    assert decide("ssh host 'rm -rf ./build'").kind.value == "hold"
    assert decide("ssh dev-box 'rm -rf ./build'").kind.value == "allow"


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        # a development-looking resource name alone does not say which account it lives in
        ("aws sns delete-topic --topic-arn test-alerts", "hold"),
        ("aws logs delete-log-group --log-group-name dev-app", "hold"),
        ("kubectl delete deployment web -n test", "hold"),
        ("gcloud storage buckets delete gs://sandbox-exports", "hold"),
        # hints that choose the environment still lower it
        ("aws sns delete-topic --topic-arn test-alerts --profile dev", "allow"),
        ("AWS_PROFILE=sandbox aws logs delete-log-group --log-group-name app", "allow"),
        ("kubectl --context dev delete deployment web -n test", "allow"),
        ("gcloud storage buckets delete gs://exports --project my-dev", "allow"),
        # a name may still raise the scope
        ("aws logs delete-log-group --log-group-name prod-app --profile dev", "hold"),
        ("kubectl delete namespace staging", "ask"),
        # creates and reversible changes keep reading the name
        ("aws s3 cp build.zip s3://dev-artifacts/build.zip", "allow"),
        # machines and database servers are located by their names, as before
        ("psql -h dev-db -c 'DROP TABLE users'", "allow"),
    ],
)
def test_a_resource_name_raises_but_does_not_lower_a_deletion(command: str, expected: str) -> None:
    assert decide(command).kind.value == expected


def test_the_context_environment_still_lowers_a_resource_deletion() -> None:
    command = "aws sns delete-topic --topic-arn alerts"
    assert decide(command).kind.value == "hold"
    assert decide(command, env={"AWS_PROFILE": "dev"}).kind.value == "allow"


def test_the_configured_names_still_lower_a_resource_deletion() -> None:
    config = ScopeConfig(names={Scope.DEVELOPMENT: ("test-*",)})
    target = Target("aws-sns", "test-alerts")
    assert scoped(target, "cloud-resource") is Scope.UNKNOWN
    assert scoped(target, "cloud-resource", config=config) is Scope.DEVELOPMENT


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("psql -h localhost -c 'DROP TABLE users'", "ask"),  # data on this machine: neither rebuilt nor committed
        ("psql -h 127.0.0.1 -c 'DELETE FROM users'", "ask"),
        ("redis-cli -h localhost FLUSHALL", "ask"),
        ("curl -X DELETE http://localhost:9200/logs-2026", "ask"),
        ("curl -X DELETE http://search.local:9200/logs-2026", "ask"),
        ("psql -h localhost -c 'DELETE FROM users WHERE id = 3'", "allow"),  # one row, chosen
        ("psql -h localhost -c 'SELECT count(*) FROM users'", "allow"),
        ("psql -h dev-db.example.com -c 'DROP TABLE users'", "allow"),  # a named development server
        ("rm -rf ./build", "allow"),
    ],
)
def test_data_kept_by_a_server_on_this_machine_is_asked_about_before_it_is_wiped(command: str, expected: str) -> None:
    decision = decide(command)
    assert decision.kind.value == expected, (command, decision.rule_ids)
    if expected == "ask":
        assert "table.this-machine-data" in decision.rule_ids


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("ssh-keygen -R example.com", "ask"),  # the host's recorded key is forgotten (~/.ssh/known_hosts)
        ("ssh-keygen -l -f key.pub", "allow"),
        ("ssh-keygen -F github.com", "allow"),
        ("ssh-keygen -t ed25519 -f ./deploy_key -N ''", "allow"),
        ("ssh-keygen --help", "allow"),  # no long options: it prints its usage
        ("ssh-keygen -t ecdsa -N ''", "ask"),  # writes ~/.ssh/id_ecdsa
        ("ssh-add -D", "ask"),  # the agent's identities are removed; the keys stay on disk
        ("ssh-add -l", "allow"),
        ("cp build/app.conf ~/.config/app.conf", "ask"),  # a file in the home folder is overwritten
        ("cp build/app.conf ./app.conf", "allow"),
    ],
)
def test_home_files_and_ssh_key_stores(command: str, expected: str) -> None:
    assert decide(command).kind.value == expected, (command, decide(command).rule_ids)
