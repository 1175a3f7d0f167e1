"""Package scripts, make and just targets, and package runners are judged by what they run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from blastdoor.analyze.commands.indirection import make_recipe_to_shell
from blastdoor.judge import judge
from blastdoor.model import Action
from blastdoor.policy import load


@pytest.fixture
def project(tmp_path: Path) -> Path:
    scripts = {
        "db:push": "prisma db push --accept-data-loss",
        "pretest": "rm -rf coverage",
        "test": "vitest run",
        "build": "tsc -p .",
        "wipe-home": "rm -rf ~/projects",
        "reset": "psql postgres://db.internal/app -c 'DROP SCHEMA public CASCADE'",
        "lint": "eslint .",
    }
    (tmp_path / "package.json").write_text(json.dumps({"name": "shop-api", "scripts": scripts}))
    (tmp_path / "Makefile").write_text(
        "OUT := dist\nPY ?= python3\n\n"
        "all: build\n\n"
        "build:\n\t@echo building\n\tmkdir -p $(OUT)\n\n"
        "clean:\n\t-rm -rf $(OUT) node_modules\n\n"
        "nuke: clean\n\t@rm -rf $$HOME/.config\n\n"
        ".PHONY: all build clean nuke\n"
    )
    (tmp_path / "justfile").write_text(
        'target := "/var/backups"\n\n'
        "default: check\n\ncheck:\n    cargo check\n\n"
        "purge dir=target:\n    rm -rf {{dir}}\n\n"
        "wipe:\n    rm -rf {{target}}\n"
    )
    return tmp_path


def decide(command: str, cwd: Path) -> str:
    return judge(Action.shell(command, cwd=str(cwd)), load()).kind.value


def test_npm_run_reads_the_script(project: Path) -> None:
    assert decide("npm run db:push", project) == "hold"
    assert decide("npm run build", project) == "allow"
    assert decide("npm run wipe-home", project) == "deny"
    assert decide("npm run-script reset", project) == "hold"


def test_lifecycle_scripts_and_pre_scripts(project: Path) -> None:
    decision = judge(Action.shell("npm test", cwd=str(project)), load())
    assert decision.kind.value == "allow"
    assert any("pretest" in e.evidence for e in decision.effects)


def test_yarn_pnpm_and_bun_run_scripts_by_name(project: Path) -> None:
    assert decide("yarn wipe-home", project) == "deny"
    assert decide("pnpm run db:push", project) == "hold"
    assert decide("pnpm lint", project) == "allow"
    assert decide("bun run reset", project) == "hold"


def test_missing_script_or_package_json_is_unknown(
    project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    assert decide("npm run deploy", project) == "ask"
    assert decide("npm run deploy --if-present", project) == "allow"
    empty = tmp_path_factory.mktemp("empty")
    assert decide("npm run build", empty) == "ask"


def test_make_targets_follow_prerequisites(project: Path) -> None:
    assert decide("make", project) == "allow"
    assert decide("make clean", project) == "allow"  # dist and node_modules are regenerable
    assert decide("make nuke", project) == "deny"
    assert decide("make -n nuke", project) == "allow"
    assert decide("make release", project) == "ask"


def test_just_recipes_fill_in_parameters(project: Path) -> None:
    assert decide("just", project) == "allow"
    assert decide("just purge /etc", project) == "deny"
    assert decide("just purge ./tmp", project) == "allow"
    assert decide("just wipe", project) == "deny"
    assert decide("just --list", project) == "allow"


def test_package_runners_reach_the_tool(tmp_path: Path) -> None:
    assert decide("npx prisma@5.2.0 migrate reset --force", tmp_path) == "hold"
    assert decide("npx -y rimraf /usr/local/share", tmp_path) == "deny"
    assert decide("pnpm dlx rimraf dist", tmp_path) == "allow"
    assert decide("uv run python -c 'import os; os.system(\"rm -rf /\")'", tmp_path) == "deny"
    assert decide("poetry run pytest -q", tmp_path) == "allow"


def test_bun_a_adds_a_dependency(tmp_path: Path) -> None:
    assert decide("bun a left-pad", tmp_path) == "allow"
    assert decide("bun a -g left-pad", tmp_path) == "ask"


def test_global_installs_and_publishing(project: Path) -> None:
    assert decide("npm install", project) == "allow"
    assert decide("npm install -g typescript", project) == "ask"
    assert decide("npm publish", project) == "hold"
    assert decide("npm publish --dry-run", project) == "allow"


def test_make_recipe_to_shell() -> None:
    recipe = "@echo $(MSG)\n-rm -rf $(OUT) $$TMPDIR/x\n+$(MAKE) -C sub\n\tcp $< $@"
    shell = make_recipe_to_shell(recipe, {"OUT": "dist", "@": "app", "<": "main.o"})
    assert shell.splitlines() == [
        "echo MAKE_VAR_MSG",
        "rm -rf dist $TMPDIR/x",
        "make -C sub",
        "cp main.o app",
    ]
    assert make_recipe_to_shell("files=$(shell ls src)") == "files=$(ls src)"


def test_just_shebang_recipes_name_their_program_before_its_flags(tmp_path: Path) -> None:
    (tmp_path / "justfile").write_text(
        "reset-data:\n    #!/usr/bin/env bash -eu\n    set -euo pipefail\n    rm -rf /srv/data\n\n"
        "prune:\n    #!/bin/sh -e\n    rm -rf ~/.cache/app\n\n"
        "tidy:\n    #!/usr/bin/env -S python3 -u\n    import shutil\n    shutil.rmtree('/opt/app')\n\n"
        "ok:\n    #!/usr/bin/env -S bash -x\n    echo fine\n"
    )
    assert decide("just reset-data", tmp_path) == "deny"
    assert decide("just prune", tmp_path) == "deny"
    assert decide("just tidy", tmp_path) == "deny"
    assert decide("just ok", tmp_path) == "allow"


@pytest.mark.parametrize("shell", ["mksh", "ash", "dash", "zsh"])
def test_a_just_shebang_recipe_in_any_sh_like_shell_is_read_as_shell(
    tmp_path: Path, shell: str
) -> None:
    # the same shells as `set shell := [...]` reads (mksh and ash were left out of one list)
    (tmp_path / "justfile").write_text(f"wipe:\n    #!/bin/{shell}\n    rm -rf /srv/data\n")
    assert decide("just wipe", tmp_path) == "deny"


def test_just_runs_recipe_lines_with_the_shell_the_justfile_sets(tmp_path: Path) -> None:
    python, pwsh, bash = tmp_path / "python", tmp_path / "pwsh", tmp_path / "bash"
    for folder in (python, pwsh, bash):
        folder.mkdir()
    (python / "justfile").write_text(
        'set shell := ["python3", "-c"]\n\n'
        'wipe:\n    import shutil; shutil.rmtree("/srv/data")\n\n'
        'ok:\n    print("hi")\n'
    )
    (pwsh / "justfile").write_text(
        'set shell := ["pwsh", "-c"]\nwipe:\n    Remove-Item -Recurse /srv/data\n'
    )
    (bash / "justfile").write_text(
        "set shell := ['bash', '-uc']  # strict\nwipe:\n    rm -rf /srv/data\n"
    )
    assert decide("just wipe", python) == "deny"  # the line is Python code, not shell
    assert decide("just ok", python) == "allow"
    assert decide("just wipe", pwsh) == "ask"  # a shell Blastdoor does not read
    assert decide("just wipe", bash) == "deny"


@pytest.mark.parametrize(
    ("shell", "expected"),
    [
        ('["bash", "payload.sh"]', "deny"),  # bash runs payload.sh, the line is its argument
        ('["sh", "payload.sh", "-c"]', "deny"),
        ('["bash", "-c", "rm -rf ~; :"]', "deny"),  # the command string is the shell's own
        ('["bash", "-o", "pipefail", "-c", "rm -rf ~"]', "deny"),
        ('["bash"]', "ask"),  # no -c: the line names a script file
        ('["bash", "-o", "pipefail", "-euc"]', "allow"),
        ('["zsh", "-cu"]', "allow"),
    ],
)
def test_a_sh_like_shell_runs_the_line_only_after_options_with_c(
    tmp_path: Path, shell: str, expected: str
) -> None:
    (tmp_path / "justfile").write_text(f"set shell := {shell}\nbuild:\n    echo hi\n")
    (tmp_path / "payload.sh").write_text("rm -rf ~\n")
    assert decide("just build", tmp_path) == expected


def test_a_shell_given_on_the_command_line_keeps_its_arguments(tmp_path: Path) -> None:
    (tmp_path / "justfile").write_text("build:\n    echo hi\n")
    (tmp_path / "payload.sh").write_text("rm -rf ~\n")
    assert decide("just --shell bash --shell-arg payload.sh build", tmp_path) == "deny"
