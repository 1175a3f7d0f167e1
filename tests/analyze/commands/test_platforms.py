"""Hosting platforms and package indexes: deleting apps, volumes and repositories is held."""

from __future__ import annotations

import pytest

from blastdoor.judge import judge
from blastdoor.model import Action
from blastdoor.policy import load


def decide(command: str, **context: object) -> str:
    return judge(Action.shell(command, **context), load(), files=lambda _p: None).kind.value


@pytest.mark.parametrize(
    "command",
    [
        "heroku apps:destroy --app shop-api --confirm shop-api",
        "heroku pg:reset DATABASE_URL -a shop-api",
        "fly volumes destroy vol_123 -y",
        "flyctl apps destroy shop",
        "railway volume delete pgdata",
        "vercel remove shop-web --yes",
        "netlify sites:delete",
        "gh repo delete acme/site --yes",
        "gh api -X DELETE repos/acme/site",
        "firebase firestore:delete --all-collections",
        "supabase db reset --linked",
        "twine upload dist/*",
        "gem yank mygem -v 1.0.0",
        "heroku run rails db:drop -a shop-api",
        "vercel --prod",
    ],
)
def test_destructive_or_production_actions_are_held(command: str) -> None:
    assert decide(command) == "hold"


@pytest.mark.parametrize(
    "command",
    [
        "heroku logs --tail -a shop-api",
        "fly status",
        "vercel list",
        "netlify status",
        "gh pr list",
        "gh pr create --fill",
        "gh repo clone acme/site",
        "railway logs",
        "vercel deploy",
        "supabase db reset",
        "cargo build --release",
    ],
)
def test_reads_and_previews_pass(command: str) -> None:
    assert decide(command) == "allow"


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        # arg (vercel) and oclif (heroku) refuse an option-like word as --token's or --app's value:
        # the option after it is read
        ("vercel --token --prod", "hold"),
        ("heroku apps:destroy --app --help", "allow"),
    ],
)
def test_a_valued_option_is_read_as_the_platforms_parser_reads_it(
    command: str, expected: str
) -> None:
    assert decide(command) == expected


def test_changes_to_unknown_environments_ask() -> None:
    assert decide("fly deploy") == "ask"
    assert decide("heroku ps:scale web=0 -a shop") == "ask"
    assert decide("gh pr merge 12 --squash") == "ask"
    assert decide("heroku config -a shop") == "ask"  # prints secrets


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("gh repo sync", "allow"),  # the local clone, from its remote
        ("gh repo sync owner/fork", "ask"),  # a fork on GitHub
        ("gh ext create gh-hello", "allow"),
        ("gh ext upgrade --all", "allow"),
    ],
)
def test_gh_commands_that_stay_on_this_machine(command: str, expected: str) -> None:
    assert decide(command) == expected
