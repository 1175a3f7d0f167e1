"""Shared test helpers: judge a command with the built-in policy, isolate Blastdoor's home."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from blastdoor.judge import judge
from blastdoor.model import Action, Decision
from blastdoor.policy import load


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    home = tmp_path_factory.mktemp("blastdoor-home")
    monkeypatch.setenv("BLASTDOOR_HOME", str(home))
    monkeypatch.delenv("BLASTDOOR_POLICY", raising=False)
    return home


def decide(command: str, **context: Any) -> Decision:
    """The built-in policy's decision on a shell command."""
    return judge(Action.shell(command, **context), load())


@pytest.fixture
def decision_of() -> Callable[..., str]:
    def run(command: str, **context: Any) -> str:
        return decide(command, **context).kind.value

    return run


def required(module: str, reason: str) -> ModuleType:
    """``module``, or the test skipped with ``reason`` on a machine without it; in CI (``CI=true``,
    where the test extras are installed) a missing module fails instead of skipping silently."""
    if os.environ.get("CI") == "true":
        return importlib.import_module(module)
    return pytest.importorskip(module, reason=reason)
