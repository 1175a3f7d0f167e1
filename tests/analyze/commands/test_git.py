"""git: lost work and rewritten history are asked about; remote rewrites of main are held."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import decide


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        # reading and everyday work
        ("git status", "allow"),
        ("git log --oneline -20", "allow"),
        ("git diff HEAD~2", "allow"),
        ("git grep -n 'reset --hard'", "allow"),
        ("git add src/ && git commit -m 'fix: never run git clean -fdx here'", "allow"),
        ("git commit -am 'tidy up'", "allow"),
        ("git pull --rebase=false", "allow"),
        ("git push origin feature/login", "allow"),
        ("git switch -c feature/login", "allow"),
        ("git checkout develop", "allow"),
        ("git stash && git stash pop", "allow"),
        ("git clean -n", "allow"),
        ("git clean -nfd", "allow"),
        ("git restore --staged app.py", "allow"),
        ("git branch -d merged-topic", "allow"),
        ("git reset HEAD~1", "allow"),
        ("git tag v2.0.1", "allow"),
        ("git rm --cached secrets.json", "allow"),
        ("git rm -r src/legacy", "allow"),  # git refuses to remove edited files without -f
        ("git rm -r .", "ask"),  # the whole workspace
        ("git rm *", "ask"),
        ("git rm -rf src", "ask"),
        ("git config user.name 'Build Bot'", "allow"),
        ("git -C ../lib log -1", "allow"),
        # losing uncommitted work or local history: asked
        ("git reset --hard", "ask"),
        ("git reset --har origin/main", "ask"),
        ("git -C ../service reset --keep HEAD~2", "ask"),
        ("git checkout -- app.py", "ask"),
        ("git checkout .", "ask"),
        ("git checkout HEAD~3 app.py lib.py", "ask"),
        ("git checkout -f release", "ask"),
        ("git switch --discard-changes main", "ask"),
        ("git restore app.py", "ask"),
        ("git restore --source=HEAD~1 --staged --worktree .", "ask"),
        ("git clean -fdx", "ask"),
        ("git clean -fX", "ask"),
        ("git stash drop stash@{2}", "ask"),
        ("git stash clear", "ask"),
        ("git branch -D experiment", "ask"),
        ("git branch --delete --force experiment", "ask"),
        ("git commit --amend --no-edit", "ask"),
        ("git rebase -i HEAD~4", "ask"),
        ("git filter-repo --path secrets/ --invert-paths", "ask"),
        ("git reflog expire --expire=now --all", "ask"),
        ("git gc --prune=now", "ask"),
        ("git update-ref -d refs/heads/topic", "ask"),
        ("git worktree remove --force ../wt-hotfix", "ask"),
        ("git submodule deinit -f vendor/lib", "ask"),
        ("git merge --abort", "ask"),
        # hooks skipped
        ("git commit --no-verify -m wip", "ask"),
        ("git commit -nm wip", "ask"),
        ("git push --no-verify origin topic", "ask"),
        ("git config core.hooksPath .githooks", "ask"),
        ("git config core.hooksPath /dev/null", "deny"),
        ("git -c core.hooksPath=/dev/null commit -m x", "deny"),
        # remote history
        ("git push --force origin main", "hold"),
        ("git push -f", "hold"),
        ("git push origin +master", "hold"),
        ("git push --force-with-lease origin main", "hold"),
        ("git push origin --delete main", "hold"),
        ("git push --mirror backup", "hold"),
        ("git push --force origin topic/parser", "ask"),
        ("git push origin :old-topic", "ask"),
        ("git push --dry-run --force origin main", "allow"),
    ],
)
def test_git_decisions(command: str, expected: str) -> None:
    assert decide(command).kind.value == expected


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        # after --end-of-options git reads no option: -fdx is a pathspec, --force a refspec
        ("git clean --end-of-options -fdx", "allow"),
        ("git push --end-of-options origin --force", "allow"),
        ("git clean -fd --end-of-options src", "ask"),
        # ... and a later -- still parts the revisions from the paths
        ("git checkout --end-of-options main -- app.py", "ask"),
        ("git reset --har HEAD~1", "ask"),  # an unambiguous prefix names the long option
    ],
)
def test_git_reads_the_end_of_its_options(command: str, expected: str) -> None:
    assert decide(command).kind.value == expected


def test_commit_message_is_data() -> None:
    decision = decide('git commit -m "rm -rf / && git push --force"')
    assert decision.kind.value == "allow"


def test_inline_alias_is_expanded() -> None:
    assert decide("git -c alias.wipe='reset --hard' wipe").kind.value == "ask"
    assert decide("git -c alias.boom='!rm -rf ~' boom").kind.value == "deny"


def test_ssh_command_setting_is_a_command() -> None:
    assert decide("GIT_SSH_COMMAND='rm -rf ~' git fetch").kind.value == "deny"


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        # an exported variable reaches git as a prefix does; one only set, or set in a subshell, not
        ("export GIT_SSH_COMMAND='rm -rf ~'; git fetch", "deny"),
        ("GIT_SSH_COMMAND='rm -rf ~'; export GIT_SSH_COMMAND; git fetch", "deny"),
        ("declare -x GIT_PAGER='rm -rf ~'; git log", "deny"),
        ("export GIT_SSH_COMMAND=./wrap; git ls-remote origin", "ask"),  # no working directory
        ("GIT_SSH_COMMAND='rm -rf ~'; git fetch", "allow"),
        ("(export GIT_SSH_COMMAND='rm -rf ~'); git fetch", "allow"),
        # bash finds NAME=value in the word after quote removal
        ('export "GIT_SSH_COMMAND=rm -rf ~"; git fetch', "deny"),
        ('export GIT_SSH_COMMAND"=rm -rf ~"; git fetch', "deny"),
        ("declare -x 'GIT_PAGER=rm -rf ~'; git log", "deny"),
        # set -a exports every variable assigned after it
        ("set -a; GIT_SSH_COMMAND='rm -rf ~'; git fetch", "deny"),
        ("set -o allexport; GIT_PAGER='rm -rf ~'; git log", "deny"),
        ("set -euao pipefail; GIT_PAGER='rm -rf ~'; git log", "deny"),
        ("(set -a); GIT_PAGER='rm -rf ~'; git log", "allow"),
        # exported with a value only known at run time: git runs that unknown program
        ("read GIT_SSH_COMMAND; export GIT_SSH_COMMAND; git fetch", "ask"),
        ("export GIT_PAGER; git log", "ask"),  # whatever this shell had set before
        ("export GIT_SSH_COMMAND=$(cat ssh.txt); git fetch", "ask"),
        # export -n takes the export back
        ("export GIT_SSH_COMMAND='rm -rf ~'; export -n GIT_SSH_COMMAND; git fetch", "allow"),
    ],
)
def test_an_exported_program_variable_is_a_command(command: str, expected: str) -> None:
    assert decide(command).kind.value == expected, command


def test_a_helper_program_in_the_project_is_read(tmp_path: Path) -> None:
    (tmp_path / "ssh-wrap").write_text('#!/bin/sh\nexec ssh -o BatchMode=yes "$@"\n')
    (tmp_path / "bad-ssh").write_text("#!/usr/bin/env bash\nrm -rf ~\n")
    here = {"cwd": str(tmp_path)}
    assert decide("GIT_SSH_COMMAND=./ssh-wrap git fetch", **here).kind.value == "allow"
    assert decide("git -c core.sshCommand=./bad-ssh push origin topic", **here).kind.value == "deny"
    assert decide("GIT_SSH=./missing-ssh git fetch", **here).kind.value == "ask"


def test_the_ssh_program_runs_only_when_git_reaches_a_remote() -> None:
    assert decide("GIT_SSH_COMMAND='rm -rf ~' git status").kind.value == "allow"
    assert decide("GIT_SSH_COMMAND='rm -rf ~' git remote -v").kind.value == "allow"
    assert decide("GIT_SSH_COMMAND='rm -rf ~' git remote update").kind.value == "deny"
    assert decide("git -c core.sshCommand='rm -rf ~' archive --remote=x HEAD").kind.value == "deny"
    assert decide("git -c core.pager='rm -rf ~' log").kind.value == "deny"


def test_force_push_names_branch_and_remote() -> None:
    decision = decide("git push -f upstream main")
    pushed = [e for e in decision.effects if e.target.kind == "git-branch"]
    assert pushed and pushed[0].target.name == "upstream:main"
    assert pushed[0].scope.value == "production"
    assert "force-push" in pushed[0].detail


def test_clean_x_mentions_ignored_files() -> None:
    decision = decide("git clean -fdx")
    assert any(".env" in e.detail for e in decision.effects)


def test_production_checkout_is_held() -> None:
    assert decide("ssh prod-api git reset --hard").kind.value == "hold"


@pytest.mark.parametrize(
    "command",
    [
        "git checkout -- .",
        "git reset --hard",
        "git clean -fd",
        "git restore .",
        "git stash drop",
        "git stash clear",
        "git branch -D prod-hotfix",
    ],
)
def test_local_discards_are_local_and_decided_by_the_git_rule(command: str) -> None:
    decision = decide(command)
    assert decision.kind.value == "ask"
    assert decision.rule_ids == ("git.discard-work",)
    assert all(e.scope.value == "local" for e in decision.effects)


def test_the_context_environment_does_not_rescope_a_local_checkout() -> None:
    # The working tree is on this machine, whatever APP_ENV says about the app's deployment.
    assert decide("git reset --hard", env={"APP_ENV": "production"}).kind.value == "ask"


def test_a_discard_on_a_host_of_unknown_environment_is_held() -> None:
    decision = decide("ssh build-box git reset --hard")
    assert decision.kind.value == "hold"
    assert decision.rule_ids == ("table.destroy-production",)


def test_git_rm_paths_resolve_from_where_cd_moved() -> None:
    decision = decide("cd packages/api && git rm -r .", cwd="/work/repo")
    targets = {e.target.name for e in decision.effects if e.verb.value == "delete"}
    assert targets == {"/work/repo/packages/api"}
    assert decision.kind.value == "allow"  # one package's committed files, not the workspace
    assert decide("git rm -r .", cwd="/work/repo").kind.value == "ask"


def test_a_helper_scripts_interpreter_flags_are_not_its_interpreter(tmp_path: Path) -> None:
    (tmp_path / "wrap").write_text("#!/usr/bin/env -S bash -eu\nrm -rf ~\n")
    decision = decide("GIT_SSH_COMMAND=./wrap git pull", cwd=str(tmp_path))
    assert decision.kind.value == "deny"
