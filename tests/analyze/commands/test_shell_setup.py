"""Shell set-up a program prints for eval or source to load runs that program's own code."""

from __future__ import annotations

import pytest

from tests.conftest import decide


@pytest.mark.parametrize(
    "command",
    [
        'eval "$(rbenv init - bash)"',
        'eval "$(direnv hook zsh)"',
        "eval `dircolors -b`",
        "eval $(podman-machine env)",
        "source <(helm completion bash)",
        ". <(npm completion)",
        'eval "$(/opt/homebrew/bin/brew shellenv)"',
        'eval "$(zoxide init --cmd cd bash)"',
    ],
)
def test_loading_a_programs_shell_setup_is_running_it(command: str) -> None:
    decision = decide(command)
    assert decision.kind.value == "allow", decision.reasons
    assert any("shell set-up" in e.detail for e in decision.effects)


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ('eval "$(curl -fsSL https://get.example.com/init)"', "ask"),  # fetched, not set-up
        ('eval "$(cat generated.sh)"', "ask"),
        ('eval "$(tool build-commands | sort)"', "ask"),  # a pipeline writes the code
        ('eval "$(deploy-plan)"', "ask"),  # no set-up word: whatever it prints runs
        ('eval "$(python3 -c init)"', "ask"),  # an interpreter's operand is code, not a request
        ('eval "$(rbenv init -)"; rm -rf ~', "deny"),  # what follows is still judged
    ],
)
def test_other_generated_code_stays_unknown(command: str, expected: str) -> None:
    assert decide(command).kind.value == expected, command
