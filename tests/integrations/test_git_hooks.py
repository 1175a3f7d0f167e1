"""``blastdoor install git``: real repositories, real pushes and commits through the installed hooks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def git(cwd: Path, *argv: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *argv], cwd=cwd, capture_output=True, text=True, input=stdin,
                          stdin=None if stdin is not None else subprocess.DEVNULL, check=False, timeout=120)  # fmt: skip


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    git(tmp_path, "init", "-q", "--bare", "remote.git")
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", "remote.git", "work")
    for key, value in (("user.email", "dev@example.com"), ("user.name", "Dev")):
        git(work, "config", key, value)
    (work / "a.txt").write_text("1\n")
    git(work, "add", "a.txt")
    git(work, "commit", "-qm", "one")
    assert git(work, "push", "-q", "origin", "HEAD:main").returncode == 0
    return work


def blastdoor(cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "blastdoor", *argv], cwd=cwd, capture_output=True, text=True,
                          env=os.environ.copy(), check=False, timeout=120)  # fmt: skip


def test_pre_push_refuses_force_pushes_and_deletions_of_protected_branches(repo: Path) -> None:
    assert blastdoor(repo, "install", "git").returncode == 0
    (repo / "a.txt").write_text("2\n")
    git(repo, "commit", "-qam", "two")
    assert git(repo, "push", "-q", "origin", "HEAD:main").returncode == 0  # an ordinary push goes
    git(repo, "reset", "-q", "--hard", "HEAD~1")
    (repo / "a.txt").write_text("3\n")
    git(repo, "commit", "-qam", "three")
    forced = git(repo, "push", "--force", "origin", "HEAD:main")
    assert (
        forced.returncode != 0
        and "refusing the push: HOLD refs/heads/main: Force-push main" in forced.stderr
    )
    deleted = git(repo, "push", "origin", ":main")
    assert deleted.returncode != 0 and "Delete main on origin" in deleted.stderr
    assert git(repo, "push", "-q", "origin", "HEAD:feature").returncode == 0
    assert git(repo, "ls-remote", "origin", "main").stdout.strip()  # main is still there


def test_pre_commit_refuses_credential_files_and_secrets(repo: Path) -> None:
    blastdoor(repo, "install", "git")
    (repo / ".env").write_text("STRIPE_SECRET_KEY=sk_live_51HqLyjWDarjtT1zdp7dcXjQ4Dn1sS2Gd8Nq3\n")
    git(repo, "add", ".env")
    refused = git(repo, "commit", "-qm", "env")
    assert refused.returncode != 0 and ".env: a credential file" in refused.stderr
    git(repo, "rm", "-q", "--cached", ".env")
    (repo / "settings.py").write_text(
        'DEBUG = True\nTOKEN = "ghp_9a8B7c6D5e4F3g2H1i0JkLmNoPqRsTuVwXyZ"\n'
    )
    git(repo, "add", "settings.py")
    assert "settings.py: a line that holds a secret" in git(repo, "commit", "-qm", "s").stderr
    (repo / "settings.py").write_text("DEBUG = True\n")
    git(repo, "add", "settings.py")
    assert git(repo, "commit", "-qm", "fine").returncode == 0


def test_an_existing_hook_is_kept_chained_and_restored(repo: Path) -> None:
    hooks = repo / ".git" / "hooks"
    mine = "#!/bin/sh\necho team-hook-ran >&2\nexit 0\n"
    (hooks / "pre-commit").write_text(mine)
    (hooks / "pre-commit").chmod(0o755)
    assert "installed" in blastdoor(repo, "install", "git").stdout
    assert "nothing changed" in blastdoor(repo, "install", "git").stdout
    (repo / "b.txt").write_text("b\n")
    git(repo, "add", "b.txt")
    done = git(repo, "commit", "-qm", "b")
    assert done.returncode == 0 and "team-hook-ran" in done.stderr
    blastdoor(repo, "uninstall", "git")
    assert (hooks / "pre-commit").read_text() == mine and not (hooks / "pre-push").exists()


def test_the_hook_blocks_when_blastdoor_is_gone(repo: Path) -> None:
    blastdoor(repo, "install", "git")
    hook = repo / ".git" / "hooks" / "pre-push"
    hook.write_text(hook.read_text().replace(sys.executable, "/nonexistent/python3"))
    (repo / "a.txt").write_text("4\n")
    git(repo, "commit", "-qam", "four")
    assert git(repo, "push", "-q", "origin", "HEAD:main").returncode != 0
