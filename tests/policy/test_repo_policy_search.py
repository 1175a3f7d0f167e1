"""Looking for a repository's ``.blastdoor.toml`` from a folder Blastdoor's user may not search."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from blastdoor.errors import ConfigError
from blastdoor.policy.loader import find_repo_policy


def test_a_folder_it_may_not_search_is_a_one_line_refusal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A policy there may tighten, so not looking would loosen: the check fails closed with a message.
    Python 3.11's ``Path.is_file`` raises on EACCES (the hardened daemon printed a traceback when the
    agent's home folder was 0700); as root the kernel never refuses, so the refusal is injected."""
    (tmp_path / "project").mkdir()
    assert find_repo_policy(str(tmp_path / "project")) is None
    real = Path.is_file

    def refusing(path: Path) -> bool:
        if path.parent == tmp_path / "project":
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(Path, "is_file", refusing)
    with pytest.raises(ConfigError, match=r"cannot look for .*\.blastdoor\.toml: Permission denied"):
        find_repo_policy(str(tmp_path / "project"))
