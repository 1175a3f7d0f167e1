"""A project's task whose defining file was not read: no working directory versus a missing file."""

from __future__ import annotations

from pathlib import Path

import pytest

from blastdoor.analyze.commands.project_tasks import routine_name
from blastdoor.judge import judge
from blastdoor.model import Action
from blastdoor.policy import load


def without_cwd(command: str) -> str:
    return judge(Action.shell(command), load(), files=lambda _path: None).kind.value


def in_folder(command: str, cwd: Path) -> str:
    return judge(Action.shell(command, cwd=str(cwd)), load()).kind.value


@pytest.mark.parametrize(
    "command",
    [
        "npm run build",
        "npm test",
        "yarn lint:ci",
        "pnpm run typecheck && pnpm run test:unit",
        "bun run dev",
        "make",
        "make all",
        "make -C docs docs",
        "just",
        "just check",
        "bash scripts/smoke.sh",
        "node tools/generate-icons.mjs",
        "python tests/test_api.py",
        "make run ARGS=--help",
        "node tools/esbuild.mjs --watch",  # the bundler or test runner a build or test drives
        "bun --bun vitest run",
    ],
)
def test_routine_tasks_without_a_working_directory_run(command: str) -> None:
    assert without_cwd(command) == "allow"


@pytest.mark.parametrize(
    "command",
    [
        "npm run db:push",
        "npm run deploy",
        "yarn build:prod",
        "pnpm run release",
        "make install",
        "make clean build",
        "make $(TARGET)",
        "just seed",
        "bash scripts/migrate.sh",
        "bash deploy/build.sh",
        "node dist/cli.js",
        "bash /opt/tools/build.sh",  # an absolute path is looked up even without a cwd
    ],
)
def test_other_tasks_without_a_working_directory_stay_unknown(command: str) -> None:
    assert without_cwd(command) == "ask"


@pytest.mark.parametrize(
    "command", ["npm run build", "npm test", "make", "just check", "bash scripts/build.sh"]
)
def test_a_known_folder_without_the_file_is_unknown(command: str, tmp_path: Path) -> None:
    assert in_folder(command, tmp_path) == "ask"


def test_the_name_never_overrides_the_text(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text('{"scripts": {"test": "rm -rf ~"}}')
    assert in_folder("npm test", tmp_path) == "deny"


def test_routine_names() -> None:
    assert routine_name("test:e2e")
    assert routine_name("check-duplicates")
    assert not routine_name("test:db")
    assert not routine_name("setup-hooks")
    assert routine_name("src/api.test.ts", file=True)
    assert not routine_name("scripts/cleanup-legacy.mjs", file=True)
