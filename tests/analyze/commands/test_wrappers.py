"""Programs that run other programs: xargs, parallel, env."""

from __future__ import annotations

import pytest

from tests.conftest import decide


@pytest.mark.parametrize(
    "command",
    [
        "echo / | xargs -i rm -rf {}",  # -i is -I {}: it takes no separate value
        "echo / | xargs -iXX rm -rf XX",
        "echo / | xargs --replace bash -c 'rm -rf {}'",
        "echo / | xargs -J % rm -rf %",  # BSD: the input goes where % stands
        "echo / | xargs --process-slot-var SLOT rm -rf",
        "printf 'rm -rf /\\n' | xargs -I{} sh -c {}",  # one command per line, the whole line
        "env - rm -rf /",  # `env -` empties the environment and runs the rest
        "printf 'rm -rf /\\n' | parallel",  # parallel runs each input line as a command
    ],
)
def test_wrapped_deletion_of_root_is_denied(command: str) -> None:
    assert decide(command).kind.value == "deny", command


def test_xargs_without_a_replace_string_appends_the_input_to_one_command() -> None:
    # bash -c runs only its first argument: `bash -c rm -rf /` runs `rm` with no operands
    assert decide("echo 'rm -rf /' | xargs bash -c").kind.value == "allow"
    assert decide("echo / | xargs -i rm -rf").kind.value == "allow"  # no {}: nothing is appended


def test_run_time_input_inside_a_command_string_is_a_run_time_value() -> None:
    assert (
        decide("find . -type d | xargs -I{} sh -c 'echo $(ls {} | wc -l) {}'").kind.value == "allow"
    )
    assert decide("find . -type d | xargs -I{} sh -c 'rm -rf {}'").kind.value == "ask"


def test_parallel_with_commands_from_an_unknown_pipe_is_unknown() -> None:
    assert decide("cat jobs.txt | parallel").kind.value == "ask"


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        # literal text piped into xargs becomes the arguments of the command it runs
        ("echo /etc | xargs -I{} rm -rf {}", "deny"),
        ("echo ~ | xargs -i{} rm -r {}", "deny"),
        ("echo /usr | xargs -L1 -r rm -rf", "deny"),
        ("printf '%s\\n' node_modules .cache | xargs rm -rf", "allow"),  # the format is reused
        ("printf '%s\\n' out /boot | xargs -n 1 rm -rf", "deny"),
        # -I / -i only substitute: with no {} in the command nothing is appended
        ("echo /etc | xargs -I{} rm -rf", "allow"),
        # input only known at run time keeps the stand-in, a path Blastdoor cannot place
        ("cat doomed.txt | xargs rm -rf", "ask"),
        ("echo $TARGET | xargs rm -rf", "ask"),
    ],
)
def test_xargs_arguments_come_from_its_input(command: str, expected: str) -> None:
    assert decide(command).kind.value == expected, command


@pytest.mark.parametrize(
    ("direct", "nested"),
    [
        (
            "find . -name '*.log' | xargs -I{} rm -rf {}",
            "find . -name '*.log' | xargs -I{} sh -c 'rm -rf \"{}\"'",
        ),
        ("ls | xargs -I{} rm {}", "ls | xargs -I{} bash -c 'rm {} && echo gone'"),
        ("ls | xargs -I{} rm -rf /{}", "ls | xargs -I{} sh -c 'rm -rf /{}'"),
        ("pgrep nginx | xargs -I{} kill -9 {}", "pgrep nginx | xargs -I{} sh -c 'kill -9 {}'"),
    ],
)
def test_xargs_input_in_a_command_string_is_the_input_a_direct_command_gets(
    direct: str, nested: str
) -> None:
    def targets(command: str) -> set[tuple[str, str, frozenset[str]]]:
        found = decide(command, cwd="/home/u/proj").effects
        return {(e.verb.value, e.target.kind, e.tags) for e in found if e.target.kind != "program"}

    assert targets(nested) == targets(direct)
    assert decide(nested, cwd="/home/u/proj").kind == decide(direct, cwd="/home/u/proj").kind


@pytest.mark.parametrize(
    "command",
    [
        # NAME=value before the wrapped command is its environment, as a VAR=x prefix is
        "env GIT_SSH_COMMAND='rm -rf ~' git fetch",
        "sudo GIT_SSH_COMMAND='rm -rf ~' git fetch",
        # and a wrapper's own prefix reaches the program it runs
        "GIT_SSH_COMMAND='rm -rf ~' timeout 60 git fetch",
        "GIT_PAGER='rm -rf ~' env git log",
        "env A=1 sudo GIT_PAGER='rm -rf ~' git log",
    ],
)
def test_a_wrapped_program_gets_the_variables_set_for_it(command: str) -> None:
    assert decide(command).kind.value == "deny", command


@pytest.mark.parametrize(
    "command", ["env BASH_ENV=./evil.sh bash -c true", "sudo BASH_ENV=./evil.sh ./build.sh"]
)
def test_a_bash_env_given_through_a_wrapper_runs_its_file(command: str) -> None:
    decision = decide(command)
    assert decision.kind.value == "ask", decision.reasons
    assert sum("./evil.sh" in e.detail for e in decision.effects) == 1


def test_sudo_reads_an_assignment_as_environment_not_as_the_program() -> None:
    decision = decide("sudo EDITOR=vim visudo")
    assert [e.target.name for e in decision.effects if e.target.kind == "program"] == ["visudo"]
